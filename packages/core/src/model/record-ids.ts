import { NONE, type RecordIdx } from '../ids.js';
import { hashOf } from './id-table.js';

/** A slot's row when nothing was ever stored there: a probe stops. */
const EMPTY = -1;
/** A slot's row after its record was deleted: a probe goes on past it. */
const DELETED = -2;
/** What `getAll`'s read-ahead pass leaves behind, so the compiler cannot drop its reads. */
const touched = { length: 0 };

/**
 * A table's record ids to their rows, with `Map`'s `get`/`has`/`set`/`delete`: open addressing
 * over (hash, row) pairs in one Int32Array, comparing against the ids the store already holds.
 *
 * Why not a `Map`: the Map holds an entry object per record on the V8 heap, which a million-record
 * world pays for in memory, load time and every full collection. This table is 8 bytes a slot,
 * at most half of them used, off the heap: about 25 bytes less resident memory a record on the
 * `medium` world and a faster load (BENCHMARKS.md, "Tenth session"). A cold lookup is no faster
 * than the Map's: it still waits on the slot, the ids array and the id string in turn.
 */
export class RecordIdIndex {
  /** Per slot: the id's hash, then its row (EMPTY, DELETED or a row). */
  private slots: Int32Array;
  private mask: number;
  /** Slots that are not EMPTY (rows and tombstones): what the load bound counts. */
  private filled: number;
  private live: number;
  /** The store's ids by row (the same array, kept up to date by the store). */
  private readonly ids: readonly string[];

  constructor(ids: readonly string[]) {
    this.ids = ids;
    this.mask = 15;
    this.slots = emptySlots(this.mask + 1);
    this.filled = 0;
    this.live = 0;
  }

  get size(): number {
    return this.live;
  }

  get(id: string): RecordIdx | undefined {
    const at = this.slotOf(id, hashOf(id));
    return at === EMPTY ? undefined : (this.slots[at * 2 + 1] as RecordIdx);
  }

  /**
   * Each of `ids`' rows, or NONE, into `out`: a batch's lookups overlapped. One lookup waits on
   * three misses in turn (its slot, the ids array, the id string); done one by one, a batch waits
   * on all of them. Here each step is a pass over the batch, one independent read per id, so the
   * CPU keeps many in flight, as `checkBatch` does for record rows. Anything in `ids` that is not
   * a string (a null from a caller's list) names no record.
   */
  getAll(ids: readonly (string | null)[], out: Int32Array): Int32Array {
    const n = ids.length;
    const { slots, mask } = this;
    const found = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const id = ids[k];
      found[k] = typeof id === 'string' ? hashOf(id) : 0;
    }
    // The first slot with the id's hash (or EMPTY): its row, or NONE.
    for (let k = 0; k < n; k++) {
      const hash = found[k] as number;
      let at = hash & mask;
      let row = slots[at * 2 + 1] as number;
      while (row !== EMPTY && (row < 0 || slots[at * 2] !== hash)) {
        at = (at + 1) & mask;
        row = slots[at * 2 + 1] as number;
      }
      found[k] = row === EMPTY ? NONE : row;
    }
    // The stored ids, read ahead of the comparisons so that their misses overlap too.
    const stored = this.ids;
    let length = 0;
    for (let k = 0; k < n; k++) {
      const row = found[k] as number;
      if (row !== NONE) length += (stored[row] as string).length;
    }
    touched.length = length;
    for (let k = 0; k < n; k++) {
      const row = found[k] as number;
      const id = ids[k];
      // A row with the same hash but another id (rare): the full probe decides.
      out[k] = typeof id !== 'string' ? NONE : row === NONE || stored[row] === id ? row : (this.get(id) ?? NONE);
    }
    return out;
  }

  has(id: string): boolean {
    return this.slotOf(id, hashOf(id)) !== EMPTY;
  }

  /** Maps `id` (which `ids[row]` must hold) to `row`, replacing a row it had. */
  set(id: string, row: RecordIdx): void {
    const hash = hashOf(id);
    const found = this.slotOf(id, hash);
    if (found !== EMPTY) {
      this.slots[found * 2 + 1] = row;
      return;
    }
    if ((this.filled + 1) * 2 > this.mask + 1) this.rehash();
    const slots = this.slots;
    let at = hash & this.mask;
    // The first tombstone on the probe path is reused; it was counted as filled already.
    while ((slots[at * 2 + 1] as number) >= 0) at = (at + 1) & this.mask;
    if (slots[at * 2 + 1] === EMPTY) this.filled++;
    slots[at * 2] = hash;
    slots[at * 2 + 1] = row;
    this.live++;
  }

  delete(id: string): boolean {
    const at = this.slotOf(id, hashOf(id));
    if (at === EMPTY) return false;
    this.slots[at * 2 + 1] = DELETED;
    this.live--;
    return true;
  }

  /** The slot holding `id`, or EMPTY. */
  private slotOf(id: string, hash: number): number {
    const { slots, mask, ids } = this;
    for (let at = hash & mask; ; at = (at + 1) & mask) {
      const row = slots[at * 2 + 1] as number;
      if (row === EMPTY) return EMPTY;
      if (row >= 0 && slots[at * 2] === hash && ids[row] === id) return at;
    }
  }

  /**
   * Lays the live rows out afresh, tombstones dropped, in the smallest table at most half full
   * with the next id added: twice the size when it filled with rows, smaller when with tombstones.
   */
  private rehash(): void {
    const old = this.slots;
    let capacity = 16;
    while (capacity < (this.live + 1) * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.slots = emptySlots(capacity);
    const slots = this.slots;
    for (let base = 0; base < old.length; base += 2) {
      const row = old[base + 1] as number;
      if (row < 0) continue;
      const hash = old[base] as number;
      let at = hash & this.mask;
      while (slots[at * 2 + 1] !== EMPTY) at = (at + 1) & this.mask;
      slots[at * 2] = hash;
      slots[at * 2 + 1] = row;
    }
    this.filled = this.live;
  }
}

function emptySlots(capacity: number): Int32Array {
  const slots = new Int32Array(capacity * 2);
  for (let at = 1; at < slots.length; at += 2) slots[at] = EMPTY;
  return slots;
}
