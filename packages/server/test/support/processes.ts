/**
 * Real processes for the replica and fault tests: one embedded PostgreSQL (which a test may kill
 * with SIGKILL and start again on the same data directory and port) and `palisade serve`
 * processes on it, each spoken to over HTTP like any client would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorldInput } from '@palisade/core';
import { type EmbeddedPostgresServer, SAMPLE_WORLD, sha256, startEmbeddedPostgres } from '@palisade/server';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { ADMIN_KEY, CHECK_KEY } from './http.js';

export { ADMIN_KEY, CHECK_KEY };

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
/** How long a `palisade serve` may take to print its address (tsx compiles the sources on start). */
const START_TIMEOUT_MS = 40_000;
/** No single HTTP call of these tests should take longer; a hung one fails the test instead. */
const CALL_TIMEOUT_MS = 20_000;

export const SAMPLE = JSON.parse(readFileSync(SAMPLE_WORLD, 'utf8')) as WorldInput;
export const PRIVILEGES = ['create', 'read', 'write', 'delete', 'append', 'appendTo', 'assign', 'share'] as const;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A temp directory the embedded PostgreSQL (run as `postgres` under root) can enter. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

/** A keys file with the test keys, as `palisade keygen` writes entries (SHA-256 only). */
export async function writeKeysFile(dir: string): Promise<string> {
  const file = join(dir, 'keys.json');
  const entry = (id: string, key: string, scopes: string[]) => ({ id, sha256: sha256(key).toString('hex'), scopes });
  await writeFile(
    file,
    JSON.stringify({ keys: [entry('checker', CHECK_KEY, ['check']), entry('operator', ADMIN_KEY, ['admin'])] }),
  );
  return file;
}

/**
 * One embedded PostgreSQL for a test file. `kill()` ends it as a crash would (SIGKILL to the
 * postmaster and every backend); `restart()` starts it again on the same data directory and port.
 */
export class TestDatabase {
  private server: EmbeddedPostgresServer | null = null;
  private port = 0;

  private constructor(
    readonly dataDir: string,
    private readonly ephemeral: boolean,
  ) {}

  /** Durable unless `ephemeral` (fsync and synchronous commit off: a killed server may lose acknowledged commits). */
  static async start(dir: string, options: { ephemeral?: boolean } = {}): Promise<TestDatabase> {
    const db = new TestDatabase(join(dir, 'pg'), options.ephemeral === true);
    await db.restart();
    return db;
  }

  /** The URL of `database` on this server. */
  url(database = 'palisade'): string {
    if (this.server === null && this.port === 0) throw new Error('the database was never started');
    return `postgres://postgres:palisade@127.0.0.1:${this.port}/${database}`;
  }

  /** Creates an empty database (one per test: each holds its own store). */
  async create(database: string): Promise<string> {
    await this.query(`CREATE DATABASE ${database}`);
    return this.url(database);
  }

  async query<R extends pg.QueryResultRow = Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
    database = 'palisade',
  ): Promise<R[]> {
    const client = new pg.Client({ connectionString: this.url(database) });
    await client.connect();
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  /** kill -9 the postmaster and all its children (the postmaster's pid is the first line of postmaster.pid). */
  async kill(): Promise<void> {
    const pid = Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const pids = [pid, ...childrenOf(pid)];
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const deadline = Date.now() + 10_000;
    while (pids.some(alive) && Date.now() < deadline) await sleep(20);
    // The server object's process has exited; stop() must now return at once (postgres/embedded.ts).
    await this.server?.stop();
    this.server = null;
  }

  /** Starts the server (again) on the same data directory and port; retries while the old one's memory is held. */
  async restart(): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        this.server = await startEmbeddedPostgres({
          dataDir: this.dataDir,
          ephemeral: this.ephemeral,
          ...(this.port === 0 ? {} : { port: this.port }),
        });
        this.port = this.server.port;
        return;
      } catch (error) {
        lastError = error;
        await sleep(250);
      }
    }
    throw lastError;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = null;
  }
}

function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return children;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Headers;
  /** The `palisade-revision` header (-1 when missing). */
  readonly revision: number;
}

export interface ServeOptions {
  readonly databaseUrl?: string;
  readonly keysFile: string;
  /** More flags, e.g. `['--workers', '2']`. */
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

/** Every `palisade serve` started, so that a failed test leaves none behind. */
const started = new Set<ServerProcess>();

/** SIGKILLs every server process still running (for afterAll). */
export async function killAllServers(): Promise<void> {
  await Promise.all([...started].map((server) => server.kill('SIGKILL')));
}

/** A `palisade serve` process (`node --import tsx src/cli.ts serve …`), as an operator would run it. */
export class ServerProcess {
  output = '';
  url = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly child: ChildProcess,
    readonly options: ServeOptions,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
    });
    this.exited = once(child, 'exit').then(([code, signal]) => {
      started.delete(this);
      return { code: code as number | null, signal: signal as NodeJS.Signals | null };
    });
  }

  /** Starts `palisade serve --port 0` with `options` and resolves once it listens. */
  static async start(options: ServeOptions): Promise<ServerProcess> {
    const args = [
      '--conditions=@palisade/source',
      '--import',
      'tsx',
      CLI,
      'serve',
      ...(options.databaseUrl === undefined ? [] : ['--database-url', options.databaseUrl]),
      '--port',
      '0',
      '--keys',
      options.keysFile,
      '--log-level',
      'warn',
      ...(options.args ?? ['--workers', '0']),
    ];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new ServerProcess(child, options);
    started.add(server);
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const url = /listening on (http:\/\/\S+) \(/.exec(server.output)?.[1];
      if (url !== undefined) {
        server.url = url;
        return server;
      }
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`palisade serve did not start:\n${server.output}`);
      }
      await sleep(25);
    }
  }

  /** The same command again (a restarted replica). */
  restart(): Promise<ServerProcess> {
    return ServerProcess.start(this.options);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` and resolves with how the process ended. */
  async kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  async call(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    options: { key?: string | null; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const key = options.key === undefined ? ADMIN_KEY : options.key;
    const headers: Record<string, string> = { ...options.headers };
    if (key !== null) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    const revision = response.headers.get('palisade-revision');
    return { status: response.status, body: parsed, headers: response.headers, revision: Number(revision ?? -1) };
  }

  write(ops: readonly unknown[], asUser?: string): Promise<Answer> {
    return this.call('POST', '/v1/write', asUser === undefined ? { ops } : { ops, asUser });
  }

  check(user: string, table: string, privilege: string, record: string, atLeastRevision?: number): Promise<Answer> {
    const query = atLeastRevision === undefined ? '' : `?atLeastRevision=${atLeastRevision}`;
    return this.call('POST', `/v1/check${query}`, { user, table, privilege, record }, { key: CHECK_KEY });
  }

  /** The revision `/readyz` reports (-1 when not ready). */
  async readyRevision(): Promise<number> {
    const answer = await this.call('GET', '/readyz', undefined, { key: null });
    return answer.status === 200 ? (answer.body as { revision: number }).revision : -1;
  }

  /**
   * The answers to every (user, record, privilege) of the sample world plus `extra` records, at
   * `atLeastRevision` (batches of at most 5,000 items), each item's `{ allowed, reason, error }`.
   */
  async everyAnswer(extra: readonly [string, string][], atLeastRevision: number): Promise<unknown[]> {
    const items = everyQuestion(extra);
    const results: unknown[] = [];
    for (let from = 0; from < items.length; from += 5_000) {
      const answer = await this.call(
        'POST',
        `/v1/checks?atLeastRevision=${atLeastRevision}`,
        { items: items.slice(from, from + 5_000) },
        { key: CHECK_KEY },
      );
      if (answer.status !== 200) throw new Error(`checks answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      if (answer.revision < atLeastRevision) throw new Error(`checks answered at ${answer.revision}`);
      results.push(...(answer.body as { results: unknown[] }).results);
    }
    return results;
  }
}

/** Every (user, record, privilege) of the sample world's users and records plus `extra` records. */
export function everyQuestion(extra: readonly [string, string][] = []) {
  const records = [...(SAMPLE.records ?? []).map((r) => [r.table, r.id] as [string, string]), ...extra];
  const items: { id: string; user: string; table: string; privilege: string; record: string }[] = [];
  for (const user of SAMPLE.users ?? [])
    for (const [table, record] of records)
      for (const privilege of PRIVILEGES)
        items.push({ id: `${items.length}`, user: user.id, table, privilege, record });
  return items;
}

/** The `{ error: { code, details } }` of an error answer. */
export function errorOf(answer: Answer): { code: string; message: string; details?: Record<string, unknown> } {
  const body = answer.body as { error?: { code: string; message: string; details?: Record<string, unknown> } };
  if (body === null || typeof body !== 'object' || body.error === undefined) {
    throw new Error(`not an error body (${answer.status}): ${JSON.stringify(answer.body)}`);
  }
  return body.error;
}

/** Calls `probe` until it returns true or `ms` pass; resolves with the last result (no timing is asserted). */
export async function eventually(probe: () => Promise<boolean>, ms = 15_000, pause = 20): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await probe()) return true;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) return false;
    await sleep(pause);
  }
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** What became of one write a `WriteStream` sent. */
export interface WriteOutcome {
  readonly index: number;
  readonly ops: readonly unknown[];
  /** The HTTP status, or 0 when no answer came (the connection failed: the server died). */
  readonly status: number;
  /** The revision a 200 answered. */
  readonly revision: number;
  readonly error: { code: string; details?: Record<string, unknown> } | null;
  /** The stream's phase when the write was sent (a test's label: 'before', 'outage', …). */
  readonly phase: string;
}

/**
 * Clients sending writes one after another (`loops` of them at once), recording what each got: the
 * acknowledged ones (200 and a revision) are the writes the store must keep.
 */
export class WriteStream {
  readonly outcomes: WriteOutcome[] = [];
  phase = 'before';
  private next = 0;
  private stopping = false;
  private readonly running: Promise<void>;

  constructor(
    target: () => ServerProcess,
    opsFor: (index: number) => readonly unknown[],
    options: { loops?: number; stopOnNoAnswer?: boolean } = {},
  ) {
    const loop = async () => {
      while (!this.stopping) {
        const index = this.next++;
        const ops = opsFor(index);
        const phase = this.phase;
        let outcome: WriteOutcome;
        try {
          const answer = await target().write(ops);
          const revision = answer.status === 200 ? (answer.body as { revision: number }).revision : -1;
          outcome = {
            index,
            ops,
            status: answer.status,
            revision,
            error: answer.status === 200 ? null : errorOf(answer),
            phase,
          };
        } catch {
          outcome = { index, ops, status: 0, revision: -1, error: null, phase };
        }
        this.outcomes.push(outcome);
        if (outcome.status === 0 && options.stopOnNoAnswer === true) return;
        // Refused writes come back at once: do not spin.
        if (outcome.status !== 200) await sleep(20);
      }
    };
    this.running = Promise.all(Array.from({ length: options.loops ?? 1 }, loop)).then(() => undefined);
  }

  get acknowledged(): WriteOutcome[] {
    return this.outcomes.filter((o) => o.status === 200);
  }

  /** Waits until `done()` holds (or `ms` pass: the caller's assertions then fail with the state). */
  async until(done: () => boolean, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done() && Date.now() < deadline) await sleep(10);
  }

  /** Resolves when every loop has ended by itself (`stopOnNoAnswer`). */
  ended(): Promise<void> {
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }
}

/** What a file of process tests shares: a temporary directory, one PostgreSQL, the keys file. */
export interface ProcessTestbed {
  readonly dir: string;
  readonly db: TestDatabase;
  readonly keysFile: string;
}

/**
 * Registers the file's setup and teardown (every server process killed, the database stopped, the
 * directory removed) and returns the testbed, filled in once `beforeAll` has run.
 */
export function useProcessTestbed(
  prefix: string,
  options: Parameters<typeof TestDatabase.start>[1] = {},
): ProcessTestbed {
  const testbed = { dir: '', db: undefined as unknown as TestDatabase, keysFile: '' };
  beforeAll(async () => {
    testbed.dir = await tempDir(prefix);
    testbed.db = await TestDatabase.start(testbed.dir, options);
    testbed.keysFile = await writeKeysFile(testbed.dir);
  }, 60_000);
  afterAll(async () => {
    await killAllServers();
    await testbed.db?.stop();
    await removeDir(testbed.dir);
  }, 30_000);
  return testbed;
}
