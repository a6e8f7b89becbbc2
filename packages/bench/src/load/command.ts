/**
 * `palisade-bench load`: world → questions → prebuilt bodies → (a started server) → the run →
 * verification → reports. Each step is its own module; this one only puts them in order and
 * cleans up (the started server is stopped and its temporary folder removed whatever happens).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '@palisade/core';
import { ReferenceEvaluator } from '../../../core/test/reference/reference.js';
import { type BodySet, buildBodies } from './bodies.js';
import { type Kind, LOAD_USAGE, type LoadOptions, LoadUsageError, launcherNote, parseLoadOptions } from './options.js';
import { QuestionMaker } from './questions.js';
import { buildReport, type LoadReport, writeJsonReport } from './report.js';
import { writeHtmlReport } from './report-html.js';
import { type RunResult, runLoad } from './runner.js';
import { type StartedServer, startServer } from './server-process.js';
import { progressPrinter, summaryText } from './summary.js';
import { type Oracles, skippedVerification, type Verification, verifySamples } from './verify.js';
import { type LoadedWorld, loadWorld, worldFile } from './world-source.js';

export interface LoadIo {
  /** The summary. */
  log(line: string): void;
  /** Steps and problems. */
  error(line: string): void;
  /** Where the progress line goes; null for none. */
  readonly progress: NodeJS.WriteStream | null;
}

export interface LoadOutcome {
  readonly report: LoadReport;
  readonly files: { readonly json: string; readonly html: string };
  /** 0: no errors and verification passed or skipped; 1: errors or a mismatch. */
  readonly exitCode: number;
}

const consoleIo: LoadIo = {
  log: (line) => console.log(line),
  error: (line) => console.error(line),
  progress: process.stderr,
};

/** The server's default limits; a started server gets more when the run's bodies need it. */
const DEFAULT_BODY_LIMIT = 8 * 2 ** 20;
const DEFAULT_MAX_BATCH = 10_000;
const DEFAULT_MAX_ROWS = 1_000_000;

const RESULTS_DIR = fileURLToPath(new URL('../../../../bench-results/', import.meta.url));

/** The command line: parses, runs, prints; resolves with the exit code (2: bad usage). */
export async function runLoadCli(
  argv: readonly string[],
  io: LoadIo = consoleIo,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.log(LOAD_USAGE);
    return 0;
  }
  let options: LoadOptions;
  try {
    // pnpm runs scripts in the package folder; INIT_CWD is where the user typed the command.
    options = parseLoadOptions(argv, env, env.INIT_CWD ?? process.cwd());
  } catch (error) {
    if (!(error instanceof LoadUsageError)) throw error;
    io.error(`palisade-bench load: ${error.message}\n(palisade-bench load --help lists the options)`);
    return 2;
  }
  return (await runLoadCommand(options, io)).exitCode;
}

export async function runLoadCommand(options: LoadOptions, io: LoadIo = consoleIo): Promise<LoadOutcome> {
  const step = async <T>(what: string, run: () => T | Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await run();
    io.error(`${what} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    return result;
  };

  const note = launcherNote(options);
  if (note !== null) io.error(note);
  const world = await step('world: read', () => loadWorld(options.world));
  const maker = new QuestionMaker(world.world, options.seed);
  const sets = await step('bodies: built', () => {
    const map = new Map<Kind, BodySet>();
    for (const { kind } of options.mix) map.set(kind, buildBodies(kind, maker, options));
    return map;
  });

  let server: StartedServer | null = null;
  let build: 'source' | 'dist' | null = null;
  let dir: string | null = null;
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.once('SIGINT', onSignal);
  try {
    if (options.url === null) {
      dir = await mkdtemp(join(tmpdir(), 'palisade-load-'));
      const file = await step('world: written for the server', () => worldFile(world, dir as string));
      const largest = Math.max(...[...sets.values()].flatMap((s) => s.bodies.map((b) => b.length)));
      server = await step('server: started', () =>
        startServer({
          worldFile: file,
          dir: dir as string,
          build: options.server,
          workers: options.workers,
          poolThreshold: options.poolThreshold,
          columnPoolThreshold: options.columnPoolThreshold,
          filterPoolThreshold: options.filterPoolThreshold,
          poolMaxQueue: options.poolMaxQueue,
          bodyLimit: Math.max(DEFAULT_BODY_LIMIT, 2 * largest),
          maxBatch: Math.max(DEFAULT_MAX_BATCH, options.batch),
          maxRows: Math.max(DEFAULT_MAX_ROWS, options.rows),
          startTimeoutMs: options.startTimeoutMs,
        }),
      );
      build = server.build;
      io.error(`server: ${server.url} (pid ${server.pid}, ${server.build} build)`);
    }
    const url = server?.url ?? (options.url as string);
    const key = server?.key ?? (options.key as string);

    // The native generator reports at the end only.
    const printer =
      options.quiet || io.progress === null || options.generator === 'native'
        ? null
        : progressPrinter(io.progress, options.warmupMs);
    let run: RunResult;
    try {
      run = await runLoad({
        url,
        key,
        encoding: options.encoding,
        generator: options.generator,
        loop: options.loop,
        durationMs: options.durationMs,
        warmupMs: options.warmupMs,
        timeoutMs: options.timeoutMs,
        mix: options.mix,
        sets,
        seed: options.seed,
        verifySample: world.known ? options.verifySample : 0,
        signal: interrupt.signal,
        ...(printer === null ? {} : { onProgress: (p) => printer.update(p) }),
      });
    } finally {
      printer?.done();
    }
    if (server !== null) {
      const code = await server.stop();
      if (code !== 0) io.error(`server: exited with ${code ?? 'a signal'} after the run`);
      server = null;
    }

    // Compiled after the run, not before: an idle generator process with the engine and the
    // reference evaluator in its heap collects that heap during the run (V8's memory reducer), and
    // on a 2-core machine those collections show in the tail being measured.
    const oracles = await step('oracles: engine compiled', () => buildOracles(world, options));
    const verification = await step('verification: done', () => verify(world, oracles, options, sets, run));
    const report = buildReport({
      options,
      url,
      started: options.url === null,
      build,
      world: world.label,
      sets,
      run,
      verification,
    });
    const base = options.out ?? join(RESULTS_DIR, `load-${stamp(run.startedAt)}`);
    const files = { json: `${base}.json`, html: `${base}.html` };
    await writeJsonReport(report, files.json);
    await writeHtmlReport(report, files.html);
    io.log(summaryText(report, [files.json, files.html]));
    return { report, files, exitCode: report.passed ? 0 : 1 };
  } finally {
    process.off('SIGINT', onSignal);
    await server?.stop();
    if (dir !== null) await rm(dir, { recursive: true, force: true });
  }
}

/** The engine and the reference evaluator on the world, or null when nothing will be verified. */
function buildOracles(world: LoadedWorld, options: LoadOptions): Oracles | null {
  if (!world.known || options.verifySample === 0) return null;
  return { engine: Engine.fromWorld(world.world), reference: new ReferenceEvaluator(world.world) };
}

function verify(
  world: LoadedWorld,
  oracles: Oracles | null,
  options: LoadOptions,
  sets: ReadonlyMap<Kind, BodySet>,
  run: RunResult,
): Verification {
  if (options.verifySample === 0) return skippedVerification('--verify-sample 0');
  if (!world.known || oracles === null) {
    return skippedVerification(
      'no world given (--world or --world-file): there is nothing to check the answers against',
    );
  }
  if (run.samples.length === 0) {
    return skippedVerification('no answer was sampled (raise --verify-sample or --duration, or see the errors)');
  }
  return verifySamples(run.samples, sets, oracles, {
    referenceChecks: options.referenceChecks,
    seed: options.seed,
    samplesDropped: run.samplesDropped,
  });
}

function stamp(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}
