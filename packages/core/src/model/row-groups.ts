import roaring from 'roaring';
import { NONE } from '../ids.js';

const { RoaringBitmap32 } = roaring;
type RoaringBitmap32 = InstanceType<typeof RoaringBitmap32>;

/** Rows of a changed group while `mark` reads them: grown on demand up to the cap (4 MiB). */
const MARK_SCRATCH_CAP = 1 << 20;
let markScratch = new Uint32Array(1024);

/**
 * A table's rows grouped by the value of one column (owning BU, owner). Built with one counting
 * sort into flat arrays: `rows[starts[v] .. starts[v + 1])` are the rows whose column holds v,
 * ascending. A group becomes a roaring bitmap only when a query or a change needs it; from then on
 * that bitmap is the truth for its group, so changes never touch the sorted arrays.
 */
export class RowGroups {
  private readonly starts: Int32Array;
  private readonly rows: Uint32Array;
  private readonly bitmaps: Map<number, RoaringBitmap32>;
  /** One past the largest row the sorted arrays hold. */
  private readonly rowLimit: number;

  /** Groups rows 0..count-1 by `values[row * stride + field]` (a column, or one field of interleaved rows). */
  constructor(values: Int32Array, count: number, stride = 1, field = 0) {
    const column = stride === 1 && field === 0 ? values : new Int32Array(count);
    if (column !== values) for (let row = 0; row < count; row++) column[row] = values[row * stride + field] as number;
    let max = -1;
    for (let row = 0; row < count; row++) if ((column[row] as number) > max) max = column[row] as number;
    const starts = new Int32Array(max + 2);
    for (let row = 0; row < count; row++) {
      const value = column[row] as number;
      if (value !== NONE) starts[value + 1] = (starts[value + 1] as number) + 1;
    }
    for (let v = 0; v <= max; v++) starts[v + 1] = (starts[v + 1] as number) + (starts[v] as number);
    const rows = new Uint32Array(starts[max + 1] as number);
    const cursor = starts.slice(0, max + 1);
    for (let row = 0; row < count; row++) {
      const value = column[row] as number;
      if (value === NONE) continue;
      rows[cursor[value] as number] = row;
      cursor[value] = (cursor[value] as number) + 1;
    }
    this.starts = starts;
    this.rows = rows;
    this.bitmaps = new Map();
    this.rowLimit = count;
  }

  /** The group's bitmap, made from the sorted rows on first use. */
  group(value: number): RoaringBitmap32 {
    let bitmap = this.bitmaps.get(value);
    if (bitmap === undefined) {
      bitmap = new RoaringBitmap32(this.sortedRows(value));
      this.bitmaps.set(value, bitmap);
    }
    return bitmap;
  }

  add(value: number, row: number): void {
    this.group(value).add(row);
  }

  remove(value: number, row: number): void {
    this.group(value).remove(row);
  }

  /**
   * The union of many groups. Groups still in sorted form are concatenated and become one bitmap
   * in a single native call, instead of one call per group.
   */
  union(values: Iterable<number>): RoaringBitmap32 {
    const bitmaps: RoaringBitmap32[] = [];
    const slices: Uint32Array[] = [];
    let total = 0;
    // Groups partition the rows, so distinct values never repeat a row.
    for (const value of new Set(values)) {
      const bitmap = this.bitmaps.get(value);
      if (bitmap !== undefined) {
        bitmaps.push(bitmap);
      } else {
        const slice = this.sortedRows(value);
        if (slice.length > 0) {
          slices.push(slice);
          total += slice.length;
        }
      }
    }
    if (total > 0) bitmaps.push(new RoaringBitmap32(sortedUnion(slices, total, this.rowLimit)));
    if (bitmaps.length === 0) return new RoaringBitmap32();
    return bitmaps.length === 1 ? (bitmaps[0] as RoaringBitmap32).clone() : RoaringBitmap32.orMany(bitmaps);
  }

  /** How many rows the group holds. */
  size(value: number): number {
    return this.bitmaps.get(value)?.size ?? this.sortedRows(value).length;
  }

  /** Sets bit r of `bits` (one bit per row, 32 to a word) for every row r of the group. */
  mark(value: number, bits: Uint32Array): void {
    const bitmap = this.bitmaps.get(value);
    let rows: Uint32Array;
    if (bitmap === undefined) {
      rows = this.sortedRows(value);
    } else {
      // A changed group is copied out of its bitmap into reused scratch, not a new array per call;
      // a group past the scratch's cap gets an array of its own, so the scratch never holds more.
      const size = bitmap.size;
      if (markScratch.length < size && size <= MARK_SCRATCH_CAP) {
        markScratch = new Uint32Array(Math.min(MARK_SCRATCH_CAP, Math.max(size, markScratch.length * 2)));
      }
      rows = bitmap.toUint32Array(size <= markScratch.length ? markScratch : new Uint32Array(size));
    }
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as number;
      bits[row >>> 5] = (bits[row >>> 5] as number) | (1 << (row & 31));
    }
  }

  private sortedRows(value: number): Uint32Array {
    if (value < 0 || value + 1 >= this.starts.length) return new Uint32Array(0);
    return this.rows.subarray(this.starts[value], this.starts[value + 1]);
  }
}

/**
 * The rows of many sorted slices as one ascending array (roaring builds fastest from sorted
 * input). Few rows: concatenate and sort. Many: mark them in a flat bitset over all rows and read
 * the bits back in order, linear in the table instead of n log n in the rows.
 */
function sortedUnion(slices: readonly Uint32Array[], total: number, rowLimit: number): Uint32Array {
  if (slices.length === 1) return slices[0] as Uint32Array;
  if (total * 64 < rowLimit) {
    const joined = new Uint32Array(total);
    let at = 0;
    for (const slice of slices) {
      joined.set(slice, at);
      at += slice.length;
    }
    return joined.sort();
  }
  const bits = new Uint32Array((rowLimit + 31) >>> 5);
  for (const slice of slices) {
    for (let i = 0; i < slice.length; i++) {
      const row = slice[i] as number;
      bits[row >>> 5] = (bits[row >>> 5] as number) | (1 << (row & 31));
    }
  }
  const sorted = new Uint32Array(total);
  let at = 0;
  for (let word = 0; word < bits.length; word++) {
    let value = bits[word] as number;
    while (value !== 0) {
      const low = value & -value;
      sorted[at++] = (word << 5) | (31 - Math.clz32(low));
      value ^= low;
    }
  }
  return sorted;
}
