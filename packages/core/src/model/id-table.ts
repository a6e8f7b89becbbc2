/**
 * Ids to dense indexes for bulk resolution (`Engine.userIndexes`): an open-addressing hash table
 * in one Int32Array, and the ids' UTF-16 units in one Uint16Array laid out in slot order.
 *
 * A column batch resolves thousands of distinct ids (6,300 users per 10,000-item batch on the
 * `medium` world) against a table that the rest of the request, and the workers answering other
 * batches, have pushed out of the caches. A `Map` lookup of a string then misses the cache at its
 * bucket, its entry and the stored key, and telling a user from a team reads the principal's
 * object. `getAll` hashes the whole batch first and probes in slot order, so the slots and the
 * keys are read front to back, not at random: in that request, after the previous request's check
 * batch has run, 0.33–0.42 ms against 0.66–1.48 ms for the Map (BENCHMARKS.md, "Server under
 * load (issue 4)").
 *
 * Entries are only ever added, as principals are: an index keeps its id for good.
 */
export class IdTable {
  /** Per slot four int32s: the id's hash, its index (-1: an empty slot), its offset in `keys`, its length. */
  private slots: Int32Array;
  private mask: number;
  private size: number;
  /** Every id's units, in slot order as of the last growth (ids added since are appended). */
  private keys: Uint16Array;
  private keysUsed: number;

  constructor() {
    this.mask = 15;
    this.slots = new Int32Array((this.mask + 1) * SLOT).fill(-1);
    this.size = 0;
    this.keys = new Uint16Array(64);
    this.keysUsed = 0;
  }

  /** Adds `id` as `index` (an id not added before). */
  add(id: string, index: number): void {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const hash = hashOf(id);
    const at = this.freeSlot(hash);
    const slots = this.slots;
    slots[at * SLOT] = hash;
    slots[at * SLOT + INDEX] = index;
    slots[at * SLOT + OFFSET] = this.appendKey(id);
    slots[at * SLOT + LENGTH] = id.length;
    this.size++;
  }

  /** The index of `id`, or -1. */
  get(id: string): number {
    return this.find(id, hashOf(id));
  }

  /** Each id's index, or -1, into `out`. Anything in `ids` that is not a string (a null in a caller's list) is -1. */
  getAll(ids: readonly (string | null)[], out: Int32Array): Int32Array {
    const n = ids.length;
    const hashes = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      hashes[i] = typeof id === 'string' ? hashOf(id) : 0;
    }
    if (n < SORT_FROM) {
      for (let i = 0; i < n; i++) out[i] = this.found(ids[i], hashes[i] as number);
      return out;
    }
    // Probe in slot order: a counting sort of the ids by the top bits of their first slot.
    const mask = this.mask;
    const shift = Math.max(0, Math.log2(mask + 1) - SORT_BITS);
    const starts = new Int32Array((1 << SORT_BITS) + 1);
    for (let i = 0; i < n; i++) {
      const next = (((hashes[i] as number) & mask) >>> shift) + 1;
      starts[next] = (starts[next] as number) + 1;
    }
    for (let b = 1; b < starts.length; b++) starts[b] = (starts[b] as number) + (starts[b - 1] as number);
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const bucket = ((hashes[i] as number) & mask) >>> shift;
      order[starts[bucket] as number] = i;
      starts[bucket] = (starts[bucket] as number) + 1;
    }
    for (let k = 0; k < n; k++) {
      const i = order[k] as number;
      out[i] = this.found(ids[i], hashes[i] as number);
    }
    return out;
  }

  private found(id: string | null | undefined, hash: number): number {
    return typeof id === 'string' ? this.find(id, hash) : -1;
  }

  private find(id: string, hash: number): number {
    const slots = this.slots;
    const keys = this.keys;
    const mask = this.mask;
    const length = id.length;
    for (let at = hash & mask; ; at = (at + 1) & mask) {
      const base = at * SLOT;
      const index = slots[base + INDEX] as number;
      if (index === -1) return -1;
      if (slots[base] === hash && slots[base + LENGTH] === length) {
        const offset = slots[base + OFFSET] as number;
        let k = 0;
        while (k < length && keys[offset + k] === id.charCodeAt(k)) k++;
        if (k === length) return index;
      }
    }
  }

  private freeSlot(hash: number): number {
    const slots = this.slots;
    const mask = this.mask;
    let at = hash & mask;
    while (slots[at * SLOT + INDEX] !== -1) at = (at + 1) & mask;
    return at;
  }

  private appendKey(id: string): number {
    if (this.keysUsed + id.length > this.keys.length) {
      const keys = new Uint16Array(Math.max(this.keys.length * 2, this.keysUsed + id.length));
      keys.set(this.keys.subarray(0, this.keysUsed));
      this.keys = keys;
    }
    const offset = this.keysUsed;
    for (let k = 0; k < id.length; k++) this.keys[offset + k] = id.charCodeAt(k);
    this.keysUsed += id.length;
    return offset;
  }

  /** Doubles the slots (load stays at most one half, so probes stay short) and lays the keys out in the new slot order. */
  private grow(): void {
    const old = this.slots;
    const oldKeys = this.keys;
    this.mask = this.mask * 2 + 1;
    this.slots = new Int32Array((this.mask + 1) * SLOT).fill(-1);
    for (let base = 0; base < old.length; base += SLOT) {
      if (old[base + INDEX] === -1) continue;
      const at = this.freeSlot(old[base] as number);
      this.slots.set(old.subarray(base, base + SLOT), at * SLOT);
    }
    this.keys = new Uint16Array(oldKeys.length);
    this.keysUsed = 0;
    const slots = this.slots;
    for (let base = 0; base < slots.length; base += SLOT) {
      if (slots[base + INDEX] === -1) continue;
      const offset = slots[base + OFFSET] as number;
      const length = slots[base + LENGTH] as number;
      this.keys.set(oldKeys.subarray(offset, offset + length), this.keysUsed);
      slots[base + OFFSET] = this.keysUsed;
      this.keysUsed += length;
    }
  }
}

const SLOT = 4;
const INDEX = 1;
const OFFSET = 2;
const LENGTH = 3;
/** Smaller batches probe in their own order: sorting them would cost more than it saves. */
const SORT_FROM = 256;
/** Buckets of the probe sort: 4,096, enough that ids in one bucket share a few cache lines of slots. */
const SORT_BITS = 12;

/** FNV-1a over the UTF-16 units, with a final mix so the low bits (the slot) depend on every unit. */
export function hashOf(id: string): number {
  let hash = 0x811c9dc5 | 0;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x45d9f3b);
  return hash ^ (hash >>> 16);
}
