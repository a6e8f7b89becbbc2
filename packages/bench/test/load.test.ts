import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Engine } from '@palisade/core';
import { unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { ReferenceEvaluator } from '../../core/test/reference/reference.js';
import { type BodySet, buildBodies } from '../src/load/bodies.js';
import { runLoadCli, runLoadCommand } from '../src/load/command.js';
import { type Kind, launcherNote, parseDuration, parseLoadOptions } from '../src/load/options.js';
import { QuestionMaker } from '../src/load/questions.js';
import { serverTimingMs } from '../src/load/response.js';
import { runLoad } from '../src/load/runner.js';
import { serveArgs } from '../src/load/server-process.js';
import { logBuckets, newHistogram, percentiles, recordMs } from '../src/load/stats.js';
import { verifySamples } from '../src/load/verify.js';
import {
  everyoneAdmin,
  expectErrorsCounted,
  KEY,
  quietIo,
  shape,
  shortRunArgs,
  stubPlan,
  useLoadServers,
  world,
} from './load-fixtures.js';

const servers = useLoadServers('palisade-load-test-');
const shortRun = (target: string, extra: readonly string[]) => shortRunArgs(target, servers.worldFile, extra);

describe('load runs against a real server', () => {
  it.each([
    ['json', 'columns', 'indexes'],
    ['msgpack', 'records', 'bitmask'],
  ])(
    '%s, filter rows as %s → %s: every kind answered, no errors, verified, reports written',
    async (encoding, form, output) => {
      const io = quietIo();
      const out = join(servers.dir, `run-${encoding}`);
      const options = parseLoadOptions(
        shortRun(servers.url, [
          '--encoding',
          encoding,
          '--mix',
          'check:40,checks:15,columns:15,filter:20,lookup:10,noop:10',
          '--filter-rows',
          form,
          '--filter-output',
          output,
          '--out',
          out,
        ]),
        {},
      );
      const { report, files, exitCode } = await runLoadCommand(options, io);

      expect(exitCode).toBe(0);
      expect(report.overall.requests).toBeGreaterThan(0);
      expect(report.overall.errors).toBe(0);
      expect(report.errors).toEqual([]);
      for (const kind of ['check', 'checks', 'columns', 'filter', 'lookup', 'noop'] as const) {
        expect(report.kinds[kind]?.requests, kind).toBeGreaterThan(0);
      }
      expect(report.kinds.checks?.items).toBe((report.kinds.checks?.requests ?? 0) * 40);
      expect(report.kinds.columns?.items).toBe((report.kinds.columns?.requests ?? 0) * 40);
      expect(report.kinds.columns?.itemUnit).toBe('checks');
      expect(report.kinds.filter?.itemUnit).toBe('rows');
      // Every answer carries Server-Timing, so server time is recorded beside client latency.
      expect(report.overall.serverMs.count).toBe(report.overall.requests);
      // A closed loop has no schedule to be late for.
      expect(report.schedule).toBeNull();
      expect(report.verification.status).toBe('passed');
      expect(report.verification.responses).toBeGreaterThan(0);
      expect(report.verification.decisions).toBeGreaterThan(report.verification.responses);
      expect(report.verification.referenceDecisions).toBeGreaterThan(0);

      const json = JSON.parse(await readFile(files.json, 'utf8'));
      expect(json.overall.requests).toBe(report.overall.requests);
      expect(json.timeline.length).toBeGreaterThan(0);
      expect(json.histogram.client.length).toBeGreaterThan(0);
      const html = await readFile(files.html, 'utf8');
      expect(html).toContain('<svg id="latency-over-time"');
      expect(html).toContain('<svg id="latency-histogram"');
      expect(html).toContain('data-series="client-p99"');
      expect(html).toMatch(/<rect /);
      // Self-contained: nothing is fetched.
      expect(html).not.toMatch(/<script|<link|src=/);
      expect(io.logs.join('\n')).toContain('verification passed');
    },
  );

  it('runs an open loop at a fixed rate', async () => {
    const io = quietIo();
    const options = parseLoadOptions(
      shortRun(servers.url, [
        '--rate',
        '300',
        '--mix',
        'check:3,filter:1',
        '--filter-rows',
        'ids',
        '--out',
        join(servers.dir, 'open'),
      ]),
      {},
    );
    const { report, exitCode } = await runLoadCommand(options, io);
    expect(exitCode).toBe(0);
    // One second at 300/s: the schedule, not the server, sets the count.
    expect(report.overall.requests).toBeGreaterThan(200);
    expect(report.overall.requests).toBeLessThanOrEqual(301);
    expect(report.settings.loop).toContain('open loop');
    expect(report.verification.status).toBe('passed');
    expect(report.answerWindowS).toBeGreaterThanOrEqual(report.durationS);
    expect(report.overall.rps).toBeCloseTo((report.overall.requests - report.overall.errors) / report.answerWindowS, 6);
    // Every measured request's lateness, and every answer's latency from its actual send, which
    // cannot exceed its latency from the due time.
    const schedule = report.schedule;
    expect(schedule?.lagMs.count).toBe(report.overall.requests);
    expect(schedule?.fromSendMs.count).toBe(report.overall.requests - report.overall.errors);
    expect(schedule?.fromSendMs.max).toBeLessThanOrEqual(report.overall.latencyMs.max);
    expect(schedule?.fromSendMs.mean).toBeLessThanOrEqual(report.overall.latencyMs.mean);
    expect(schedule?.lagMs.max).toBeLessThanOrEqual(report.overall.latencyMs.max);
    expect(io.logs.join('\n')).toMatch(/schedule requests left after their due time by p50 [\d.]+, p99/);
  });

  it('fails the run when the server answers differently from the world it was given, naming the question', async () => {
    const io = quietIo();
    const options = parseLoadOptions(
      shortRun(servers.tamperedUrl, [
        '--mix',
        'check:1,checks:1,columns:1',
        '--duration',
        '500ms',
        '--out',
        join(servers.dir, 'tampered'),
      ]),
      {},
    );
    const { report, exitCode } = await runLoadCommand(options, io);
    expect(exitCode).toBe(1);
    expect(report.passed).toBe(false);
    expect(report.verification.status).toBe('failed');
    const first = report.verification.mismatches[0];
    expect(first?.against).toBe('engine');
    expect(first?.got).toContain('system-administrator');
    expect(first?.question).toMatch(/^u-\d+ \w+ \w+ /);
    expect(io.logs.join('\n')).toMatch(/MISMATCH (check|checks|columns) vs engine: u-\d+/);
    expect(report.verification.mismatches.map((m) => m.kind)).toContain('columns');
  });

  it.each(['json', 'msgpack'] as const)(
    'a %s column batch names each id once, items as positions, records as engine record indexes',
    (encoding) => {
      const engine = Engine.fromWorld(world);
      const set = buildBodies('columns', new QuestionMaker(world, 3), { ...shape(), encoding, batch: 500 });
      expect(set.path).toBe('/v1/checks/columns');
      expect(set.items).toBe(500);
      const asked = set.questions[0];
      if (asked?.kind !== 'columns') throw new Error('expected a column batch');
      const body = (
        encoding === 'json' ? JSON.parse((set.bodies[0] as Buffer).toString('utf8')) : unpack(set.bodies[0] as Buffer)
      ) as { users: string[]; tables: string[]; privileges: string[]; items: Record<string, unknown> };
      const column = (name: string): ArrayLike<number> => {
        const value = body.items[name];
        if (encoding === 'json') return value as number[];
        // MessagePack: `bin` of little-endian uint32s.
        const bytes = value as Uint8Array;
        expect(bytes).toBeInstanceOf(Uint8Array);
        expect(bytes.byteLength).toBe(500 * 4);
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        return Array.from({ length: 500 }, (_, i) => view.getUint32(i * 4, true));
      };
      for (const names of [body.users, body.tables, body.privileges]) expect(new Set(names).size).toBe(names.length);
      const [user, table, privilege, record] = ['user', 'table', 'privilege', 'record'].map(column);
      asked.question.items.forEach((item, i) => {
        expect(body.users[user?.[i] as number]).toBe(item.user);
        expect(body.tables[table?.[i] as number]).toBe(item.table);
        expect(body.privileges[privilege?.[i] as number]).toBe(item.privilege);
        expect(record?.[i]).toBe(engine.record(item.table, item.record));
      });
    },
  );

  it('the reference evaluator catches what an engine sharing the server’s mistake would not', async () => {
    const maker = new QuestionMaker(world, 5);
    const sets = new Map<Kind, BodySet>([
      ['check', buildBodies('check', maker, shape())],
      ['filter', buildBodies('filter', maker, shape())],
    ]);
    const run = await runLoad({
      url: servers.tamperedUrl,
      key: KEY,
      encoding: 'json',
      loop: { type: 'closed', concurrency: 2 },
      durationMs: 300,
      warmupMs: 0,
      timeoutMs: 10_000,
      mix: [
        { kind: 'check', weight: 1 },
        { kind: 'filter', weight: 1 },
      ],
      sets,
      seed: 1,
      verifySample: 1,
    });
    expect(run.samples.length).toBeGreaterThan(0);
    // The engine oracle is compiled from the tampered world, so it agrees with the server.
    const verification = verifySamples(
      run.samples,
      sets,
      { engine: Engine.fromWorld(everyoneAdmin), reference: new ReferenceEvaluator(world) },
      { referenceChecks: 200, seed: 1, samplesDropped: 0 },
    );
    expect(verification.status).toBe('failed');
    expect(verification.mismatches.every((m) => m.against === 'reference')).toBe(true);
  });

  it('divides throughput by the time the answers took to come in, trailing ones included', async () => {
    // A server that answers every request 300 ms late: the answers trail past the end of the run.
    const slow = createHttpServer((_request, response) => {
      setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 300);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = slow.address() as AddressInfo;
      const run = await runLoad(stubPlan(port));
      // Due at 0, 50, 100 and 150 ms; the last answer comes at about 450 ms.
      expect(run.recorder.all.requests).toBe(4);
      expect(run.recorder.all.errors).toBe(0);
      expect(run.durationMs).toBe(200);
      expect(run.answerWindowMs).toBeGreaterThanOrEqual(440);
      expect(percentiles(run.recorder.all.client).p50).toBeGreaterThanOrEqual(300);
    } finally {
      await new Promise((resolve) => slow.close(resolve));
    }
  });

  it('counts error answers by their code and transport failures as LOAD_CONNECTION', () =>
    expectErrorsCounted(servers, 'node', []));

  it('starts a server on a world in another process, drives it and stops it', { timeout: 60_000 }, async () => {
    const io = quietIo();
    const options = parseLoadOptions(
      [
        '--world',
        servers.worldFile,
        '--server',
        'source',
        '--workers',
        '0',
        // Passed through: the server must accept them (with no workers they change nothing).
        '--column-pool-threshold',
        '5000',
        '--pool-max-queue',
        '8',
        '--duration',
        '1s',
        '--warmup',
        '0s',
        '--mix',
        'check:3,checks:1',
        '--batch',
        '20',
        '--encoding',
        'msgpack',
        '--verify-sample',
        '0.2',
        '--reference-checks',
        '10',
        '--quiet',
        '--out',
        join(servers.dir, 'started'),
      ],
      {},
    );
    const { report, exitCode } = await runLoadCommand(options, io);
    expect(exitCode).toBe(0);
    expect(report.target.started).toBe(true);
    expect(report.target.build).toBe('source');
    expect(report.overall.requests).toBeGreaterThan(0);
    expect(report.verification.status).toBe('passed');
    const pid = Number(/pid (\d+)/.exec(io.errors.join('\n'))?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe('options', () => {
  it.each([
    [[], /give --url \(a running server\) or --world/],
    [['--world', 'small', '--mix', 'check:70,bogus:30'], /--mix: unknown kind `bogus`/],
    [['--world', 'small', '--mix', 'check:-1'], /--mix: `check:-1` must be kind:weight/],
    [['--world', 'small', '--mix', 'check:0'], /gives no kind a positive weight/],
    [['--world', 'small', '--mix', 'check:1,check:2'], /kind `check` is given twice/],
    [['--world', 'small', '--encoding', 'xml'], /--encoding must be one of json, msgpack, got `xml`/],
    [['--url', 'http://127.0.0.1:8787'], /--url needs an API key: --key <key> or env PALISADE_KEY/],
    [['--url', 'ftp://example.com', '--key', 'k'], /--url must be an http\(s\) URL/],
    [['--url', 'http://127.0.0.1:8787/v1', '--key', 'k'], /no path or query/],
    [['--world', 'small', '--rate', '100', '--concurrency', '4'], /one of --rate \(open loop\) and --concurrency/],
    [['--world', 'small', '--connections', '4'], /--connections applies only with --rate/],
    [['--world', 'small', '--rate', '0'], /--rate must be a number greater than 0, got `0`/],
    [['--world', 'small', '--duration', 'ten'], /--duration must be a time such as 500ms, 10s or 2m, got `ten`/],
    [['--world', 'small', '--duration', '0s'], /--duration must be longer than 0/],
    [['--world', 'small', '--batch', '1.5'], /--batch must be an integer from 1 to/],
    [['--world', 'small', '--verify-sample', '2'], /--verify-sample must be a fraction from 0 to 1, got `2`/],
    [['--world', 'small', '--filter-rows', 'rows'], /--filter-rows must be one of columns, ids, records/],
    [['--world', 'small', '--key', 'k'], /--key applies only with --url/],
    [['--url', 'http://127.0.0.1:1', '--key', 'k', '--workers', '2'], /--workers configures a started server/],
    [
      ['--url', 'http://127.0.0.1:1', '--key', 'k', '--column-pool-threshold', '5000'],
      /--column-pool-threshold configures a started server/,
    ],
    [['--url', 'http://127.0.0.1:1', '--key', 'k', '--pool-max-queue', '4'], /--pool-max-queue configures a started/],
    [['--world', 'small', '--column-pool-threshold', '0'], /--column-pool-threshold must be an integer from 1 to/],
    [['--world', 'small', '--pool-max-queue', 'some'], /--pool-max-queue must be an integer from 0 to/],
    [['--world', 'small', '--world-file', 'w.json'], /one of --world and --world-file/],
    [['--world', 'small', '--bogus'], /unknown option '--bogus'/],
  ])('%j → %s', (argv, message) => {
    expect(() => parseLoadOptions(argv as string[], {}, '/tmp')).toThrow(message);
  });

  it('reads defaults, the key from PALISADE_KEY, presets and files, times and digit separators', () => {
    const options = parseLoadOptions(
      ['--url', 'http://127.0.0.1:8787/', '--world', 'w.json'],
      { PALISADE_KEY: 'k' },
      '/x',
    );
    expect(options).toMatchObject({
      url: 'http://127.0.0.1:8787',
      key: 'k',
      world: { file: '/x/w.json' },
      mix: [{ kind: 'check', weight: 100 }],
      encoding: 'json',
      loop: { type: 'closed', concurrency: 8 },
      durationMs: 10_000,
      batch: 10_000,
      rows: 100_000,
      verifySample: 0.01,
    });
    expect(parseLoadOptions(['--world', 'medium', '--rate', '5_000', '--batch', '2,000'], {}).world).toEqual({
      preset: 'medium',
    });
    expect(parseLoadOptions(['--world', 'medium', '--rate', '5_000'], {}).loop).toEqual({
      type: 'open',
      rate: 5000,
      connections: 64,
    });
    expect([parseDuration('d', '500ms'), parseDuration('d', '2m'), parseDuration('d', '1.5')]).toEqual([
      500, 120_000, 1500,
    ]);
  });

  it('passes the started server its pool settings when given, and leaves the rest to its defaults', () => {
    const given = parseLoadOptions(
      [
        '--world',
        'small',
        '--workers',
        '1',
        '--pool-threshold',
        '40_000',
        '--column-pool-threshold',
        '5000',
        '--filter-pool-threshold',
        '200000',
        '--pool-max-queue',
        '0',
      ],
      {},
    );
    expect(given).toMatchObject({
      workers: 1,
      poolThreshold: 40_000,
      columnPoolThreshold: 5_000,
      filterPoolThreshold: 200_000,
      poolMaxQueue: 0,
    });
    const launch = {
      worldFile: '/w.msgpack',
      dir: '/d',
      build: 'dist',
      bodyLimit: 1,
      maxBatch: 2,
      maxRows: 3,
      startTimeoutMs: 1,
    } as const;
    const flags = (args: string[]) =>
      Object.fromEntries(args.flatMap((arg, i) => (arg.startsWith('--') ? [[arg, args[i + 1]]] : [])));
    expect(flags(serveArgs({ ...launch, ...given }, '/d/keys.json'))).toMatchObject({
      '--world': '/w.msgpack',
      '--keys': '/d/keys.json',
      '--workers': '1',
      '--pool-threshold': '40000',
      '--column-pool-threshold': '5000',
      '--filter-pool-threshold': '200000',
      '--pool-max-queue': '0',
    });
    const defaults = parseLoadOptions(['--world', 'small'], {});
    const args = serveArgs({ ...launch, ...defaults }, '/d/keys.json');
    for (const flag of [
      '--workers',
      '--pool-threshold',
      '--column-pool-threshold',
      '--filter-pool-threshold',
      '--pool-max-queue',
    ]) {
      expect(args, flag).not.toContain(flag);
    }
  });

  it('knows when a package manager started it, and says so for open-loop runs, where its processes reach the tail', () => {
    const pnpm = { npm_lifecycle_event: 'cli', npm_config_user_agent: 'pnpm/10.24.0 npm/? node/v20.20.0 linux x64' };
    const open = parseLoadOptions(['--world', 'small', '--rate', '100'], pnpm);
    expect(open.launcher).toBe('pnpm');
    expect(launcherNote(open)).toMatch(/^note: started by pnpm, .* node --no-memory-reducer --import tsx /);
    // A closed loop measures throughput: no note. No script, no launcher.
    expect(launcherNote(parseLoadOptions(['--world', 'small'], pnpm))).toBeNull();
    expect(parseLoadOptions(['--world', 'small', '--rate', '100'], {}).launcher).toBeNull();
    expect(launcherNote(parseLoadOptions(['--world', 'small', '--rate', '100'], {}))).toBeNull();
    expect(parseLoadOptions(['--world', 'small'], { npm_lifecycle_event: 'x' }).launcher).toBe('a package manager');
  });

  it('the command line answers bad usage with exit code 2 and the reason', async () => {
    const io = quietIo();
    expect(await runLoadCli(['--world', 'small', '--encoding', 'xml'], io, {})).toBe(2);
    expect(io.errors.join('\n')).toContain('palisade-bench load: --encoding must be one of json, msgpack');
    const help = quietIo();
    expect(await runLoadCli(['--help'], help, {})).toBe(0);
    expect(help.logs.join('\n')).toContain('--verify-sample <p>');
  });
});

describe('statistics', () => {
  /** The nearest-rank percentile, as HDR histograms define it. */
  const nearestRank = (sorted: readonly number[], p: number) =>
    sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;

  it('HDR percentiles equal sorted-array percentiles for small values and stay within 0.1% for large ones', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const exact = Array.from({ length: 5_000 }, () => 1 + Math.floor(random() * 2_000)); // µs, below 2,048: exact
    const wide = Array.from({ length: 20_000 }, () => Math.round(10 ** (random() * 6.5))); // 1 µs to 3 s
    for (const [values, tolerance] of [
      [exact, 0],
      [wide, 1e-3],
    ] as const) {
      const histogram = newHistogram();
      for (const us of values) recordMs(histogram, us / 1000);
      const sorted = [...values].sort((a, b) => a - b);
      const summary = percentiles(histogram);
      for (const [p, got] of [
        [50, summary.p50],
        [90, summary.p90],
        [99, summary.p99],
        [99.9, summary.p999],
      ] as const) {
        const want = nearestRank(sorted, p) / 1000;
        expect(Math.abs(got - want), `p${p}: ${got} vs ${want}`).toBeLessThanOrEqual(want * tolerance + 1e-9);
      }
      expect(summary.max).toBeCloseTo((sorted.at(-1) as number) / 1000, 2);
      expect(summary.count).toBe(values.length);
      expect(logBuckets(histogram).reduce((n, b) => n + b.count, 0)).toBe(values.length);
    }
  });

  it('reads the server time from Server-Timing', () => {
    expect(serverTimingMs('app;dur=0.123')).toBe(0.123);
    expect(serverTimingMs('db;dur=5, app;desc="x";dur=12.5')).toBe(12.5);
    expect(serverTimingMs(undefined)).toBeNull();
    expect(serverTimingMs('db;dur=5')).toBeNull();
  });
});
