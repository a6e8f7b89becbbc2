import roaring from 'roaring';
import { NONE } from '../ids.js';
import { PRIVILEGE_COUNT } from '../privileges.js';
import type { RecordStore } from './records.js';
import type { ShareStore } from './shares.js';

const { RoaringBitmap32 } = roaring;
export type RoaringBitmap32 = InstanceType<typeof RoaringBitmap32>;

/**
 * One table's records as roaring bitmaps of record indexes, by owning BU, by owner, and by share
 * recipient and right: what list queries (`lookup`, `filterSpec`, `whoCanAccess`) combine with set
 * algebra instead of scanning rows. Built on first use, then kept current by every record and
 * share change.
 */
export class TableIndex {
  private readonly records: RecordStore;
  private liveRows: RoaringBitmap32 | null;
  private rowsByBu: Map<number, RoaringBitmap32> | null;
  private rowsByOwner: Map<number, RoaringBitmap32> | null;
  /** Share recipient → per privilege, the records shared with it carrying that right. */
  readonly shared: Map<number, (RoaringBitmap32 | null)[]>;

  constructor(records: RecordStore, shares: ShareStore) {
    this.records = records;
    this.liveRows = null;
    this.rowsByBu = null;
    this.rowsByOwner = null;
    this.shared = new Map();
    // Shares are few next to rows, so this part is built at once; the row parts scan every row and
    // wait until a query needs them.
    for (let row = 0; row < records.count; row++) {
      shares.forEach(row as never, (principal, rights) => this.shareChanged(row, principal, 0, rights));
    }
  }

  get live(): RoaringBitmap32 {
    if (this.liveRows === null) {
      const rows: number[] = [];
      for (let row = 0; row < this.records.count; row++) if (this.records.live[row] === 1) rows.push(row);
      this.liveRows = new RoaringBitmap32(rows);
    }
    return this.liveRows;
  }

  get byBu(): Map<number, RoaringBitmap32> {
    this.rowsByBu ??= groupRows(this.records.bu, this.records.count);
    return this.rowsByBu;
  }

  get byOwner(): Map<number, RoaringBitmap32> {
    this.rowsByOwner ??= groupRows(this.records.owner, this.records.count);
    return this.rowsByOwner;
  }

  rowAdded(row: number, owner: number, bu: number): void {
    this.liveRows?.add(row);
    if (owner !== NONE && this.rowsByOwner !== null) bitmapAt(this.rowsByOwner, owner).add(row);
    if (bu !== NONE && this.rowsByBu !== null) bitmapAt(this.rowsByBu, bu).add(row);
  }

  rowRemoved(row: number, owner: number, bu: number): void {
    this.liveRows?.remove(row);
    if (owner !== NONE) this.rowsByOwner?.get(owner)?.remove(row);
    if (bu !== NONE) this.rowsByBu?.get(bu)?.remove(row);
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

function bitmapAt(map: Map<number, RoaringBitmap32>, key: number): RoaringBitmap32 {
  let bitmap = map.get(key);
  if (bitmap === undefined) {
    bitmap = new RoaringBitmap32();
    map.set(key, bitmap);
  }
  return bitmap;
}

/** Rows grouped by a column's value with a counting sort: one pass to count, one to place, sorted runs. */
function groupRows(column: Int32Array, count: number): Map<number, RoaringBitmap32> {
  let max = -1;
  for (let row = 0; row < count; row++) if ((column[row] as number) > max) max = column[row] as number;
  const starts = new Int32Array(max + 2);
  for (let row = 0; row < count; row++) {
    const value = column[row] as number;
    if (value !== NONE) starts[value + 1] = (starts[value + 1] as number) + 1;
  }
  for (let v = 0; v <= max; v++) starts[v + 1] = (starts[v + 1] as number) + (starts[v] as number);
  const placed = new Uint32Array(starts[max + 1] as number);
  const cursor = starts.slice(0, max + 1);
  for (let row = 0; row < count; row++) {
    const value = column[row] as number;
    if (value === NONE) continue;
    placed[cursor[value] as number] = row;
    cursor[value] = (cursor[value] as number) + 1;
  }
  const groups = new Map<number, RoaringBitmap32>();
  for (let v = 0; v <= max; v++) {
    const start = starts[v] as number;
    const end = starts[v + 1] as number;
    if (end > start) groups.set(v, new RoaringBitmap32(placed.subarray(start, end)));
  }
  return groups;
}
