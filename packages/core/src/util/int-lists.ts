import { growInt32 } from './growable.js';

/**
 * Interns short lists of int32 by content and numbers them 0, 1, 2… in the order added: the first
 * `length` values of a scratch array find the id of an equal list. Flat: the lists sit back to
 * back in one pool and the hash table holds ids, so a lookup is a probe and a compare, without a
 * Map, an entry object or an array per list (what a role change does tens of thousands of times,
 * where each of those is a cache miss).
 */
export class IntListTable {
  /** List `id` is `pool[starts[id] .. starts[id + 1])`. */
  pool: Int32Array;
  starts: Int32Array;
  private hashes: Int32Array;
  /** Open addressing: id + 1, or 0 for a free slot. */
  private slots: Int32Array;
  private count: number;

  constructor() {
    this.pool = new Int32Array(256);
    this.starts = new Int32Array(64);
    this.hashes = new Int32Array(64);
    this.slots = new Int32Array(128);
    this.count = 0;
  }

  /** The id of the list equal to the first `length` values, or -1. */
  find(values: Int32Array, length: number): number {
    const hash = hashList(values, length);
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const id = (this.slots[slot] as number) - 1;
      if (id === -1) return -1;
      if (this.hashes[id] === hash && this.equals(id, values, length)) return id;
    }
  }

  /** Adds a copy of the first `length` values; the caller has checked that `find` misses. Returns its id. */
  add(values: Int32Array, length: number): number {
    const id = this.count++;
    if (this.count + 1 > this.starts.length) {
      this.starts = growInt32(this.starts, this.count + 1);
      this.hashes = growInt32(this.hashes, this.count + 1);
    }
    const start = this.starts[id] as number;
    this.pool = growInt32(this.pool, start + length);
    this.pool.set(values.subarray(0, length), start);
    this.starts[id + 1] = start + length;
    this.hashes[id] = hashList(values, length);
    if (this.count * 2 > this.slots.length) this.rehash();
    else this.place(id);
    return id;
  }

  /** List `id`: a view, valid until the next `add`. */
  list(id: number): Int32Array {
    return this.pool.subarray(this.starts[id], this.starts[id + 1]);
  }

  /** Whether list `id` holds a value marked 1 in `marked` (indexed by value). */
  hasMarked(id: number, marked: Uint8Array): boolean {
    const end = this.starts[id + 1] as number;
    for (let i = this.starts[id] as number; i < end; i++) if (marked[this.pool[i] as number] === 1) return true;
    return false;
  }

  get size(): number {
    return this.count;
  }

  private equals(id: number, values: Int32Array, length: number): boolean {
    const start = this.starts[id] as number;
    if ((this.starts[id + 1] as number) - start !== length) return false;
    for (let i = 0; i < length; i++) if (this.pool[start + i] !== values[i]) return false;
    return true;
  }

  private place(id: number): void {
    const mask = this.slots.length - 1;
    let slot = (this.hashes[id] as number) & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = id + 1;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    for (let id = 0; id < this.count; id++) this.place(id);
  }
}

export function hashList(values: Int32Array, length: number): number {
  let hash = length;
  for (let i = 0; i < length; i++) {
    hash = Math.imul(hash ^ (values[i] as number), 0x9e3779b1);
    hash ^= hash >>> 15;
  }
  // Non-negative and within V8's small integers.
  return hash & 0x3fffffff;
}

/** Sorts the first `length` values in place and drops repeats; returns the new length. Mostly short lists: insertion sort. */
export function sortUnique(values: Int32Array, length: number): number {
  if (length > 32) values.subarray(0, length).sort();
  for (let i = 1; i < length; i++) {
    const v = values[i] as number;
    let j = i - 1;
    while (j >= 0 && (values[j] as number) > v) {
      values[j + 1] = values[j] as number;
      j--;
    }
    values[j + 1] = v;
  }
  let unique = 0;
  for (let i = 0; i < length; i++) {
    if (unique === 0 || values[unique - 1] !== values[i]) values[unique++] = values[i] as number;
  }
  return unique;
}

/** A scratch list that grows: `push`, then read `values[0 .. length)`; `clear` keeps the memory. */
export class IntScratch {
  values: Int32Array;
  length: number;

  constructor(capacity = 16) {
    this.values = new Int32Array(capacity);
    this.length = 0;
  }

  clear(): void {
    this.length = 0;
  }

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Int32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }
}
