/**
 * `openStore`: the PostgreSQL store behind a handle. With `databaseUrl` it uses that server; without,
 * it starts an embedded PostgreSQL on `dataDir` (default `.data/postgres` at the project root,
 * which git ignores) and stops it on `close()`. The schema is migrated on open unless told not to.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorldInput } from '@palisade/core';
import pg from 'pg';
import { DatabaseUnavailableError, type EmbeddedPostgresServer, startEmbeddedPostgres } from '../postgres/embedded.js';
import { CHANGES_CHANNEL, lastImportRevision } from './changes.js';
import { type CompactResult, compact } from './compact.js';
import { type ExportFileResult, exportWorld, exportWorldFile } from './export.js';
import { type ImportOptions, type ImportResult, importWorld } from './import.js';
import { loadServing, loadStore, readRevision, type ServingWorld, type StoredWorld } from './load.js';
import { type MigrationResult, migrate } from './migrate.js';
import { DEFAULT_SCHEMA } from './names.js';
import { type WorldFileFormat, worldFileFormat } from './world-file.js';
import type { WorldSource } from './world-source.js';

/** The embedded PostgreSQL's data directory unless told otherwise: `.data/postgres` at the project root. */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../../../.data/postgres', import.meta.url));

export interface StoreOptions {
  /** A PostgreSQL connection URL; when absent, an embedded PostgreSQL is started on `dataDir`. */
  readonly databaseUrl?: string | undefined;
  /** The embedded server's data directory (default `DEFAULT_DATA_DIR`); ignored with `databaseUrl`. */
  readonly dataDir?: string | undefined;
  /** The PostgreSQL schema holding the store (default `palisade`). */
  readonly schema?: string | undefined;
  /** Run pending migrations on open (default true). */
  readonly migrate?: boolean | undefined;
  /**
   * Told when the embedded PostgreSQL exited on its own and is started again (it always is, until
   * `close()`), for the operator's log; the error when an attempt failed.
   */
  readonly onEmbeddedRestart?: ((event: { readonly attempt: number; readonly error?: Error }) => void) | undefined;
  /** Most connections the store opens at once (default 4). */
  readonly connections?: number | undefined;
}

export interface Store {
  readonly schema: string;
  /** Where the store lives, for people: the URL without its password, or the embedded data directory. */
  readonly location: string;
  /** Applies pending migrations (idempotent). */
  migrate(): Promise<MigrationResult>;
  /** Replaces the stored world with `source` in one transaction (store/import.ts). */
  importWorld(source: WorldSource, options?: Omit<ImportOptions, 'schema'>): Promise<ImportResult>;
  /** The stored world as of the current revision (the snapshot with the change log applied). */
  exportWorld(): Promise<WorldInput>;
  /** Folds the change log into a new snapshot (store/compact.ts): to servers, an import. */
  compact(): Promise<CompactResult>;
  /** Writes the stored world to `path` (format from the extension unless given). */
  exportFile(path: string, format?: WorldFileFormat): Promise<ExportFileResult>;
  /** The stored world and its revision, from one snapshot: what a server starts from. */
  load(): Promise<StoredWorld>;
  /** The current revision (0 before anything was written). */
  revision(): Promise<number>;
  /** The snapshot of the last import and every change after it: what a server starts from. */
  loadServing(): Promise<ServingWorld>;
  /**
   * Imports `source` unless the store already holds an imported world (under an advisory lock, so
   * servers starting together on an empty store import once). Resolves with the import, or null.
   */
  importIfEmpty(source: WorldSource): Promise<ImportResult | null>;
  /** Runs `body` with a pooled connection (released after; discarded when `body` throws). */
  withClient<T>(body: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  /**
   * Follows the change log: a connection of its own that LISTENs on `palisade_changes` and calls
   * `onChange` with the revision of each change of this schema as it commits. `onLost` is called
   * once when the connection fails; listen again to resume (and catch up by revision: a
   * notification sent while no one listened is not delivered later).
   */
  listen(onChange: (revision: number) => void, onLost: (error: Error) => void): Promise<ChangeListener>;
  /** Closes every connection, and stops the embedded server if this store started it. */
  close(): Promise<void>;
}

/** A LISTEN connection (`Store.listen`). */
export interface ChangeListener {
  /** Stops listening and closes the connection. */
  close(): Promise<void>;
}

/** TCP keepalive probes start after this long without traffic (the LISTEN connection is mostly idle). */
const KEEPALIVE_MS = 30_000;

export async function openStore(options: StoreOptions = {}): Promise<Store> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  let embedded: EmbeddedPostgresServer | null = null;
  let url = options.databaseUrl;
  let location: string;
  if (url === undefined || url === '') {
    const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
    // Under root the server runs as the `postgres` user, which must be able to reach the directory.
    await mkdir(dirname(dataDir), { recursive: true, mode: 0o755 });
    embedded = await startEmbeddedPostgres({
      dataDir,
      restartOnExit: true,
      ...(options.onEmbeddedRestart === undefined ? {} : { onRestart: options.onEmbeddedRestart }),
    });
    url = embedded.url;
    location = `embedded PostgreSQL (data directory ${dataDir})`;
  } else {
    location = describeDatabaseUrl(url);
  }

  const connectionString: string = url;
  // TCP keepalive: a connection whose peer vanished (a failover, a dropped NAT mapping) errors
  // instead of waiting for ever, and idle connections keep their NAT and proxy mappings alive.
  const pool = new pg.Pool({
    connectionString,
    max: options.connections ?? 4,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_MS,
  });
  // An idle connection that drops (the server going away) must not crash the process.
  pool.on('error', () => {});

  const withClient = async <T>(body: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw new DatabaseUnavailableError(`cannot connect to ${location}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    // pg emits 'error' on a checked-out client whose connection dies (the database went away, an
    // administrator ended the session); the pool listens only while a client is idle, and an
    // 'error' nobody listens to ends the process. The query in progress, or the next one, fails
    // with the error anyway, and the client is then discarded below.
    const ignore = () => {};
    client.on('error', ignore);
    try {
      const result = await body(client);
      client.off('error', ignore);
      client.release();
      return result;
    } catch (error) {
      client.off('error', ignore);
      // The connection may be mid-COPY or broken: do not hand it to the next caller.
      client.release(true);
      throw error;
    }
  };

  let closed: Promise<void> | undefined;
  const store: Store = {
    schema,
    location,
    migrate: () => withClient((client) => migrate(client, schema)),
    importWorld: (source, importOptions = {}) =>
      withClient((client) => importWorld(client, source, { ...importOptions, schema })),
    exportWorld: () => withClient((client) => exportWorld(client, schema)),
    compact: () => withClient((client) => compact(client, schema)),
    exportFile: (path, format) =>
      withClient((client) => {
        const chosen = format ?? worldFileFormat(path);
        if (chosen === null) throw new Error(`cannot tell the format of ${path}: name it .json or .msgpack`);
        return exportWorldFile(client, path, chosen, schema);
      }),
    load: () => withClient((client) => loadStore(client, schema)),
    revision: () => withClient((client) => readRevision(client, schema)),
    loadServing: () => withClient((client) => loadServing(client, schema)),
    importIfEmpty: (source) =>
      withClient(async (client) => {
        // A seeded store (every start but the first) takes no lock: a session lock is the one
        // thing here a pooler in transaction mode would break (docs/store.md, "Poolers and managed
        // PostgreSQL").
        if ((await lastImportRevision(client, schema)) > 0) return null;
        const key = `palisade-seed:${schema}`;
        await client.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
        try {
          if ((await lastImportRevision(client, schema)) > 0) return null;
          return await importWorld(client, source, { schema });
        } finally {
          await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
        }
      }),
    withClient,
    listen: async (onChange, onLost) => {
      const client = new pg.Client({ connectionString, keepAlive: true, keepAliveInitialDelayMillis: KEEPALIVE_MS });
      let lost = false;
      const lose = (error: Error) => {
        if (lost) return;
        lost = true;
        onLost(error);
      };
      client.on('error', lose);
      client.on('end', () => lose(new Error('the LISTEN connection ended')));
      client.on('notification', (message) => {
        if (message.channel !== CHANGES_CHANNEL || message.payload === undefined) return;
        try {
          const { schema: changed, revision } = JSON.parse(message.payload) as { schema?: unknown; revision?: unknown };
          if (changed === schema && typeof revision === 'number') onChange(revision);
        } catch {
          // Not ours: another program may use the channel name.
        }
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${CHANGES_CHANNEL}`);
      } catch (error) {
        lost = true;
        await client.end().catch(() => undefined);
        throw new DatabaseUnavailableError(`cannot listen on ${location}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      return {
        close: async () => {
          lost = true;
          await client.end().catch(() => undefined);
        },
      };
    },
    close: () => {
      closed ??= (async () => {
        await pool.end();
        await embedded?.stop();
      })();
      return closed;
    },
  };

  if (options.migrate !== false) {
    try {
      await store.migrate();
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}

/** `postgres://user@host:port/db` without the password. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return 'DATABASE_URL (not a URL)';
  }
}
