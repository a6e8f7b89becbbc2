import { describe, expect, it } from 'vitest';
import { ProfileRows } from '../src/compile/profile.js';
import { DensePairMap, IntPairMap } from '../src/util/int-pair-map.js';
import { rng } from './reference/random-world.js';

/** Random pairs (repeats dropped), stored in a Map keyed `a,b` as the model. */
function randomPairs(
  seed: number,
  count: number,
  aRange: number,
  bRange: number,
): Map<string, [number, number, number]> {
  const random = rng(seed);
  const pairs = new Map<string, [number, number, number]>();
  while (pairs.size < count) {
    const a = Math.floor(random() * aRange);
    const b = Math.floor(random() * bRange);
    pairs.set(`${a},${b}`, [a, b, pairs.size]);
  }
  return pairs;
}

describe.each([
  ['IntPairMap', () => new IntPairMap(4)],
  ['DensePairMap', () => new DensePairMap(4)],
])('%s', (_name, make) => {
  it('finds every pair added, through its growth, and answers -1 for the rest', () => {
    // Few distinct first ints, so a DensePairMap fills its runs and overflows; b up to 2^31 - 1.
    for (const [aRange, bRange] of [
      [8, 2 ** 31 - 1],
      [5000, 50],
      [3, 40],
    ] as const) {
      const map = make();
      const pairs = [...randomPairs(aRange + bRange, 100, aRange, bRange).values()];
      const more = [...randomPairs(aRange * 7 + 1, Math.min(3000, aRange * bRange), aRange, bRange).values()];
      for (const [a, b, value] of pairs) {
        expect(map.get(a, b)).toBe(-1);
        map.add(a, b, value);
      }
      for (const [a, b, value] of pairs) expect(map.get(a, b)).toBe(value);
      const stored = new Set(pairs.map(([a, b]) => `${a},${b}`));
      for (const [a, b] of more) {
        if (!stored.has(`${a},${b}`)) expect(map.get(a, b)).toBe(-1);
      }
    }
  });

  it('keeps pairs that share a first or a second int apart', () => {
    const map = make();
    for (let i = 0; i < 40; i++) map.add(1, i, 100 + i);
    for (let i = 0; i < 40; i++) map.add(i + 2, 1, 200 + i);
    for (let i = 0; i < 40; i++) expect(map.get(1, i)).toBe(100 + i);
    for (let i = 0; i < 40; i++) expect(map.get(i + 2, 1)).toBe(200 + i);
    expect(map.get(0, 1)).toBe(-1);
    expect(map.get(1, 40)).toBe(-1);
    expect(map.get(1_000_000, 1)).toBe(-1);
  });
});

describe('ProfileRows', () => {
  it('keeps each profile its rows and team list as profiles are added and compiled again', () => {
    const random = rng(11);
    const rows = new ProfileRows();
    const expected: { rows: number[]; teams: number }[] = [];
    const randomRows = (): number[] => {
      const count = Math.floor(random() * 4);
      const out: number[] = [];
      for (let i = 0; i < count; i++) out.push(Math.floor(random() * 9), Math.floor(random() * 50), -1);
      return out;
    };
    // Replacing rows leaves garbage; enough replacements rewrite the pool several times.
    for (let step = 0; step < 3000; step++) {
      const index = step < 200 || random() < 0.1 ? expected.length : Math.floor(random() * expected.length);
      const next = { rows: randomRows(), teams: step };
      expected[index] = next;
      rows.set(index, Int32Array.from(next.rows), next.teams);
      if (step % 97 === 0) {
        for (let p = 0; p < expected.length; p++) {
          expect([...rows.rows(p)]).toEqual(expected[p]?.rows);
          expect(rows.teamList[p]).toBe(expected[p]?.teams);
          expect(rows.pool.subarray(rows.range[2 * p], rows.range[2 * p + 1])).toEqual(rows.rows(p));
        }
      }
    }
  });

  it('tells whether a profile holds a marked role', () => {
    const rows = new ProfileRows();
    rows.set(0, Int32Array.of(2, 10, -1, 5, 11, 7), 0);
    rows.set(1, new Int32Array(0), 1);
    const marked = new Uint8Array(8);
    expect(rows.holdsAny(0, marked)).toBe(false);
    marked[5] = 1;
    expect(rows.holdsAny(0, marked)).toBe(true);
    expect(rows.holdsAny(1, marked)).toBe(false);
    marked.fill(0);
    // An anchor or team equal to a marked role does not count.
    marked[10] = 1;
    marked[7] = 1;
    expect(rows.holdsAny(0, marked.subarray(0, 11))).toBe(false);
  });
});
