import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATABASE_UNAVAILABLE, startEmbeddedPostgres } from '@palisade/server';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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
