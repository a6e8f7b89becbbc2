/**
 * `--generator native`: the same run as `runner.ts`, sent and timed by a small C program
 * (`native/load-generator.c`, compiled on first use with the machine's `cc`). On a 2-core machine
 * the Node generator takes ~0.4 of a core at 5,000 requests/s, and that CPU lands in the tail it
 * measures; the C program takes a fraction of it. Everything else stays here: this module writes
 * the prebuilt requests and the order to send them in, and reads back one record per measured
 * request into the same recorder, samples and report as a Node run.
 */
import { execFile, spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, open, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { seededRandom } from '../generate/random.js';
import type { BodySet } from './bodies.js';
import type { Kind } from './options.js';
import { LoadRecorder } from './recorder.js';
import { errorOf, LoadErrorCodes } from './response.js';
import {
  chooser,
  MAX_SAMPLE_BYTES,
  MAX_SAMPLES,
  MEDIA_TYPE,
  type RunPlan,
  type RunResult,
  type Sample,
} from './runner.js';

const SOURCE = fileURLToPath(new URL('../../native/load-generator.c', import.meta.url));
const BUILD_DIR = fileURLToPath(new URL('../../native/build/', import.meta.url));
const BINARY = join(BUILD_DIR, 'load-generator');

/** Sequence entries: the request's index, with this bit when its answer is kept for verification. */
const KEEP_BIT = 0x8000_0000;
/** A closed loop's sequence is cycled; its length only bounds how long the sampling pattern is. */
const CLOSED_SEQUENCE = 1 << 20;
/**
 * Bytes of error answers kept whole, for their codes: every one in any sane run (an error body is
 * ~150 bytes); past it the rest count as HTTP_<status>.
 */
const MAX_ERROR_BYTES = 64 * 2 ** 20;
/** Bytes of one output record before its content type and body. */
const RECORD_BYTES = 64;

const FAILURES: Readonly<Record<number, string>> = {
  1: LoadErrorCodes.CONNECTION,
  2: LoadErrorCodes.TIMEOUT,
  3: LoadErrorCodes.BACKLOG,
  4: LoadErrorCodes.PROTOCOL,
};

/** Compiles the generator when it is missing or older than its source; resolves with its path. */
export async function buildNativeGenerator(): Promise<string> {
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= statSync(SOURCE).mtimeMs) return BINARY;
  await mkdir(BUILD_DIR, { recursive: true });
  const cc = process.env.CC ?? 'cc';
  // Built beside it and renamed, so a run that starts meanwhile never executes a half-written file.
  const partial = `${BINARY}.${process.pid}.partial`;
  try {
    await promisify(execFile)(cc, ['-O2', '-Wall', '-o', partial, SOURCE]);
    await rename(partial, BINARY);
  } catch (error) {
    await rm(partial, { force: true });
    const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
    throw new Error(`--generator native needs a C compiler (Linux): \`${cc}\` could not build ${SOURCE}: ${detail}`);
  }
  return BINARY;
}

export async function runNative(plan: RunPlan): Promise<RunResult> {
  const binary = await buildNativeGenerator();
  const target = new URL(plan.url);
  const { address } = await lookup(target.hostname.replace(/^\[|\]$/g, ''), { family: 4 });
  const port = Number(target.port || 80);

  // Request index → what it asks; each kind's bodies in a row.
  const kinds = plan.mix.map((m) => m.kind);
  const first = new Map<Kind, number>();
  const byIndex: { kind: Kind; body: number; set: BodySet }[] = [];
  const parts: Buffer[] = [];
  const type = MEDIA_TYPE[plan.encoding];
  kinds.forEach((kind, group) => {
    const set = plan.sets.get(kind) as BodySet;
    first.set(kind, byIndex.length);
    set.bodies.forEach((body, i) => {
      byIndex.push({ kind, body: i, set });
      const head = Buffer.from(
        `POST ${set.path} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: ${type}\r\nAccept: ${type}\r\n` +
          `Authorization: Bearer ${plan.key}\r\nContent-Length: ${body.length}\r\n\r\n`,
        'latin1',
      );
      const frame = Buffer.alloc(8);
      frame.writeUInt32LE(head.length + body.length, 0);
      frame.writeUInt32LE(group, 4);
      parts.push(frame, head, body);
    });
  });

  // The order of kinds and bodies, drawn as the Node runner draws them.
  const choose = chooser(plan.mix, seededRandom(plan.seed ^ 0x9e3779b9));
  const sampleRandom = seededRandom(plan.seed ^ 0x51ed270b);
  const length =
    plan.loop.type === 'open'
      ? Math.ceil((plan.loop.rate * (plan.warmupMs + plan.durationMs)) / 1000) + 1
      : CLOSED_SEQUENCE;
  const sequence = new Uint32Array(length);
  const sent = new Map<Kind, number>(kinds.map((k) => [k, 0]));
  for (let n = 0; n < length; n++) {
    const kind = choose();
    const count = sent.get(kind) as number;
    sent.set(kind, count + 1);
    const set = plan.sets.get(kind) as BodySet;
    const keep = plan.verifySample > 0 && sampleRandom() < plan.verifySample;
    sequence[n] = (((first.get(kind) as number) + (count % set.bodies.length)) | (keep ? KEEP_BIT : 0)) >>> 0;
  }

  const dir = await mkdtemp(join(tmpdir(), 'palisade-native-'));
  try {
    const files = { requests: join(dir, 'requests'), sequence: join(dir, 'sequence'), out: join(dir, 'out') };
    await writeFile(files.requests, Buffer.concat(parts));
    await writeFile(files.sequence, new Uint8Array(sequence.buffer));
    const loopArgs =
      plan.loop.type === 'open'
        ? ['--rate', String(plan.loop.rate), '--connections', String(plan.loop.connections)]
        : ['--concurrency', String(plan.loop.concurrency)];
    const startedAt = new Date();
    const summary = await runBinary(
      binary,
      [
        '--host',
        address,
        '--port',
        String(port),
        '--requests',
        files.requests,
        '--sequence',
        files.sequence,
        '--out',
        files.out,
        ...loopArgs,
        '--duration-ms',
        String(plan.durationMs),
        '--warmup-ms',
        String(plan.warmupMs),
        '--timeout-ms',
        String(plan.timeoutMs),
        '--max-error-bytes',
        String(MAX_ERROR_BYTES),
        '--keep-first',
        plan.verifySample > 0 ? '3' : '0',
      ],
      plan.signal,
    );
    const durationMs = summary.stoppedEarly
      ? Math.max(1, Math.min(plan.durationMs, Math.round(summary.measuredMs)))
      : plan.durationMs;
    const read = await readRecords(files.out, byIndex, kinds, durationMs);
    return {
      recorder: read.recorder,
      startedAt,
      durationMs,
      answerWindowMs: Math.max(durationMs, read.recorder.lastDoneMs),
      samples: read.samples,
      samplesDropped: read.samplesDropped,
      clientCpu: summary.clientCpu,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Summary {
  readonly clientCpu: number;
  readonly measuredMs: number;
  readonly stoppedEarly: boolean;
}

/** Runs the generator; an abort (Ctrl-C) asks it to stop measuring and write what it has. */
function runBinary(binary: string, args: readonly string[], signal: AbortSignal | undefined): Promise<Summary> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const stop = () => child.kill('SIGINT');
    signal?.addEventListener('abort', stop);
    // Aborted while the files were written: stop at once, and still read what it wrote.
    if (signal?.aborted) stop();
    child.on('error', reject);
    // 'close', not 'exit': its output may still be in the pipe at 'exit'.
    child.on('close', (code, killedBy) => {
      signal?.removeEventListener('abort', stop);
      if (code !== 0) {
        reject(new Error(`the native generator exited with ${code ?? killedBy}: ${stderr.trim()}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout) as Summary);
      } catch {
        reject(new Error(`the native generator's summary is not JSON: ${stdout.trim().slice(0, 200)}`));
      }
    });
  });
}

/** The generator writes a record's answer bytes, even none, when this bit of its flags is set. */
const KEPT_FLAG = 0x100;
/** How much of the output file is read at a time: runs can write more than a Buffer holds. */
const READ_BLOCK = 16 * 2 ** 20;

interface OutputRecord {
  readonly request: number;
  readonly status: number;
  readonly failure: number;
  readonly received: number;
  readonly doneMs: number;
  readonly latencyMs: number;
  readonly fromSendMs: number;
  readonly lagMs: number;
  readonly serverMs: number;
  readonly contentType: string | undefined;
  /** The answer's bytes (a copy), when kept; null otherwise. */
  readonly body: Buffer | null;
}

/** The generator's records, in the order written (completion order), read a block at a time. */
async function* outputRecords(path: string): AsyncGenerator<OutputRecord> {
  const file = await open(path, 'r');
  try {
    let buffer = Buffer.alloc(0);
    let ended = false;
    let at = 0;
    // Makes `need` bytes from `at` available (false at the end of the file).
    const fill = async (need: number): Promise<boolean> => {
      while (buffer.length - at < need && !ended) {
        const rest = buffer.subarray(at);
        const next = Buffer.allocUnsafe(Math.max(READ_BLOCK, need - rest.length));
        const { bytesRead } = await file.read(next, 0, next.length, null);
        if (bytesRead === 0) ended = true;
        buffer = Buffer.concat([rest, next.subarray(0, bytesRead)]);
        at = 0;
      }
      return buffer.length - at >= need;
    };
    while (await fill(RECORD_BYTES)) {
      const typeLength = buffer.readUInt32LE(at + 56);
      const bodyLength = buffer.readUInt32LE(at + 60);
      if (!(await fill(RECORD_BYTES + typeLength + bodyLength))) break;
      const flags = buffer.readUInt32LE(at + 8);
      const typeStart = at + RECORD_BYTES;
      const bodyStart = typeStart + typeLength;
      yield {
        request: buffer.readUInt32LE(at),
        status: buffer.readInt32LE(at + 4),
        failure: flags & 0xff,
        received: buffer.readUInt32LE(at + 12),
        doneMs: buffer.readDoubleLE(at + 16),
        latencyMs: buffer.readDoubleLE(at + 24),
        fromSendMs: buffer.readDoubleLE(at + 32),
        lagMs: buffer.readDoubleLE(at + 40),
        serverMs: buffer.readDoubleLE(at + 48),
        contentType: typeLength > 0 ? buffer.toString('latin1', typeStart, bodyStart) : undefined,
        // A copy: the block is reused, samples live on to the verifiers.
        body: flags & KEPT_FLAG ? Buffer.from(buffer.subarray(bodyStart, bodyStart + bodyLength)) : null,
      };
      at = bodyStart + bodyLength;
    }
    if (buffer.length > at) throw new Error('the native generator wrote a truncated record');
  } finally {
    await file.close();
  }
}

/** Turns the generator's records into a recorder and the kept samples, as the Node runner records. */
async function readRecords(
  path: string,
  byIndex: readonly { kind: Kind; body: number; set: BodySet }[],
  kinds: readonly Kind[],
  durationMs: number,
): Promise<{ recorder: LoadRecorder; samples: Sample[]; samplesDropped: number }> {
  // Times in the records count from the start of measuring.
  const recorder = new LoadRecorder(kinds, 0);
  const samples: Sample[] = [];
  let sampleBytes = 0;
  let samplesDropped = 0;
  for await (const record of outputRecords(path)) {
    const asked = byIndex[record.request];
    if (asked === undefined) {
      throw new Error(`the native generator named request ${record.request}, which it was not given`);
    }
    const { kind, set } = asked;
    const { doneMs, body } = record;
    const sentBytes = (set.bodies[asked.body] as Buffer).length;
    if (record.lagMs >= 0) recorder.sent(record.lagMs);
    if (record.failure !== 0) {
      const code = FAILURES[record.failure] ?? LoadErrorCodes.CONNECTION;
      const unsent = record.failure === 3;
      recorder.failed(kind, doneMs, code, body?.toString('utf8') ?? '', null, unsent ? 0 : sentBytes);
      continue;
    }
    if (record.status < 200 || record.status >= 300) {
      const error =
        body === null
          ? { code: `HTTP_${record.status}`, message: '' }
          : errorOf(record.status, record.contentType, body);
      recorder.failed(kind, doneMs, error.code, error.message, record.status, sentBytes);
      continue;
    }
    const serverMs = record.serverMs < 0 ? null : record.serverMs;
    recorder.answered(kind, doneMs, record.latencyMs, serverMs, set.items, sentBytes, record.received);
    if (record.fromSendMs >= 0) recorder.answeredFromSend(record.fromSendMs);
    if (body !== null) {
      if (samples.length < MAX_SAMPLES && sampleBytes + body.length <= MAX_SAMPLE_BYTES) {
        samples.push({ kind, body: asked.body, contentType: record.contentType, bytes: body });
        sampleBytes += body.length;
      } else {
        samplesDropped++;
      }
    }
  }
  recorder.roll(Math.max(recorder.lastDoneMs, durationMs));
  recorder.finish();
  return { recorder, samples, samplesDropped };
}
