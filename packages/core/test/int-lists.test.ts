import { describe, expect, it } from 'vitest';
import { hashList, IntListInterner, IntScratch, sortUnique } from '../src/util/int-lists.js';
import { rng } from './reference/random-world.js';

describe('IntListInterner', () => {
  it('finds a list by content, not by the scratch array or its tail', () => {
    const interner = new IntListInterner<string>();
    const scratch = Int32Array.of(3, 7, 9, 99);
    expect(interner.find(scratch, 3)).toBeUndefined();
    expect(interner.add(scratch, 3, (list) => `list ${[...list]}`)).toBe('list 3,7,9');
    scratch.set([3, 7, 9, -5]);
    expect(interner.find(scratch, 3)).toBe('list 3,7,9');
    expect(interner.find(scratch, 4)).toBeUndefined();
    expect(interner.find(scratch, 2)).toBeUndefined();
    expect(interner.find(new Int32Array(0), 0)).toBeUndefined();
    expect(interner.size).toBe(1);
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
    const interner = new IntListInterner<number>();
    interner.add(pair[0], 2, () => 1);
    expect(interner.find(pair[1], 2)).toBeUndefined();
    interner.add(pair[1], 2, () => 2);
    expect([interner.find(pair[0], 2), interner.find(pair[1], 2), interner.size]).toEqual([1, 2, 2]);
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
