import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorldInput } from '@palisade/core';
import {
  buildServer,
  DATABASE_UNAVAILABLE,
  openStore,
  Replica,
  SAMPLE_WORLD,
  startEmbeddedPostgres,
} from '@palisade/server';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, CHECK_KEY, post, TEST_KEYS } from './support/http.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'palisade-embedded-'));
  // Under root the server runs as the `postgres` user, which must be able to enter the directory.
  await chmod(dir, 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('startEmbeddedPostgres', () => {
  it('initialises an empty data dir, then restarts on it with the data kept', async () => {
    const dataDir = join(dir, 'kept');
    const first = await startEmbeddedPostgres({ dataDir, database: 'Odd "name"', ephemeral: true });
    try {
      expect(first.url).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/Odd%20%22name%22$/);
      await query(first.url, `CREATE TABLE kept (id text); INSERT INTO kept VALUES ('a')`);

      // A second server on the same port fails with the stable code and the server's own reason.
      const busy = startEmbeddedPostgres({ dataDir: join(dir, 'busy'), port: first.port });
      await expect(busy).rejects.toThrow(DATABASE_UNAVAILABLE);
      await expect(busy).rejects.toThrow(/already in use/);
    } finally {
      await first.stop();
      await first.stop(); // idempotent
    }
    const again = await startEmbeddedPostgres({ dataDir, database: 'Odd "name"' });
    try {
      expect(await query(again.url, 'SELECT id FROM kept')).toEqual([{ id: 'a' }]);
    } finally {
      await again.stop();
    }
  }, 30_000);

  it('refuses a non-empty directory that holds no cluster', async () => {
    const dataDir = join(dir, 'not-a-cluster');
    await mkdir(dataDir);
    await writeFile(join(dataDir, 'notes.txt'), 'mine');
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(
      /not-a-cluster is not empty and holds no PostgreSQL cluster \[PALISADE_DATABASE_UNAVAILABLE\]/,
    );
  });
});

/** Polls `probe` until it resolves true; generous bound, since only a hang should fail. */
async function eventually(probe: () => Promise<boolean>, what: string, limitMs = 60_000): Promise<void> {
  const until = Date.now() + limitMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The postmaster's pid, from the first line of the data directory's postmaster.pid. */
async function postmasterPid(dataDir: string): Promise<number> {
  return Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
}

describe('an embedded PostgreSQL that dies', () => {
  it('is started again on the same port with its data (restartOnExit), and not after stop()', async () => {
    const dataDir = join(dir, 'restarted');
    const events: { attempt: number; error?: Error }[] = [];
    const server = await startEmbeddedPostgres({ dataDir, restartOnExit: true, onRestart: (e) => events.push(e) });
    try {
      await query(server.url, `CREATE TABLE kept (id text); INSERT INTO kept VALUES ('a')`);
      const pid = server.pid;
      expect(pid).toBe(await postmasterPid(dataDir));
      process.kill(pid as number, 'SIGKILL');
      await eventually(async () => server.restarts === 1, 'it was started again');
      expect(server.pid).not.toBe(pid);
      expect(await query(server.url, 'SELECT id FROM kept')).toEqual([{ id: 'a' }]);
      expect(events.at(-1)).toEqual({ attempt: events.length });
    } finally {
      await server.stop();
    }
    expect(server.pid).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(server.restarts).toBe(1);
  }, 90_000);

  it('a server on the embedded store recovers by itself: writes fail with the code, then land again', async () => {
    const dataDir = join(dir, 'served');
    const store = await openStore({ dataDir });
    const replica = await Replica.open(store, {});
    const app = buildServer({ replica, keys: TEST_KEYS });
    try {
      const sample = JSON.parse(await readFile(SAMPLE_WORLD, 'utf8')) as WorldInput;
      await store.importWorld(sample);
      const share = (recordId: string) => ({
        ops: [{ op: 'grantShare', table: 'account', recordId, principalId: 'u-sam', rights: ['read'] }],
      });
      await eventually(
        async () => (await post(app, '/v1/write', share('acc-fabrikam'), { key: ADMIN_KEY })).status === 200,
        'the first write landed',
      );
      process.kill(await postmasterPid(dataDir), 'SIGKILL');
      const statuses = new Set<number>();
      await eventually(async () => {
        const answer = await post(app, '/v1/write', share('acc-wingtip'), { key: ADMIN_KEY });
        statuses.add(answer.status);
        if (answer.status !== 200) expect(answer.body).toMatchObject({ error: { code: DATABASE_UNAVAILABLE } });
        return answer.status === 200;
      }, 'a write landed after the restart');
      const check = await post(
        app,
        '/v1/check',
        { user: 'u-sam', table: 'account', privilege: 'read', record: 'acc-wingtip' },
        { key: CHECK_KEY },
      );
      expect(check.body).toMatchObject({ allowed: true, reason: 'share' });
      expect([...statuses].every((status) => status === 200 || status === 503)).toBe(true);
    } finally {
      await app.close();
      await store.close();
    }
  }, 120_000);
});
