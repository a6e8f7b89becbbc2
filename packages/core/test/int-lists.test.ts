import { describe, expect, it } from 'vitest';
import { hashList, IntListTable, IntScratch, sortUnique } from '../src/util/int-lists.js';
import { rng } from './reference/random-world.js';

describe('IntListTable', () => {
  it('finds a list by content, not by the scratch array or its tail, and numbers lists in order', () => {
    const table = new IntListTable();
    const scratch = Int32Array.of(3, 7, 9, 99);
    expect(table.find(scratch, 3)).toBe(-1);
    expect(table.add(scratch, 3)).toBe(0);
    scratch.set([3, 7, 9, -5]);
    expect(table.find(scratch, 3)).toBe(0);
    expect(table.find(scratch, 4)).toBe(-1);
    expect(table.find(scratch, 2)).toBe(-1);
    expect(table.find(new Int32Array(0), 0)).toBe(-1);
    expect(table.add(new Int32Array(0), 0)).toBe(1);
    expect(table.find(new Int32Array(8), 0)).toBe(1);
    expect([...table.list(0)]).toEqual([3, 7, 9]);
    expect(table.list(1).length).toBe(0);
    expect(table.size).toBe(2);
  });

  it('keeps lists whose hashes collide apart', () => {
    // Two-element lists until two hash alike (a birthday search over 30-bit hashes).
    const random = rng(5);
    const seen = new Map<number, Int32Array>();
    let pair: [Int32Array, Int32Array] | null = null;
    while (pair === null) {
      const list = Int32Array.of(Math.floor(random() * 2 ** 31), Math.floor(random() * 2 ** 31));
      const hash = hashList(list, 2);
      const other = seen.get(hash);
      if (other !== undefined && (other[0] !== list[0] || other[1] !== list[1])) pair = [other, list];
      else seen.set(hash, list);
    }
    const table = new IntListTable();
    table.add(pair[0], 2);
    expect(table.find(pair[1], 2)).toBe(-1);
    table.add(pair[1], 2);
    expect([table.find(pair[0], 2), table.find(pair[1], 2), table.size]).toEqual([0, 1, 2]);
  });

  it('finds every list added, through its growth, by content', () => {
    const random = rng(21);
    const table = new IntListTable();
    const byKey = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      const length = Math.floor(random() * 6);
      const list = Int32Array.from({ length }, () => Math.floor(random() * 12));
      const key = list.join(',');
      const found = table.find(list, length);
      expect(found).toBe(byKey.get(key) ?? -1);
      if (found === -1) byKey.set(key, table.add(list, length));
    }
    expect(table.size).toBe(byKey.size);
    for (const [key, id] of byKey) expect(table.list(id).join(',')).toBe(key);
  });
});

describe('sortUnique', () => {
  it('sorts and drops repeats in the first `length` values, short and long lists alike', () => {
    const random = rng(9);
    for (const length of [0, 1, 2, 5, 31, 33, 200]) {
      const values = Int32Array.from({ length: length + 3 }, () => Math.floor(random() * 40) - 5);
      const expected = [...new Set(values.subarray(0, length))].sort((a, b) => a - b);
      const unique = sortUnique(values, length);
      expect([...values.subarray(0, unique)]).toEqual(expected);
    }
  });
});

describe('IntScratch', () => {
  it('grows past its capacity and keeps what was pushed', () => {
    const scratch = new IntScratch(2);
    for (let i = 0; i < 40; i++) scratch.push(i * 3);
    expect([...scratch.values.subarray(0, scratch.length)]).toEqual(Array.from({ length: 40 }, (_, i) => i * 3));
    scratch.clear();
    scratch.push(8);
    expect([scratch.length, scratch.values[0]]).toEqual([1, 8]);
  });
});
