import { UserFlag } from '../compile/grant-tables.js';

import type { Evaluator } from '../evaluate/evaluator.js';
import { NONE } from '../ids.js';
import type { WorldModel } from '../model/world-model.js';
import { PRIVILEGE_COUNT } from '../privileges.js';
import { BatchCode } from './codes.js';

/** Many questions as columns of dense indexes: item i is (users[i], tables[i], privileges[i], records[i]). */
export interface CheckColumns {
  readonly users: Int32Array | Uint32Array;
  readonly tables: Int32Array | Uint32Array | Uint8Array;
  readonly privileges: Int32Array | Uint8Array;
  readonly records: Int32Array | Uint32Array;
}

const PATH_CODE = [BatchCode.noAccess, BatchCode.role, BatchCode.share] as const;

/**
 * Answers every item into `out` (one `BatchCode` byte each, in input order). An item with a bad
 * index gets its error code in its slot; the others are unaffected. No allocation per item.
 */
export function checkColumns(evaluator: Evaluator, model: WorldModel, columns: CheckColumns, out: Uint8Array): void {
  const { users, tables, privileges, records } = columns;
  const tableCount = model.tables.length;
  // Per-table columns, read once: the loop indexes plain arrays of typed arrays.
  const owners = model.tables.map((t) => t.records.owner);
  const bus = model.tables.map((t) => t.records.bu);
  const lives = model.tables.map((t) => t.records.live);
  const counts = Int32Array.from(model.tables, (t) => t.records.count);
  const flags = evaluator.userFlags;
  for (let i = 0; i < out.length; i++) {
    const u = users[i] as number;
    const t = tables[i] as number;
    const p = privileges[i] as number;
    const r = records[i] as number;
    if (!evaluator.isUser(u)) {
      out[i] = BatchCode.unknownUser;
    } else if (!(t >= 0 && t < tableCount)) {
      out[i] = BatchCode.unknownTable;
    } else if (!(p >= 0 && p < PRIVILEGE_COUNT)) {
      out[i] = BatchCode.unknownPrivilege;
    } else if (!(r >= 0 && r < (counts[t] as number) && (lives[t] as Uint8Array)[r] === 1)) {
      out[i] = BatchCode.unknownRecord;
    } else {
      const f = flags[u] as number;
      if ((f & UserFlag.disabled) !== 0) out[i] = BatchCode.disabled;
      else if ((f & UserFlag.systemAdministrator) !== 0) out[i] = BatchCode.systemAdministrator;
      else {
        const owner = (owners[t] as Int32Array)[r] as number;
        const bu = (bus[t] as Int32Array)[r] as number;
        out[i] = PATH_CODE[evaluator.path(u, t, p, owner, bu, r)] as number;
      }
    }
  }
}

export function checkColumnsLength(columns: CheckColumns): number {
  const n = columns.users.length;
  return columns.tables.length === n && columns.privileges.length === n && columns.records.length === n ? n : NONE;
}
