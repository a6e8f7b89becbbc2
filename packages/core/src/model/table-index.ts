import roaring from 'roaring';
import { NONE } from '../ids.js';
import { PRIVILEGE_COUNT } from '../privileges.js';
import { type RecordStore, ROW_STRIDE, RowField } from './records.js';
import { RowGroups } from './row-groups.js';
import type { ShareStore } from './shares.js';

const { RoaringBitmap32 } = roaring;
export type RoaringBitmap32 = InstanceType<typeof RoaringBitmap32>;

/**
 * One table's records as roaring bitmaps of record indexes, by owning BU, by owner, and by share
 * recipient and right: what list queries (`lookup`, `filterSpec`, `whoCanAccess`) combine with set
 * algebra instead of scanning rows. Built on first use, then kept current by every record and
 * share change. Shares are few next to rows, so their part is built at once; the row parts (one
 * counting sort each) wait until a query needs them.
 */
export class TableIndex {
  private readonly records: RecordStore;
  private liveRows: RoaringBitmap32 | null;
  private rowsByBu: RowGroups | null;
  private rowsByOwner: RowGroups | null;
  /** Share recipient → per privilege, the records shared with it carrying that right. */
  readonly shared: Map<number, (RoaringBitmap32 | null)[]>;

  constructor(records: RecordStore, shares: ShareStore) {
    this.records = records;
    this.liveRows = null;
    this.rowsByBu = null;
    this.rowsByOwner = null;
    this.shared = new Map();
    const { next, principal, rights } = shares;
    for (let row = 0; row < records.count; row++) {
      for (let entry = shares.head(row as never); entry !== NONE; entry = next[entry] as number) {
        this.shareChanged(row, principal[entry] as number, 0, rights[entry] as number);
      }
    }
  }

  get live(): RoaringBitmap32 {
    if (this.liveRows === null) {
      const { count } = this.records;
      const alive = this.records.liveCount();
      if (alive === count) {
        this.liveRows = RoaringBitmap32.fromRange(0, count);
      } else {
        const rows = new Uint32Array(alive);
        let at = 0;
        for (let row = 0; row < count; row++) if (this.records.has(row)) rows[at++] = row;
        this.liveRows = new RoaringBitmap32(rows);
      }
    }
    return this.liveRows;
  }

  /** Whether `byBu` exists yet: its first use sorts the whole table. */
  get sortedByBu(): boolean {
    return this.rowsByBu !== null;
  }

  get byBu(): RowGroups {
    this.rowsByBu ??= new RowGroups(this.records.rows, this.records.count, ROW_STRIDE, RowField.bu);
    return this.rowsByBu;
  }

  get byOwner(): RowGroups {
    this.rowsByOwner ??= new RowGroups(this.records.rows, this.records.count, ROW_STRIDE, RowField.owner);
    return this.rowsByOwner;
  }

  rowAdded(row: number, owner: number, bu: number): void {
    this.liveRows?.add(row);
    if (owner !== NONE) this.rowsByOwner?.add(owner, row);
    if (bu !== NONE) this.rowsByBu?.add(bu, row);
  }

  rowRemoved(row: number, owner: number, bu: number): void {
    this.liveRows?.remove(row);
    if (owner !== NONE) this.rowsByOwner?.remove(owner, row);
    if (bu !== NONE) this.rowsByBu?.remove(bu, row);
  }

  shareChanged(row: number, principal: number, before: number, after: number): void {
    let perRight = this.shared.get(principal);
    for (let p = 0; p < PRIVILEGE_COUNT; p++) {
      const bit = 1 << p;
      if ((before & bit) === (after & bit)) continue;
      if (perRight === undefined) {
        perRight = new Array<RoaringBitmap32 | null>(PRIVILEGE_COUNT).fill(null);
        this.shared.set(principal, perRight);
      }
      let bitmap = perRight[p];
      if (bitmap == null) {
        bitmap = new RoaringBitmap32();
        perRight[p] = bitmap;
      }
      if ((after & bit) !== 0) bitmap.add(row);
      else bitmap.remove(row);
    }
  }

  /** Records shared with `principal` carrying `privilege`, or null. */
  sharedWith(principal: number, privilege: number): RoaringBitmap32 | null {
    return this.shared.get(principal)?.[privilege] ?? null;
  }
}
