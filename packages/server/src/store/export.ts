/**
 * Export: the stored world as a `WorldInput`, or written to a JSON or MessagePack file. It answers
 * every question as the imported world did (same settings, principals, grants, records and
 * shares), in the normal form the store keeps: owning BUs and settings written out, duplicates
 * merged (store/rows.ts), every list in its original order.
 */
import type { WorldInput } from '@palisade/core';
import type pg from 'pg';
import { loadStore } from './load.js';
import { DEFAULT_SCHEMA } from './names.js';
import { type WorldFileFormat, writeWorldFile } from './world-file.js';

export async function exportWorld(client: pg.ClientBase, schema: string = DEFAULT_SCHEMA): Promise<WorldInput> {
  return (await loadStore(client, schema)).world;
}

export interface ExportFileResult {
  readonly revision: number;
  readonly records: number;
  readonly shares: number;
}

/** Writes the stored world to `path` (streamed, item by item) and says which revision it holds. */
export async function exportWorldFile(
  client: pg.ClientBase,
  path: string,
  format: WorldFileFormat,
  schema: string = DEFAULT_SCHEMA,
): Promise<ExportFileResult> {
  const { world, revision } = await loadStore(client, schema);
  await writeWorldFile(world, path, format);
  return { revision, records: world.records?.length ?? 0, shares: world.shares?.length ?? 0 };
}
