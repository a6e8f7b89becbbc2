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

/** Marks an item still to be decided by a later pass. */
const PENDING = 255;

/**
 * What the passes gather per item, for one chunk of a batch at a time. Module constants (one set
 * per thread), not fields or parameters: V8 then folds the arrays' bounds and addresses into the
 * loops, which measured ~20% faster than reading them from an object.
 */
const CHUNK = 4096;
/** The profile's grant slot after pass 1, the grant after pass 3 (or the one-loop gather). */
const grantOf = new Int32Array(CHUNK);
const ownerOf = new Int32Array(CHUNK);
const buOf = new Int32Array(CHUNK);
const sharesOf = new Int32Array(CHUNK);
/** Where the grant-row pass leaves what it read, so the compiler cannot drop the reads. */
const touchedGrants = new Int32Array(1);

/**
 * The record index last asked in each of RECENT buckets (by its low bits), across chunks and
 * calls: a cheap sign that a chunk's rows were read lately and are likely still in the caches.
 */
const RECENT = 4096;
const recentRecord = new Int32Array(RECENT).fill(NONE);

/**
 * Below this many bytes of record rows, profile slots and grant rows, a world stays in the caches
 * and every chunk is gathered in one loop. Measured on the project machine (2 MiB L2 per core):
 * one loop was ~8% faster on a world of ~3 MiB, separate passes ~15% faster at ~9 MiB.
 */
const CACHED_WORLD_BYTES = 4 * 2 ** 20;

/**
 * How a chunk's rows are gathered (see `checkColumns`). `auto` chooses per chunk; the others are
 * for tests and benchmarks, which must run both ways.
 */
export type GatherMode = 'auto' | 'together' | 'passes';

/**
 * Answers every item into `out` (one `BatchCode` byte each, in input order). An item with a bad
 * index gets its error code in its slot; the others are unaffected.
 *
 * Per chunk: validate the items, gather each one's record row and profile grant, then decide
 * (the last pass, which also reads the grant's row). How the gathering goes depends on the chunk:
 * - A small world (CACHED_WORLD_BYTES), or mostly records asked lately (a list view: a few users
 *   over one page of rows): they are in the caches, and one loop that validates and gathers item
 *   by item is fastest.
 * - Otherwise (records all over a large table), the record row, the profile slot and the grant
 *   row all miss. One loop would wait for them in turn (each grant row's address depends on the
 *   slot's load), so each is its own pass, one independent read per item, and the CPU keeps the
 *   reads of many items in flight. On uniform random batches of a 1M-record world that is ~1.35×
 *   faster than one loop; on a list view ~20% slower, hence the choice.
 */
export function checkColumns(
  evaluator: Evaluator,
  columns: CheckColumns,
  out: Uint8Array,
  gather: GatherMode = 'auto',
): void {
  const counts = Int32Array.from(evaluator.tables, (t) => t.count);
  const rowsOf = evaluator.tables.map((t) => t.rows);
  const small = gather === 'auto' && hotBytes(evaluator, counts) <= CACHED_WORLD_BYTES;
  let touched = 0;
  for (let start = 0; start < out.length; start += CHUNK) {
    const end = Math.min(out.length, start + CHUNK);
    const cached =
      gather === 'auto' ? small || askedLately(columns.records, start, end) * 2 >= end - start : gather === 'together';
    if (cached) {
      gatherTogether(evaluator, columns, counts, rowsOf, out, start, end);
    } else {
      resolveItems(evaluator, columns, counts, out, start, end);
      gatherRecords(columns, rowsOf, out, start, end);
      touched ^= gatherGrants(evaluator, out, start, end);
    }
    decideItems(evaluator, columns, out, start, end);
  }
  touchedGrants[0] = touched;
}

/** What a batch reads at random: record rows, profile slots and grant rows. */
function hotBytes(evaluator: Evaluator, counts: Int32Array): number {
  let bytes = evaluator.profileGrant.byteLength + evaluator.grants.byteLength;
  for (const count of counts) bytes += count * ROW_STRIDE * Int32Array.BYTES_PER_ELEMENT;
  return bytes;
}

/** How many of the chunk's records were asked lately (see `recentRecord`); remembers them. */
function askedLately(records: Int32Array | Uint32Array, start: number, end: number): number {
  let repeated = 0;
  for (let i = start; i < end; i++) {
    const r = records[i] as number;
    const bucket = r & (RECENT - 1);
    if (recentRecord[bucket] === r) repeated++;
    else recentRecord[bucket] = r;
  }
  return repeated;
}

/** What `indexError` answers for an item whose indexes are all valid. */
const VALID = -1;

/** The error code of an item whose user resolved to `profile` (NONE: unknown user), or VALID. */
function indexError(profile: number, t: number, p: number, r: number, counts: Int32Array): number {
  if (profile === NONE) return BatchCode.unknownUser;
  if (t >>> 0 >= counts.length) return BatchCode.unknownTable;
  if (p >>> 0 >= PRIVILEGE_COUNT) return BatchCode.unknownPrivilege;
  if (r >>> 0 >= (counts[t] as number)) return BatchCode.unknownRecord;
  return VALID;
}

/**
 * Pass 1: validates each item's indexes and the user, answers disabled users and system
 * administrators (still subject to the record check), and leaves the others PENDING with their
 * profile's grant slot. Reads only the small per-user arrays.
 */
function resolveItems(
  evaluator: Evaluator,
  columns: CheckColumns,
  counts: Int32Array,
  out: Uint8Array,
  start: number,
  end: number,
): void {
  const { users, tables, privileges, records } = columns;
  const { userProfile, userFlags, slots } = evaluator;
  const userCount = userProfile.length;
  for (let i = start; i < end; i++) {
    const u = users[i] as number;
    const t = tables[i] as number;
    const p = privileges[i] as number;
    const r = records[i] as number;
    const profile = u >>> 0 < userCount ? (userProfile[u] as number) : NONE;
    let code = indexError(profile, t, p, r, counts);
    if (code === VALID) {
      const flags = userFlags[u] as number;
      code =
        (flags & UserFlag.disabled) !== 0
          ? BatchCode.disabled
          : (flags & UserFlag.systemAdministrator) !== 0
            ? BatchCode.systemAdministrator
            : PENDING;
      grantOf[i - start] = profile * slots + t * PRIVILEGE_COUNT + p;
    }
    out[i] = code;
  }
}

/** A chunk that will not miss, in one loop: validation as in pass 1, then the record row and the profile's grant. */
function gatherTogether(
  evaluator: Evaluator,
  columns: CheckColumns,
  counts: Int32Array,
  rowsOf: Int32Array[],
  out: Uint8Array,
  start: number,
  end: number,
): void {
  const { users, tables, privileges, records } = columns;
  const { userProfile, userFlags, slots, profileGrant } = evaluator;
  const userCount = userProfile.length;
  for (let i = start; i < end; i++) {
    const u = users[i] as number;
    const t = tables[i] as number;
    const p = privileges[i] as number;
    const r = records[i] as number;
    const profile = u >>> 0 < userCount ? (userProfile[u] as number) : NONE;
    const error = indexError(profile, t, p, r, counts);
    if (error !== VALID) out[i] = error;
    else {
      const rows = rowsOf[t] as Int32Array;
      const at = r * ROW_STRIDE;
      const flags = userFlags[u] as number;
      if (rows[at + RowField.live] !== 1) out[i] = BatchCode.unknownRecord;
      else if ((flags & UserFlag.disabled) !== 0) out[i] = BatchCode.disabled;
      else if ((flags & UserFlag.systemAdministrator) !== 0) out[i] = BatchCode.systemAdministrator;
      else {
        const g = profileGrant[profile * slots + t * PRIVILEGE_COUNT + p] as number;
        if (g === NONE) {
          out[i] = BatchCode.noAccess;
          continue;
        }
        out[i] = PENDING;
        const j = i - start;
        ownerOf[j] = rows[at + RowField.owner] as number;
        buOf[j] = rows[at + RowField.bu] as number;
        sharesOf[j] = rows[at + RowField.shareHead] as number;
        grantOf[j] = g;
      }
    }
  }
}

/** Pass 2 of a chunk that will miss: each valid item's record row (one cache line); a deleted row is an unknown record. */
function gatherRecords(columns: CheckColumns, rowsOf: Int32Array[], out: Uint8Array, start: number, end: number): void {
  const { tables, records } = columns;
  for (let i = start; i < end; i++) {
    const code = out[i] as number;
    if (code !== PENDING && code >= BatchCode.unknownUser) continue;
    const rows = rowsOf[tables[i] as number] as Int32Array;
    const at = (records[i] as number) * ROW_STRIDE;
    if (rows[at + RowField.live] !== 1) out[i] = BatchCode.unknownRecord;
    const j = i - start;
    ownerOf[j] = rows[at + RowField.owner] as number;
    buOf[j] = rows[at + RowField.bu] as number;
    sharesOf[j] = rows[at + RowField.shareHead] as number;
  }
}

/**
 * Passes 3 and 4 of a chunk that will miss: the grant in each pending item's profile slot, then a
 * read of that grant's row, so the last pass finds it in the cache. Two loops, not one, because
 * the row's address depends on the slot's load.
 */
function gatherGrants(evaluator: Evaluator, out: Uint8Array, start: number, end: number): number {
  const { profileGrant, grants } = evaluator;
  for (let i = start; i < end; i++) {
    if (out[i] === PENDING) grantOf[i - start] = profileGrant[grantOf[i - start] as number] as number;
  }
  let touched = 0;
  for (let i = start; i < end; i++) {
    if (out[i] !== PENDING) continue;
    const g = grantOf[i - start] as number;
    if (g === NONE) out[i] = BatchCode.noAccess;
    else touched ^= grants[g * GRANT_STRIDE] as number;
  }
  return touched;
}

/**
 * Whether preorder `position` lies in [lo, hi): one unsigned compare instead of two. Intervals are
 * subtrees' [first, first + size) or the empty [0, 0), so hi >= lo; the list view decides ~7%
 * faster with it (uniform batches ~2.5%).
 */
const inInterval = (position: number, lo: number, hi: number) => (position - lo) >>> 0 < (hi - lo) >>> 0;

/** The last pass: `Evaluator.path` over the gathered values, inlined (this loop is the batch's hot spot). */
function decideItems(evaluator: Evaluator, columns: CheckColumns, out: Uint8Array, start: number, end: number): void {
  const { users, tables, privileges, records } = columns;
  const { grants, organizationOwned, buPosition, buPool, teamPool, hierarchyApplies } = evaluator;
  for (let i = start; i < end; i++) {
    if (out[i] !== PENDING) continue;
    const j = i - start;
    const g = grantOf[j] as number;
    const row = g * GRANT_STRIDE;
    const flags = grants[row + GrantField.flags] as number;
    if ((flags & GrantFlag.global) !== 0) {
      out[i] = BatchCode.role;
      continue;
    }
    const t = tables[i] as number;
    if (organizationOwned[t] === 1) {
      out[i] = BatchCode.noAccess;
      continue;
    }
    const u = users[i] as number;
    const o = ownerOf[j] as number;
    const b = buOf[j] as number;
    // Both first tests at once, the pools only when neither holds: most grants have one interval
    // and one team, and most items of a large batch are decided (denied) here.
    const position = b === NONE ? NONE : (buPosition[b] as number);
    let covered =
      (b !== NONE &&
        inInterval(
          position,
          grants[row + GrantField.firstBuLo] as number,
          grants[row + GrantField.firstBuHi] as number,
        )) ||
      (o !== NONE && (((flags & GrantFlag.scopeAll) !== 0 && o === u) || grants[row + GrantField.firstTeam] === o));
    if (!covered && b !== NONE) {
      const end = grants[row + GrantField.buEnd] as number;
      for (let k = (grants[row + GrantField.buStart] as number) + 2; !covered && k < end; k += 2) {
        covered = inInterval(position, buPool[k] as number, buPool[k + 1] as number);
      }
    }
    if (!covered && o !== NONE) {
      const end = grants[row + GrantField.teamEnd] as number;
      for (let k = (grants[row + GrantField.teamStart] as number) + 1; !covered && k < end; k++)
        covered = teamPool[k] === o;
    }
    if (covered) out[i] = BatchCode.role;
    else if (sharesOf[j] !== NONE && evaluator.shareGrants(g, u, t, privileges[i] as number, records[i] as number)) {
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
