/**
 * The load loop: prebuilt bodies sent over an undici keep-alive pool, closed loop (workers
 * sending back to back) or open loop (a fixed schedule), every answer timed to its last byte and
 * recorded; a seeded sample of answers is kept whole for the verifiers.
 */
import { Pool } from 'undici';
import { seededRandom } from '../generate/random.js';
import type { BodySet } from './bodies.js';
import { runNative } from './native.js';
import type { ClosedLoop, Encoding, Generator, Kind, MixEntry, OpenLoop } from './options.js';
import { LoadRecorder } from './recorder.js';
import { errorOf, LoadErrorCodes, serverTimingMs, transportError } from './response.js';

export interface RunPlan {
  readonly url: string;
  readonly key: string;
  readonly encoding: Encoding;
  /** Who sends and times: this process (the default), or the native generator (`native.ts`). */
  readonly generator?: Generator;
  readonly loop: ClosedLoop | OpenLoop;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly timeoutMs: number;
  readonly mix: readonly MixEntry[];
  readonly sets: ReadonlyMap<Kind, BodySet>;
  readonly seed: number;
  /** Fraction of measured answers kept for verification. */
  readonly verifySample: number;
  /** Called about once a second. */
  readonly onProgress?: (progress: Progress) => void;
  /** Ends the run early (Ctrl-C): what was measured so far is reported. */
  readonly signal?: AbortSignal;
}

export interface Progress {
  /** Negative during the warm-up. */
  readonly elapsedMs: number;
  readonly requests: number;
  readonly errors: number;
  /** Requests answered in the last whole second. */
  readonly rps: number;
  /** Client p99 of the last whole second, ms. */
  readonly p99: number;
}

/** An answer kept for verification: what was asked (`kind`, `body` index) and what came back. */
export interface Sample {
  readonly kind: Kind;
  readonly body: number;
  readonly contentType: string | undefined;
  readonly bytes: Buffer;
}

export interface RunResult {
  readonly recorder: LoadRecorder;
  readonly startedAt: Date;
  /** The measured window (warm-up excluded). */
  readonly durationMs: number;
  /**
   * From the start of measuring to the last answer of a measured request (at least `durationMs`):
   * what throughput is divided by, so answers that trail past the end do not count as on time.
   */
  readonly answerWindowMs: number;
  readonly samples: readonly Sample[];
  /** Sampled answers not kept because the caps below were reached. */
  readonly samplesDropped: number;
  /** This process's CPU time over the measured window, in cores (1 = one core busy all the time). */
  readonly clientCpu: number;
}

/** Caps on what sampling keeps in memory; a long run verifies its first answers, not all of them. */
export const MAX_SAMPLES = 20_000;
const MIN_SAMPLES_PER_KIND = 3;
export const MAX_SAMPLE_BYTES = 256 * 2 ** 20;

/** Open loop: how far ahead of its due time a request may leave (Node's timer resolution). */
const TICK_MS = 1;

export const MEDIA_TYPE: Readonly<Record<Encoding, string>> = {
  json: 'application/json',
  msgpack: 'application/msgpack',
};

export async function runLoad(plan: RunPlan): Promise<RunResult> {
  if (plan.generator === 'native') return runNative(plan);
  const connections = plan.loop.type === 'closed' ? plan.loop.concurrency : plan.loop.connections;
  const pool = new Pool(plan.url, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: plan.timeoutMs,
    bodyTimeout: plan.timeoutMs,
    connect: { timeout: plan.timeoutMs },
  });
  const type = MEDIA_TYPE[plan.encoding];
  // One headers object for every request: nothing is built per request.
  const headers = { 'content-type': type, accept: type, authorization: `Bearer ${plan.key}` };
  const random = seededRandom(plan.seed ^ 0x9e3779b9);
  const choose = chooser(plan.mix, random);
  // Its own stream, so the sampling rate does not change which requests are sent.
  const sampleRandom = seededRandom(plan.seed ^ 0x51ed270b);
  const sent = new Map<Kind, number>(plan.mix.map((m) => [m.kind, 0]));
  const sampledOf = new Map<Kind, number>(plan.mix.map((m) => [m.kind, 0]));

  const startedAt = new Date();
  const t0 = performance.now();
  const measureStart = t0 + plan.warmupMs;
  let end = measureStart + plan.durationMs;
  let stoppedEarly = false;
  const stopEarly = () => {
    stoppedEarly = true;
    end = Math.min(end, performance.now());
  };
  plan.signal?.addEventListener('abort', stopEarly);
  const recorder = new LoadRecorder(
    plan.mix.map((m) => m.kind),
    measureStart,
  );
  const samples: Sample[] = [];
  let sampleBytes = 0;
  let samplesDropped = 0;
  let cpuAtStart: NodeJS.CpuUsage | null = null;

  /**
   * Sends the next body of `kind` now. Closed loop (`dueMs` null): latency counts from the send.
   * Open loop: `dueMs` is when it was due, latency counts from the earlier of the two (see
   * `openLoop`), and whether it is measured goes by its due time, as a dropped one's does.
   */
  const send = async (kind: Kind, dueMs: number | null): Promise<void> => {
    const set = plan.sets.get(kind) as BodySet;
    const n = sent.get(kind) as number;
    sent.set(kind, n + 1);
    const index = n % set.bodies.length;
    const body = set.bodies[index] as Buffer;
    // Read here, not once per tick: in a burst after a stall, later requests leave later.
    const sentMs = performance.now();
    const startMs = dueMs === null ? sentMs : Math.min(dueMs, sentMs);
    const measured = (dueMs ?? sentMs) >= measureStart;
    // The first few answers of each kind are always kept, so a short run still verifies every kind.
    const sampled =
      measured &&
      plan.verifySample > 0 &&
      ((sampledOf.get(kind) as number) < MIN_SAMPLES_PER_KIND || sampleRandom() < plan.verifySample);
    if (sampled) sampledOf.set(kind, (sampledOf.get(kind) as number) + 1);
    if (measured && dueMs !== null) recorder.sent(Math.max(0, sentMs - dueMs));
    try {
      const answer = await pool.request({ path: set.path, method: 'POST', headers, body });
      const ok = answer.statusCode >= 200 && answer.statusCode < 300;
      const read = await readBody(answer.body, sampled || !ok);
      const doneMs = performance.now();
      if (!measured) return;
      const contentType = answer.headers['content-type'] as string | undefined;
      if (!ok) {
        const error = errorOf(answer.statusCode, contentType, read.bytes as Buffer);
        recorder.failed(kind, doneMs, error.code, error.message, answer.statusCode, body.length);
        return;
      }
      const serverMs = serverTimingMs(answer.headers['server-timing']);
      recorder.answered(kind, doneMs, doneMs - startMs, serverMs, set.items, body.length, read.size);
      if (dueMs !== null) recorder.answeredFromSend(doneMs - sentMs);
      if (sampled) {
        if (samples.length < MAX_SAMPLES && sampleBytes + read.size <= MAX_SAMPLE_BYTES) {
          samples.push({ kind, body: index, contentType, bytes: read.bytes as Buffer });
          sampleBytes += read.size;
        } else {
          samplesDropped++;
        }
      }
    } catch (error) {
      if (!measured) return;
      const failure = transportError(error);
      recorder.failed(kind, performance.now(), failure.code, failure.message, null, body.length);
    }
  };

  // CPU is read when measuring begins, so the warm-up's (and the bodies' building) is not counted,
  // and when it ends, so the drain of the last answers is not either.
  if (plan.warmupMs === 0) cpuAtStart = process.cpuUsage();
  let cpuAtEnd: { usage: NodeJS.CpuUsage; ms: number } | null = null;
  const measuringEnded = () => {
    if (cpuAtEnd === null && cpuAtStart !== null) {
      cpuAtEnd = { usage: process.cpuUsage(cpuAtStart), ms: performance.now() };
    }
  };
  const cpuTimer = setTimeout(() => {
    cpuAtStart ??= process.cpuUsage();
  }, plan.warmupMs);
  const progress = setInterval(() => {
    const now = performance.now();
    recorder.roll(now);
    const latest = recorder.latest();
    plan.onProgress?.({
      elapsedMs: now - measureStart,
      requests: recorder.all.requests,
      errors: recorder.all.errors,
      rps: latest.requests,
      p99: latest.p99,
    });
  }, 1000);

  try {
    if (plan.loop.type === 'closed') {
      await closedLoop(plan.loop.concurrency, () => end, choose, send, measuringEnded);
    } else {
      await openLoop(
        plan.loop.rate,
        t0,
        () => end,
        choose,
        send,
        measuringEnded,
        (kind, dueMs) => {
          if (dueMs >= measureStart) {
            recorder.failed(
              kind,
              performance.now(),
              LoadErrorCodes.BACKLOG,
              'a second of requests already waiting',
              null,
              0,
            );
          }
        },
      );
    }
  } finally {
    plan.signal?.removeEventListener('abort', stopEarly);
    clearInterval(progress);
    clearTimeout(cpuTimer);
    await pool.close().catch(() => pool.destroy());
  }
  measuringEnded();
  const finishedMs = performance.now();
  recorder.roll(Math.max(finishedMs, end));
  recorder.finish();
  const durationMs = stoppedEarly
    ? Math.max(1, Math.min(plan.durationMs, Math.round(end - measureStart)))
    : plan.durationMs;
  // Stopped during the warm-up: nothing was measured, CPU included.
  const cpu = cpuAtEnd as { usage: NodeJS.CpuUsage; ms: number } | null;
  return {
    recorder,
    startedAt,
    durationMs,
    answerWindowMs: Math.max(durationMs, recorder.lastDoneMs - measureStart),
    samples,
    samplesDropped,
    clientCpu: cpu === null ? 0 : (cpu.usage.user + cpu.usage.system) / 1000 / Math.max(1, cpu.ms - measureStart),
  };
}

/** `concurrency` workers, each sending its next request as soon as the last is answered, until `end`. */
async function closedLoop(
  concurrency: number,
  end: () => number,
  choose: () => Kind,
  send: (kind: Kind, dueMs: null) => Promise<void>,
  ended: () => void,
): Promise<void> {
  const worker = async () => {
    while (performance.now() < end()) await send(choose(), null);
    ended();
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * Request `i` is due at `t0 + i × 1000 / rate` ms. Node's timers have millisecond resolution, so
 * each tick sends every request due up to 1 ms ahead. Latency counts from the earlier of the due
 * time and the send: a request sent early is timed from when it left (timing it from its due time
 * would hide up to a tick of its wait), one sent late (a late timer, a busy client) from when it
 * was due, so client stalls add to the result instead of hiding (no coordinated omission).
 * Requests never wait for answers; when a second's worth are already in flight, a due request is
 * counted as LOAD_BACKLOG instead of queuing without bound.
 */
async function openLoop(
  rate: number,
  t0: number,
  end: () => number,
  choose: () => Kind,
  send: (kind: Kind, dueMs: number) => Promise<void>,
  ended: () => void,
  backlog: (kind: Kind, dueMs: number) => void,
): Promise<void> {
  const maxInFlight = Math.max(1000, Math.ceil(rate));
  const inFlight = new Set<Promise<void>>();
  let i = 0;
  const due = (n: number) => t0 + (n * 1000) / rate;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      for (let at = due(i); at <= now + TICK_MS && at < end(); at = due(++i)) {
        const kind = choose();
        if (inFlight.size >= maxInFlight) {
          backlog(kind, at);
          continue;
        }
        const request = send(kind, at).finally(() => inFlight.delete(request));
        inFlight.add(request);
      }
      const next = due(i);
      if (next >= end()) {
        ended();
        resolve();
      } else setTimeout(tick, Math.max(0, next - TICK_MS - performance.now()));
    };
    tick();
  });
  await Promise.all(inFlight);
}

/** Picks a kind by the mix's weights. */
export function chooser(mix: readonly MixEntry[], random: () => number): () => Kind {
  const total = mix.reduce((sum, m) => sum + m.weight, 0);
  const kinds = mix.map((m) => m.kind);
  const bounds = mix.map((_, i) => mix.slice(0, i + 1).reduce((sum, m) => sum + m.weight, 0) / total);
  if (kinds.length === 1) return () => kinds[0] as Kind;
  return () => {
    const r = random();
    for (let i = 0; i < bounds.length - 1; i++) if (r < (bounds[i] as number)) return kinds[i] as Kind;
    return kinds[kinds.length - 1] as Kind;
  };
}

/** Reads a body to its end; keeps the bytes only when asked (answers are otherwise just counted). */
function readBody(body: NodeJS.ReadableStream, keep: boolean): Promise<{ size: number; bytes: Buffer | null }> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (keep) chunks.push(chunk);
    });
    body.on('end', () => resolve({ size, bytes: keep ? Buffer.concat(chunks, size) : null }));
    body.on('error', reject);
  });
}
