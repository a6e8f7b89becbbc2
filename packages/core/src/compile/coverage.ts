import roaring from 'roaring';
import type { BuIdx } from '../ids.js';
import type { WorldModel } from '../model/world-model.js';
import { bitsetFromIndexes } from '../util/bitset.js';
import { getOrCreate } from '../util/maps.js';

const { RoaringBitmap32 } = roaring;
export type RoaringBitmap32 = InstanceType<typeof RoaringBitmap32>;

/**
 * The business units that a set of local and deep grants covers: local anchors themselves, deep
 * anchors with their subtrees. Held twice: a roaring bitmap for algebra and the portable format,
 * and a flat bitset that the check loop reads.
 */
export class BuCoverage {
  /** Unique per cache: interned coverages compare by id. */
  readonly id: number;
  readonly set: RoaringBitmap32;
  readonly bits: Uint32Array;

  constructor(id: number, set: RoaringBitmap32, buCount: number) {
    this.id = id;
    this.set = set;
    this.bits = bitsetFromIndexes(buCount, set.toUint32Array());
  }
}

/** Interns coverages by their anchors, so profiles with the same anchors share one. */
export class CoverageCache {
  private readonly byKey = new Map<string, BuCoverage>();
  private readonly model: WorldModel;

  constructor(model: WorldModel) {
    this.model = model;
  }

  get(localAnchors: readonly BuIdx[], deepAnchors: readonly BuIdx[]): BuCoverage | null {
    if (localAnchors.length === 0 && deepAnchors.length === 0) return null;
    const key = `${sortedKey(localAnchors)}/${sortedKey(deepAnchors)}`;
    return getOrCreate(this.byKey, key, () => {
      const set = new RoaringBitmap32(localAnchors);
      for (const anchor of deepAnchors) set.addMany(this.model.subtree(anchor));
      set.runOptimize();
      return new BuCoverage(this.byKey.size, set, this.model.businessUnits.length);
    });
  }

  get size(): number {
    return this.byKey.size;
  }
}

function sortedKey(values: readonly number[]): string {
  return [...new Set(values)].sort((a, b) => a - b).join(',');
}
