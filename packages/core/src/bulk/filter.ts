import { GrantFlag, UserFlag } from '../compile/grant-tables.js';
import type { Evaluator } from '../evaluate/evaluator.js';
import { NONE } from '../ids.js';
import type { RecordStore } from '../model/records.js';

/** Row columns of dense engine indexes. `records` (record indexes, NONE for rows the engine does not store) enables shares. */
export interface RowColumns {
  readonly owners: Int32Array | Uint32Array;
  readonly businessUnits: Int32Array | Uint32Array;
  readonly records?: Int32Array | Uint32Array;
}

/** What a filter's answer depends on, resolved once per call. */
export interface FilterPlan {
  /** `all`: every row (administrator, global grant); `none`: no row; `rows`: decide per row. */
  readonly kind: 'all' | 'none' | 'rows';
  readonly user: number;
  readonly grant: number;
}

/** Resolves user, table and privilege to a plan: the per-row loop then reads only the grant. */
export function planFilter(evaluator: Evaluator, user: number, table: number, privilege: number): FilterPlan {
  const flags = evaluator.userFlags[user] as number;
  if ((flags & UserFlag.disabled) !== 0) return { kind: 'none', user, grant: NONE };
  if ((flags & UserFlag.systemAdministrator) !== 0) return { kind: 'all', user, grant: NONE };
  const grant = evaluator.grantOf(user, table, privilege);
  if (grant === NONE) return { kind: 'none', user, grant };
  if (((evaluator.grantFlags[grant] as number) & GrantFlag.global) !== 0) return { kind: 'all', user, grant };
  if (evaluator.organizationOwned[table] === 1) return { kind: 'none', user, grant };
  return { kind: 'rows', user, grant };
}

/**
 * The tight loop: row i is allowed when its owning BU's bit is set in the grant's BU bitset, or
 * its owner is in the grant's scope, or (only then, and only for stored records) a share to a
 * principal in scope carries the privilege. Writes allowed row positions to `out`, returns how
 * many. `gather` reads owner and BU from the table's own columns by record index instead.
 */
export function filterRows(
  evaluator: Evaluator,
  plan: FilterPlan,
  table: number,
  privilege: number,
  owners: Int32Array | Uint32Array,
  businessUnits: Int32Array | Uint32Array,
  records: Int32Array | Uint32Array | null,
  length: number,
  out: Uint32Array,
): number {
  const { user, grant } = plan;
  const words = evaluator.grantBus[grant] as number;
  const pool = evaluator.busPool;
  const buLimit = words === NONE ? 0 : evaluator.buCount;
  const self = ((evaluator.grantFlags[grant] as number) & GrantFlag.scopeAll) !== 0 ? user : NONE - 1;
  const teamStart = evaluator.grantTeamStart[grant] as number;
  const teamEnd = evaluator.grantTeamEnd[grant] as number;
  const teams = evaluator.teamPool;
  // Most grants reach at most a couple of teams: hold them in locals so the common case is two compares.
  const team0 = teamEnd > teamStart ? (teams[teamStart] as number) : NONE - 1;
  const team1 = teamEnd > teamStart + 1 ? (teams[teamStart + 1] as number) : NONE - 1;
  const moreTeams = teamEnd > teamStart + 2;
  const shares = evaluator.shares[table];
  const head = shares === undefined || shares.count === 0 || records === null ? null : shares.head;
  let n = 0;
  for (let i = 0; i < length; i++) {
    const bu = businessUnits[i] as number;
    if (bu >>> 0 < buLimit && ((pool[words + (bu >>> 5)] as number) & (1 << (bu & 31))) !== 0) {
      out[n++] = i;
      continue;
    }
    const owner = owners[i] as number;
    if (owner === self || owner === team0 || owner === team1) {
      out[n++] = i;
      continue;
    }
    if (moreTeams && inTeams(teams, teamStart + 2, teamEnd, owner)) {
      out[n++] = i;
      continue;
    }
    if (head !== null) {
      const record = (records as Int32Array)[i] as number;
      if (
        record >>> 0 < head.length &&
        head[record] !== NONE &&
        evaluator.shareGrants(grant, user, table, privilege, record)
      ) {
        out[n++] = i;
      }
    }
  }
  return n;
}

/** The same loop over record indexes, gathering owner and BU from the table's columns. */
export function filterRecords(
  evaluator: Evaluator,
  plan: FilterPlan,
  table: number,
  privilege: number,
  store: RecordStore,
  records: Int32Array | Uint32Array,
  out: Uint32Array,
): number {
  const { user, grant } = plan;
  const words = evaluator.grantBus[grant] as number;
  const pool = evaluator.busPool;
  const buLimit = words === NONE ? 0 : evaluator.buCount;
  const self = ((evaluator.grantFlags[grant] as number) & GrantFlag.scopeAll) !== 0 ? user : NONE - 1;
  const teamStart = evaluator.grantTeamStart[grant] as number;
  const teamEnd = evaluator.grantTeamEnd[grant] as number;
  const teams = evaluator.teamPool;
  const team0 = teamEnd > teamStart ? (teams[teamStart] as number) : NONE - 1;
  const team1 = teamEnd > teamStart + 1 ? (teams[teamStart + 1] as number) : NONE - 1;
  const moreTeams = teamEnd > teamStart + 2;
  const ownerColumn = store.owner;
  const buColumn = store.bu;
  const count = store.count;
  const shares = evaluator.shares[table];
  const head = shares === undefined || shares.count === 0 ? null : shares.head;
  let n = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i] as number;
    // Unknown or deleted rows have owner and BU NONE (or lie outside the columns) and match nothing.
    if (record >>> 0 >= count) continue;
    const bu = buColumn[record] as number;
    if (bu >>> 0 < buLimit && ((pool[words + (bu >>> 5)] as number) & (1 << (bu & 31))) !== 0) {
      out[n++] = i;
      continue;
    }
    const owner = ownerColumn[record] as number;
    if (owner === NONE) continue;
    if (
      owner === self ||
      owner === team0 ||
      owner === team1 ||
      (moreTeams && inTeams(teams, teamStart + 2, teamEnd, owner))
    ) {
      out[n++] = i;
      continue;
    }
    if (
      head !== null &&
      record < head.length &&
      head[record] !== NONE &&
      evaluator.shareGrants(grant, user, table, privilege, record)
    ) {
      out[n++] = i;
    }
  }
  return n;
}

function inTeams(teams: Int32Array, start: number, end: number, owner: number): boolean {
  for (let k = start; k < end; k++) if (teams[k] === owner) return true;
  return false;
}

/** All row positions 0..length-1. */
export function allRows(length: number, out: Uint32Array): number {
  for (let i = 0; i < length; i++) out[i] = i;
  return length;
}

/** Positions to a bitmask: bit i set when row i is allowed. */
export function toBitmask(positions: Uint32Array, count: number, length: number): Uint32Array {
  const mask = new Uint32Array((length + 31) >>> 5);
  for (let k = 0; k < count; k++) {
    const i = positions[k] as number;
    mask[i >>> 5] = (mask[i >>> 5] as number) | (1 << (i & 31));
  }
  return mask;
}
