import type { CheckItem } from '../api.js';
import type { Evaluator } from '../evaluate/evaluator.js';
import { NONE } from '../ids.js';
import type { WorldModel } from '../model/world-model.js';
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
 * Turns questions with string ids into dense columns for `checkColumns`. A batch names the same
 * users, tables and privileges again and again, so each is resolved once per batch through a small
 * map that stays in cache, instead of a lookup in the world's large id maps per item. An id that
 * does not resolve becomes an out-of-range index, so the column loop writes that item's error
 * code. Inline rows (records given as objects) are listed in `inline` for the single-question path.
 */
export function itemsToColumns(evaluator: Evaluator, model: WorldModel, items: readonly CheckItem[]): BatchColumns {
  const length = items.length;
  // Shared memory, so a worker pool can answer ranges of the batch without a copy.
  const users = sharedInt32(length);
  const tables = sharedInt32(length);
  const privileges = sharedUint8(length);
  const records = sharedInt32(length);
  const inline: number[] = [];
  const userOf = new Map<string, number>();
  const tableOf = new Map<string, number>();
  const privilegeOf = new Map<string, number>();
  for (let i = 0; i < length; i++) {
    const item = items[i] as CheckItem;
    let u = userOf.get(item.user);
    if (u === undefined) {
      const principal = model.principalIndex.get(item.user) ?? NONE;
      u = evaluator.isUser(principal) ? principal : NONE;
      userOf.set(item.user, u);
    }
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
    users[i] = u;
    tables[i] = t;
    privileges[i] = p;
    if (typeof item.record === 'string') {
      records[i] = t === NONE ? NONE : (model.tables[t]?.records.index.get(item.record) ?? NONE);
    } else {
      records[i] = NONE;
      inline.push(i);
    }
  }
  return { columns: { users, tables, privileges, records }, inline };
}
