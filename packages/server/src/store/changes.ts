/**
 * The change log as the write path (docs/store.md, "Writes"). The world tables hold the snapshot of
 * the last import; every later write is one row of `palisade_changes` whose `ops` are core
 * `UpdateOp`s. A server loads the snapshot, then applies every change after it with `engine.apply`
 * in revision order, so every process that replays the same log holds the same engine.
 *
 * Writers serialize on an advisory lock (`WRITE_LOCK`) held until their commit, and hold
 * `palisade_changes` in ROW EXCLUSIVE mode from the start of their transaction, which keeps an
 * import (EXCLUSIVE) out: revisions therefore commit in order, and a reader that has applied
 * revision r has seen every change up to r.
 */
import type { UpdateOp } from '@palisade/core';
import type pg from 'pg';
import { CHANGES_TABLE, DEFAULT_SCHEMA, IMPORT_OP, qualified } from './names.js';

/** One committed change: its revision and its operations (or an import entry). */
export interface Change {
  readonly revision: number;
  readonly ops: readonly UpdateOp[];
}

/** The NOTIFY channel writes and imports announce themselves on; the payload is `{ schema, revision }`. */
export const CHANGES_CHANNEL = 'palisade_changes';

/** True for the entry an import appends: a follower reloads the whole world. */
export function isImportChange(change: Change): boolean {
  return change.ops.some((op) => (op as { op?: unknown }).op === IMPORT_OP);
}

/** The advisory lock key writers of `schema` serialize on (hashed by PostgreSQL's hashtext). */
export function writeLockKey(schema: string): string {
  return `palisade-write:${schema}`;
}

/**
 * Every change after `revision`, in revision order. `limit` bounds one read (a follower far behind
 * reads the log in pages).
 */
export async function readChanges(
  client: pg.ClientBase,
  schema: string = DEFAULT_SCHEMA,
  revision = 0,
  limit = 10_000,
): Promise<Change[]> {
  const result = await client.query<{ revision: string; ops: UpdateOp[] }>(
    `SELECT revision, ops FROM ${qualified(schema, CHANGES_TABLE)} WHERE revision > $1 ORDER BY revision LIMIT $2`,
    [revision, limit],
  );
  return result.rows.map((row) => ({ revision: Number(row.revision), ops: row.ops }));
}

/** The revision of the last import (the snapshot the world tables hold); 0 when there was none. */
export async function lastImportRevision(client: pg.ClientBase, schema: string = DEFAULT_SCHEMA): Promise<number> {
  // The literal matches the partial index of migration 2 (a parameter would not).
  const result = await client.query<{ revision: string }>(
    `SELECT coalesce(max(revision), 0) AS revision FROM ${qualified(schema, CHANGES_TABLE)}
      WHERE ops @> '[{"op": "importWorld"}]'::jsonb`,
  );
  return Number(result.rows[0]?.revision ?? 0);
}

export interface ChangeAuthor {
  /** The API key's id (never the key). */
  readonly keyId?: string | null;
  /** The user the write was made as (`asUser`). */
  readonly asUser?: string | null;
}

/**
 * Appends `ops` as one change and announces it (NOTIFY is delivered at commit). The caller holds
 * the write lock inside an open transaction. Resolves with the new revision.
 */
export async function appendChange(
  client: pg.ClientBase,
  schema: string,
  ops: readonly UpdateOp[],
  author: ChangeAuthor = {},
): Promise<number> {
  const inserted = await client.query<{ revision: string }>(
    `INSERT INTO ${qualified(schema, CHANGES_TABLE)} (ops, key_id, as_user) VALUES ($1, $2, $3) RETURNING revision`,
    [JSON.stringify(ops), author.keyId ?? null, author.asUser ?? null],
  );
  const revision = Number(inserted.rows[0]?.revision);
  await client.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, JSON.stringify({ schema, revision })]);
  return revision;
}

/** Opens a write: the writers' advisory lock, and the change log held against an import. */
export async function lockForWrite(client: pg.ClientBase, schema: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [writeLockKey(schema)]);
  await client.query(`LOCK TABLE ${qualified(schema, CHANGES_TABLE)} IN ROW EXCLUSIVE MODE`);
}
