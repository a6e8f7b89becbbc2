/**
 * `--generator native`: the C generator must drive a real server as the Node runner does (same
 * requests in the same order, same report, same verification) and turn every way an answer can
 * go wrong into the same error codes.
 */
import { createServer as createHttpServer, type RequestListener } from 'node:http';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BodySet } from '../src/load/bodies.js';
import { runLoadCommand } from '../src/load/command.js';
import { buildNativeGenerator } from '../src/load/native.js';
import { parseLoadOptions } from '../src/load/options.js';
import { type RunPlan, runLoad } from '../src/load/runner.js';
import { percentiles } from '../src/load/stats.js';
import { expectErrorsCounted, KEY, quietIo, shortRunArgs, stubPlan, useLoadServers } from './load-fixtures.js';

const servers = useLoadServers('palisade-load-native-');
beforeAll(() => buildNativeGenerator(), 60_000);
const shortRun = (target: string, extra: readonly string[]) => shortRunArgs(target, servers.worldFile, extra);

describe('the native generator against a real server', () => {
  it.each([
    ['json', 'columns'],
    ['msgpack', 'records'],
  ])('%s, filter rows as %s: every kind answered, no errors, verified', async (encoding, form) => {
    const io = quietIo();
    const options = parseLoadOptions(
      shortRun(servers.url, [
        '--generator',
        'native',
        '--encoding',
        encoding,
        '--mix',
        'check:40,checks:15,columns:15,filter:20,lookup:10,noop:10',
        '--filter-rows',
        form,
        '--out',
        join(servers.dir, `native-${encoding}`),
      ]),
      {},
    );
    const { report, exitCode } = await runLoadCommand(options, io);
    expect(exitCode).toBe(0);
    expect(report.settings.generator).toBe('native');
    expect(report.settings.loop).toContain('native generator');
    expect(report.overall.errors).toBe(0);
    for (const kind of ['check', 'checks', 'columns', 'filter', 'lookup', 'noop'] as const) {
      expect(report.kinds[kind]?.requests, kind).toBeGreaterThan(0);
    }
    expect(report.kinds.checks?.items).toBe((report.kinds.checks?.requests ?? 0) * 40);
    expect(report.overall.serverMs.count).toBe(report.overall.requests);
    expect(report.overall.bytesReceived).toBeGreaterThan(report.overall.requests);
    expect(report.schedule).toBeNull();
    expect(report.timeline.length).toBeGreaterThan(0);
    expect(report.verification.status).toBe('passed');
    // Each kind's first answers are kept, so every kind is verified even when sampling misses it.
    expect(report.verification.responses).toBeGreaterThanOrEqual(18);
    expect(report.verification.referenceDecisions).toBeGreaterThan(0);
    expect(report.clientCpuCores).toBeGreaterThan(0);
  });

  it('an open loop sends the same requests in the same order as the Node runner', async () => {
    const run = async (generator: 'node' | 'native') =>
      (
        await runLoadCommand(
          parseLoadOptions(
            shortRun(servers.url, [
              '--generator',
              generator,
              '--rate',
              '300',
              '--mix',
              'check:3,filter:1,noop:1',
              '--filter-rows',
              'ids',
              '--out',
              join(servers.dir, `open-${generator}`),
            ]),
            {},
          ),
          quietIo(),
        )
      ).report;
    const [native, node] = [await run('native'), await run('node')];
    expect(native.overall.errors).toBe(0);
    expect(native.overall.requests).toBeGreaterThan(295);
    expect(native.overall.requests).toBeLessThanOrEqual(301);
    // The schedule and the draw of kinds are the same, so each kind gets the same count.
    for (const kind of ['check', 'filter', 'noop'] as const) {
      expect(native.kinds[kind]?.requests, kind).toBe(node.kinds[kind]?.requests);
    }
    expect(native.verification.status).toBe('passed');
    const schedule = native.schedule;
    expect(schedule?.lagMs.count).toBe(native.overall.requests);
    expect(schedule?.fromSendMs.count).toBe(native.overall.requests);
    expect(schedule?.fromSendMs.max).toBeLessThanOrEqual(native.overall.latencyMs.max);
    expect(native.answerWindowS).toBeGreaterThanOrEqual(native.durationS);
  });

  it('fails the run when the server answers differently from the world it was given', async () => {
    const io = quietIo();
    const { report, exitCode } = await runLoadCommand(
      parseLoadOptions(
        shortRun(servers.tamperedUrl, [
          '--generator',
          'native',
          '--mix',
          'check:1,checks:1,columns:1',
          '--duration',
          '500ms',
          '--out',
          join(servers.dir, 'native-tampered'),
        ]),
        {},
      ),
      io,
    );
    expect(exitCode).toBe(1);
    expect(report.verification.status).toBe('failed');
    expect(report.verification.mismatches[0]?.got).toContain('system-administrator');
  });

  it('counts error answers by the code in their body, and a closed port as LOAD_CONNECTION', () =>
    expectErrorsCounted(servers, 'native', ['--generator', 'native']));
});

describe('--generator', () => {
  it('defaults to node, takes native, and refuses what the native generator cannot do, naming it', () => {
    const base = ['--url', 'http://127.0.0.1:1', '--key', KEY];
    expect(parseLoadOptions(base, {}).generator).toBe('node');
    expect(parseLoadOptions([...base, '--generator', 'native'], {}).generator).toBe('native');
    expect(() => parseLoadOptions([...base, '--generator', 'c'], {})).toThrow(
      '--generator must be one of node, native, got `c`',
    );
    expect(() => parseLoadOptions(['--url', 'https://127.0.0.1:1', '--key', KEY, '--generator', 'native'], {})).toThrow(
      '--generator native speaks plain HTTP; --url must be http://, got `https://127.0.0.1:1`',
    );
    expect(() => parseLoadOptions(['--url', 'http://[::1]:1', '--key', KEY, '--generator', 'native'], {})).toThrow(
      '--generator native connects over IPv4; --url must not be IPv6, got `http://[::1]:1`',
    );
  });
});

describe('the native generator against servers that misbehave', () => {
  const plan = (port: number, extra: Partial<RunPlan>): RunPlan => stubPlan(port, { generator: 'native', ...extra });

  it('reads chunked answers, and counts answers that trail past the end', async () => {
    // Chunked (no content length), 300 ms late: due at 0, 50, 100 and 150 ms, last answer at ~450 ms.
    await withHttpServer(
      (_request, response) => {
        setTimeout(() => {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.write('{"allowed":');
          response.end('true}');
        }, 300);
      },
      async (port) => {
        const run = await runLoad(plan(port, {}));
        expect(run.recorder.all.requests).toBe(4);
        expect(run.recorder.all.errors).toBe(0);
        expect(run.recorder.all.bytesReceived).toBe(4 * '{"allowed":true}'.length);
        expect(run.durationMs).toBe(200);
        expect(run.answerWindowMs).toBeGreaterThanOrEqual(440);
        expect(percentiles(run.recorder.all.client).p50).toBeGreaterThanOrEqual(300);
      },
    );
  });

  it('times out a server that never answers (LOAD_TIMEOUT)', async () => {
    await withSocketServer(
      () => {},
      async (port) => {
        const run = await runLoad(plan(port, { timeoutMs: 300 }));
        expect(run.recorder.all.requests).toBe(4);
        expect(run.recorder.errors.get('LOAD_TIMEOUT')?.count).toBe(4);
      },
    );
  });

  it('counts a connection closed under a request as LOAD_CONNECTION, and one that is not HTTP as LOAD_PROTOCOL', async () => {
    await withSocketServer(
      (socket) => socket.once('data', () => socket.destroy()),
      async (port) => {
        const run = await runLoad(plan(port, {}));
        expect(run.recorder.errors.get('LOAD_CONNECTION')?.count).toBe(4);
      },
    );
    await withSocketServer(
      (socket) => socket.once('data', () => socket.write('SSH-2.0-not-http\r\n\r\n')),
      async (port) => {
        const run = await runLoad(plan(port, {}));
        expect(run.recorder.errors.get('LOAD_PROTOCOL')?.count).toBe(4);
      },
    );
  });

  it('refuses a length or chunk size that is not a number (LOAD_PROTOCOL), without reading past the answer', async () => {
    for (const answer of [
      'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nabc',
      'HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\nabc',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffec\r\nabc\r\n0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcde\r\n0\r\n\r\n',
    ]) {
      await withSocketServer(
        (socket) => socket.once('data', () => socket.write(answer)),
        async (port) => {
          const run = await runLoad(plan(port, { verifySample: 1, timeoutMs: 2_000 }));
          expect(run.recorder.errors.get('LOAD_PROTOCOL')?.count, answer).toBe(4);
        },
      );
    }
  });

  it('reads chunk extensions, trailers and chunked with a length beside it, and keeps empty answers as samples', async () => {
    for (const [answer, body] of [
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked \r\n\r\n3;x=y\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n', 'abc'],
      ['HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n', 'ab'],
      ['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', ''],
    ] as const) {
      await withSocketServer(
        (socket) => socket.on('data', () => socket.write(answer)),
        async (port) => {
          const run = await runLoad(plan(port, { verifySample: 1 }));
          expect(run.recorder.all.errors, answer).toBe(0);
          expect(run.recorder.all.requests).toBe(4);
          expect(run.samples.map((sample) => sample.bytes.toString())).toEqual([body, body, body, body]);
        },
      );
    }
  });

  it('closes a connection answered before its request was all written, so the next request is not read as its rest', async () => {
    // One connection, 32 MiB requests (more than loopback's socket buffers hold); the server
    // answers 401 on the first bytes of each connection and then stops reading it.
    const big: BodySet = {
      kind: 'check',
      path: '/v1/check',
      bodies: [Buffer.alloc(32 * 2 ** 20, 0x20)],
      questions: [],
      items: 1,
      itemUnit: 'checks',
    };
    await withSocketServer(
      (socket) =>
        socket.once('data', () => {
          socket.pause();
          socket.write('HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
        }),
      async (port) => {
        const run = await runLoad(
          plan(port, {
            sets: new Map([['check', big]]),
            loop: { type: 'open', rate: 20, connections: 1 },
            timeoutMs: 3_000,
          }),
        );
        expect(run.recorder.all.requests).toBe(4);
        expect(run.recorder.errors.get('HTTP_401')?.count).toBe(4);
        expect(run.recorder.errors.has('LOAD_TIMEOUT')).toBe(false);
      },
    );
  });

  it('counts the wait for a free connection in the latency from the send, not in the send lag (as the Node runner)', async () => {
    // One connection at 200/s; the first answer takes 300 ms, so ~60 requests wait for it.
    await withHttpServer(firstAnswerAfter(300), async (port) => {
      const run = await runLoad(plan(port, { loop: { type: 'open', rate: 200, connections: 1 }, durationMs: 600 }));
      expect(run.recorder.all.errors).toBe(0);
      expect(percentiles(run.recorder.sendLag).p99).toBeLessThan(50);
      expect(percentiles(run.recorder.fromSend).p99).toBeGreaterThan(200);
      expect(percentiles(run.recorder.all.client).p99).toBeGreaterThan(200);
    });
  });

  it('takes a timeout of 0 as none, as undici does', async () => {
    await withHttpServer(
      (_request, response) => {
        setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 50);
      },
      async (port) => {
        const run = await runLoad(plan(port, { timeoutMs: 0 }));
        expect(run.recorder.all.requests).toBe(4);
        expect(run.recorder.all.errors).toBe(0);
      },
    );
  });

  it('an open loop past a second of waiting requests counts the rest as LOAD_BACKLOG and still sends the waiting ones', async () => {
    // The first answer takes 1.5 s; the rest come at once. One connection at 1,000/s: a second's
    // worth (1,000) wait or are in flight, the rest of that stall is backlog.
    await withHttpServer(firstAnswerAfter(1500), async (port) => {
      const run = await runLoad(
        plan(port, { loop: { type: 'open', rate: 1000, connections: 1 }, durationMs: 1700, timeoutMs: 10_000 }),
      );
      const backlog = run.recorder.errors.get('LOAD_BACKLOG')?.count ?? 0;
      expect(backlog).toBeGreaterThan(300);
      expect(backlog).toBeLessThan(600);
      expect(run.recorder.all.requests - run.recorder.all.errors).toBeGreaterThanOrEqual(1000);
      expect(run.recorder.all.requests).toBeGreaterThanOrEqual(1690);
    });
  });
});

/** A server answering `{}` at once, but its first answer only after `ms`. */
function firstAnswerAfter(ms: number): RequestListener {
  let first = true;
  return (_request, response) => {
    const answer = () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    if (first) {
      first = false;
      setTimeout(answer, ms);
    } else answer();
  };
}

async function withHttpServer(listener: RequestListener, use: (port: number) => Promise<void>): Promise<void> {
  const server = createHttpServer(listener);
  await listening(server, use, () => server.closeAllConnections());
}

async function withSocketServer(onSocket: (socket: Socket) => void, use: (port: number) => Promise<void>) {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    onSocket(socket);
  });
  await listening(server, use, () => {
    for (const socket of sockets) socket.destroy();
  });
}

/** Listens on a free loopback port, runs `use` with it, then drops the connections and closes. */
async function listening(server: Server, use: (port: number) => Promise<void>, drop: () => void): Promise<void> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await use((server.address() as AddressInfo).port);
  } finally {
    drop();
    await new Promise((resolve) => server.close(resolve));
  }
}
