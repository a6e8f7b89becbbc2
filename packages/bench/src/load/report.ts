/**
 * The run as data: what was asked, what was measured, what verification found. This object is
 * the JSON report, and the HTML report and the printed summary are drawn from it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Machine, machine } from '../harness.js';
import type { BodySet } from './bodies.js';
import type { Kind, LoadOptions } from './options.js';
import type { ErrorCount, KindTotals, Second } from './recorder.js';
import type { RunResult } from './runner.js';
import { type Bucket, logBuckets, type Percentiles, percentiles } from './stats.js';
import type { Verification } from './verify.js';

export interface KindReport {
  /** Requests due in the measured window: answered, failed, and dropped (LOAD_BACKLOG) unsent. */
  readonly requests: number;
  readonly errors: number;
  /** Answers (2xx) per second of the answer window (`LoadReport.answerWindowS`): throughput, not the offered rate. */
  readonly rps: number;
  /** Decisions answered: 1 per check, the batch per checks and columns, the rows per filter. */
  readonly items: number;
  readonly itemsPerSecond: number;
  readonly itemUnit: string;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  /** Client latency: from the request's start (open loop: its due time when it left late) to its last byte. */
  readonly latencyMs: Percentiles;
  /** The server's own time (Server-Timing `app;dur`); count 0 when the server sent none. */
  readonly serverMs: Percentiles;
}

export interface ErrorReport {
  readonly code: string;
  readonly count: number;
  readonly status: number | null;
  readonly message: string;
  readonly byKind: Partial<Record<Kind, number>>;
}

export interface LoadReport {
  readonly tool: 'palisade-bench load';
  readonly version: 1;
  readonly startedAt: string;
  readonly machine: Machine;
  readonly target: {
    readonly url: string;
    /** True when this run started (and stopped) the server. */
    readonly started: boolean;
    readonly build: 'source' | 'dist' | null;
    readonly world: string;
  };
  readonly settings: {
    readonly mix: string;
    readonly encoding: string;
    readonly loop: string;
    /** `node` or `native`: who sent and timed the requests. */
    readonly generator: string;
    /** The package manager whose script started the run (its idle processes were beside it), or null. */
    readonly launcher: string | null;
    readonly durationS: number;
    readonly warmupS: number;
    readonly batch: number;
    readonly rows: number;
    readonly filterRows: string;
    readonly filterOutput: string;
    readonly lookupLimit: number;
    readonly bodies: Partial<Record<Kind, number>>;
    readonly seed: number;
    readonly verifySample: number;
    readonly referenceChecks: number;
  };
  readonly durationS: number;
  /**
   * From the start of measuring to the last answer of a measured request (at least `durationS`):
   * what `rps` and `itemsPerSecond` divide by, so a server that falls behind shows it.
   */
  readonly answerWindowS: number;
  /** This process's CPU over the run, in cores: near 1 means the load generator itself may be the limit. */
  readonly clientCpuCores: number;
  /**
   * Open loop (null in a closed loop): how late after their due times requests left the generator,
   * and the answers' latency from when they left. Client latency counts a late request from its due
   * time, so when the lag's tail is large the generator's own stalls are part of the client's p99.
   */
  readonly schedule: { readonly lagMs: Percentiles; readonly fromSendMs: Percentiles } | null;
  readonly overall: KindReport;
  readonly kinds: Partial<Record<Kind, KindReport>>;
  readonly errors: readonly ErrorReport[];
  readonly timeline: readonly Second[];
  readonly histogram: { readonly client: readonly Bucket[]; readonly server: readonly Bucket[] };
  readonly verification: Verification;
  /** No errors and verification not failed. */
  readonly passed: boolean;
}

export interface ReportContext {
  readonly options: LoadOptions;
  readonly url: string;
  readonly started: boolean;
  readonly build: 'source' | 'dist' | null;
  readonly world: string;
  readonly sets: ReadonlyMap<Kind, BodySet>;
  readonly run: RunResult;
  readonly verification: Verification;
}

export function buildReport(context: ReportContext): LoadReport {
  const { options, run, sets } = context;
  const seconds = run.durationMs / 1000;
  // Throughput counts answers over the time they took to come in, trailing ones included.
  const answerSeconds = run.answerWindowMs / 1000;
  const kinds: Partial<Record<Kind, KindReport>> = {};
  for (const [kind, totals] of run.recorder.kinds) {
    const set = sets.get(kind) as BodySet;
    kinds[kind] = kindReport(totals, answerSeconds, set.itemUnit);
  }
  const units = new Set([...sets.values()].map((s) => s.itemUnit));
  const overall = kindReport(run.recorder.all, answerSeconds, units.size === 1 ? ([...units][0] as string) : 'items');
  const errors = [...run.recorder.errors]
    .map(([code, e]: [string, ErrorCount]) => ({ code, ...e }))
    .sort((a, b) => b.count - a.count);
  return {
    tool: 'palisade-bench load',
    version: 1,
    startedAt: run.startedAt.toISOString(),
    machine: machine(),
    target: { url: context.url, started: context.started, build: context.build, world: context.world },
    settings: {
      mix: options.mix.map((m) => `${m.kind}:${m.weight}`).join(','),
      encoding: options.encoding,
      loop:
        (options.loop.type === 'closed'
          ? `closed loop, concurrency ${options.loop.concurrency}`
          : `open loop, ${options.loop.rate} requests/s over ${options.loop.connections} connections`) +
        (options.generator === 'native' ? ', native generator' : ''),
      generator: options.generator,
      launcher: options.launcher,
      durationS: seconds,
      warmupS: options.warmupMs / 1000,
      batch: options.batch,
      rows: options.rows,
      filterRows: options.filterForm,
      filterOutput: options.filterOutput,
      lookupLimit: options.lookupLimit,
      bodies: Object.fromEntries([...sets].map(([kind, set]) => [kind, set.bodies.length])),
      seed: options.seed,
      verifySample: options.verifySample,
      referenceChecks: options.referenceChecks,
    },
    durationS: seconds,
    answerWindowS: answerSeconds,
    clientCpuCores: run.clientCpu,
    schedule:
      options.loop.type === 'open'
        ? { lagMs: percentiles(run.recorder.sendLag), fromSendMs: percentiles(run.recorder.fromSend) }
        : null,
    overall,
    kinds,
    errors,
    timeline: run.recorder.timeline,
    histogram: { client: logBuckets(run.recorder.all.client), server: logBuckets(run.recorder.all.server) },
    verification: context.verification,
    passed: run.recorder.all.errors === 0 && context.verification.status !== 'failed',
  };
}

function kindReport(t: KindTotals, seconds: number, itemUnit: string): KindReport {
  return {
    requests: t.requests,
    errors: t.errors,
    rps: (t.requests - t.errors) / seconds,
    items: t.items,
    itemsPerSecond: t.items / seconds,
    itemUnit,
    bytesSent: t.bytesSent,
    bytesReceived: t.bytesReceived,
    latencyMs: percentiles(t.client),
    serverMs: percentiles(t.server),
  };
}

export async function writeJsonReport(report: LoadReport, file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
}
