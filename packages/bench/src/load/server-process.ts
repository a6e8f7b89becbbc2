/**
 * A Palisade server in another process, for a run that brings its own: `palisade serve` on a
 * world file, a free port and a keys file holding a key made for the run, ready once `/readyz`
 * answers 200; stopped with SIGTERM (the server drains), SIGKILL if it does not exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type { ServerBuild } from './options.js';

export interface ServerLaunch {
  readonly worldFile: string;
  /** Where the keys file goes (a temporary folder the caller removes). */
  readonly dir: string;
  readonly build: ServerBuild;
  readonly workers: number | null;
  readonly poolThreshold: number | null;
  readonly columnPoolThreshold: number | null;
  readonly filterPoolThreshold: number | null;
  readonly poolMaxQueue: number | null;
  /** Raised limits, so the run's largest bodies fit (`--body-limit`, `--max-batch`, `--max-rows`). */
  readonly bodyLimit: number;
  readonly maxBatch: number;
  readonly maxRows: number;
  readonly startTimeoutMs: number;
}

export interface StartedServer {
  readonly url: string;
  readonly key: string;
  readonly pid: number;
  /** Which build ran: `source` (tsx) or `dist`. */
  readonly build: 'source' | 'dist';
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null: killed by a signal). */
  stop(graceMs?: number): Promise<number | null>;
}

const SERVER_DIR = fileURLToPath(new URL('../../../server/', import.meta.url));
const STOP_GRACE_MS = 15_000;
/** Lines of server output kept, to explain a server that failed to start or died. */
const KEPT_LINES = 40;

export async function startServer(launch: ServerLaunch): Promise<StartedServer> {
  // A key for this run only; the keys file holds its SHA-256, as `palisade keygen` writes it.
  const key = `pal_load_${randomBytes(24).toString('base64url')}`;
  const keysFile = join(launch.dir, 'keys.json');
  const sha256 = createHash('sha256').update(key, 'utf8').digest('hex');
  await writeFile(
    keysFile,
    `${JSON.stringify({ keys: [{ id: 'palisade-bench-load', sha256, scopes: ['check'] }] })}\n`,
  );

  const build = whichBuild(launch.build);
  const entry =
    build === 'source' ? ['--conditions=@palisade/source', '--import', 'tsx', 'src/cli.ts'] : ['dist/cli.js'];
  const args = [...entry, ...serveArgs(launch, keysFile)];
  // cwd: the server package, where `--import tsx` resolves; every path passed is absolute.
  const child = spawn(process.execPath, args, { cwd: SERVER_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') output.push(line);
    output.splice(0, Math.max(0, output.length - KEPT_LINES));
  };
  child.stderr?.on('data', keep);
  // A server still running when this process exits is killed with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async (graceMs = STOP_GRACE_MS): Promise<number | null> => {
    process.off('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
    return child.exitCode;
  };

  try {
    const url = await listeningUrl(child, keep, launch.startTimeoutMs, output);
    await waitReady(url, child, launch.startTimeoutMs, output);
    return { url, key, pid: child.pid as number, build, stop };
  } catch (error) {
    await stop(1_000);
    throw error;
  }
}

/** `palisade serve`'s arguments for a launch: the settings given, and nothing for those left to the server. */
export function serveArgs(launch: ServerLaunch, keysFile: string): string[] {
  const optional = (flag: string, value: number | null) => (value === null ? [] : [flag, String(value)]);
  return [
    'serve',
    '--world',
    launch.worldFile,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--keys',
    keysFile,
    // Request logs would cost the server more than its answers.
    '--log-level',
    'warn',
    '--body-limit',
    String(launch.bodyLimit),
    '--max-batch',
    String(launch.maxBatch),
    '--max-rows',
    String(launch.maxRows),
    ...optional('--workers', launch.workers),
    ...optional('--pool-threshold', launch.poolThreshold),
    ...optional('--column-pool-threshold', launch.columnPoolThreshold),
    ...optional('--filter-pool-threshold', launch.filterPoolThreshold),
    ...optional('--pool-max-queue', launch.poolMaxQueue),
  ];
}

/** `source` or `dist`; `auto` follows this process (the build its own @palisade/core resolved to). */
function whichBuild(build: ServerBuild): 'source' | 'dist' {
  if (build !== 'auto') {
    if (build === 'dist' && !existsSync(join(SERVER_DIR, 'dist/cli.js'))) {
      throw new Error('--server dist: packages/server/dist is not built (run `pnpm build:bench`)');
    }
    return build;
  }
  let core: string;
  try {
    core = import.meta.resolve('@palisade/core');
  } catch {
    core = createRequire(import.meta.url).resolve('@palisade/core');
  }
  return core.includes('/dist/') && existsSync(join(SERVER_DIR, 'dist/cli.js')) ? 'dist' : 'source';
}

/** The URL from the server's `listening on` line (it picked the port). */
async function listeningUrl(
  child: ChildProcess,
  keep: (chunk: Buffer) => void,
  timeoutMs: number,
  output: string[],
): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => fail(`the server did not start listening within ${timeoutMs / 1000} s`), timeoutMs);
    const onData = (chunk: Buffer) => {
      keep(chunk);
      text += chunk.toString('utf8');
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match !== null) {
        cleanup();
        // The rest of stdout is only kept for a later failure message.
        child.stdout?.on('data', keep);
        resolve(match[1] as string);
      }
    };
    const onExit = (code: number | null, signal: string | null) =>
      fail(`the server exited before listening (${signal ?? `exit code ${code}`})`);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    };
    const fail = (message: string) => {
      cleanup();
      reject(new Error(`${message}; its last output:\n${output.map((l) => `  | ${l}`).join('\n')}`));
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Polls `/readyz` until 200 (the world is loaded and the server is not shutting down). */
async function waitReady(url: string, child: ChildProcess, timeoutMs: number, output: string[]): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `the server exited while starting; its last output:\n${output.map((l) => `  | ${l}`).join('\n')}`,
      );
    }
    try {
      const answer = await request(`${url}/readyz`);
      await answer.body.dump();
      if (answer.statusCode === 200) return;
    } catch {
      // Not accepting connections yet.
    }
    if (performance.now() > deadline) throw new Error(`${url}/readyz did not answer 200 within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
