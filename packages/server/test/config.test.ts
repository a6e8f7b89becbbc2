import { join } from 'node:path';
import {
  DEFAULT_COLUMN_POOL_THRESHOLD,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_POOL_QUEUE_PER_THREAD,
  DEFAULT_POOL_TASK_TIMEOUT_MS,
  DEFAULT_POOL_THRESHOLD,
  describeConfig,
  KeyStore,
  parseKeysFile,
  resolveConfig,
  runCli,
  SETTINGS,
} from '@palisade/server';
import { describe, expect, it } from 'vitest';

async function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { log: (l) => out.push(l), error: (l) => err.push(l) }, env);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('resolveConfig', () => {
  it('takes a flag over its environment variable over the default, and says which', () => {
    const config = resolveConfig(
      { port: '9000', 'max-batch': '5' },
      { PALISADE_PORT: '9100', PALISADE_HOST: '0.0.0.0', PALISADE_MAX_BATCH: '7', PALISADE_WORLD: 'w.json' },
      '/work/here',
    );
    expect(config.port).toBe(9000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.limits.maxBatchItems).toBe(5);
    expect(config.world).toBe(join('/work/here', 'w.json'));
    expect(config.sources).toMatchObject({
      port: 'flag',
      host: 'env',
      maxBatchItems: 'flag',
      world: 'env',
      keys: 'default',
    });
    expect(config.keysFile).toBeNull();
  });

  it('defaults to the sample world on 127.0.0.1:8787', () => {
    const config = resolveConfig({}, {}, '/');
    expect(config.world).toMatch(/fixtures[/\\]worlds[/\\]sample\.json$/);
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(8787);
  });

  it('bounds the worker pool queue: --pool-max-queue, PALISADE_POOL_MAX_QUEUE, else 32 ranges per worker', () => {
    expect(resolveConfig({ workers: '2' }, {}, '/').poolMaxQueue).toBe(64);
    expect(resolveConfig({}, { PALISADE_WORKERS: '3' }, '/').poolMaxQueue).toBe(3 * DEFAULT_POOL_QUEUE_PER_THREAD);
    const fromEnv = resolveConfig({}, { PALISADE_POOL_MAX_QUEUE: '9' }, '/');
    expect(fromEnv.poolMaxQueue).toBe(9);
    expect(fromEnv.sources.poolMaxQueue).toBe('env');
    const fromFlag = resolveConfig({ 'pool-max-queue': '0' }, { PALISADE_POOL_MAX_QUEUE: '9' }, '/');
    expect(fromFlag.poolMaxQueue).toBe(0);
    expect(fromFlag.sources.poolMaxQueue).toBe('flag');
    expect(() => resolveConfig({ 'pool-max-queue': '-1' }, {}, '/')).toThrow(
      /--pool-max-queue \(PALISADE_POOL_MAX_QUEUE\)/,
    );
    const banner = describeConfig(resolveConfig({ workers: '2' }, {}, '/'), '').join('\n');
    expect(banner).toMatch(/--pool-max-queue\s+64 ranges waiting \(32 per worker\)\s+\(PALISADE_POOL_MAX_QUEUE\)/);
  });

  it('prints every setting at start, each with its value and where the value came from', () => {
    const config = resolveConfig(
      { port: '9000', host: '127.0.0.2', world: 'w.json', store: 'none' },
      { PALISADE_WORKERS: '3', PALISADE_KEYS: 'keys.json' },
      '/srv',
    );
    const banner = describeConfig(config, '');
    for (const [name, setting] of Object.entries(SETTINGS)) {
      expect(
        banner.some((line) => line.trimStart().startsWith(`--${setting.flag} `)),
        name,
      ).toBe(true);
    }
    const text = banner.join('\n');
    expect(text).toMatch(/--port\s+9000\s+\[flag]/);
    expect(text).toMatch(/--host\s+127\.0\.0\.2\s+\[flag]/);
    expect(text).toMatch(/--world\s+\/srv\/w\.json\s+\[flag]/);
    expect(text).toMatch(/--workers\s+3\s+\[env]/);
    expect(text).toMatch(/--keys\s+\/srv\/keys\.json\s+\[env]/);
    expect(text).toMatch(/--max-batch\s+10000\s+\(PALISADE_MAX_BATCH\)/);
  });

  it('bounds the shutdown drain: --drain-timeout, PALISADE_DRAIN_TIMEOUT, else 10 s', () => {
    expect(resolveConfig({}, {}, '/').drainTimeoutMs).toBe(DEFAULT_DRAIN_TIMEOUT_MS);
    expect(DEFAULT_DRAIN_TIMEOUT_MS).toBe(10_000);
    const fromEnv = resolveConfig({}, { PALISADE_DRAIN_TIMEOUT: '0' }, '/');
    expect([fromEnv.drainTimeoutMs, fromEnv.sources.drainTimeout]).toEqual([0, 'env']);
    const fromFlag = resolveConfig({ 'drain-timeout': '250' }, { PALISADE_DRAIN_TIMEOUT: '500' }, '/');
    expect([fromFlag.drainTimeoutMs, fromFlag.sources.drainTimeout]).toEqual([250, 'flag']);
    expect(describeConfig(fromFlag, '').join('\n')).toMatch(/--drain-timeout\s+250 ms\s+\[flag]/);
    for (const bad of ['-5', 'soon', '1.5']) {
      expect(() => resolveConfig({ 'drain-timeout': bad }, {}, '/')).toThrow(
        /--drain-timeout \(PALISADE_DRAIN_TIMEOUT\)/,
      );
    }
  });

  it('bounds how long pooled workers may take: --pool-task-timeout, PALISADE_POOL_TASK_TIMEOUT, else 30 s', () => {
    const defaults = resolveConfig({ workers: '2' }, {}, '/');
    expect(defaults.poolTaskTimeoutMs).toBe(DEFAULT_POOL_TASK_TIMEOUT_MS);
    expect(DEFAULT_POOL_TASK_TIMEOUT_MS).toBe(30_000);
    const fromEnv = resolveConfig({}, { PALISADE_POOL_TASK_TIMEOUT: '500' }, '/');
    expect([fromEnv.poolTaskTimeoutMs, fromEnv.sources.poolTaskTimeout]).toEqual([500, 'env']);
    const fromFlag = resolveConfig({ 'pool-task-timeout': '250' }, { PALISADE_POOL_TASK_TIMEOUT: '500' }, '/');
    expect([fromFlag.poolTaskTimeoutMs, fromFlag.sources.poolTaskTimeout]).toEqual([250, 'flag']);
    for (const bad of ['0', '-5', 'soon']) {
      expect(() => resolveConfig({ 'pool-task-timeout': bad }, {}, '/')).toThrow(
        /--pool-task-timeout \(PALISADE_POOL_TASK_TIMEOUT\)/,
      );
    }
    const banner = describeConfig(defaults, '').join('\n');
    expect(banner).toMatch(/--pool-task-timeout\s+30000 ms\s+\(PALISADE_POOL_TASK_TIMEOUT\)/);
    expect(describeConfig(resolveConfig({ workers: '0' }, {}, '/'), '').join('\n')).toMatch(
      /--pool-task-timeout\s+\(unused: no workers\)/,
    );
  });

  it('says the AuthZEN metadata names the listen address unless --public-url is set', () => {
    const banner = describeConfig(resolveConfig({ host: '10.0.0.5', port: '9000' }, {}, '/'), '').join('\n');
    expect(banner).toMatch(/--public-url\s+\(the listen address: http:\/\/10\.0\.0\.5:9000\)/);
    expect(banner).not.toMatch(/WARNING/);
    for (const host of ['0.0.0.0', '::']) {
      const wildcard = describeConfig(resolveConfig({ host }, {}, '/'), '').join('\n');
      expect(wildcard, host).toMatch(/--public-url\s+\(the listen address: .*\) WARNING: a wildcard address/);
      const set = describeConfig(resolveConfig({ host, 'public-url': 'https://authz.example.com' }, {}, '/'), '');
      expect(set.join('\n'), host).not.toMatch(/WARNING/);
    }
  });

  it('takes the column batch pool threshold apart from the object batch one', () => {
    const defaults = resolveConfig({}, {}, '/');
    expect(defaults.poolThreshold).toBe(DEFAULT_POOL_THRESHOLD);
    expect(defaults.columnPoolThreshold).toBe(DEFAULT_COLUMN_POOL_THRESHOLD);
    const set = resolveConfig({ 'pool-threshold': '9000' }, { PALISADE_COLUMN_POOL_THRESHOLD: '3000' }, '/');
    expect([set.poolThreshold, set.columnPoolThreshold]).toEqual([9000, 3000]);
    expect(set.sources).toMatchObject({ poolThreshold: 'flag', columnPoolThreshold: 'env' });
  });

  it('refuses bad values with PALISADE_INVALID_CONFIG naming the flag and the variable', () => {
    for (const [values, env, pattern] of [
      [{ port: 'http' }, {}, /--port \(PALISADE_PORT\) must be an integer from 0 to 65535/],
      [{}, { PALISADE_PORT: '70000' }, /--port/],
      [{ 'body-limit': '-1' }, {}, /--body-limit/],
      [{ 'log-level': 'loud' }, {}, /--log-level/],
      [{ 'public-url': 'ftp://x/y' }, {}, /--public-url/],
    ] as const) {
      expect(() => resolveConfig(values, env, '/')).toThrow(
        expect.objectContaining({ code: 'PALISADE_INVALID_CONFIG' }),
      );
      expect(() => resolveConfig(values, env, '/')).toThrow(pattern);
    }
  });
});

describe('palisade command line: server commands', () => {
  it('rejects a bad setting or an unknown flag with exit code 2 and does not start', async () => {
    const bad = await run(['serve', '--port', 'eighty']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('[PALISADE_INVALID_CONFIG]');
    const unknown = await run(['--colour', 'red']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('usage: palisade');
    const missingKeys = await run(['serve', '--keys', '/no/such/keys.json', '--port', '0']);
    expect(missingKeys.code).toBe(2);
    expect(missingKeys.err).toMatch(/no such file/i);
  });

  it('keygen prints a key once and a keys-file entry that holds only its SHA-256', async () => {
    const { code, out } = await run(['keygen', '--id', 'billing', '--scopes', 'check']);
    expect(code).toBe(0);
    const key = /^\s+(pal_\S+)$/m.exec(out)?.[1] as string;
    const entryLine = out.split('\n').find((l) => l.trim().startsWith('{')) as string;
    expect(entryLine).not.toContain(key);
    const store = new KeyStore(parseKeysFile(JSON.stringify({ keys: [JSON.parse(entryLine)] }), 'entry'));
    expect(store.authenticate(key)).toEqual({ id: 'billing', scopes: ['check'] });
    expect((await run(['keygen', '--scopes', 'root'])).code).toBe(2);
  });

  it('--help lists serve as the default and every setting with its variable', async () => {
    const { out } = await run(['--help']);
    expect(out).toMatch(/serve\s+start the HTTP server \(default\)/);
    for (const name of ['PALISADE_PORT', 'PALISADE_KEYS', 'PALISADE_WORLD', 'PALISADE_MAX_BATCH'])
      expect(out).toContain(name);
  });
});
