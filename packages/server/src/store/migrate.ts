/**
 * Versioned migrations, run at start: `palisade_migrations` (in the store's schema) lists every
 * version applied; the pending ones run in version order inside one transaction, under an advisory
 * lock, so replicas starting together migrate once and a failed migration leaves no trace.
 */
import type pg from 'pg';
import { ServerErrorCodes, serverError } from '../errors.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import { DEFAULT_SCHEMA, ident, MIGRATIONS_TABLE, qualified } from './names.js';
import { inTransaction } from './transaction.js';

export interface MigrationResult {
  /** Versions this call applied, in order (empty when the schema was current). */
  readonly applied: number[];
  /** The schema's version afterwards. */
  readonly version: number;
}

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;

export async function migrate(
  client: pg.ClientBase,
  schema: string = DEFAULT_SCHEMA,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationResult> {
  migrations.forEach((migration, i) => {
    if (migration.version !== i + 1)
      throw new Error(`migration ${migration.name} has version ${migration.version}, expected ${i + 1}`);
  });
  const s = ident(schema);
  const table = qualified(schema, MIGRATIONS_TABLE);
  return inTransaction(client, async () => {
    // The lock comes first: CREATE … IF NOT EXISTS is not safe against a concurrent creator.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`palisade-migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${table} (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const rows = (await client.query<{ version: number }>(`SELECT version FROM ${table} ORDER BY version`)).rows;
    const current = rows.length === 0 ? 0 : (rows[rows.length - 1]?.version ?? 0);
    if (current > migrations.length) {
      throw serverError(
        ServerErrorCodes.STORE_SCHEMA_TOO_NEW,
        `the store in schema ${schema} is at version ${current}, newer than this Palisade knows (${migrations.length}): upgrade Palisade`,
        { schema, version: current, known: migrations.length },
      );
    }
    const applied: number[] = [];
    for (const migration of migrations.slice(current)) {
      await client.query(migration.sql(s));
      await client.query(`INSERT INTO ${table} (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      applied.push(migration.version);
    }
    return { applied, version: Math.max(current, migrations.length) };
  });
}
