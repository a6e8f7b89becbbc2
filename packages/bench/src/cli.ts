/**
 * palisade-bench: generate worlds from a seed and a shape, and drive a server with load.
 *
 *   pnpm palisade-bench gen --preset medium --format msgpack --out medium.msgpack
 *   pnpm palisade-bench gen --users 2000 --records 50000 --bus 200 --depth 6 --seed 3 --out w.json
 *   pnpm palisade-bench load --world medium --mix check:70,checks:20,filter:10 --duration 30s
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateWorld, PRESETS, type UserTable, type WorldShape } from './generate/world.js';
import { type WorldFormat, writeWorld } from './generate/write.js';
import { LOAD_USAGE } from './load/options.js';

const GEN_USAGE = `usage: palisade-bench gen [options]

options:
  --preset <name>      ${Object.keys(PRESETS).join(' | ')} (default small)
  --seed, --bus, --depth, --users, --records, --share-ratio   override the preset
  --format <json|msgpack>   default: from the file extension, else json
  --out <file>         where to write (required)
  --tables <list>      user-owned tables to spread records over (default account,contact,opportunity)`;

const USAGE = `${GEN_USAGE}

${LOAD_USAGE}`;

export async function runBenchCli(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv.filter((arg) => arg !== '--');
  if (command === 'load') {
    // Loaded on demand: the load tool pulls in the engine and the HTTP client, which gen never needs.
    const { runLoadCli } = await import('./load/command.js');
    return runLoadCli(rest);
  }
  const { values, positionals } = parseArgs({
    args: argv.filter((arg) => arg !== '--'),
    allowPositionals: true,
    options: {
      preset: { type: 'string', default: 'small' },
      seed: { type: 'string' },
      bus: { type: 'string' },
      depth: { type: 'string' },
      users: { type: 'string' },
      records: { type: 'string' },
      'share-ratio': { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
      tables: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals[0] !== 'gen' || values.out === undefined) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const preset = PRESETS[values.preset as keyof typeof PRESETS];
  if (preset === undefined) {
    console.error(`unknown preset \`${values.preset}\`\n\n${GEN_USAGE}`);
    return 2;
  }
  const number = (value: string | undefined, fallback: number, name: string): number => {
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0)
      throw new Error(`--${name} must be a non-negative number, got \`${value}\``);
    return parsed;
  };
  const shape: WorldShape = {
    seed: number(values.seed, preset.seed, 'seed'),
    businessUnits: Math.max(1, number(values.bus, preset.businessUnits, 'bus')),
    depth: Math.max(1, number(values.depth, preset.depth, 'depth')),
    users: number(values.users, preset.users, 'users'),
    records: number(values.records, preset.records, 'records'),
    shareRatio: number(values['share-ratio'], preset.shareRatio, 'share-ratio'),
  };
  const out = resolve(process.env.INIT_CWD ?? process.cwd(), values.out);
  const format: WorldFormat = (values.format ?? (out.endsWith('.msgpack') ? 'msgpack' : 'json')) as WorldFormat;
  if (format !== 'json' && format !== 'msgpack') {
    console.error(`unknown format \`${format}\` (json or msgpack)`);
    return 2;
  }
  const tables = values.tables?.split(',') as UserTable[] | undefined;
  const started = performance.now();
  const world = generateWorld(shape, tables === undefined ? {} : { tables });
  console.error(`generated ${JSON.stringify(shape)} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const progress = process.stderr.isTTY
    ? (written: number, total: number) =>
        process.stderr.write(`\rwriting ${format}: ${((100 * written) / total).toFixed(0)}%`)
    : () => {};
  await writeWorld(world, out, format, progress);
  if (process.stderr.isTTY) process.stderr.write('\n');
  console.error(`wrote ${out} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return 0;
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
