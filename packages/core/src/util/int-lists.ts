/**
 * Interns short lists of int32 by content: the first `length` values of a scratch array find the
 * value stored for an equal list. Keys are small-integer hashes (a Map's fastest key) with chains
 * for collisions, so a lookup builds no string and allocates nothing; only `add` copies the list.
 * What a role change does tens of thousands of times, where joined-string keys cost microseconds.
 */
export class IntListInterner<T> {
  private readonly heads = new Map<number, InternedList<T>>();
  private count = 0;

  find(values: Int32Array, length: number): T | undefined {
    for (let entry = this.heads.get(hashList(values, length)); entry !== undefined; entry = entry.next) {
      if (sameList(entry.values, values, length)) return entry.value;
    }
    return undefined;
  }

  /** Stores `make(a copy of the list)` for the list; the caller has checked that `find` misses. */
  add(values: Int32Array, length: number, make: (list: Int32Array) => T): T {
    const hash = hashList(values, length);
    const list = values.slice(0, length);
    const value = make(list);
    this.count++;
    this.heads.set(hash, new InternedList(list, value, this.heads.get(hash)));
    return value;
  }

  get size(): number {
    return this.count;
  }
}

class InternedList<T> {
  readonly values: Int32Array;
  readonly value: T;
  readonly next: InternedList<T> | undefined;

  constructor(values: Int32Array, value: T, next: InternedList<T> | undefined) {
    this.values = values;
    this.value = value;
    this.next = next;
  }
}

export function hashList(values: Int32Array, length: number): number {
  let hash = length;
  for (let i = 0; i < length; i++) {
    hash = Math.imul(hash ^ (values[i] as number), 0x9e3779b1);
    hash ^= hash >>> 15;
  }
  // Within V8's small integers, so the Map keys are never heap numbers.
  return hash & 0x3fffffff;
}

function sameList(stored: Int32Array, values: Int32Array, length: number): boolean {
  if (stored.length !== length) return false;
  for (let i = 0; i < length; i++) if (stored[i] !== values[i]) return false;
  return true;
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
