/**
 * Import: a world replaces the store's content in one transaction. The world is validated by the
 * engine's loader first, so a world that breaks a loading rule is refused with the engine's own
 * error (`PALISADE_WORLD_INVALID`) before the database is touched; then every table is truncated
 * and refilled with COPY, and the import is appended to the change log. Anything that fails after
 * that point (the database refusing a value, a lost connection) rolls the whole import back: the
 * previous world and revision stay as they were.
 */
import { loadWorld, type WorldInput } from '@palisade/core';
import type pg from 'pg';
import { ServerError, ServerErrorCodes, STATUS_OF_CODE } from '../errors.js';
import { CHANGES_CHANNEL } from './changes.js';
import { copyIn } from './copy.js';
import { addForeignKeys, dropForeignKeys } from './foreign-keys.js';
import { CHANGES_TABLE, DEFAULT_SCHEMA, IMPORT_OP, qualified, worldTableList } from './names.js';
import { worldRows } from './rows.js';
import { inTransaction } from './transaction.js';
import { readWorldSource, type WorldSource } from './world-source.js';

export interface ImportResult {
  /** The store's revision after the import (the import is one change). */
  readonly revision: number;
  /** Rows written per table (merged duplicates count once). */
  readonly rows: Readonly<Record<string, number>>;
}

export interface ImportOptions {
  readonly schema?: string;
  /** More fields for the change-log entry (a compaction names the revision it folded). */
  readonly entry?: Readonly<Record<string, unknown>>;
  /** Delete every change-log entry before this import, in its transaction (compaction). */
  readonly dropLogBefore?: boolean;
  /** Called after each table is written, before the commit (tests use it to fail an import halfway). */
  readonly afterTable?: (table: string, rows: number) => void | Promise<void>;
}

/** Tables whose foreign keys are checked once after the COPY rather than row by row (foreign-keys.ts). */
const BULK_TABLES = ['records', 'shares', 'field_shares'];

export { IMPORT_OP };

export async function importWorld(
  client: pg.ClientBase,
  source: WorldSource,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const world: WorldInput = await readWorldSource(source);
  // Throws PALISADE_WORLD_INVALID naming the rule, item and path; the database is not touched.
  loadWorld(world);

  try {
    return await inTransaction(client, async () => {
      // Writers append to the change log under ROW EXCLUSIVE; this waits for them and holds them off.
      await client.query(`LOCK TABLE ${qualified(schema, CHANGES_TABLE)} IN EXCLUSIVE MODE`);
      await client.query(`TRUNCATE ${worldTableList(schema)}`);
      const keys = await dropForeignKeys(client, schema, BULK_TABLES);
      const rows: Record<string, number> = {};
      for (const { table, columns, lines } of worldRows(world)) {
        rows[table] = await copyIn(client, qualified(schema, table), columns, lines());
        await options.afterTable?.(table, rows[table]);
      }
      await addForeignKeys(client, schema, keys);
      const ops = [{ op: IMPORT_OP, records: rows.records ?? 0, shares: rows.shares ?? 0, ...options.entry }];
      const inserted = await client.query<{ revision: string }>(
        `INSERT INTO ${qualified(schema, CHANGES_TABLE)} (ops) VALUES ($1) RETURNING revision`,
        [JSON.stringify(ops)],
      );
      const revision = Number(inserted.rows[0]?.revision);
      // Delivered at commit: followers reload now rather than at their next periodic catch-up.
      await client.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, JSON.stringify({ schema, revision })]);
      if (options.dropLogBefore === true) {
        await client.query(`DELETE FROM ${qualified(schema, CHANGES_TABLE)} WHERE revision < $1`, [revision]);
      }
      return { revision, rows };
    });
  } catch (error) {
    throw asRejected(error);
  }
}

/** A PostgreSQL refusal (constraint, encoding, value) as PALISADE_STORE_REJECTED; anything else as it is. */
function asRejected(error: unknown): unknown {
  const e = error as Partial<pg.DatabaseError> | null;
  // SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation).
  if (typeof e?.code !== 'string' || !/^2[23]/.test(e.code)) return error;
  const details: Record<string, unknown> = { sqlState: e.code };
  if (e.table !== undefined) details.table = e.table;
  if (e.constraint !== undefined) details.constraint = e.constraint;
  if (e.detail !== undefined) details.detail = e.detail;
  if (e.where !== undefined) details.where = e.where;
  return new ServerError(
    ServerErrorCodes.STORE_REJECTED,
    `the database refused the world, nothing was imported: ${e.message ?? 'unknown error'}`,
    STATUS_OF_CODE[ServerErrorCodes.STORE_REJECTED],
    details,
  );
}
