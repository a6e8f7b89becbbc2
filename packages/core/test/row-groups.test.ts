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
});
