import type { Evaluator } from '../evaluate/evaluator.js';
import { tableIndex } from '../model/mutations.js';
import type { RoaringBitmap32, TableIndex } from '../model/table-index.js';
import type { Table } from '../model/world-model.js';
import { sharedUint32 } from '../util/growable.js';
import { coveredBus, type FilterPlan, type PlanScope, planScope, usableShares } from './plan.js';

/**
 * Filtering rows given as record indexes can go two ways. Gathering reads each row's owner and BU
 * from the table's 16-byte records: ~11 ns a row in order, 25–45 ns in random order. Marking sets
 * one bit per record the plan allows, from the table index's groups (rows of covered BUs, of
 * in-scope owners, usable shares), then tests one bit per row: ~2.5 ns a row, since the bitset of
 * a 1M-record table is 128 KiB and stays in cache. Marking pays per allowed record, gathering per
 * row asked, so long lists favour marking and short lists of a large table gathering.
 */
export type RecordStrategy = 'auto' | 'gather' | 'mark';

/** Rows below this are gathered whatever the table: a short list never pays for a bitset. */
const MIN_MARK_ROWS = 4_096;
/**
 * Mark when the marks come to under this many per row asked. A mark (a bit set from a group's
 * list) costs about what a bit test does and gathering a row 4–15× that; 2 leaves margin for rows
 * asked in order, which gather fastest.
 */
const MARKS_PER_ROW = 2;
/** Zeroing a word of the bitset costs about an eighth of a mark. */
const WORDS_PER_MARK = 8;
/**
 * Sorting a table into its groups (by BU, by owner) costs ~45 ns a record, a table's worth of
 * gathered rows ~10 ns each, and marking saves most of that. So `filter` sorts a table only once
 * the long lists it gathered while the table was unsorted add up to this many times the table (the
 * sort then has paid for itself); `lookup` sorts it on first use.
 */
const GATHERED_TABLES_BEFORE_SORTING = 4;
const gatheredRows = new WeakMap<TableIndex, number>();

/** What `markRecords` marks: the covered BUs, the plan's scope and its usable shares. */
export interface MarkPlan {
  readonly bus: readonly number[];
  readonly scope: PlanScope;
  readonly shared: RoaringBitmap32 | null;
}

/**
 * Whether a `rows` plan over `rows` record indexes of `table` is cheaper marked than gathered, and
 * if so what to mark; null: gather. `auto` estimates, counting a record in a covered BU whose owner
 * is also in scope twice (an upper bound is enough to choose).
 */
export function planMarking(
  evaluator: Evaluator,
  plan: FilterPlan,
  table: Table,
  privilege: number,
  rows: number,
  strategy: RecordStrategy,
): MarkPlan | null {
  if (strategy === 'gather') return null;
  const index = tableIndex(table);
  const auto = strategy === 'auto';
  const budget = rows * MARKS_PER_ROW;
  let marks = (table.records.count >>> 5) / WORDS_PER_MARK;
  if (auto && (rows < MIN_MARK_ROWS || marks >= budget || !sortingPaid(index, table, rows))) return null;
  const bus = coveredBus(evaluator, plan.grant);
  if (auto) {
    // By BU first: when that alone is over budget, the owner groups are not even built.
    const { byBu } = index;
    for (let i = 0; i < bus.length && marks < budget; i++) marks += byBu.size(bus[i] as number);
    if (marks >= budget) return null;
  }
  const scope = planScope(evaluator, plan);
  const shared = usableShares(scope, table, privilege);
  if (auto) {
    const { byOwner } = index;
    for (let i = 0; i < scope.owners.length && marks < budget; i++) marks += byOwner.size(scope.owners[i] as number);
    marks += shared?.size ?? 0;
    if (marks >= budget) return null;
  }
  return { bus, scope, shared };
}

/**
 * Whether the table's BU groups exist (the estimate's first need), or the long lists gathered while
 * they did not have paid for sorting the table. Until then this list is gathered and counted; which
 * of those lists would have marked cannot be known before the groups exist.
 */
function sortingPaid(index: TableIndex, table: Table, rows: number): boolean {
  if (index.sortedByBu) return true;
  const gathered = (gatheredRows.get(index) ?? 0) + rows;
  gatheredRows.set(index, gathered);
  return gathered >= GATHERED_TABLES_BEFORE_SORTING * table.records.count;
}

/** One bit per record index of `table`, set when the plan allows the record; in shared memory with `shared`. */
export function markRecords(marking: MarkPlan, table: Table, shared: boolean): Uint32Array {
  const words = (table.records.count + 31) >>> 5;
  const bits = shared ? sharedUint32(words) : new Uint32Array(words);
  const { byBu, byOwner } = tableIndex(table);
  // The groups hold live rows only (a deleted row leaves its group), so no row needs a liveness test.
  for (const bu of marking.bus) byBu.mark(bu, bits);
  for (const owner of marking.scope.owners) byOwner.mark(owner, bits);
  const sharedRows = marking.shared?.toUint32Array();
  if (sharedRows !== undefined) {
    for (let i = 0; i < sharedRows.length; i++) {
      const row = sharedRows[i] as number;
      bits[row >>> 5] = (bits[row >>> 5] as number) | (1 << (row & 31));
    }
  }
  return bits;
}
