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
