import wabt from 'wabt';

/** WebAssembly text to a module's bytes, with wabt (SIMD on). */
export async function compileWat(text: string): Promise<Uint8Array> {
  const tools = await wabt();
  const module = tools.parseWat('rows.wat', text, { simd: true });
  try {
    module.validate();
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}
