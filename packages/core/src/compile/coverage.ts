import roaring from 'roaring';
import { type BuIdx, NONE } from '../ids.js';
import type { WorldModel } from '../model/world-model.js';
import { growInt32 } from '../util/growable.js';
import { IntListTable, type IntScratch, sortUnique } from '../util/int-lists.js';
import { DensePairMap } from '../util/int-pair-map.js';

const { RoaringBitmap32 } = roaring;
export type RoaringBitmap32 = InstanceType<typeof RoaringBitmap32>;

/**
 * The business units that a set of local and deep grants covers, as sorted, disjoint intervals
 * of preorder positions: a deep anchor is its subtree, one interval; a local anchor is one
 * position. A check tests one or two intervals, and a thousand distinct sets cost a few
 * kilobytes, where bitsets over 10,000 BUs would cost 1.25 KB each.
 */
export class BuCoverage {
  /** Unique per cache: interned coverages compare by id. */
  readonly id: number;
  /**
   * [start0, end0, start1, end1, …], end exclusive, ascending, never touching. Recomputed when a
   * new BU renumbers the tree (`reindex`): in place when the count of intervals stays, since a new
   * BU recomputes every coverage and an array per coverage each time kept the collector busy.
   * Nothing else holds the array (the grant tables copy it).
   */
  intervals: Int32Array;
  private readonly localAnchors: readonly BuIdx[];
  private readonly deepAnchors: readonly BuIdx[];
  private readonly model: WorldModel;
  private bus: RoaringBitmap32 | null;

  constructor(id: number, localAnchors: readonly BuIdx[], deepAnchors: readonly BuIdx[], model: WorldModel) {
    this.id = id;
    this.localAnchors = localAnchors;
    this.deepAnchors = deepAnchors;
    this.model = model;
    const length = this.compute();
    // After compute: it may have grown the scratch into a new array.
    this.intervals = spans.values.slice(0, length);
    this.bus = null;
  }

  /** Recomputes the intervals from the anchors after the BU tree was numbered again. */
  reindex(): void {
    const length = this.compute();
    if (length === this.intervals.length) this.intervals.set(spans.values.subarray(0, length));
    else this.intervals = spans.values.slice(0, length);
    this.bus = null;
  }

  /** The intervals into `spans`; returns their length. */
  private compute(): number {
    const { buPosition, buSubtreeEnd } = this.model;
    spans.clear();
    for (const bu of this.localAnchors) spans.push(buPosition[bu] as number, (buPosition[bu] as number) + 1);
    for (const bu of this.deepAnchors) spans.push(buPosition[bu] as number, buSubtreeEnd[bu] as number);
    return mergeSpans(spans);
  }

  /** The covered BU indexes as a roaring bitmap: for set algebra and export, built on first use. */
  get set(): RoaringBitmap32 {
    if (this.bus === null) {
      const bus = new RoaringBitmap32();
      for (let i = 0; i < this.intervals.length; i += 2) {
        bus.addMany(this.model.buAtPosition.subarray(this.intervals[i], this.intervals[i + 1]));
      }
      this.bus = bus;
    }
    return this.bus;
  }

  /** How many BUs are covered. */
  get size(): number {
    let size = 0;
    for (let i = 0; i < this.intervals.length; i += 2)
      size += (this.intervals[i + 1] as number) - (this.intervals[i] as number);
    return size;
  }
}

/**
 * Interns coverages by their anchors, so profiles with the same anchors share one. An anchor is
 * coded `bu * 2 + (deep ? 1 : 0)`; a set of anchors is its sorted, repeat-free list of codes.
 */
export class CoverageCache {
  /** The common case, one anchor: per code, its coverage's id, or NONE. */
  private byAnchor: Int32Array = new Int32Array(0);
  /** Two anchors, the next most common (a role's grant plus another's): their codes → coverage id. */
  private readonly byPair = new DensePairMap(1024);
  /** Three or more: their codes' list → coverage id, by list id. */
  private readonly byAnchors = new IntListTable();
  private readonly anchorsCoverage: number[] = [];
  private readonly all: BuCoverage[] = [];
  private readonly model: WorldModel;

  constructor(model: WorldModel) {
    this.model = model;
  }

  /**
   * The id of the coverage of one anchor, by its code. Ids, not objects: a role change asks this
   * of tens of thousands of profiles, and reading a field of the object would be a cache miss.
   */
  idOfCode(code: number): number {
    this.byAnchor = growInt32(this.byAnchor, code + 1, NONE);
    const known = this.byAnchor[code] as number;
    if (known !== NONE) return known;
    const id = this.create(Int32Array.of(code)).id;
    this.byAnchor[code] = id;
    return id;
  }

  /** The id of the coverage of the anchors whose codes are in `codes` (repeats allowed; sorted in place); NONE for none. */
  idOfCodes(codes: IntScratch): number {
    const length = sortUnique(codes.values, codes.length);
    if (length === 0) return NONE;
    if (length === 1) return this.idOfCode(codes.values[0] as number);
    if (length === 2) return this.idOfPair(codes.values[0] as number, codes.values[1] as number);
    const known = this.byAnchors.find(codes.values, length);
    if (known !== -1) return this.anchorsCoverage[known] as number;
    const id = this.create(codes.values.slice(0, length)).id;
    this.anchorsCoverage[this.byAnchors.add(codes.values, length)] = id;
    return id;
  }

  /** Coverage `id` (from `idOfCode` or `idOfCodes`). */
  byId(id: number): BuCoverage {
    return this.all[id] as BuCoverage;
  }

  /** The id of the coverage of two anchors, by their codes (in any order, possibly equal). */
  idOfPair(first: number, second: number): number {
    if (first === second) return this.idOfCode(first);
    if (first > second) return this.idOfPair(second, first);
    const known = this.byPair.get(first, second);
    if (known !== -1) return known;
    const id = this.create(Int32Array.of(first, second)).id;
    this.byPair.add(first, second, id);
    return id;
  }

  private create(codes: Int32Array): BuCoverage {
    const local: BuIdx[] = [];
    const deep: BuIdx[] = [];
    for (const code of codes) (code % 2 === 1 ? deep : local).push((code >> 1) as BuIdx);
    const coverage = new BuCoverage(this.all.length, local, deep, this.model);
    this.all.push(coverage);
    return coverage;
  }

  /** After a new BU renumbered the tree: every coverage's intervals from its anchors again. */
  reindex(): void {
    for (const coverage of this.all) coverage.reindex();
  }

  get size(): number {
    return this.all.length;
  }
}

/** [start, end) pairs while a coverage computes its intervals: one per thread, reused. */
class Spans {
  values: Int32Array = new Int32Array(64);
  length = 0;

  clear(): void {
    this.length = 0;
  }

  push(start: number, end: number): void {
    this.values = growInt32(this.values, this.length + 2);
    this.values[this.length++] = start;
    this.values[this.length++] = end;
  }
}

const spans = new Spans();

/**
 * Sorts the pairs of `list` by start and merges overlapping or touching ones in place, into the
 * flat canonical form; returns its length. Most coverages have one or two anchors, so an
 * insertion sort over pairs (above 32, `sortPairs` first, after which the insertion pass is one
 * linear walk).
 */
function mergeSpans(list: Spans): number {
  const values = list.values;
  const count = list.length >> 1;
  if (count > 32) sortPairs(values, count);
  for (let i = 1; i < count; i++) {
    const start = values[2 * i] as number;
    const end = values[2 * i + 1] as number;
    let j = i - 1;
    while (j >= 0 && (values[2 * j] as number) > start) {
      values[2 * j + 2] = values[2 * j] as number;
      values[2 * j + 3] = values[2 * j + 1] as number;
      j--;
    }
    values[2 * j + 2] = start;
    values[2 * j + 3] = end;
  }
  let merged = 0;
  for (let i = 0; i < count; i++) {
    const start = values[2 * i] as number;
    const end = values[2 * i + 1] as number;
    if (merged > 0 && start <= (values[merged - 1] as number)) {
      values[merged - 1] = Math.max(values[merged - 1] as number, end);
    } else {
      values[merged++] = start;
      values[merged++] = end;
    }
  }
  return merged;
}

/** Sorts the first `count` pairs by start: for the rare coverage with many anchors. */
function sortPairs(values: Int32Array, count: number): void {
  const pairs = Array.from({ length: count }, (_, i) => [values[2 * i] as number, values[2 * i + 1] as number]);
  pairs.sort((a, b) => (a[0] as number) - (b[0] as number));
  pairs.forEach(([start, end], i) => {
    values[2 * i] = start as number;
    values[2 * i + 1] = end as number;
  });
}
