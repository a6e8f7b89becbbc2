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
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
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
    throw new Error(`--generator native needs a C compiler: \`${cc}\` could not build ${SOURCE}: ${detail}`);
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
    const read = readRecords(await readFile(files.out), byIndex, kinds, durationMs);
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
    child.on('error', reject);
    child.on('exit', (code, killedBy) => {
      signal?.removeEventListener('abort', stop);
      if (code !== 0) {
        reject(new Error(`the native generator exited with ${code ?? killedBy}: ${stderr.trim()}`));
        return;
      }
      resolve(JSON.parse(stdout) as Summary);
    });
  });
}

/** Turns the generator's records (completion order) into a recorder and the kept samples. */
function readRecords(
  bytes: Buffer,
  byIndex: readonly { kind: Kind; body: number; set: BodySet }[],
  kinds: readonly Kind[],
  durationMs: number,
): { recorder: LoadRecorder; samples: Sample[]; samplesDropped: number } {
  // Times in the records count from the start of measuring.
  const recorder = new LoadRecorder(kinds, 0);
  const samples: Sample[] = [];
  let sampleBytes = 0;
  let samplesDropped = 0;
  for (let at = 0; at < bytes.length; ) {
    if (at + RECORD_BYTES > bytes.length) throw new Error('the native generator wrote a truncated record');
    const request = bytes.readUInt32LE(at);
    const status = bytes.readInt32LE(at + 4);
    const failure = bytes.readUInt32LE(at + 8);
    const received = bytes.readUInt32LE(at + 12);
    const doneMs = bytes.readDoubleLE(at + 16);
    const latencyMs = bytes.readDoubleLE(at + 24);
    const fromSendMs = bytes.readDoubleLE(at + 32);
    const lagMs = bytes.readDoubleLE(at + 40);
    const serverMs = bytes.readDoubleLE(at + 48);
    const typeLength = bytes.readUInt32LE(at + 56);
    const bodyLength = bytes.readUInt32LE(at + 60);
    const typeStart = at + RECORD_BYTES;
    const contentType = typeLength > 0 ? bytes.toString('latin1', typeStart, typeStart + typeLength) : undefined;
    const body = bodyLength > 0 ? bytes.subarray(typeStart + typeLength, typeStart + typeLength + bodyLength) : null;
    at = typeStart + typeLength + bodyLength;

    const asked = byIndex[request];
    if (asked === undefined) throw new Error(`the native generator named request ${request}, which it was not given`);
    const { kind, set } = asked;
    const sentBytes = (set.bodies[asked.body] as Buffer).length;
    if (lagMs >= 0) recorder.sent(lagMs);
    if (failure !== 0) {
      const code = FAILURES[failure] ?? LoadErrorCodes.CONNECTION;
      recorder.failed(kind, doneMs, code, body?.toString('utf8') ?? '', null, failure === 3 ? 0 : sentBytes);
      continue;
    }
    if (status < 200 || status >= 300) {
      const error = body === null ? { code: `HTTP_${status}`, message: '' } : errorOf(status, contentType, body);
      recorder.failed(kind, doneMs, error.code, error.message, status, sentBytes);
      continue;
    }
    recorder.answered(kind, doneMs, latencyMs, serverMs < 0 ? null : serverMs, set.items, sentBytes, received);
    if (fromSendMs >= 0) recorder.answeredFromSend(fromSendMs);
    if (body !== null) {
      if (samples.length < MAX_SAMPLES && sampleBytes + body.length <= MAX_SAMPLE_BYTES) {
        // A copy: the file's buffer is dropped, samples live on to the verifiers.
        samples.push({ kind, body: asked.body, contentType, bytes: Buffer.from(body) });
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
