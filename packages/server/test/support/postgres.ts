import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { type EmbeddedPostgresServer, startEmbeddedPostgres } from '../../src/postgres/embedded.js';

export interface TestPostgres {
  /** Connection URL of the file's server (valid inside tests and hooks). */
  readonly url: string;
  /** One connection shared by the file's tests, opened before them and closed after. */
  readonly client: pg.Client;
}

/**
 * Starts one embedded PostgreSQL for the calling test file (a fresh temp data dir, a free port,
 * crash safety off) and stops and deletes it after the file's tests. Call at the top level of the file.
 */
export function usePostgres(): TestPostgres {
  let dir: string | undefined;
  let server: EmbeddedPostgresServer | undefined;
  let client: pg.Client | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'palisade-pg-'));
    // mkdtemp makes the directory 0700; under root the server runs as the `postgres` user and must get in.
    await chmod(dir, 0o755);
    server = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), ephemeral: true });
    client = new pg.Client({ connectionString: server.url });
    await client.connect();
  }, 60_000);

  afterAll(async () => {
    await client?.end();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  return {
    get url() {
      if (server === undefined) throw new Error('usePostgres: the server starts in beforeAll');
      return server.url;
    },
    get client() {
      if (client === undefined) throw new Error('usePostgres: the client connects in beforeAll');
      return client;
    },
  };
}
