import { rng } from '../../../core/test/reference/random-world.js';

/** The test suite's seeded PRNG (mulberry32), so generated worlds and random test worlds share one. */
export const seededRandom = rng;

export class Picker {
  readonly next: () => number;

  constructor(seed: number) {
    this.next = seededRandom(seed);
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

/**
 * The seed of an independent stream derived from `seed` (records, shares and field shares each
 * draw from their own, so they can be generated again, lazily, without the rest of the world).
 * Hashed rather than offset: mulberry32 streams whose seeds differ by a multiple of its increment overlap.
 */
export function subSeed(seed: number, stream: number): number {
  return Math.floor(seededRandom((seed ^ Math.imul(stream, 0x9e3779b1)) >>> 0)() * 2 ** 32);
}
