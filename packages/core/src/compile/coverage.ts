import roaring from 'roaring';
import type { BuIdx } from '../ids.js';
import type { WorldModel } from '../model/world-model.js';
import { IntListInterner, IntScratch, sortUnique } from '../util/int-lists.js';

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
   * [start0, end0, start1, end1, …], end exclusive, ascending, never touching. Replaced (never
   * changed in place) when a new BU renumbers the tree: `reindex`.
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
    this.intervals = this.compute();
    this.bus = null;
  }

  /** Recomputes the intervals from the anchors after the BU tree was numbered again. */
  reindex(): void {
    this.intervals = this.compute();
    this.bus = null;
  }

  private compute(): Int32Array {
    const { buPosition, buSubtreeEnd } = this.model;
    const spans: [number, number][] = [
      ...this.localAnchors.map((bu): [number, number] => [buPosition[bu] as number, (buPosition[bu] as number) + 1]),
      ...this.deepAnchors.map((bu): [number, number] => [buPosition[bu] as number, buSubtreeEnd[bu] as number]),
    ];
    return mergeIntervals(spans);
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
  /** The common case, one anchor, keyed by its code. */
  private readonly byAnchor = new Map<number, BuCoverage>();
  private readonly byAnchors = new IntListInterner<BuCoverage>();
  private readonly all: BuCoverage[] = [];
  private readonly codes = new IntScratch();
  private readonly model: WorldModel;

  constructor(model: WorldModel) {
    this.model = model;
  }

  /** The coverage of the first `local.length` local and `deep.length` deep anchors (repeats allowed); null for none. */
  get(local: IntScratch, deep: IntScratch): BuCoverage | null {
    const count = local.length + deep.length;
    if (count === 0) return null;
    if (count === 1) {
      return local.length === 1
        ? this.ofAnchor((local.values[0] as number) * 2)
        : this.ofAnchor((deep.values[0] as number) * 2 + 1);
    }
    const codes = this.codes;
    codes.clear();
    for (let i = 0; i < local.length; i++) codes.push((local.values[i] as number) * 2);
    for (let i = 0; i < deep.length; i++) codes.push((deep.values[i] as number) * 2 + 1);
    const length = sortUnique(codes.values, codes.length);
    if (length === 1) return this.ofAnchor(codes.values[0] as number);
    const known = this.byAnchors.find(codes.values, length);
    if (known !== undefined) return known;
    return this.byAnchors.add(codes.values, length, (list) => this.create(list));
  }

  private ofAnchor(code: number): BuCoverage {
    let coverage = this.byAnchor.get(code);
    if (coverage === undefined) {
      coverage = this.create(Int32Array.of(code));
      this.byAnchor.set(code, coverage);
    }
    return coverage;
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

/** Sorts and merges overlapping or touching intervals into the flat canonical form. */
function mergeIntervals(spans: [number, number][]): Int32Array {
  spans.sort((a, b) => a[0] - b[0]);
  const merged: number[] = [];
  for (const [start, end] of spans) {
    const last = merged.length - 1;
    if (last > 0 && start <= (merged[last] as number)) merged[last] = Math.max(merged[last] as number, end);
    else merged.push(start, end);
  }
  return Int32Array.from(merged);
}
