import type { CheckItem } from '../api.js';
import { NONE } from '../ids.js';
import type { IdTable } from '../model/id-table.js';
import type { Table, WorldModel } from '../model/world-model.js';
import { privilegeFromName } from '../privileges.js';
import { sharedInt32, sharedUint8 } from '../util/growable.js';
import type { CheckColumns } from './batch.js';

/** A batch as dense columns in shared memory, and the positions of its inline rows. */
export interface BatchColumns {
  readonly columns: CheckColumns;
  /** Items whose record is given inline: `checkColumns` reports them as unknown records; answer them one by one. */
  readonly inline: number[];
}

/**
 * Turns questions with string ids into dense columns for `checkColumns`. Users and records are
 * resolved in bulk (`IdTable.getAll`, `RecordIdIndex.getAll`): a batch over a large world names
 * thousands of them, each a cold lookup, and looked up one by one each would wait on its misses in
 * turn (on 10,000 uniform items of the 100,000-user, 1M-record world: 18 ms one by one, 6 ms in
 * bulk; BENCHMARKS.md). Tables and privileges are few and repeat, so a small map per batch
 * resolves each once. An id that does not resolve becomes an out-of-range index, so the column
 * loop writes that item's error code. Inline rows (records given as objects) are listed in
 * `inline` for the single-question path.
 */
export function itemsToColumns(model: WorldModel, userIds: IdTable, items: readonly CheckItem[]): BatchColumns {
  const length = items.length;
  // Shared memory, so a worker pool can answer ranges of the batch without a copy.
  const users = sharedInt32(length);
  const tables = sharedInt32(length);
  const privileges = sharedUint8(length);
  const records = sharedInt32(length).fill(NONE);
  const inline: number[] = [];
  const userNames: string[] = new Array(length);
  const tableOf = new Map<string, number>();
  const privilegeOf = new Map<string, number>();
  const recordsOf = new Map<number, { ids: string[]; at: number[] }>();
  for (let i = 0; i < length; i++) {
    const item = items[i] as CheckItem;
    // Not checked here: `getAll` answers -1 for anything that is not a string.
    userNames[i] = item.user;
    let t = tableOf.get(item.table);
    if (t === undefined) {
      t = model.tableIndex.get(item.table) ?? NONE;
      tableOf.set(item.table, t);
    }
    let p = privilegeOf.get(item.privilege);
    if (p === undefined) {
      // 255 is no privilege: the column loop reports it as unknown.
      p = privilegeFromName(item.privilege) ?? 255;
      privilegeOf.set(item.privilege, p);
    }
    tables[i] = t;
    privileges[i] = p;
    if (typeof item.record !== 'string') inline.push(i);
    else if (t !== NONE) {
      let asked = recordsOf.get(t);
      if (asked === undefined) {
        asked = { ids: [], at: [] };
        recordsOf.set(t, asked);
      }
      asked.ids.push(item.record);
      asked.at.push(i);
    }
  }
  userIds.getAll(userNames, users);
  for (const [t, asked] of recordsOf) {
    const rows = (model.tables[t] as Table).records.index.getAll(asked.ids, new Int32Array(asked.ids.length));
    for (let k = 0; k < rows.length; k++) records[asked.at[k] as number] = rows[k] as number;
  }
  return { columns: { users, tables, privileges, records }, inline };
}
