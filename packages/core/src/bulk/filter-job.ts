import type { FilterRows } from '../api.js';
import { invalidArgument } from '../errors.js';
import type { Evaluator } from '../evaluate/evaluator.js';
import type { TableState } from '../evaluate/state.js';
import { ROW_STRIDE, RowField } from '../model/records.js';
import type { Table, WorldModel } from '../model/world-model.js';
import { inSharedMemory } from '../util/growable.js';
import { allRows, filterMarked, filterRecords, filterRows, type RowTest, rowTest } from './filter.js';
import type { FilterPlan } from './plan.js';
import { markRecords, planMarking, type RecordStrategy } from './record-bits.js';

/**
 * One `filter` call, resolved: its plan, its rows as dense columns and the row test. Plain data, so
 * a job built with `shared` (every array in shared memory) can be posted to worker threads, each
 * filtering a range of it with `filterRange`: the same answer as one call over all rows.
 */
export interface FilterJob {
  readonly kind: FilterPlan['kind'];
  readonly table: number;
  readonly length: number;
  /**
   * Owner and owning BU per row, or null when rows are given as record indexes only. Every column
   * is an Int32Array (a Uint32Array's memory viewed as one, not copied): a row loop that has seen
   * both kinds runs ~50% slower on either. Values of 2^31 and up read negative: the bounds tests
   * (`>>> 0 <`) refuse them, and owners are only compared with owners in scope (`RowTest`).
   */
  readonly owners: Int32Array | null;
  readonly businessUnits: Int32Array | null;
  /** Record index per row (NONE: not stored), or null when rows carry no record. */
  readonly records: Int32Array | null;
  /** The test for kind `rows` when rows are gathered; null otherwise. */
  readonly test: RowTest | null;
  /**
   * For kind `rows` over record indexes, when marking is cheaper than gathering (`planMarking`):
   * one bit per record of the table, set when the plan allows it. Null otherwise.
   */
  readonly marked: Uint32Array | null;
}

export interface FilterJobOptions {
  /** Every array in shared memory, to post to worker threads. */
  readonly shared?: boolean;
  /** How rows given as record indexes are decided; `auto` estimates which is cheaper. */
  readonly records?: RecordStrategy;
}

export function filterJob(
  evaluator: Evaluator,
  model: WorldModel,
  plan: FilterPlan,
  t: number,
  privilege: number,
  rows: FilterRows,
  ids: RowIds,
  shared: boolean,
  strategy: RecordStrategy = 'auto',
): FilterJob {
  const table = model.tables[t] as Table;
  const form = rowColumns(table, rows, ids);
  const share = (column: Int32Array | Uint32Array | null, name: string): Int32Array | null => {
    if (column === null) return null;
    const checked = checkedColumn(column, name);
    return asInt32(shared ? inSharedMemory(checked) : checked);
  };
  const marking =
    plan.kind === 'rows' && form.owners === null
      ? planMarking(evaluator, plan, table, privilege, form.length, strategy)
      : null;
  return {
    kind: plan.kind,
    table: t,
    length: form.length,
    owners: share(form.owners, 'owners'),
    businessUnits: share(form.businessUnits, 'businessUnits'),
    records: share(form.records, 'records'),
    test: plan.kind === 'rows' && marking === null ? rowTest(evaluator, plan, table, privilege, shared) : null,
    marked: marking === null ? null : markRecords(marking, table, shared),
  };
}

/**
 * Filters rows [from, to) of the job into `out`: allowed positions relative to `from`, ascending.
 * Returns how many. `out` must hold `to - from` positions.
 */
export function filterRange(evaluator: Evaluator, job: FilterJob, from: number, to: number, out: Uint32Array): number {
  const length = to - from;
  if (job.kind === 'none') return 0;
  if (job.kind === 'all') {
    // Rows given as engine record indexes are records: a deleted or unknown one is no row to allow.
    if (job.owners === null) return liveRows(evaluator.tables[job.table] as TableState, job.records, from, to, out);
    return allRows(length, out);
  }
  const records = job.records === null ? null : job.records.subarray(from, to);
  if (job.marked !== null) return filterMarked(job.marked, records as Int32Array, out);
  const test = job.test as RowTest;
  if (job.owners === null) {
    const { rows, count } = evaluator.tables[job.table] as TableState;
    return filterRecords(test, rows, count, records as Int32Array, out);
  }
  const owners = job.owners.subarray(from, to);
  const businessUnits = (job.businessUnits as Int32Array).subarray(from, to);
  return filterRows(test, owners, businessUnits, records, length, out);
}

function liveRows(table: TableState, records: Int32Array | null, from: number, to: number, out: Uint32Array): number {
  const { rows, count } = table;
  let n = 0;
  for (let i = from; i < to; i++) {
    const record = (records as Int32Array)[i] as number;
    out[n] = i - from;
    n += record >>> 0 < count && rows[record * ROW_STRIDE + RowField.live] === 1 ? 1 : 0;
  }
  return n;
}

function asInt32(column: Int32Array | Uint32Array): Int32Array {
  return column instanceof Int32Array ? column : new Int32Array(column.buffer, column.byteOffset, column.length);
}

/** A caller's column as typed; a JavaScript caller may pass any array, whose bytes must not be reinterpreted. */
function checkedColumn(column: Int32Array | Uint32Array, name: string): Int32Array | Uint32Array {
  if (column instanceof Int32Array || column instanceof Uint32Array) return column;
  throw invalidArgument(`${name} must be an Int32Array or a Uint32Array`);
}

interface RowForm {
  readonly length: number;
  readonly owners: Int32Array | Uint32Array | null;
  readonly businessUnits: Int32Array | Uint32Array | null;
  readonly records: Int32Array | Uint32Array | null;
}

/**
 * Resolves a caller's owner and BU id columns, a list at a time (the engine's id tables): -1 for
 * an id that names nothing, or a null.
 */
export interface RowIds {
  owners(ids: readonly (string | null)[]): Int32Array;
  businessUnits(ids: readonly (string | null)[]): Int32Array;
}

/** The caller's rows as dense columns: ids are resolved once here (an unknown id matches nothing). */
function rowColumns(table: Table, rows: FilterRows, ids: RowIds): RowForm {
  // Record ids in bulk: a long list of them is cold lookups whose misses `getAll` overlaps.
  const recordRows = (list: readonly (string | null)[]) =>
    table.records.index.getAll(list, new Int32Array(list.length));
  if ('owners' in rows) {
    const length = rows.owners.length;
    if (rows.businessUnits.length !== length || (rows.records !== undefined && rows.records.length !== length)) {
      throw invalidArgument('owners, businessUnits and records must have the same length');
    }
    return { length, owners: rows.owners, businessUnits: rows.businessUnits, records: rows.records ?? null };
  }
  if ('ownerIds' in rows) {
    const length = rows.ownerIds.length;
    if (rows.businessUnitIds.length !== length || (rows.ids !== undefined && rows.ids.length !== length)) {
      throw invalidArgument('ownerIds, businessUnitIds and ids must have the same length');
    }
    return {
      length,
      owners: ids.owners(rows.ownerIds),
      businessUnits: ids.businessUnits(rows.businessUnitIds),
      records: rows.ids === undefined ? null : recordRows(rows.ids),
    };
  }
  const records = 'records' in rows ? rows.records : recordRows(rows.ids);
  return { length: records.length, owners: null, businessUnits: null, records };
}
