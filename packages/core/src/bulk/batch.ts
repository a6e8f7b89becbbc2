import { GRANT_STRIDE, GrantField, GrantFlag, UserFlag } from '../compile/grant-tables.js';
import type { Evaluator } from '../evaluate/evaluator.js';
import { NONE } from '../ids.js';
import { ROW_STRIDE, RowField } from '../model/records.js';
import { PRIVILEGE_COUNT } from '../privileges.js';
import { BatchCode } from './codes.js';

/** Many questions as columns of dense indexes: item i is (users[i], tables[i], privileges[i], records[i]). */
export interface CheckColumns {
  readonly users: Int32Array | Uint32Array;
  readonly tables: Int32Array | Uint32Array | Uint8Array;
  readonly privileges: Int32Array | Uint8Array;
  readonly records: Int32Array | Uint32Array;
}

/** Marks an item still to be decided after the first pass. */
const PENDING = 255;

/** Per-item scratch for the two passes, reused across calls. */
let scratch = emptyScratch(0);

function emptyScratch(size: number) {
  return {
    grant: new Int32Array(size),
    owner: new Int32Array(size),
    bu: new Int32Array(size),
    shares: new Int32Array(size),
  };
}

function scratchFor(length: number): typeof scratch {
  if (scratch.grant.length < length) scratch = emptyScratch(Math.max(length, scratch.grant.length * 2));
  return scratch;
}

/**
 * Answers every item into `out` (one `BatchCode` byte each, in input order). An item with a bad
 * index gets its error code in its slot; the others are unaffected.
 *
 * Two passes: the first validates and gathers each item's grant and the record's owner, owning
 * BU and share-list head (one row, one cache line). Those loads are independent
 * across items, so the CPU overlaps their cache misses (a large world's profile, grant and record
 * rows do not fit in cache). The second pass decides from the gathered values.
 */
export function checkColumns(evaluator: Evaluator, columns: CheckColumns, out: Uint8Array): void {
  const { users, tables, privileges, records } = columns;
  const length = out.length;
  const tableCount = evaluator.tables.length;
  const rowsOf = evaluator.tables.map((t) => t.rows);
  const counts = Int32Array.from(evaluator.tables, (t) => t.count);
  const { userProfile, userFlags, profileGrant, slots, grants } = evaluator;
  const userCount = userProfile.length;
  const { grant, owner, bu, shares } = scratchFor(length);

  for (let i = 0; i < length; i++) {
    const u = users[i] as number;
    const t = tables[i] as number;
    const p = privileges[i] as number;
    const r = records[i] as number;
    const profile = u >>> 0 < userCount ? (userProfile[u] as number) : NONE;
    if (profile === NONE) out[i] = BatchCode.unknownUser;
    else if (t >>> 0 >= tableCount) out[i] = BatchCode.unknownTable;
    else if (p >>> 0 >= PRIVILEGE_COUNT) out[i] = BatchCode.unknownPrivilege;
    else if (r >>> 0 >= (counts[t] as number)) out[i] = BatchCode.unknownRecord;
    else {
      const rows = rowsOf[t] as Int32Array;
      const at = r * ROW_STRIDE;
      if (rows[at + RowField.live] !== 1) {
        out[i] = BatchCode.unknownRecord;
        continue;
      }
      const flags = userFlags[u] as number;
      out[i] =
        (flags & UserFlag.disabled) !== 0
          ? BatchCode.disabled
          : (flags & UserFlag.systemAdministrator) !== 0
            ? BatchCode.systemAdministrator
            : PENDING;
      const g = profileGrant[profile * slots + t * PRIVILEGE_COUNT + p] as number;
      grant[i] = g;
      owner[i] = rows[at + RowField.owner] as number;
      bu[i] = rows[at + RowField.bu] as number;
      shares[i] = rows[at + RowField.shareHead] as number;
    }
  }

  const { organizationOwned, buPosition, buPool, teamPool, hierarchyApplies } = evaluator;
  for (let i = 0; i < length; i++) {
    if (out[i] !== PENDING) continue;
    const g = grant[i] as number;
    const t = tables[i] as number;
    if (g === NONE) {
      out[i] = BatchCode.noAccess;
      continue;
    }
    // evaluator.path, inlined over the grant's row: this loop is the batch's hot spot.
    const row = g * GRANT_STRIDE;
    const flags = grants[row + GrantField.flags] as number;
    if ((flags & GrantFlag.global) !== 0) {
      out[i] = BatchCode.role;
      continue;
    }
    if (organizationOwned[t] === 1) {
      out[i] = BatchCode.noAccess;
      continue;
    }
    const u = users[i] as number;
    const o = owner[i] as number;
    const b = bu[i] as number;
    let covered = false;
    if (b !== NONE) {
      const position = buPosition[b] as number;
      covered =
        position >= (grants[row + GrantField.firstBuLo] as number) &&
        position < (grants[row + GrantField.firstBuHi] as number);
      const end = grants[row + GrantField.buEnd] as number;
      for (let k = (grants[row + GrantField.buStart] as number) + 2; !covered && k < end; k += 2) {
        covered = position >= (buPool[k] as number) && position < (buPool[k + 1] as number);
      }
    }
    if (!covered && o !== NONE) {
      covered = (flags & GrantFlag.scopeAll) !== 0 && o === u;
      const end = grants[row + GrantField.teamEnd] as number;
      for (let k = grants[row + GrantField.teamStart] as number; !covered && k < end; k++) covered = teamPool[k] === o;
    }
    if (covered) out[i] = BatchCode.role;
    else if (shares[i] !== NONE && evaluator.shareGrants(g, u, t, privileges[i] as number, records[i] as number)) {
      out[i] = BatchCode.share;
    } else if (
      hierarchyApplies[t] === 1 &&
      evaluator.hierarchyGrants(u, t, privileges[i] as number, o, records[i] as number)
    ) {
      out[i] = BatchCode.hierarchy;
    } else {
      out[i] = BatchCode.noAccess;
    }
  }
}

export function checkColumnsLength(columns: CheckColumns): number {
  const n = columns.users.length;
  return columns.tables.length === n && columns.privileges.length === n && columns.records.length === n ? n : NONE;
}
