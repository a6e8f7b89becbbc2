import type { Evaluator } from '../evaluate/evaluator.js';
import { NONE } from '../ids.js';
import { ROW_STRIDE, RowField } from '../model/records.js';
import type { Table } from '../model/world-model.js';
import { sharedUint8, sharedUint32 } from '../util/growable.js';
import { kernelMarked, kernelRows } from './kernel/rows-kernel.js';
import { coveredBus, type FilterPlan, planScope, usableShares } from './plan.js';

/** Row columns of dense engine indexes. `records` (record indexes, NONE for rows the engine does not store) enables shares. */
export interface RowColumns {
  readonly owners: Int32Array | Uint32Array;
  readonly businessUnits: Int32Array | Uint32Array;
  readonly records?: Int32Array | Uint32Array;
}

/**
 * Everything the row loop reads, pulled out of the compiled tables once per call so the loop sees
 * only locals: a byte per BU saying whether the grant covers it (one load per row, no compares),
 * the owner scope (the user and the first two teams in registers, the rest in a list), and a
 * bitset of the stored records whose shares the grant makes usable. Plain data: built in shared
 * memory, it can be posted to worker threads that filter ranges of the same rows.
 */
export interface RowTest {
  /** 1 for each BU index the grant's local and deep anchors cover. */
  readonly bus: Uint8Array;
  /** How many BUs `bus` covers, and the first four (fewer repeat the first), for the row kernels. */
  readonly buCount: number;
  readonly firstBus: Int32Array;
  /**
   * Up to three owners in scope, compared in registers: the user (when the scope is userScope(U))
   * and the first teams. Fewer owners repeat one of them, so every slot names an owner in scope.
   */
  readonly self: number;
  readonly team0: number;
  readonly team1: number;
  /**
   * When the owners in scope are more than the user and two teams (more scope teams, or the
   * principals hierarchy security reaches), or none at all: 1 per principal index that is in
   * scope, else null.
   */
  readonly ownerTable: Uint8Array | null;
  /** Bit r set when stored record r is shared, with the privilege, to a principal in scope. */
  readonly shared: Uint32Array;
  readonly sharedLimit: number;
  /** How many records `shared` holds, and the first four (fewer repeat the first). */
  readonly sharedCount: number;
  readonly firstShared: Int32Array;
}

/** The row test of a `rows` plan; with `shared`, its arrays live in SharedArrayBuffers. */
export function rowTest(
  evaluator: Evaluator,
  plan: FilterPlan,
  table: Table,
  privilege: number,
  shared: boolean,
): RowTest {
  const { grant, user } = plan;
  const bus = shared ? sharedUint8(evaluator.buCount) : new Uint8Array(evaluator.buCount);
  const covered = coveredBus(evaluator, grant);
  for (const bu of covered) bus[bu] = 1;
  const scope = planScope(evaluator, plan);
  const rows = usableShares(scope, table, privilege)?.toUint32Array() ?? new Uint32Array(0);
  const last = rows[rows.length - 1];
  const sharedLimit = last === undefined ? 0 : last + 1;
  const words = (sharedLimit + 31) >>> 5;
  const sharedRecords = shared ? sharedUint32(words) : new Uint32Array(words);
  for (const row of rows) sharedRecords[row >>> 5] = (sharedRecords[row >>> 5] as number) | (1 << (row & 31));
  // The owners the loops compare in registers. An absent slot repeats one of them: any value in
  // it could be an owner a caller sends (-2 in an Int32Array, 2^32 - 2 in a Uint32Array).
  const registers = scope.scopeAll ? [user, ...scope.teams.subarray(0, 2)] : Array.from(scope.teams.subarray(0, 2));
  let ownerTable: Uint8Array | null = null;
  if (scope.teams.length > 2 || scope.hierarchy.length > 0 || registers.length === 0) {
    // Sized by the owners in scope, not by the users: a team created after the compile has an
    // index past every user's (the loops read past the end as 0).
    let size = 0;
    for (const owner of scope.owners) size = Math.max(size, owner + 1);
    ownerTable = shared ? sharedUint8(size) : new Uint8Array(size);
    for (const owner of scope.owners) ownerTable[owner] = 1;
  }
  // No owner in scope at all: the loops over caller columns read the (empty) owner table instead;
  // only `filterRecords`, over the table's own owners (never -2), compares the registers.
  const first = registers[0] ?? -2;
  return {
    bus,
    buCount: covered.length,
    firstBus: firstFour(covered),
    self: first,
    team0: registers[1] ?? first,
    team1: registers[2] ?? first,
    ownerTable,
    shared: sharedRecords,
    sharedLimit,
    sharedCount: rows.length,
    firstShared: firstFour(rows),
  };
}

/** The first four values, the first repeated when fewer (zeros when none). */
function firstFour(values: ArrayLike<number>): Int32Array {
  return Int32Array.from({ length: 4 }, (_, k) => (values[Math.min(k, values.length - 1)] as number | undefined) ?? 0);
}

/**
 * Row i is allowed when the grant covers its owning BU, or its owner is in the grant's scope, or
 * its record is in the usable-shares bitset.
 *
 * Long calls run in the WebAssembly row kernels (`kernel/rows-kernel.ts`), four rows per SIMD turn:
 * on 333,334 rows of the bulk world, 3× the JavaScript loop below for a local reader, 1.6× where
 * half the rows are allowed (`BENCHMARKS.md`). Short calls, and any the kernels do not take, run
 * the loop: every position is stored and the cursor advances by the answer's bit, so no branch
 * mispredicts on rows whose answers alternate. Owner scopes beyond the user and two teams read a
 * byte per principal instead of comparing registers (`tableRows`).
 */
export function filterRows(
  test: RowTest,
  owners: Int32Array,
  businessUnits: Int32Array,
  records: Int32Array | null,
  length: number,
  out: Uint32Array,
): number {
  const shares = records !== null && test.sharedLimit > 0;
  const n = kernelRows(test, owners, businessUnits, shares ? records : null, length, out);
  if (n >= 0) return n;
  // No usable shares: the share test reads the owner column a second time (in the cache by then)
  // against a limit of 0, which no row passes; as fast as a loop without the test.
  const column = shares ? records : owners;
  const limit = shares ? test.sharedLimit : 0;
  return test.ownerTable !== null
    ? tableRows(test, owners, businessUnits, column, limit, length, out)
    : registerRows(test, owners, businessUnits, column, limit, length, out);
}

/**
 * Allowed positions of rows [0, length) into `out`, and their count. `records` may be the owner
 * column with a `sharedLimit` of 0.
 */
function registerRows(
  test: RowTest,
  owners: Int32Array,
  businessUnits: Int32Array,
  records: Int32Array,
  sharedLimit: number,
  length: number,
  out: Uint32Array,
): number {
  const { bus, self, team0, team1, shared } = test;
  const buLimit = bus.length;
  const pairs = length - (length % 2);
  let n = 0;
  // Two rows per turn: their loads are independent, and the loop's own overhead halves (~10% here).
  for (let i = 0; i < pairs; i += 2) {
    // `>>> 0` only inside comparisons: a variable holding it may leave int32 range, and V8 then
    // keeps it as a double, which costs several times the loop's other work.
    const bu0 = businessUnits[i] as number;
    const bu1 = businessUnits[i + 1] as number;
    const owner0 = owners[i] as number;
    const owner1 = owners[i + 1] as number;
    const record0 = records[i] as number;
    const record1 = records[i + 1] as number;
    let ok0 = bu0 >>> 0 < buLimit ? (bus[bu0] as number) : 0;
    let ok1 = bu1 >>> 0 < buLimit ? (bus[bu1] as number) : 0;
    ok0 |= owner0 === self || owner0 === team0 || owner0 === team1 ? 1 : 0;
    ok1 |= owner1 === self || owner1 === team0 || owner1 === team1 ? 1 : 0;
    ok0 |= record0 >>> 0 < sharedLimit ? ((shared[record0 >>> 5] as number) >>> (record0 & 31)) & 1 : 0;
    ok1 |= record1 >>> 0 < sharedLimit ? ((shared[record1 >>> 5] as number) >>> (record1 & 31)) & 1 : 0;
    out[n] = i;
    n += ok0;
    out[n] = i + 1;
    n += ok1;
  }
  if (pairs < length) {
    out[n] = pairs;
    n += oddRow(test, owners, businessUnits, records, sharedLimit, pairs);
  }
  return n;
}

/** 1 when row i is allowed, by the register test over the test's own arrays. */
function oddRow(
  test: RowTest,
  owners: Int32Array,
  businessUnits: Int32Array,
  records: Int32Array,
  sharedLimit: number,
  i: number,
): number {
  const { bus, self, team0, team1, shared } = test;
  const bu = businessUnits[i] as number;
  const owner = owners[i] as number;
  const record = records[i] as number;
  let ok = bu >>> 0 < bus.length ? (bus[bu] as number) : 0;
  ok |= owner === self || owner === team0 || owner === team1 ? 1 : 0;
  ok |= record >>> 0 < sharedLimit ? ((shared[record >>> 5] as number) >>> (record & 31)) & 1 : 0;
  return ok;
}

/**
 * As `registerRows`, for owner scopes too large for registers (more scope teams, or the principals
 * hierarchy security reaches): one byte per principal says whether an owner is in scope.
 */
function tableRows(
  test: RowTest,
  owners: Int32Array,
  businessUnits: Int32Array,
  records: Int32Array,
  sharedLimit: number,
  length: number,
  out: Uint32Array,
): number {
  const { bus, shared } = test;
  const ownerTable = test.ownerTable as Uint8Array;
  const buLimit = bus.length;
  const ownerLimit = ownerTable.length;
  let n = 0;
  for (let i = 0; i < length; i++) {
    const bu = businessUnits[i] as number;
    const owner = owners[i] as number;
    const record = records[i] as number;
    let ok = bu >>> 0 < buLimit ? (bus[bu] as number) : 0;
    ok |= owner >>> 0 < ownerLimit ? (ownerTable[owner] as number) : 0;
    ok |= record >>> 0 < sharedLimit ? ((shared[record >>> 5] as number) >>> (record & 31)) & 1 : 0;
    out[n] = i;
    n += ok;
  }
  return n;
}

/** The same loop over record indexes, gathering owner and BU from the table's own rows. */
export function filterRecords(
  test: RowTest,
  rows: Int32Array,
  count: number,
  records: Int32Array,
  out: Uint32Array,
): number {
  const { bus, self, team0, team1, ownerTable, shared, sharedLimit } = test;
  const buLimit = bus.length;
  let n = 0;
  for (let i = 0; i < records.length; i++) {
    // An index outside the table reads as a deleted row: owner and BU NONE, matching nothing.
    const record = records[i] as number;
    const inside = record >>> 0 < count;
    const bu = inside ? (rows[record * ROW_STRIDE + RowField.bu] as number) : NONE;
    const owner = inside ? (rows[record * ROW_STRIDE + RowField.owner] as number) : NONE;
    let ok = bu >>> 0 < buLimit ? (bus[bu] as number) : 0;
    ok |= owner === self || owner === team0 || owner === team1 ? 1 : 0;
    if (ownerTable !== null && ok === 0 && owner >>> 0 < ownerTable.length) ok = ownerTable[owner] as number;
    ok |= record >>> 0 < sharedLimit ? ((shared[record >>> 5] as number) >>> (record & 31)) & 1 : 0;
    out[n] = i;
    n += ok;
  }
  return n;
}

/**
 * Rows given as record indexes, against a bitset of the records allowed (`markRecords`): through
 * the row kernels when they take the call (`kernelMarked`), else one bit test per row, four rows
 * per turn (~10% faster than two here). An index outside the table, or of a deleted record, has
 * no bit. A shift by `record` uses its low five bits, so no mask is needed.
 */
export function filterMarked(bits: Uint32Array, records: Int32Array, out: Uint32Array): number {
  const taken = kernelMarked(bits, records, out);
  if (taken >= 0) return taken;
  const limit = bits.length * 32;
  const length = records.length;
  const quads = length - (length % 4);
  let n = 0;
  for (let i = 0; i < quads; i += 4) {
    const record0 = records[i] as number;
    const record1 = records[i + 1] as number;
    const record2 = records[i + 2] as number;
    const record3 = records[i + 3] as number;
    const ok0 = record0 >>> 0 < limit ? ((bits[record0 >>> 5] as number) >>> record0) & 1 : 0;
    const ok1 = record1 >>> 0 < limit ? ((bits[record1 >>> 5] as number) >>> record1) & 1 : 0;
    const ok2 = record2 >>> 0 < limit ? ((bits[record2 >>> 5] as number) >>> record2) & 1 : 0;
    const ok3 = record3 >>> 0 < limit ? ((bits[record3 >>> 5] as number) >>> record3) & 1 : 0;
    out[n] = i;
    n += ok0;
    out[n] = i + 1;
    n += ok1;
    out[n] = i + 2;
    n += ok2;
    out[n] = i + 3;
    n += ok3;
  }
  for (let i = quads; i < length; i++) {
    const record = records[i] as number;
    out[n] = i;
    n += record >>> 0 < limit ? ((bits[record >>> 5] as number) >>> record) & 1 : 0;
  }
  return n;
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
