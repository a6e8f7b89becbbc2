/**
 * palisade-bench: generate worlds from a seed and a shape, and drive a server with load.
 *
 *   pnpm palisade-bench gen --preset medium --out medium.msgpack
 *   pnpm palisade-bench gen --preset large --tree skewed --out large.msgpack --store
 *   pnpm palisade-bench gen --users 2000 --records 50000 --bus 200 --depth 6 --seed 3 --out w.json
 *   pnpm palisade-bench load --world medium --mix check:70,checks:20,filter:10 --duration 30s
 */
import { GEN_USAGE } from './generate/usage.js';
import { LOAD_USAGE } from './load/options.js';

const USAGE = `${GEN_USAGE}

${LOAD_USAGE}`;

export async function runBenchCli(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv.filter((arg) => arg !== '--');
  if (command === 'load') {
    // Loaded on demand: the load tool pulls in the engine and the HTTP client, which gen never needs.
    const { runLoadCli } = await import('./load/command.js');
    return runLoadCli(rest);
  }
  if (command === 'gen') {
    const { runGenCli } = await import('./generate/command.js');
    return runGenCli(rest);
  }
  const help = command === '--help' || command === '-h' || command === 'help';
  console.error(USAGE);
  return help ? 0 : 2;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runBenchCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`palisade-bench: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 2;
    },
  );
}
