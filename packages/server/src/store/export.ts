/**
 * Export: the world as the store holds it now, as a `WorldInput`, or written to a JSON or
 * MessagePack file. It answers every question as the store's current revision does. With no
 * writes since the last import that is the snapshot in the normal form the store keeps (owning
 * BUs and settings written out, duplicates merged, every list in its original order,
 * store/rows.ts); after writes, the engine's own world (`Engine.toWorld`) once the log is applied.
 */
import { Engine, type WorldInput } from '@palisade/core';
import type pg from 'pg';
import { isImportChange } from './changes.js';
import { loadServing } from './load.js';
import { DEFAULT_SCHEMA } from './names.js';
import { type WorldFileFormat, writeWorldFile } from './world-file.js';

export interface CurrentWorld {
  readonly world: WorldInput;
  /** The revision the world stands at. */
  readonly revision: number;
}

/** The snapshot with every later change applied, from one consistent read of the store. */
export async function currentWorld(client: pg.ClientBase, schema: string = DEFAULT_SCHEMA): Promise<CurrentWorld> {
  const { world, snapshotRevision, changes } = await loadServing(client, schema);
  if (changes.length === 0) return { world, revision: snapshotRevision };
  const engine = Engine.fromWorld(world);
  for (const change of changes) if (!isImportChange(change)) engine.apply(change.ops);
  return { world: engine.toWorld(), revision: changes.at(-1)?.revision ?? snapshotRevision };
}

export async function exportWorld(client: pg.ClientBase, schema: string = DEFAULT_SCHEMA): Promise<WorldInput> {
  return (await currentWorld(client, schema)).world;
}

export interface ExportFileResult {
  readonly revision: number;
  readonly records: number;
  readonly shares: number;
}

/** Writes the store's current world to `path` (streamed, item by item) and says which revision it holds. */
export async function exportWorldFile(
  client: pg.ClientBase,
  path: string,
  format: WorldFileFormat,
  schema: string = DEFAULT_SCHEMA,
): Promise<ExportFileResult> {
  const { world, revision } = await currentWorld(client, schema);
  await writeWorldFile(world, path, format);
  return { revision, records: world.records?.length ?? 0, shares: world.shares?.length ?? 0 };
}
