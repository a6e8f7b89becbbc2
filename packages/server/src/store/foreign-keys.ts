/**
 * Bulk loading without per-row foreign-key checks: a foreign key checks each COPYed row with its own
 * lookup, which for a million records is most of an import. Inside the import's transaction the
 * bulk tables' own foreign keys are dropped, the rows copied, and the same constraints (read from
 * the catalog, so later migrations are followed) added back: PostgreSQL then validates each with
 * one join over the table. Nothing changes for anyone else: the transaction holds the tables
 * exclusively, and a failed validation rolls the import back like any other refusal.
 */
import type pg from 'pg';
import { ident, qualified } from './names.js';

interface ForeignKey {
  readonly table: string;
  readonly name: string;
  readonly definition: string;
}

/** Drops the foreign keys declared on `tables` (not those pointing at them); returns them. */
export async function dropForeignKeys(
  client: pg.ClientBase,
  schema: string,
  tables: readonly string[],
): Promise<ForeignKey[]> {
  const result = await client.query<{ table: string; name: string; definition: string }>(
    `SELECT c.relname AS table, k.conname AS name, pg_get_constraintdef(k.oid) AS definition
       FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE k.contype = 'f' AND n.nspname = $1 AND c.relname = ANY($2::text[])
      ORDER BY c.relname, k.conname`,
    [schema, tables],
  );
  for (const key of result.rows) {
    await client.query(`ALTER TABLE ${qualified(schema, key.table)} DROP CONSTRAINT ${ident(key.name)}`);
  }
  return result.rows;
}

/** Adds `keys` back; each is validated against the rows now in the table. */
export async function addForeignKeys(
  client: pg.ClientBase,
  schema: string,
  keys: readonly ForeignKey[],
): Promise<void> {
  for (const key of keys) {
    await client.query(
      `ALTER TABLE ${qualified(schema, key.table)} ADD CONSTRAINT ${ident(key.name)} ${key.definition}`,
    );
  }
}
