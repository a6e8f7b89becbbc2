import { describe, expect, it } from 'vitest';
import type { RecordIdx } from '../src/ids.js';
import { hashOf } from '../src/model/id-table.js';
import { RecordIdIndex } from '../src/model/record-ids.js';
import { rng } from './reference/random-world.js';

/** What RecordStore does: ids by row, and the index over them. */
function store() {
  const ids: string[] = [];
  return { ids, index: new RecordIdIndex(ids), reference: new Map<string, number>() };
}

describe('RecordIdIndex', () => {
  it('agrees with a Map through random adds, deletes, re-adds and revivals of a few hundred ids', () => {
    const random = rng(11);
    // Few distinct ids, so most operations meet one seen before: deleted, revived, re-added at a new row.
    const pool = Array.from({ length: 400 }, (_, i) => (i % 7 === 0 ? `acc-${i}-é😀` : `acc-${i}`));
    const s = store();
    for (let step = 0; step < 20_000; step++) {
      const id = pool[Math.floor(random() * pool.length)] as string;
      const roll = random();
      if (roll < 0.5 && !s.reference.has(id)) {
        // A new row for the id (a record created again after its delete gets a new row).
        s.ids.push(id);
        s.index.set(id, (s.ids.length - 1) as RecordIdx);
        s.reference.set(id, s.ids.length - 1);
      } else if (roll < 0.8) {
        expect(s.index.delete(id)).toBe(s.reference.delete(id));
      } else {
        // Revive: an earlier row of the id comes back (rollback of a delete).
        const rows = s.ids.flatMap((other, row) => (other === id ? [row] : []));
        if (rows.length > 0 && !s.reference.has(id)) {
          const row = rows[Math.floor(random() * rows.length)] as number;
          s.index.set(id, row as RecordIdx);
          s.reference.set(id, row);
        }
      }
      if (step % 97 === 0) {
        for (const other of pool) expect(s.index.get(other), other).toBe(s.reference.get(other));
        const rows = s.index.getAll(pool, new Int32Array(pool.length));
        expect(Array.from(rows)).toEqual(pool.map((other) => s.reference.get(other) ?? -1));
        expect(s.index.size).toBe(s.reference.size);
      }
    }
    for (const other of pool) expect(s.index.has(other)).toBe(s.reference.has(other));
  });

  it('grows past a million ids and finds each, and none it was not given', () => {
    const s = store();
    for (let row = 0; row < 1_100_000; row++) {
      const id = `contact-${row}`;
      s.ids.push(id);
      s.index.set(id, row as RecordIdx);
    }
    expect(s.index.size).toBe(1_100_000);
    for (let row = 0; row < 1_100_000; row += 997) expect(s.index.get(`contact-${row}`)).toBe(row);
    expect(s.index.get('contact-1100000')).toBeUndefined();
    expect(s.index.get('')).toBeUndefined();
    expect(s.index.has('contact-')).toBe(false);
  });

  it('tells ids with the same hash apart, one at a time and in bulk', () => {
    const seen = new Map<number, string>();
    let pair: [string, string] | null = null;
    for (let i = 0; pair === null; i++) {
      const id = `c-${i}`;
      const other = seen.get(hashOf(id));
      if (other === undefined) seen.set(hashOf(id), id);
      else pair = [other, id];
    }
    const [first, second] = pair;
    const s = store();
    s.ids.push(first);
    s.index.set(first, 0 as RecordIdx);
    // Only the first is stored: the second's probe meets the first's hash and must not take its row.
    expect(s.index.get(second)).toBeUndefined();
    expect(Array.from(s.index.getAll([second, first, second], new Int32Array(3)))).toEqual([-1, 0, -1]);
    s.ids.push(second);
    s.index.set(second, 1 as RecordIdx);
    expect(Array.from(s.index.getAll([second, first, 'c-x'], new Int32Array(3)))).toEqual([1, 0, -1]);
    s.index.delete(first);
    expect(Array.from(s.index.getAll([second, first], new Int32Array(2)))).toEqual([1, -1]);
    // What a caller's list may hold besides ids: nulls, and from JavaScript anything at all.
    const junk = [null, '', 5, undefined, {}, second] as unknown as string[];
    expect(Array.from(s.index.getAll(junk, new Int32Array(junk.length)))).toEqual([-1, -1, -1, -1, -1, 1]);
  });

  it('stays bounded under churn: tombstones are dropped when the table is laid out again', () => {
    const s = store();
    for (let round = 0; round < 50_000; round++) {
      const id = `r-${round}`;
      s.ids.push(id);
      s.index.set(id, round as RecordIdx);
      if (round >= 10) expect(s.index.delete(`r-${round - 10}`)).toBe(true);
    }
    expect(s.index.size).toBe(10);
    // Ten live ids in a table that never needed to grow for them: its slots stay few.
    expect((s.index as unknown as { slots: Int32Array }).slots.length).toBeLessThanOrEqual(2 * 64);
    for (let round = 49_990; round < 50_000; round++) expect(s.index.get(`r-${round}`)).toBe(round);
  });
});
