import type { Evaluator } from '../evaluate/evaluator.js';
import { tableIndex } from '../model/mutations.js';
import type { Table } from '../model/world-model.js';
import { sharedUint32 } from '../util/growable.js';
import { type FilterPlan, type PlanScope, planScope, usableShares } from './plan.js';

/**
 * Filtering rows given as record indexes can go two ways. Gathering reads each row's owner and BU
 * from the table's 16-byte records: a cache line per row or four, ~11 ns a row here even in order.
 * Marking sets one bit per record the plan allows, from the table index's groups (rows of covered
 * BUs, of in-scope owners, usable shares), then tests one bit per row: ~2.5 ns a row, since the
 * bitset of a 1M-record table is 128 KiB and stays in cache. Marking pays for the records the plan
 * allows, gathering for the rows asked, so long lists of a table favour marking and short lists of
 * a large table gathering.
 */
export type RecordStrategy = 'auto' | 'gather' | 'mark';

/** Rows below this are gathered whatever the table: a short list never pays for a bitset. */
const MIN_MARK_ROWS = 4_096;
/**
 * Mark when the allowed records (a mark each) and the bitset's words come to under this many per
 * row asked. A mark costs about what a bit test does and gathering ~4× that; 2 leaves margin for
 * rows asked in order, which gather fastest.
 */
const MARKS_PER_ROW = 2;

/** The records the plan allows, resolved for marking: the covered BUs and the plan's scope. */
export interface MarkPlan {
  readonly bus: readonly number[];
  readonly scope: PlanScope;
}

/**
 * Whether a `rows` plan over `rows` record indexes of `table` is cheaper marked than gathered, and
 * if so what to mark. Null: gather. The table index's groups are built only for a call that asks at
 * least half the table's rows, whose own gather costs about what sorting the table once does.
 */
export function planMarking(
  evaluator: Evaluator,
  plan: FilterPlan,
  table: Table,
  rows: number,
  strategy: RecordStrategy,
): MarkPlan | null {
  if (strategy === 'gather') return null;
  const index = tableIndex(table);
  if (strategy === 'auto' && (rows < MIN_MARK_ROWS || (!index.grouped && rows * 2 < table.records.count))) return null;
  const bus = coveredBus(evaluator, plan.grant);
  const scope = planScope(evaluator, plan);
  if (strategy === 'mark') return { bus, scope };
  const { byBu, byOwner } = index;
  let marks = table.records.count >>> 5;
  const budget = rows * MARKS_PER_ROW;
  for (let i = 0; i < bus.length && marks < budget; i++) marks += byBu.size(bus[i] as number);
  for (let i = 0; i < scope.owners.length && marks < budget; i++) marks += byOwner.size(scope.owners[i] as number);
  return marks < budget ? { bus, scope } : null;
}

/** One bit per record index of `table`, set when the plan allows the record; in shared memory with `shared`. */
export function markRecords(marking: MarkPlan, table: Table, privilege: number, shared: boolean): Uint32Array {
  const words = (table.records.count + 31) >>> 5;
  const bits = shared ? sharedUint32(words) : new Uint32Array(words);
  const index = tableIndex(table);
  const { byBu, byOwner } = index;
  // The groups hold live rows only (a deleted row leaves its group), so no row needs a liveness test.
  for (const bu of marking.bus) byBu.mark(bu, bits);
  for (const owner of marking.scope.owners) byOwner.mark(owner, bits);
  const sharedRows = usableShares(marking.scope, table, privilege)?.toUint32Array();
  if (sharedRows !== undefined) {
    for (let i = 0; i < sharedRows.length; i++) {
      const row = sharedRows[i] as number;
      bits[row >>> 5] = (bits[row >>> 5] as number) | (1 << (row & 31));
    }
  }
  return bits;
}

/** The BUs a grant's local and deep anchors cover (its intervals of preorder positions, unrolled). */
function coveredBus(evaluator: Evaluator, grant: number): number[] {
  const intervals = evaluator.grantBuIntervals(grant);
  const bus: number[] = [];
  for (let i = 0; i < intervals.length; i += 2) {
    for (let position = intervals[i] as number; position < (intervals[i + 1] as number); position++) {
      bus.push(evaluator.buAtPosition[position] as number);
    }
  }
  return bus;
}
