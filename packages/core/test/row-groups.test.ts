import { describe, expect, it } from 'vitest';
import { RowGroups } from '../src/model/row-groups.js';
import { rng } from './reference/random-world.js';

/** A column of `count` rows holding values below `keys` (some rows NONE), and the plain answer to a union. */
function fixture(count: number, keys: number, seed: number) {
  const random = rng(seed);
  const column = Int32Array.from({ length: count }, () => (random() < 0.05 ? -1 : Math.floor(random() * keys)));
  const expected = (values: Iterable<number>) => {
    const wanted = new Set(values);
    const rows: number[] = [];
    column.forEach((value, row) => {
      if (wanted.has(value)) rows.push(row);
    });
    return rows;
  };
  return { column, expected };
}

describe('RowGroups', () => {
  it.each([
    ['few rows: concatenate and sort', 20_000, 2_000, [3, 17, 1999]],
    ['many rows: through a bitset', 20_000, 20, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
    ['one group', 5_000, 50, [7]],
    ['unknown and repeated keys', 5_000, 50, [7, 7, 999, -4]],
  ] as const)('unions groups exactly: %s', (_name, count, keys, values) => {
    const { column, expected } = fixture(count, keys, count + keys);
    const groups = new RowGroups(column, count);
    expect(Array.from(groups.union(values).toUint32Array())).toEqual(expected(values));
  });

  it('keeps changed groups authoritative over the sorted arrays', () => {
    const { column, expected } = fixture(10_000, 100, 3);
    const groups = new RowGroups(column, 10_000);
    const row = column.indexOf(5);
    groups.remove(5, row);
    groups.add(6, row);
    groups.add(200, 10_001);
    const want = [...expected([5, 6]).filter((r) => r !== row), row].sort((a, b) => a - b);
    expect(Array.from(groups.union([5, 6]).toUint32Array())).toEqual(want);
    expect(Array.from(groups.union([200]).toUint32Array())).toEqual([10_001]);
  });

  it('sizes and marks a group exactly, before and after it changes', () => {
    const { column, expected } = fixture(10_000, 100, 5);
    const groups = new RowGroups(column, 10_000);
    const marked = (values: number[], limit: number) => {
      const bits = new Uint32Array((limit + 31) >>> 5);
      for (const value of values) groups.mark(value, bits);
      return Array.from({ length: limit }, (_, row) => row).filter(
        (row) => ((bits[row >>> 5] as number) >>> (row & 31)) & 1,
      );
    };
    expect(groups.size(9)).toBe(expected([9]).length);
    expect(marked([9, 10], 10_000)).toEqual(expected([9, 10]));
    expect(groups.size(-1)).toBe(0);
    expect(groups.size(5_000)).toBe(0);
    // Group 9 becomes a bitmap: one row leaves it, and one past the sorted rows joins it.
    const row = column.indexOf(9);
    groups.remove(9, row);
    groups.add(9, 10_020);
    const want = [...expected([9, 10]).filter((r) => r !== row), 10_020].sort((a, b) => a - b);
    expect(groups.size(9)).toBe(expected([9]).length);
    expect(marked([9, 10], 10_032)).toEqual(want);
  });

  it('marks changed groups of any size, past its scratch and past the scratch cap', () => {
    const count = (1 << 20) + 5_000;
    const column = Int32Array.from({ length: count }, (_, row) => (row % 3 === 0 ? 2 : row % 3 === 1 ? 1 : 0));
    const groups = new RowGroups(column, count);
    groups.remove(0, 2); // 0: ~350k rows, past the 1,024 the scratch starts with
    groups.add(1, count); // 1: ~350k rows too
    const big = Int32Array.from({ length: count }, () => 7);
    const huge = new RowGroups(big, count);
    huge.remove(7, 0); // 7: every row but one, past the cap
    for (const [rows, value, want] of [
      [groups, 0, (row: number) => row % 3 === 2 && row !== 2],
      [groups, 1, (row: number) => row % 3 === 1 || row === count],
      [huge, 7, (row: number) => row > 0 && row < count],
    ] as const) {
      const bits = new Uint32Array((count + 32) >>> 5);
      rows.mark(value, bits);
      let marked = 0;
      let wrong = 0;
      for (let row = 0; row <= count; row++) {
        const bit = ((bits[row >>> 5] as number) >>> (row & 31)) & 1;
        marked += bit;
        if ((bit === 1) !== want(row)) wrong++;
      }
      expect(wrong).toBe(0);
      expect(marked).toBe(rows.size(value));
    }
  });
});
