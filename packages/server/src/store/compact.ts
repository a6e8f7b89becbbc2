/**
 * Compaction: the change log folded into a new snapshot. The world as the log leaves it (snapshot
 * plus every change, applied by the engine) is imported in place of the old snapshot, and the log
 * entries before that import are deleted in the same transaction. To every server the compaction
 * is an import: each reloads the world, so engine record indexes (which an import renumbers) agree
 * again across replicas from that revision on.
 */
import { Engine } from '@palisade/core';
import type pg from 'pg';
import { isImportChange, writeLockKey } from './changes.js';
import { importWorld } from './import.js';
import { loadServing } from './load.js';
import { DEFAULT_SCHEMA } from './names.js';

export interface CompactResult {
  /** False when there was nothing after the snapshot to fold. */
  readonly compacted: boolean;
  /** The revision the folded world stood at (the last change folded). */
  readonly folded: number;
  /** The store's revision after the compaction (its own entry), or the unchanged one. */
  readonly revision: number;
  /** Change-log entries folded into the snapshot and deleted. */
  readonly changes: number;
  readonly records: number;
}

export async function compact(client: pg.ClientBase, schema: string = DEFAULT_SCHEMA): Promise<CompactResult> {
  // Writers take the same key per transaction: holding it for the session keeps every write out
  // between reading the log and replacing the snapshot.
  const key = writeLockKey(schema);
  await client.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
  try {
    const serving = await loadServing(client, schema);
    const folded = serving.changes.at(-1)?.revision ?? serving.snapshotRevision;
    if (serving.changes.length === 0) {
      const records = serving.world.records?.length ?? 0;
      return { compacted: false, folded, revision: folded, changes: 0, records };
    }
    const engine = Engine.fromWorld(serving.world);
    for (const change of serving.changes) {
      // The snapshot is the last import: nothing after it is one.
      if (!isImportChange(change)) engine.apply(change.ops);
    }
    const world = engine.toWorld();
    const imported = await importWorld(client, world, {
      schema,
      entry: { compactedThrough: folded },
      dropLogBefore: true,
    });
    return {
      compacted: true,
      folded,
      revision: imported.revision,
      changes: serving.changes.length,
      records: imported.rows.records ?? 0,
    };
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
  }
}
