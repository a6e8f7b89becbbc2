import { GrantFlag, UserFlag } from '../compile/grant-tables.js';
import type { Evaluator } from '../evaluate/evaluator.js';
import { NONE } from '../ids.js';
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
    flags: new Uint8Array(size),
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
 * Two passes: the first validates and gathers each item's grant and its flags, owner, owning BU
 * and the head of its share list. Those loads
 * are independent across items, so the CPU overlaps their cache misses (a large world's profile
 * and record columns do not fit in cache). The second pass decides from the gathered values.
 */
export function checkColumns(evaluator: Evaluator, columns: CheckColumns, out: Uint8Array): void {
  const { users, tables, privileges, records } = columns;
  const length = out.length;
  const tableCount = evaluator.tables.length;
  const owners = evaluator.tables.map((t) => t.owner);
  const bus = evaluator.tables.map((t) => t.bu);
  const lives = evaluator.tables.map((t) => t.live);
  const counts = Int32Array.from(evaluator.tables, (t) => t.count);
  const heads = evaluator.tables.map((t) => t.shareHead);
  const { userProfile, userFlags, profileGrant, slots, grantFlags } = evaluator;
  const userCount = userProfile.length;
  const { grant, flags: grantFlagsOf, owner, bu, shares } = scratchFor(length);

  for (let i = 0; i < length; i++) {
    const u = users[i] as number;
    const t = tables[i] as number;
    const p = privileges[i] as number;
    const r = records[i] as number;
    const profile = u >>> 0 < userCount ? (userProfile[u] as number) : NONE;
    if (profile === NONE) out[i] = BatchCode.unknownUser;
    else if (t >>> 0 >= tableCount) out[i] = BatchCode.unknownTable;
    else if (p >>> 0 >= PRIVILEGE_COUNT) out[i] = BatchCode.unknownPrivilege;
    else if (r >>> 0 >= (counts[t] as number) || (lives[t] as Uint8Array)[r] !== 1) out[i] = BatchCode.unknownRecord;
    else {
      const flags = userFlags[u] as number;
      out[i] =
        (flags & UserFlag.disabled) !== 0
          ? BatchCode.disabled
          : (flags & UserFlag.systemAdministrator) !== 0
            ? BatchCode.systemAdministrator
            : PENDING;
      const g = profileGrant[profile * slots + t * PRIVILEGE_COUNT + p] as number;
      grant[i] = g;
      grantFlagsOf[i] = g === NONE ? 0 : (grantFlags[g] as number);
      owner[i] = (owners[t] as Int32Array)[r] as number;
      bu[i] = (bus[t] as Int32Array)[r] as number;
      const head = heads[t] as Int32Array;
      shares[i] = r < head.length ? (head[r] as number) : NONE;
    }
  }

  const { organizationOwned } = evaluator;
  for (let i = 0; i < length; i++) {
    if (out[i] !== PENDING) continue;
    const g = grant[i] as number;
    const t = tables[i] as number;
    if (g === NONE) out[i] = BatchCode.noAccess;
    else if (((grantFlagsOf[i] as number) & GrantFlag.global) !== 0) out[i] = BatchCode.role;
    else if (organizationOwned[t] === 1) out[i] = BatchCode.noAccess;
    else {
      const u = users[i] as number;
      const o = owner[i] as number;
      const b = bu[i] as number;
      if ((b !== NONE && evaluator.coversBu(g, b)) || (o !== NONE && evaluator.inScope(g, o, u, NONE))) {
        out[i] = BatchCode.role;
      } else if (shares[i] === NONE) {
        out[i] = BatchCode.noAccess;
      } else {
        const r = records[i] as number;
        out[i] = evaluator.shareGrants(g, u, t, privileges[i] as number, r) ? BatchCode.share : BatchCode.noAccess;
      }
    }
  }
}

export function checkColumnsLength(columns: CheckColumns): number {
  const n = columns.users.length;
  return columns.tables.length === n && columns.privileges.length === n && columns.records.length === n ? n : NONE;
}
