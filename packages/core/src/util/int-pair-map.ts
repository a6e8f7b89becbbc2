import { growInt32 } from './growable.js';

/**
 * A map from a pair of non-negative int32s to a non-negative int32, in one flat Int32Array with
 * open addressing. A role change looks up tens of thousands of pairs; a Map per first key, or a
 * joined key, costs a pointer chase or a string each time, and this costs one probe that is
 * usually a single cache line.
 */
export class IntPairMap {
  /** [a, b, value, unused] per entry; a === EMPTY marks a free entry. */
  private entries: Int32Array;
  private mask: number;
  private count: number;

  constructor(capacity = 1024) {
    const size = powerOfTwoAtLeast(Math.max(16, capacity * 2));
    this.entries = new Int32Array(size * ENTRY).fill(EMPTY);
    this.mask = size - 1;
    this.count = 0;
  }

  /** The value stored for (a, b), or -1. */
  get(a: number, b: number): number {
    const entries = this.entries;
    const mask = this.mask;
    for (let slot = hashPair(a, b) & mask; ; slot = (slot + 1) & mask) {
      const at = slot * ENTRY;
      const key = entries[at] as number;
      if (key === EMPTY) return -1;
      if (key === a && entries[at + 1] === b) return entries[at + 2] as number;
    }
  }

  /** Stores `value` for (a, b), which must not be stored yet (`get` returned -1). */
  add(a: number, b: number, value: number): void {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    this.place(a, b, value);
    this.count++;
  }

  get size(): number {
    return this.count;
  }

  private place(a: number, b: number, value: number): void {
    const entries = this.entries;
    const mask = this.mask;
    let slot = hashPair(a, b) & mask;
    while (entries[slot * ENTRY] !== EMPTY) slot = (slot + 1) & mask;
    const at = slot * ENTRY;
    entries[at] = a;
    entries[at + 1] = b;
    entries[at + 2] = value;
  }

  private grow(): void {
    const old = this.entries;
    const size = (this.mask + 1) * 2;
    this.entries = new Int32Array(size * ENTRY).fill(EMPTY);
    this.mask = size - 1;
    for (let at = 0; at < old.length; at += ENTRY) {
      if (old[at] !== EMPTY) this.place(old[at] as number, old[at + 1] as number, old[at + 2] as number);
    }
  }
}

const ENTRY = 4;
const EMPTY = -1;

function hashPair(a: number, b: number): number {
  let hash = Math.imul(a, 0x9e3779b1) ^ b;
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  return (hash ^ (hash >>> 13)) >>> 0;
}

function powerOfTwoAtLeast(n: number): number {
  let size = 1;
  while (size < n) size *= 2;
  return size;
}

/**
 * An `IntPairMap` for pairs whose first int is a dense index (0, 1, 2…): the first RUN values of
 * each `a` sit in a run of their own at `a * RUN`, the rest in an `IntPairMap`. A caller that
 * asks in about the order of `a` (a role change walks profiles in order, whose team lists were
 * numbered in that order) then reads memory front to back: a hashed table would cost a cache and
 * TLB miss per lookup, and was half of a role change's time. A first key with more than RUN
 * pairs (a team list that many profiles share, such as a BU's default team, collects a grant per
 * coverage) scans its run and then hashes: 12–18% of the grants on the mid-size test worlds.
 */
export class DensePairMap {
  /** Per `a`, RUN entries of [b, value]; b === EMPTY marks a free one (runs fill front to back). */
  private runs: Int32Array;
  private readonly overflow = new IntPairMap(1024);

  constructor(capacity = 1024) {
    this.runs = new Int32Array(capacity * RUN * 2).fill(EMPTY);
  }

  get(a: number, b: number): number {
    const runs = this.runs;
    const at = a * RUN * 2;
    if (at >= runs.length) return -1;
    for (let i = at; i < at + RUN * 2; i += 2) {
      const key = runs[i] as number;
      if (key === b) return runs[i + 1] as number;
      if (key === EMPTY) return -1;
    }
    return this.overflow.get(a, b);
  }

  /** Stores `value` for (a, b), which must not be stored yet (`get` returned -1). */
  add(a: number, b: number, value: number): void {
    const at = a * RUN * 2;
    this.runs = growInt32(this.runs, at + RUN * 2, EMPTY);
    const runs = this.runs;
    for (let i = at; i < at + RUN * 2; i += 2) {
      if (runs[i] === EMPTY) {
        runs[i] = b;
        runs[i + 1] = value;
        return;
      }
    }
    this.overflow.add(a, b, value);
  }
}

/** Eight [b, value] entries: 64 bytes, one or two cache lines. */
const RUN = 8;
