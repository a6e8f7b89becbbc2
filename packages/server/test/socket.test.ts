import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildServer,
  type DecisionAnswer,
  decodeMsgpack,
  type Evaluator,
  encodeMsgpack,
  InlineEvaluator,
  type RecordQuestion,
  resolveConfig,
  serve,
} from '@palisade/server';
import { describe, expect, it } from 'vitest';
import { ADMIN_KEY, CHECK_KEY, sampleEngine, TEST_KEYS } from './support/http.js';

const question = { user: 'u-wendy', table: 'account', privilege: 'read', record: 'acc-litware' };
const allowed = { allowed: true, reason: 'role', missing: null, error: null };

describe('a real socket', () => {
  it('answers over HTTP on 127.0.0.1 in JSON and in MessagePack', async () => {
    const app = buildServer({ engine: sampleEngine(), keys: TEST_KEYS });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const json = await fetch(`${url}/v1/check`, {
        method: 'POST',
        headers: { authorization: `Bearer ${CHECK_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(question),
      });
      expect(json.status).toBe(200);
      expect(await json.json()).toEqual(allowed);

      const packed = await fetch(`${url}/v1/check`, {
        method: 'POST',
        headers: { authorization: `Bearer ${CHECK_KEY}`, 'content-type': 'application/msgpack' },
        body: encodeMsgpack(question),
      });
      expect(packed.headers.get('content-type')).toBe('application/msgpack');
      expect(decodeMsgpack(new Uint8Array(await packed.arrayBuffer()))).toEqual(allowed);

      const denied = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${CHECK_KEY}` } });
      expect(denied.status).toBe(403);
      const metrics = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(await metrics.text()).toContain(
        'palisade_http_requests_total{method="POST",route="/v1/check",status="200"} 2',
      );
    } finally {
      await app.close();
    }
  });

  it('drains on close: the request in flight is answered, new work is refused, close waits for it and no longer', async () => {
    let entered: () => void = () => {};
    const inFlight = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const inline = new InlineEvaluator(sampleEngine());
    // A check that waits for the test to let it finish: the slow request in flight at shutdown.
    const slow: Evaluator = Object.assign(Object.create(inline) as InlineEvaluator, {
      check: async (q: RecordQuestion): Promise<DecisionAnswer> => {
        entered();
        await gate;
        return inline.check(q);
      },
    });
    const logs: string[] = [];
    const logger = { level: 'debug', stream: { write: (line: string) => logs.push(line) } };
    const app = buildServer({ evaluator: slow, keys: TEST_KEYS, logger });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    // The slow check on a raw connection; a second request follows on the same connection once
    // shutdown has begun.
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
    });
    const ended = once(socket, 'close');
    const body = JSON.stringify(question);
    socket.write(
      `POST /v1/check HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ${CHECK_KEY}\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await inFlight;
    let closed = false;
    const closing = app.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(false);
    socket.write('GET /readyz HTTP/1.1\r\nhost: localhost\r\n\r\n');
    // New connections are not accepted.
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    release();
    await closing;
    await ended;
    expect(closed).toBe(true);
    // The answer in flight arrives, and tells the client the connection ends with it.
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(received.toLowerCase()).toContain('connection: close');
    expect(received).toContain(JSON.stringify(allowed));
    // The request that came after shutdown began met the gate (its answer dies with the connection).
    expect(logs.join('')).toContain('the server is shutting down');
  });

  it('cuts a connection still open when the drain times out, and close() then resolves', async () => {
    const lines: string[] = [];
    const out = { log: (line: string) => lines.push(line), error: (line: string) => lines.push(line) };
    const config = resolveConfig({ port: '0', store: 'none', 'drain-timeout': '300', workers: '0' }, {}, process.cwd());
    const running = await serve(config, out);
    const { port } = running.app.server.address() as AddressInfo;
    // A client that stalls in the middle of its body: a request in flight that never finishes.
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    // Flowing, so that the end the server sends is read and the socket closes.
    socket.resume();
    const ended = once(socket, 'close');
    socket.write(
      `POST /v1/check HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ${CHECK_KEY}\r\n` +
        'content-type: application/json\r\ncontent-length: 100\r\n\r\n{"user":',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    let closed = false;
    const closing = running.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(closed).toBe(false);
    await closing;
    await ended;
    // Cut at the timeout, not at Node's own request timeouts (minutes).
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('serve() loads the world, listens, prints its configuration and a development key that works', async () => {
    const lines: string[] = [];
    const out = { log: (line: string) => lines.push(line), error: (line: string) => lines.push(line) };
    // The world file as it is (the store has its own tests: write.test.ts).
    const config = resolveConfig({ port: '0', store: 'none' }, { PALISADE_MAX_BATCH: '50' }, process.cwd());
    const running = await serve(config, out);
    try {
      const text = lines.join('\n');
      expect(text).toMatch(/loaded .*sample\.json/);
      expect(text).toContain(`listening on ${running.url}`);
      expect(text).toMatch(/--max-batch\s+50 {2}\[env]/);
      const key = /(pal_dev_[A-Za-z0-9_-]+)/.exec(text)?.[1];
      expect(key).toBeDefined();
      const answer = await fetch(`${running.url}/v1/check`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(question),
      });
      expect(await answer.json()).toEqual(allowed);
    } finally {
      await running.close();
    }
  });
});

describe('the palisade command', () => {
  it('`serve` (the default command) serves from an embedded store and stops cleanly on SIGTERM', async () => {
    const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
    // A data directory of its own (under root the server runs as `postgres`, which must get in).
    const dir = await mkdtemp(join(tmpdir(), 'palisade-serve-'));
    await chmod(dir, 0o755);
    const dataDir = join(dir, 'data');
    const child: ChildProcess = spawn(process.execPath, ['--conditions=@palisade/source', '--import', 'tsx', cli], {
      env: { ...process.env, PALISADE_PORT: '0', PALISADE_LOG_LEVEL: 'warn', PALISADE_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const exited = once(child, 'exit');
    try {
      const deadline = Date.now() + 40_000;
      // The banner's last line ends with the curl's URL: once it is in, the URL and the key are whole.
      while (!/\/v1\/check\n/.test(output) && Date.now() < deadline && child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const url = /listening on (http:\/\/\S+) \(/.exec(output)?.[1];
      expect(url, output).toBeDefined();
      const key = /(pal_dev_[A-Za-z0-9_-]+)/.exec(output)?.[1];
      const answer = await fetch(`${url}/v1/check`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(question),
      });
      expect(answer.status).toBe(200);
      child.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(0);
      expect(output).toContain('SIGTERM: draining in-flight requests');
      expect(output).toContain('palisade: stopped');
      expect(output).toMatch(/the store was empty: imported .*sample\.json as revision 1/);
      // The embedded PostgreSQL was stopped after the drain (a running server holds postmaster.pid).
      expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
