import roaring from 'roaring';
import type { GrantTables } from '../compile/grant-tables.js';
import { ErrorCodes, PalisadeError } from '../errors.js';
import type { Evaluator } from '../evaluate/evaluator.js';
import { tableIndex } from '../model/mutations.js';
import type { RoaringBitmap32 } from '../model/table-index.js';
import type { Table } from '../model/world-model.js';
import { type FilterPlan, planScope, usableShares } from './plan.js';

const { RoaringBitmap32: Bitmap } = roaring;

/**
 * The record indexes a plan allows, by set algebra over the table's index: the union of the rows
 * in covered BUs, the rows of in-scope owners, and the rows shared with in-scope recipients with
 * the privilege. When the BU set covers most BUs, its complement is cheaper: live rows minus the
 * rows of uncovered BUs.
 */
export function lookupBitmap(
  evaluator: Evaluator,
  tables: GrantTables,
  plan: FilterPlan,
  table: Table,
  privilege: number,
): RoaringBitmap32 {
  const index = tableIndex(table);
  if (plan.kind === 'none') return new Bitmap();
  if (plan.kind === 'all') return index.live.clone();
  const parts: RoaringBitmap32[] = [];
  const coverage = tables.grantBuSets[plan.grant];
  if (coverage != null) {
    const buCount = evaluator.buCount;
    if (coverage.size * 2 > buCount) {
      const uncovered: number[] = [];
      for (let bu = 0; bu < buCount; bu++) if (!coverage.set.has(bu)) uncovered.push(bu);
      parts.push(Bitmap.andNot(index.live, index.byBu.union(uncovered)));
    } else {
      parts.push(index.byBu.union(coverage.set));
    }
  }
  const scope = planScope(evaluator, plan);
  parts.push(index.byOwner.union(scope.owners));
  const shared = usableShares(scope, table, privilege);
  if (shared !== null) parts.push(shared);
  if (parts.length === 0) return new Bitmap();
  return parts.length === 1 ? (parts[0] as RoaringBitmap32).clone() : Bitmap.orMany(parts);
}

export interface LookupPage {
  readonly ids: string[];
  /** Pass back for the next page; null after the last. */
  readonly cursor: string | null;
}

const CURSOR = /^r([0-9a-z]+)$/;

/**
 * Every record of a table that a user may access for a privilege. `bitmap` holds engine record
 * indexes (stable for the engine's life: a deleted record's index is never reused), so it can be
 * kept, combined with other lookups, or shipped in roaring's portable format.
 */
export class Lookup {
  readonly bitmap: RoaringBitmap32;
  private readonly table: Table;

  constructor(table: Table, bitmap: RoaringBitmap32) {
    this.table = table;
    this.bitmap = bitmap;
  }

  get size(): number {
    return this.bitmap.size;
  }

  /** Record indexes, ascending. */
  recordIndexes(): Uint32Array {
    return this.bitmap.toUint32Array();
  }

  /** Record ids, in record index order. */
  ids(): string[] {
    return Array.from(this.bitmap.toUint32Array(), (row) => this.table.records.ids[row] as string);
  }

  /** The bitmap in roaring's portable serialization (readable by every roaring implementation). */
  serialize(): Uint8Array {
    return this.bitmap.serialize('portable');
  }

  /**
   * One page of ids in record index order. The cursor names the next record index to return, so
   * it stays valid while the world changes: a page never repeats or skips a record that stayed.
   */
  page(options: { readonly limit: number; readonly cursor?: string | null }): LookupPage {
    const { limit } = options;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new PalisadeError(
        ErrorCodes.INVALID_ARGUMENT,
        `page limit must be a positive integer, got ${String(limit)}`,
      );
    }
    const from = options.cursor == null ? 0 : decodeCursor(options.cursor);
    const offset = from === 0 ? 0 : this.bitmap.rank(from - 1);
    const rows = this.bitmap.rangeUint32Array(new Uint32Array(limit), offset, limit);
    const ids = Array.from(rows, (row) => this.table.records.ids[row] as string);
    const last = rows[rows.length - 1];
    const more = last !== undefined && offset + rows.length < this.bitmap.size;
    return { ids, cursor: more ? `r${(last + 1).toString(36)}` : null };
  }
}

function decodeCursor(cursor: string): number {
  const match = CURSOR.exec(cursor);
  const value = match === null ? Number.NaN : Number.parseInt(match[1] as string, 36);
  if (!Number.isSafeInteger(value) || value < 0 || value > 0xffffffff) {
    throw new PalisadeError(ErrorCodes.INVALID_ARGUMENT, `\`${cursor}\` is not a page cursor`);
  }
  return value;
}
