import { availableParallelism } from 'node:os';
/**
 * The server's configuration from command-line flags and environment variables (a flag wins over
 * its variable, a variable over the default). Every value remembers where it came from, so the
 * start-up banner can say.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServerErrorCodes, serverError } from './errors.js';
import {
  DEFAULT_COLUMN_POOL_THRESHOLD,
  DEFAULT_FILTER_POOL_THRESHOLD,
  DEFAULT_POOL_QUEUE_PER_THREAD,
  DEFAULT_POOL_TASK_TIMEOUT_MS,
  DEFAULT_POOL_THRESHOLD,
  defaultPoolMaxQueue,
} from './pool/pool-evaluator.js';
import { DEFAULT_CATCH_UP_MS, DEFAULT_REVISION_WAIT_MS } from './replica.js';
import { DEFAULT_LIMITS, DEFAULT_LISTEN, httpOrigin, type ServerLimits } from './routes/options.js';
import { DEFAULT_DATA_DIR, describeDatabaseUrl } from './store/open.js';

/** How long shutdown waits for in-flight requests before closing their connections, in ms. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/** The sample world, used when neither `--world` nor `PALISADE_WORLD` names one. */
export const SAMPLE_WORLD = new URL('../../../fixtures/worlds/sample.json', import.meta.url);

export type Source = 'flag' | 'env' | 'default';

/** Where the served world lives: the PostgreSQL store, or only the world file. */
export type StoreMode = 'postgres' | 'none';

export interface ServerConfig {
  /** The world file: served as it is (store `none`), or imported into an empty store. */
  readonly world: string;
  readonly store: StoreMode;
  /** The store's PostgreSQL; null: an embedded server on `dataDir`. */
  readonly databaseUrl: string | null;
  readonly dataDir: string;
  /** Longest wait for a read's `atLeastRevision`, in ms. */
  readonly revisionWaitMs: number;
  /** Catch up with the change log at least this often whatever LISTEN says, in ms; 0: only on notifications. */
  readonly catchUpMs: number;
  readonly host: string;
  readonly port: number;
  /** The API keys file; null: generate a development key at start. */
  readonly keysFile: string | null;
  readonly limits: ServerLimits;
  readonly publicUrl: string | null;
  readonly logLevel: string;
  /** Worker threads for large check batches; 0: answer everything on the main thread. */
  readonly workers: number;
  /** `/v1/checks` batches with fewer items than this stay on the main thread. */
  readonly poolThreshold: number;
  /** `/v1/checks/columns` batches with fewer items than this stay on the main thread. */
  readonly columnPoolThreshold: number;
  readonly filterPoolThreshold: number;
  /** Most ranges waiting for a worker before pooled requests are refused with 503. */
  readonly poolMaxQueue: number;
  /** Longest a pooled question's ranges may take before their workers are terminated and it fails with 503, in ms. */
  readonly poolTaskTimeoutMs: number;
  /** Longest wait at shutdown for requests in flight, in ms; then their connections are cut. */
  readonly drainTimeoutMs: number;
  /** Where each setting came from, by setting name. */
  readonly sources: Readonly<Record<SettingName, Source>>;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

interface Setting {
  readonly flag: string;
  readonly env: string;
  readonly help: string;
}

/** Listen addresses that mean "every interface": an origin built on one names no reachable host. */
const WILDCARD_HOSTS: ReadonlySet<string> = new Set(['0.0.0.0', '::', '[::]']);

/** Every setting: its flag (`--flag`), its environment variable, and its help line. */
export const SETTINGS = {
  world: {
    flag: 'world',
    env: 'PALISADE_WORLD',
    help: 'world file, JSON or MessagePack (default: the sample world); with the store, imported when it is empty',
  },
  store: {
    flag: 'store',
    env: 'PALISADE_STORE',
    help:
      'postgres (serve from the PostgreSQL store, with writes) or none (serve the world file; no writes); ' +
      'default: none when a world is named and no database URL is, else postgres',
  },
  databaseUrl: {
    flag: 'database-url',
    env: 'DATABASE_URL',
    help: 'PostgreSQL URL of the store (default: an embedded PostgreSQL on --data-dir)',
  },
  dataDir: {
    flag: 'data-dir',
    env: 'PALISADE_DATA_DIR',
    help: 'data directory of the embedded PostgreSQL (default .data/postgres in the project)',
  },
  revisionWait: {
    flag: 'revision-wait',
    env: 'PALISADE_REVISION_WAIT',
    help: `longest wait for a read's atLeastRevision, ms (default ${DEFAULT_REVISION_WAIT_MS})`,
  },
  catchUpInterval: {
    flag: 'catch-up-interval',
    env: 'PALISADE_CATCH_UP_INTERVAL',
    help: `read the change log at least this often besides LISTEN/NOTIFY, ms (default ${DEFAULT_CATCH_UP_MS}; 0: never)`,
  },
  host: { flag: 'host', env: 'PALISADE_HOST', help: 'address to listen on (default 127.0.0.1)' },
  port: { flag: 'port', env: 'PALISADE_PORT', help: 'port to listen on (default 8787; 0 picks a free one)' },
  keys: { flag: 'keys', env: 'PALISADE_KEYS', help: 'API keys file (default: a development key made at start)' },
  bodyLimit: { flag: 'body-limit', env: 'PALISADE_BODY_LIMIT', help: 'largest request body, bytes (default 8 MiB)' },
  maxBatchItems: { flag: 'max-batch', env: 'PALISADE_MAX_BATCH', help: 'most items per batch (default 10000)' },
  maxFilterRows: { flag: 'max-rows', env: 'PALISADE_MAX_ROWS', help: 'most rows per filter (default 1000000)' },
  maxPageSize: { flag: 'max-page', env: 'PALISADE_MAX_PAGE', help: 'largest lookup/search page (default 1000)' },
  maxLookupIds: { flag: 'max-ids', env: 'PALISADE_MAX_IDS', help: 'most ids a lookup returns (default 100000)' },
  publicUrl: {
    flag: 'public-url',
    env: 'PALISADE_PUBLIC_URL',
    help: 'base URL in the AuthZEN metadata (default: http://<host>:<port>, the listen address)',
  },
  workers: {
    flag: 'workers',
    env: 'PALISADE_WORKERS',
    help: 'worker threads for large check batches (default: available cores; 0: none)',
  },
  poolThreshold: {
    flag: 'pool-threshold',
    env: 'PALISADE_POOL_THRESHOLD',
    help: `smallest /v1/checks batch sent to the workers (default ${DEFAULT_POOL_THRESHOLD}, measured in BENCHMARKS.md)`,
  },
  columnPoolThreshold: {
    flag: 'column-pool-threshold',
    env: 'PALISADE_COLUMN_POOL_THRESHOLD',
    help: `smallest /v1/checks/columns batch sent to the workers (default ${DEFAULT_COLUMN_POOL_THRESHOLD}, measured in BENCHMARKS.md)`,
  },
  filterPoolThreshold: {
    flag: 'filter-pool-threshold',
    env: 'PALISADE_FILTER_POOL_THRESHOLD',
    help: `smallest filter (rows) sent to the workers (default ${DEFAULT_FILTER_POOL_THRESHOLD}, measured in BENCHMARKS.md)`,
  },
  poolMaxQueue: {
    flag: 'pool-max-queue',
    env: 'PALISADE_POOL_MAX_QUEUE',
    help:
      `most ranges waiting for a worker; a pooled request past it is answered 503 with Retry-After ` +
      `(default ${DEFAULT_POOL_QUEUE_PER_THREAD} per worker, measured in BENCHMARKS.md)`,
  },
  poolTaskTimeout: {
    flag: 'pool-task-timeout',
    env: 'PALISADE_POOL_TASK_TIMEOUT',
    help:
      `longest a pooled request's workers may take, ms; past it they are terminated and replaced and ` +
      `the request is answered 503 with Retry-After (default ${DEFAULT_POOL_TASK_TIMEOUT_MS})`,
  },
  drainTimeout: {
    flag: 'drain-timeout',
    env: 'PALISADE_DRAIN_TIMEOUT',
    help: `longest wait at shutdown for requests in flight, ms; then their connections are cut (default ${DEFAULT_DRAIN_TIMEOUT_MS})`,
  },
  logLevel: {
    flag: 'log-level',
    env: 'PALISADE_LOG_LEVEL',
    help: `log level: ${LOG_LEVELS.join(', ')} (default info)`,
  },
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

/** `parseArgs` options for every setting (all strings). */
export const SETTING_OPTIONS = Object.fromEntries(
  Object.values(SETTINGS).map((s) => [s.flag, { type: 'string' as const }]),
) as Record<string, { type: 'string' }>;

/**
 * The configuration from parsed flags (`values`, by flag name) and `env`. Relative paths resolve
 * against `cwd` (pnpm runs scripts in the package folder; the caller passes where the user was).
 */
export function resolveConfig(
  values: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): ServerConfig {
  const sources = {} as Record<SettingName, Source>;
  const raw = (name: SettingName): string | undefined => {
    const setting: Setting = SETTINGS[name];
    const flag = values[setting.flag];
    if (typeof flag === 'string') {
      sources[name] = 'flag';
      return flag;
    }
    const fromEnv = env[setting.env];
    if (fromEnv !== undefined && fromEnv !== '') {
      sources[name] = 'env';
      return fromEnv;
    }
    sources[name] = 'default';
    return undefined;
  };
  const integer = (name: SettingName, fallback: number, min: number, max: number): number => {
    const text = raw(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw invalid(name, `must be an integer from ${min} to ${max}, got \`${text}\``);
    }
    return value;
  };

  const world = raw('world');
  const keys = raw('keys');
  const logLevel = raw('logLevel') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw invalid('logLevel', `must be one of ${LOG_LEVELS.join(', ')}`);
  const publicUrl = raw('publicUrl') ?? null;
  if (publicUrl !== null && !/^https?:\/\/[^/?#]+$/.test(publicUrl.replace(/\/+$/, ''))) {
    throw invalid('publicUrl', `must be an http(s) URL with no path, query or fragment, got \`${publicUrl}\``);
  }
  const databaseUrl = raw('databaseUrl') ?? null;
  const dataDir = raw('dataDir');
  const storeText = raw('store');
  if (storeText !== undefined && storeText !== 'postgres' && storeText !== 'none') {
    throw invalid('store', `must be postgres or none, got \`${storeText}\``);
  }
  // A world named (and no database) is served as a file, as before the store existed.
  const store: StoreMode = storeText ?? (world !== undefined && databaseUrl === null ? 'none' : 'postgres');
  const workers = integer('workers', availableParallelism(), 0, 256);
  const config: Omit<ServerConfig, 'sources'> = {
    world: world === undefined ? fileURLToPath(SAMPLE_WORLD) : resolve(cwd, world),
    store,
    databaseUrl,
    dataDir: dataDir === undefined ? DEFAULT_DATA_DIR : resolve(cwd, dataDir),
    revisionWaitMs: integer('revisionWait', DEFAULT_REVISION_WAIT_MS, 0, 600_000),
    catchUpMs: integer('catchUpInterval', DEFAULT_CATCH_UP_MS, 0, 86_400_000),
    host: raw('host') ?? DEFAULT_LISTEN.host,
    port: integer('port', DEFAULT_LISTEN.port, 0, 65535),
    workers,
    poolThreshold: integer('poolThreshold', DEFAULT_POOL_THRESHOLD, 1, 100_000_000),
    columnPoolThreshold: integer('columnPoolThreshold', DEFAULT_COLUMN_POOL_THRESHOLD, 1, 100_000_000),
    filterPoolThreshold: integer('filterPoolThreshold', DEFAULT_FILTER_POOL_THRESHOLD, 1, 100_000_000),
    poolMaxQueue: integer('poolMaxQueue', defaultPoolMaxQueue(workers), 0, 1_000_000),
    poolTaskTimeoutMs: integer('poolTaskTimeout', DEFAULT_POOL_TASK_TIMEOUT_MS, 1, 3_600_000),
    drainTimeoutMs: integer('drainTimeout', DEFAULT_DRAIN_TIMEOUT_MS, 0, 3_600_000),
    keysFile: keys === undefined ? null : resolve(cwd, keys),
    limits: {
      bodyLimit: integer('bodyLimit', DEFAULT_LIMITS.bodyLimit, 1, 2 ** 31 - 1),
      maxBatchItems: integer('maxBatchItems', DEFAULT_LIMITS.maxBatchItems, 1, 10_000_000),
      maxFilterRows: integer('maxFilterRows', DEFAULT_LIMITS.maxFilterRows, 1, 100_000_000),
      maxPageSize: integer('maxPageSize', DEFAULT_LIMITS.maxPageSize, 1, 10_000_000),
      maxLookupIds: integer('maxLookupIds', DEFAULT_LIMITS.maxLookupIds, 1, 100_000_000),
    },
    publicUrl: publicUrl?.replace(/\/+$/, '') ?? null,
    logLevel,
  };
  return { ...config, sources };
}

function invalid(name: SettingName, message: string) {
  const setting: Setting = SETTINGS[name];
  return serverError(ServerErrorCodes.INVALID_CONFIG, `--${setting.flag} (${setting.env}) ${message}`, {
    setting: setting.flag,
  });
}

/** The configuration as the lines of the start-up banner: each value, where it came from, and how to set it. */
export function describeConfig(config: ServerConfig, keysNote: string): string[] {
  const { limits } = config;
  const postgres = config.store === 'postgres';
  const rows: [SettingName, string][] = [
    ['world', postgres ? `${config.world} (imported only into an empty store)` : config.world],
    [
      'store',
      postgres
        ? 'postgres (the world and its change log; writes at /v1/write)'
        : 'none (the world file as it is; writes refused)',
    ],
    [
      'databaseUrl',
      config.databaseUrl === null
        ? postgres
          ? '(none: an embedded PostgreSQL)'
          : '(unused)'
        : describeDatabaseUrl(config.databaseUrl),
    ],
    ['dataDir', config.databaseUrl === null && postgres ? config.dataDir : '(unused)'],
    ['revisionWait', `${config.revisionWaitMs} ms`],
    ['catchUpInterval', config.catchUpMs === 0 ? '0 (only when notified)' : `${config.catchUpMs} ms`],
    ['host', config.host],
    ['port', String(config.port)],
    ['keys', config.keysFile ?? keysNote],
    ['bodyLimit', `${limits.bodyLimit} bytes`],
    ['maxBatchItems', String(limits.maxBatchItems)],
    ['maxFilterRows', String(limits.maxFilterRows)],
    ['maxPageSize', String(limits.maxPageSize)],
    ['maxLookupIds', String(limits.maxLookupIds)],
    [
      'publicUrl',
      config.publicUrl ??
        `(the listen address: ${httpOrigin(config.host, config.port)})` +
          (WILDCARD_HOSTS.has(config.host)
            ? ' WARNING: a wildcard address no client can reach; AuthZEN discovery names it: set --public-url'
            : ''),
    ],
    ['logLevel', config.logLevel],
    ['workers', config.workers === 0 ? '0 (every question on the main thread)' : String(config.workers)],
    ['poolThreshold', `${config.poolThreshold} items`],
    ['columnPoolThreshold', `${config.columnPoolThreshold} items`],
    ['filterPoolThreshold', `${config.filterPoolThreshold} rows`],
    [
      'poolMaxQueue',
      config.workers === 0
        ? '(unused: no workers)'
        : `${config.poolMaxQueue} ranges waiting` +
          (config.sources.poolMaxQueue === 'default' ? ` (${DEFAULT_POOL_QUEUE_PER_THREAD} per worker)` : ''),
    ],
    ['poolTaskTimeout', config.workers === 0 ? '(unused: no workers)' : `${config.poolTaskTimeoutMs} ms`],
    ['drainTimeout', `${config.drainTimeoutMs} ms`],
  ];
  const width = Math.max(...rows.map(([name]) => SETTINGS[name].flag.length));
  return rows.map(([name, value]) => {
    const setting: Setting = SETTINGS[name];
    const source = config.sources[name] === 'default' ? '' : `  [${config.sources[name]}]`;
    return `  --${setting.flag.padEnd(width)}  ${value}${source}   (${setting.env})`;
  });
}
