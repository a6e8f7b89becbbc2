/**
 * `palisade-bench load` options: the command line (and the environment's PALISADE_KEY) turned
 * into a checked `LoadOptions`. Every mistake is a `LoadUsageError` naming the flag and the value.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PRESETS } from '../generate/world.js';

export const KINDS = ['check', 'checks', 'columns', 'filter', 'lookup', 'noop'] as const;
export type Kind = (typeof KINDS)[number];
export type Encoding = 'json' | 'msgpack';
/** How `/v1/filter` rows travel: record ids; owner and BU columns (plus ids, for shares); engine record indexes. */
export type FilterForm = 'columns' | 'ids' | 'records';
export type FilterOutput = 'indexes' | 'bitmask';
/** Who sends and times the requests: this Node process, or the native generator (C, built with `cc`). */
export type Generator = 'node' | 'native';
export type PresetName = keyof typeof PRESETS;
/** Which build the started server runs: its TypeScript source (through tsx) or its `dist`. */
export type ServerBuild = 'auto' | 'source' | 'dist';

export type WorldSpec = { readonly preset: PresetName } | { readonly file: string };

export interface MixEntry {
  readonly kind: Kind;
  readonly weight: number;
}

/** Closed loop: `concurrency` workers, each sending its next request when the last is answered. */
export interface ClosedLoop {
  readonly type: 'closed';
  readonly concurrency: number;
}

/** Open loop: `rate` requests a second on a fixed schedule over `connections` connections. */
export interface OpenLoop {
  readonly type: 'open';
  readonly rate: number;
  readonly connections: number;
}

export interface LoadOptions {
  /** The server to drive; null: start one on `world`. */
  readonly url: string | null;
  /** Bearer key for `url` (the started server gets a key this command makes). */
  readonly key: string | null;
  /** The world served: generated or read, and used for questions and verification; null: none known. */
  readonly world: WorldSpec | null;
  readonly mix: readonly MixEntry[];
  readonly encoding: Encoding;
  readonly generator: Generator;
  readonly loop: ClosedLoop | OpenLoop;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly batch: number;
  readonly rows: number;
  readonly filterForm: FilterForm;
  readonly filterOutput: FilterOutput;
  readonly lookupLimit: number;
  /** Prebuilt bodies per kind (fewer when they are large: see bodies.ts). */
  readonly bodies: number;
  readonly seed: number;
  /** Fraction of responses verified. */
  readonly verifySample: number;
  /** Decisions of the sampled responses also checked against the reference evaluator. */
  readonly referenceChecks: number;
  /** Report path without extension (`.json` and `.html` are added); null: bench-results/load-<time>. */
  readonly out: string | null;
  readonly timeoutMs: number;
  readonly quiet: boolean;
  /** For the started server only. */
  readonly workers: number | null;
  readonly poolThreshold: number | null;
  readonly columnPoolThreshold: number | null;
  readonly filterPoolThreshold: number | null;
  readonly poolMaxQueue: number | null;
  readonly server: ServerBuild;
  readonly startTimeoutMs: number;
  /**
   * The package manager whose script started this command (`pnpm`, `npm`, …), null when started
   * directly. Its idle Node processes stay beside the run (see `launcherNote`).
   */
  readonly launcher: string | null;
}

export class LoadUsageError extends Error {
  override readonly name = 'LoadUsageError';
}

export const LOAD_USAGE = `usage: palisade-bench load [options]

Drives a Palisade server with a mix of requests and reports throughput, latency percentiles
(client and server time), errors by code, and a sample of answers verified against the engine
and the reference evaluator. Writes <out>.json and a self-contained <out>.html.

target (one of):
  --url <url>               a running server; key from --key or env PALISADE_KEY
  --world <preset|file>     without --url: generate (${Object.keys(PRESETS).join(', ')}) or read the world, start a
                            server on it in another process, and stop it at the end; with --url: the
                            world that server serves (questions hit its ids; answers are verified)
  --world-file <file>       the same as --world <file>
  (with --url and no world, questions use the sample world's ids and nothing is verified)

load:
  --mix <kind:weight,...>   kinds: ${KINDS.join(', ')} (default check:100); check /v1/check,
                            checks /v1/checks, columns /v1/checks/columns, filter /v1/filter,
                            lookup /v1/lookup, noop /v1/noop
  --encoding <json|msgpack> request and response encoding (default json)
  --concurrency <n>         closed loop: n workers sending back to back (default 8)
  --rate <r>                open loop: r requests/s on a fixed schedule; a request sent late is timed
                            from when it was due (no coordinated omission)
  --connections <n>         open loop: keep-alive connections (default 64)
  --duration <time>         how long to measure: 500ms, 10s, 2m (default 10s)
  --warmup <time>           load before measuring, not counted: connections, JIT, GC settle (default 3s)
  --batch <n>               items per /v1/checks and /v1/checks/columns (default 10000)
  --rows <n>                rows per /v1/filter (default 100000)
  --filter-rows <form>      columns (ownerIds, businessUnitIds, ids) | ids | records (default columns)
  --filter-output <output>  indexes | bitmask (default indexes)
  --lookup-limit <n>        page size of /v1/lookup (default 100)
  --bodies <n>              prebuilt bodies per kind, rotated (default 4096; fewer when large)
  --seed <n>                seed of the questions (default 1)
  --timeout <time>          per request (default 30s)
  --generator <node|native> who sends and times: this process (default), or a small C program built
                            with the machine's cc on first use, which takes a fraction of the CPU (for
                            latency tails on a small machine); plain http only, no progress line

verification and report:
  --verify-sample <p>       fraction of answers verified, plus each kind's first 3 (default 0.01; 0: none)
  --reference-checks <n>    of the verified decisions, how many the reference evaluator re-checks (default 100)
  --out <path>              report path without extension (default bench-results/load-<time>)
  --quiet                   no progress line

started server only:
  --workers <n>             its worker threads (default: its own default)
  --pool-threshold <n>      its smallest pooled /v1/checks batch (items)
  --column-pool-threshold <n>  its smallest pooled /v1/checks/columns batch (items)
  --filter-pool-threshold <n>  its smallest pooled filter (rows)
  --pool-max-queue <n>      most ranges waiting for its workers before it answers 503
  --server <auto|source|dist>  run its TypeScript source or its build (default auto: as this process)
  --start-timeout <time>    how long to wait for /readyz (default 5m)`;

/** Flags that configure the server the tool starts (refused with --url). */
const STARTED_SERVER_FLAGS = [
  'workers',
  'pool-threshold',
  'column-pool-threshold',
  'filter-pool-threshold',
  'pool-max-queue',
  'server',
  'start-timeout',
] as const;

const DEFAULTS = {
  mix: 'check:100',
  encoding: 'json',
  concurrency: 8,
  connections: 64,
  duration: '10s',
  warmup: '3s',
  batch: 10_000,
  rows: 100_000,
  lookupLimit: 100,
  bodies: 4096,
  seed: 1,
  verifySample: 0.01,
  referenceChecks: 100,
  timeout: '30s',
  startTimeout: '5m',
} as const;

/**
 * Parses `load`'s arguments (without the `load` word). `env` supplies PALISADE_KEY; `cwd` is where
 * relative paths start (pnpm runs scripts in the package folder, so callers pass INIT_CWD).
 */
export function parseLoadOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd: string = process.cwd(),
): LoadOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv.filter((arg) => arg !== '--'),
      allowPositionals: false,
      strict: true,
      options: {
        url: { type: 'string' },
        key: { type: 'string' },
        world: { type: 'string' },
        'world-file': { type: 'string' },
        mix: { type: 'string' },
        encoding: { type: 'string' },
        concurrency: { type: 'string' },
        rate: { type: 'string' },
        connections: { type: 'string' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        batch: { type: 'string' },
        rows: { type: 'string' },
        'filter-rows': { type: 'string' },
        'filter-output': { type: 'string' },
        'lookup-limit': { type: 'string' },
        bodies: { type: 'string' },
        seed: { type: 'string' },
        'verify-sample': { type: 'string' },
        'reference-checks': { type: 'string' },
        out: { type: 'string' },
        timeout: { type: 'string' },
        generator: { type: 'string' },
        quiet: { type: 'boolean' },
        workers: { type: 'string' },
        'pool-threshold': { type: 'string' },
        'column-pool-threshold': { type: 'string' },
        'filter-pool-threshold': { type: 'string' },
        'pool-max-queue': { type: 'string' },
        server: { type: 'string' },
        'start-timeout': { type: 'string' },
      },
    }));
  } catch (error) {
    // parseArgs says "Unknown option '--x'"; keep its words, in this command's voice.
    throw new LoadUsageError((error as Error).message.replace(/^./, (c) => c.toLowerCase()));
  }
  const text = (name: string): string | undefined => values[name] as string | undefined;

  const url = text('url') === undefined ? null : parseUrl(text('url') as string);
  if (text('world') !== undefined && text('world-file') !== undefined) {
    throw new LoadUsageError('give one of --world and --world-file, not both');
  }
  const worldText = text('world') ?? text('world-file');
  const world = worldText === undefined ? null : parseWorld(worldText, text('world-file') !== undefined, cwd);
  if (url === null && world === null) {
    throw new LoadUsageError('give --url (a running server) or --world <preset|file> (to start one)');
  }

  let key: string | null = null;
  if (url !== null) {
    key = text('key') ?? (env.PALISADE_KEY === '' ? undefined : env.PALISADE_KEY) ?? null;
    if (key === null) throw new LoadUsageError('--url needs an API key: --key <key> or env PALISADE_KEY');
    for (const flag of STARTED_SERVER_FLAGS) {
      if (text(flag) !== undefined)
        throw new LoadUsageError(`--${flag} configures a started server; it does not apply with --url`);
    }
  } else if (text('key') !== undefined) {
    throw new LoadUsageError('--key applies only with --url (a started server gets a key made for the run)');
  }

  const rate = text('rate');
  if (rate !== undefined && text('concurrency') !== undefined) {
    throw new LoadUsageError('give one of --rate (open loop) and --concurrency (closed loop), not both');
  }
  if (rate === undefined && text('connections') !== undefined) {
    throw new LoadUsageError('--connections applies only with --rate (the closed loop uses one per worker)');
  }
  const loop: ClosedLoop | OpenLoop =
    rate === undefined
      ? { type: 'closed', concurrency: integer('concurrency', text('concurrency'), DEFAULTS.concurrency, 1, 10_000) }
      : {
          type: 'open',
          rate: positive('rate', rate),
          connections: integer('connections', text('connections'), DEFAULTS.connections, 1, 10_000),
        };

  const generator = oneOf('generator', text('generator') ?? 'node', ['node', 'native'] as const);
  if (generator === 'native' && url?.startsWith('https:')) {
    throw new LoadUsageError(`--generator native speaks plain HTTP; --url must be http://, got \`${url}\``);
  }
  if (generator === 'native' && url !== null && new URL(url).hostname.startsWith('[')) {
    throw new LoadUsageError(`--generator native connects over IPv4; --url must not be IPv6, got \`${url}\``);
  }
  if (generator === 'native' && process.platform !== 'linux') {
    throw new LoadUsageError(`--generator native runs on Linux only (epoll, timerfd), not ${process.platform}`);
  }

  const durationMs = parseDuration('duration', text('duration') ?? DEFAULTS.duration);
  if (durationMs <= 0) throw new LoadUsageError(`--duration must be longer than 0, got \`${text('duration')}\``);

  return {
    url,
    key,
    world,
    mix: parseMix(text('mix') ?? DEFAULTS.mix),
    encoding: oneOf('encoding', text('encoding') ?? DEFAULTS.encoding, ['json', 'msgpack'] as const),
    generator,
    loop,
    durationMs,
    warmupMs: parseDuration('warmup', text('warmup') ?? DEFAULTS.warmup),
    batch: integer('batch', text('batch'), DEFAULTS.batch, 1, 10_000_000),
    rows: integer('rows', text('rows'), DEFAULTS.rows, 1, 100_000_000),
    filterForm: oneOf('filter-rows', text('filter-rows') ?? 'columns', ['columns', 'ids', 'records'] as const),
    filterOutput: oneOf('filter-output', text('filter-output') ?? 'indexes', ['indexes', 'bitmask'] as const),
    lookupLimit: integer('lookup-limit', text('lookup-limit'), DEFAULTS.lookupLimit, 1, 10_000_000),
    bodies: integer('bodies', text('bodies'), DEFAULTS.bodies, 1, 100_000),
    seed: integer('seed', text('seed'), DEFAULTS.seed, 0, 2 ** 32 - 1),
    verifySample: fraction('verify-sample', text('verify-sample') ?? String(DEFAULTS.verifySample)),
    referenceChecks: integer('reference-checks', text('reference-checks'), DEFAULTS.referenceChecks, 0, 10_000_000),
    out: text('out') === undefined ? null : resolve(cwd, text('out') as string),
    timeoutMs: parseDuration('timeout', text('timeout') ?? DEFAULTS.timeout),
    quiet: values.quiet === true,
    workers: text('workers') === undefined ? null : integer('workers', text('workers'), 0, 0, 256),
    poolThreshold: optionalInteger('pool-threshold', text('pool-threshold'), 1, 100_000_000),
    columnPoolThreshold: optionalInteger('column-pool-threshold', text('column-pool-threshold'), 1, 100_000_000),
    filterPoolThreshold: optionalInteger('filter-pool-threshold', text('filter-pool-threshold'), 1, 100_000_000),
    poolMaxQueue: optionalInteger('pool-max-queue', text('pool-max-queue'), 0, 1_000_000),
    server: oneOf('server', text('server') ?? 'auto', ['auto', 'source', 'dist'] as const),
    startTimeoutMs: parseDuration('start-timeout', text('start-timeout') ?? DEFAULTS.startTimeout),
    launcher: launcherOf(env),
  };
}

/** The package manager running this command as a script, from the variables every one of them sets. */
export function launcherOf(env: Readonly<Record<string, string | undefined>>): string | null {
  if (env.npm_lifecycle_event === undefined) return null;
  const agent = env.npm_config_user_agent?.split('/', 1)[0] ?? '';
  return agent === '' ? 'a package manager' : agent;
}

/**
 * What an open-loop run started through a package manager should know: the manager's own Node
 * processes (npx, pnpm, a filtered pnpm) wait idle beside the run, and their garbage collections,
 * 40–80 ms of CPU each, land in the latency tail being measured (BENCHMARKS.md, tenth session).
 */
export function launcherNote(options: LoadOptions): string | null {
  if (options.launcher === null || options.loop.type !== 'open') return null;
  return (
    `note: started by ${options.launcher}, whose idle processes collect garbage during the run and show in ` +
    'its latency tail; for latency figures start it directly: ' +
    'node --no-memory-reducer --import tsx packages/bench/src/cli.ts load … (from the repository root)'
  );
}

/** `check:70,checks:20,filter:10` → entries with positive weights; a kind may appear once. */
export function parseMix(text: string): MixEntry[] {
  const entries: MixEntry[] = [];
  for (const part of text.split(',')) {
    const [name = '', weightText, extra] = part.trim().split(':');
    if (!(KINDS as readonly string[]).includes(name)) {
      throw new LoadUsageError(`--mix: unknown kind \`${name}\` in \`${text}\` (${KINDS.join(', ')})`);
    }
    const weight = weightText === undefined ? 1 : Number(weightText);
    if (extra !== undefined || weightText === '' || !Number.isFinite(weight) || weight < 0) {
      throw new LoadUsageError(`--mix: \`${part.trim()}\` must be kind:weight with a non-negative weight`);
    }
    if (entries.some((e) => e.kind === name)) throw new LoadUsageError(`--mix: kind \`${name}\` is given twice`);
    if (weight > 0) entries.push({ kind: name as Kind, weight });
  }
  if (entries.length === 0) throw new LoadUsageError(`--mix: \`${text}\` gives no kind a positive weight`);
  return entries;
}

/** `500ms`, `10s`, `2m`, `1h`, or a bare number of seconds → milliseconds. */
export function parseDuration(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (match === null) throw new LoadUsageError(`--${flag} must be a time such as 500ms, 10s or 2m, got \`${text}\``);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * unit);
}

function parseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new LoadUsageError(`--url must be an http(s) URL such as http://127.0.0.1:8787, got \`${text}\``);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new LoadUsageError(`--url must be an http(s) URL, got \`${text}\``);
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new LoadUsageError(`--url must be the server's origin with no path or query, got \`${text}\``);
  }
  return url.origin;
}

function parseWorld(text: string, mustBeFile: boolean, cwd: string): WorldSpec {
  if (!mustBeFile && Object.hasOwn(PRESETS, text)) return { preset: text as PresetName };
  if (text === '') throw new LoadUsageError('--world must name a preset or a file, got an empty string');
  return { file: resolve(cwd, text) };
}

/** A started server's setting: null when not given (the server's own default), else checked as it checks it. */
function optionalInteger(flag: string, text: string | undefined, min: number, max: number): number | null {
  return text === undefined ? null : integer(flag, text, min, min, max);
}

function integer(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  // Underscores and commas as digit separators: --batch 10_000.
  const clean = text.replace(/[_,]/g, '');
  const value = Number(clean);
  if (!/^\d+$/.test(clean) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new LoadUsageError(`--${flag} must be an integer from ${min} to ${max}, got \`${text}\``);
  }
  return value;
}

function positive(flag: string, text: string): number {
  const value = Number(text.replace(/[_,]/g, ''));
  if (!Number.isFinite(value) || value <= 0) {
    throw new LoadUsageError(`--${flag} must be a number greater than 0, got \`${text}\``);
  }
  return value;
}

function fraction(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new LoadUsageError(`--${flag} must be a fraction from 0 to 1, got \`${text}\``);
  }
  return value;
}

function oneOf<T extends string>(flag: string, text: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(text)) {
    throw new LoadUsageError(`--${flag} must be one of ${allowed.join(', ')}, got \`${text}\``);
  }
  return text as T;
}
