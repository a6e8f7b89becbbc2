import { type BuIdx, NONE, type PrincipalIdx, type RecordIdx } from '../ids.js';
import { ensureInt32, sharedInt32 } from '../util/growable.js';
import { RecordIdIndex } from './record-ids.js';

/**
 * A stored record is one row of ROW_STRIDE int32s in `RecordStore.rows`: 16 bytes, so a check on
 * a random record of a large table costs one cache miss instead of one per column.
 */
export const ROW_STRIDE = 4;
export const RowField = {
  /** Owner principal (NONE on organization-owned tables and for deleted rows). */
  owner: 0,
  /** Owning business unit (NONE on organization-owned tables and for deleted rows). */
  bu: 1,
  /** First entry of the record's share list in its table's `ShareStore`, or NONE. */
  shareHead: 2,
  /** 1 for a live row. Organization-owned rows have no owner, so liveness needs its own field. */
  live: 3,
} as const;

/**
 * One table's rows. Hot loops read `rows` directly; a deleted row keeps its index (so record
 * indexes stay stable) with owner and BU set to NONE and its id unmapped.
 */
export class RecordStore {
  /** External id per row. */
  readonly ids: string[];
  /** Live rows by id (a deleted row's id is unmapped). */
  readonly index: RecordIdIndex;
  /** ROW_STRIDE int32s per row (see `RowField`). */
  rows: Int32Array;
  /** Rows ever created, deleted ones included: the bound for row indexes. */
  count: number;

  constructor(capacity: number) {
    this.ids = [];
    this.index = new RecordIdIndex(this.ids);
    this.rows = sharedInt32(capacity * ROW_STRIDE, NONE);
    this.count = 0;
  }

  add(id: string, owner: PrincipalIdx | typeof NONE, bu: BuIdx | typeof NONE): RecordIdx {
    const row = this.count as RecordIdx;
    this.rows = ensureInt32(this.rows, (row + 1) * ROW_STRIDE);
    const at = row * ROW_STRIDE;
    this.rows[at + RowField.owner] = owner;
    this.rows[at + RowField.bu] = bu;
    this.rows[at + RowField.shareHead] = NONE;
    this.rows[at + RowField.live] = 1;
    this.ids.push(id);
    this.index.set(id, row);
    this.count = row + 1;
    return row;
  }

  ownerOf(row: number): number {
    return this.rows[row * ROW_STRIDE + RowField.owner] as number;
  }

  buOf(row: number): number {
    return this.rows[row * ROW_STRIDE + RowField.bu] as number;
  }

  setOwner(row: RecordIdx, owner: number, bu: number): void {
    this.rows[row * ROW_STRIDE + RowField.owner] = owner;
    this.rows[row * ROW_STRIDE + RowField.bu] = bu;
  }

  /** Marks a row deleted: its index is never reused, so indexes held elsewhere stay unambiguous. */
  remove(row: RecordIdx): void {
    this.index.delete(this.ids[row] as string);
    this.rows[row * ROW_STRIDE + RowField.live] = 0;
    this.setOwner(row, NONE, NONE);
  }

  /**
   * Takes back the last row added (rollback of a create): unlike `remove`, its index is free again,
   * so a failed write leaves the numbering exactly as it was and every replica replaying the
   * committed writes gives each record the same index.
   */
  pop(row: RecordIdx): void {
    if (row !== this.count - 1) throw new RangeError(`row ${row} is not the last row (${this.count - 1})`);
    this.index.delete(this.ids[row] as string);
    this.ids.pop();
    const at = row * ROW_STRIDE;
    this.rows.fill(NONE, at, at + ROW_STRIDE);
    this.count = row;
  }

  /** Brings a removed row back exactly (rollback of a delete). */
  revive(row: RecordIdx, owner: number, bu: number): void {
    this.index.set(this.ids[row] as string, row);
    this.rows[row * ROW_STRIDE + RowField.live] = 1;
    this.setOwner(row, owner, bu);
  }

  has(row: number): boolean {
    return row >= 0 && row < this.count && this.rows[row * ROW_STRIDE + RowField.live] === 1;
  }

  /** A copy of one field of every row as a column (`RowField.owner`, `RowField.bu`, …). */
  column(field: number): Int32Array {
    const column = new Int32Array(this.count);
    for (let row = 0; row < this.count; row++) column[row] = this.rows[row * ROW_STRIDE + field] as number;
    return column;
  }

  /** Live rows. */
  liveCount(): number {
    let n = 0;
    for (let at = RowField.live; at < this.count * ROW_STRIDE; at += ROW_STRIDE) n += this.rows[at] as number;
    return n;
  }
}
