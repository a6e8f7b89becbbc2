import { kernelMarked, kernelRows, kernelTests, type RowTest, useRowKernels } from '@palisade/core/internal';
import { afterAll, describe, expect, it } from 'vitest';
import { compileWat } from '../kernel/compile.js';
import { rowsWat } from '../kernel/rows-wat.js';
import { BLOCK_ROWS, KernelLayout } from '../src/bulk/kernel/layout.js';
import { ROWS_WASM } from '../src/bulk/kernel/rows-wasm.js';
import { rng } from './reference/random-world.js';

afterAll(() => useRowKernels('auto'));

describe('the row kernels module', () => {
  it('is the compile of the text rows-wat.ts emits (run `pnpm kernel` after changing it)', async () => {
    const bytes = await compileWat(rowsWat());
    expect(Buffer.from(bytes).toString('base64')).toBe(ROWS_WASM);
  });
});

/** Up to four values, the first repeated (zeros when none), as `rowTest` gives the kernels. */
const firstFour = (values: number[]) =>
  Int32Array.from({ length: 4 }, (_, k) => values[Math.min(k, values.length - 1)] ?? 0);

interface Scope {
  readonly bus: number[];
  readonly buCount: number;
  /** null: the user and two teams in registers. */
  readonly owners: number[] | null;
  readonly ownerLimit: number;
  readonly shared: number[];
  readonly sharedLimit: number;
}

function rowTest(scope: Scope): RowTest {
  const bus = new Uint8Array(scope.buCount);
  for (const b of scope.bus) bus[b] = 1;
  let ownerTable: Uint8Array | null = null;
  if (scope.owners !== null) {
    ownerTable = new Uint8Array(scope.ownerLimit);
    for (const o of scope.owners) ownerTable[o] = 1;
  }
  const shared = new Uint32Array((scope.sharedLimit + 31) >>> 5);
  for (const r of scope.shared) shared[r >>> 5] = (shared[r >>> 5] as number) | (1 << (r & 31));
  return {
    bus,
    buCount: scope.bus.length,
    firstBus: firstFour(scope.bus),
    self: 7,
    team0: 11,
    team1: 13,
    ownerTable,
    shared,
    sharedLimit: scope.sharedLimit,
    sharedCount: scope.shared.length,
    firstShared: firstFour(scope.shared),
  };
}

/** What row i's test is, written plainly. */
function expected(test: RowTest, owners: Int32Array, bus: Int32Array, records: Int32Array | null): number[] {
  const allowed: number[] = [];
  for (let i = 0; i < owners.length; i++) {
    const b = bus[i] as number;
    const o = owners[i] as number;
    const r = records?.[i] ?? -1;
    const byBu = b >= 0 && b < test.bus.length && test.bus[b] === 1;
    const byOwner =
      test.ownerTable === null
        ? o === test.self || o === test.team0 || o === test.team1
        : o >= 0 && o < test.ownerTable.length && test.ownerTable[o] === 1;
    const byShare = r >= 0 && r < test.sharedLimit && (((test.shared[r >>> 5] as number) >>> (r & 31)) & 1) === 1;
    if (byBu || byOwner || byShare) allowed.push(i);
  }
  return allowed;
}

describe('kernelRows', () => {
  const random = rng(2026);
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)] as T;
  const below = (n: number) => Math.floor(random() * n);
  // Values a caller may send besides indexes in range: negatives, the tables' limits and sentinels.
  const edges = [
    -1,
    -2,
    2 ** 31 - 1,
    -(2 ** 31),
    KernelLayout.buSentinel,
    KernelLayout.ownerSentinel,
    KernelLayout.sharedSentinel,
  ];

  function scope(buTest: string, ownerTest: string, shareTest: string): Scope {
    const buCount = 40;
    const sample = (n: number, limit: number) => [...new Set(Array.from({ length: n }, () => below(limit)))];
    const bus = buTest === 'none' ? [] : sample(buTest === 'registers' ? 1 + below(4) : 5 + below(10), buCount);
    const ownerLimit = 30;
    const owners = ownerTest === 'registers' ? null : ownerTest === 'none' ? [] : sample(5 + below(8), ownerLimit);
    const shared = shareTest === 'none' ? [] : sample(shareTest === 'registers' ? 1 + below(4) : 5 + below(30), 190);
    return {
      bus,
      buCount,
      owners,
      ownerLimit: ownerTest === 'none' ? 0 : ownerLimit,
      shared,
      sharedLimit: shared.length === 0 ? 0 : Math.max(...shared) + 1 + below(3),
    };
  }

  it('answers as the plain test on every kernel, at every length, with out-of-range values', () => {
    useRowKernels('always');
    const seen = new Set<string>();
    const tests = ['none', 'registers', 'table'];
    const lengths = [1, 2, 3, 4, 5, 7, 8, 63, BLOCK_ROWS - 1, BLOCK_ROWS, BLOCK_ROWS + 1, 2 * BLOCK_ROWS + 3];
    for (const buTest of tests) {
      for (const ownerTest of tests) {
        for (const shareTest of tests) {
          const test = rowTest(scope(buTest, ownerTest, shareTest));
          for (const length of lengths) {
            const value = (limit: number) => (random() < 0.05 ? pick(edges) : below(limit + 3));
            const bus = Int32Array.from({ length }, () => value(40));
            const owners = Int32Array.from({ length }, () => value(30));
            const records = Int32Array.from({ length }, () => value(200));
            for (const column of [records, null]) {
              const out = new Uint32Array(length);
              const n = kernelRows(test, owners, bus, column, length, out);
              const want = expected(test, owners, bus, column);
              if (want.length === 0 && kernelTests(test, column !== null).every((t) => t === 'none')) {
                expect(n).toBe(0);
                continue;
              }
              expect(n, `${buTest}/${ownerTest}/${shareTest}, ${length} rows`).toBe(want.length);
              expect(Array.from(out.subarray(0, n))).toEqual(want);
              seen.add(kernelTests(test, column !== null).join('/'));
            }
          }
        }
      }
    }
    // Every kernel but the one that tests nothing.
    expect(seen.size).toBe(26);
  });

  it('reads nothing of a longer call or larger tables, at or past the limits', () => {
    useRowKernels('always');
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);
    // Ones just past where the narrow tables end: BU 35, owner 23, record 160 (the first bit of a word it does not copy).
    const wide = rowTest({
      bus: range(35, 40),
      buCount: 40,
      owners: range(23, 28),
      ownerLimit: 30,
      shared: range(160, 170),
      sharedLimit: 170,
    });
    const narrow = rowTest({
      bus: range(0, 5),
      buCount: 35,
      owners: range(0, 5),
      ownerLimit: 23,
      shared: range(0, 6),
      sharedLimit: 160,
    });
    const length = 1001;
    const all = (v: number) => new Int32Array(length).fill(v);
    const out = new Uint32Array(length);
    for (const [bu, owner, record] of [
      [35, 0, 0],
      [0, 23, 0],
      [0, 0, 160],
    ] as const) {
      // Allowed by the wide test: its tables and a block of its rows are now in the kernel's memory.
      expect(kernelRows(wide, all(owner + 100), all(bu), all(-1), length, out)).toBe(bu === 35 ? length : 0);
      expect(kernelRows(wide, all(owner), all(bu + 100), all(-1), length, out)).toBe(owner === 23 ? length : 0);
      expect(kernelRows(wide, all(owner + 100), all(bu + 100), all(record), length, out)).toBe(
        record === 160 ? length : 0,
      );
      // At the narrow limits: nothing, and a 6-row call does not see the rows of the 1001-row one.
      const at = (v: number, at: number) => new Int32Array(6).fill(v === at ? at : 100);
      expect(kernelRows(narrow, at(owner, 23), at(bu, 35), at(record, 160), 6, out)).toBe(0);
    }
  });

  it('takes tables up to their capacity, declines larger ones, and a full one leaves nothing behind', () => {
    useRowKernels('always');
    const L = KernelLayout;
    const full: RowTest = {
      bus: new Uint8Array(L.buSentinel).fill(1),
      buCount: L.buSentinel,
      firstBus: new Int32Array(4),
      self: 7,
      team0: 11,
      team1: 13,
      ownerTable: new Uint8Array(L.ownerSentinel).fill(1),
      // Every bit of the last word too, past the limit: the sentinel's bit among them.
      shared: new Uint32Array((L.sharedSentinel + 1) >>> 5).fill(0xffff_ffff),
      sharedLimit: L.sharedSentinel,
      sharedCount: L.sharedSentinel,
      firstShared: new Int32Array(4),
    };
    const column = (values: number[]) => Int32Array.from(values);
    const out = new Uint32Array(8);
    const none = column([-1, -1, -1, -1, -1, -1, -1, -1]);
    const values = (last: number) => column([0, last - 1, last, last + 1, 2 ** 31 - 1, -1, -(2 ** 31), 5]);
    const inRange = [0, 1, 7];
    expect(kernelRows(full, none, values(L.buSentinel), null, 8, out)).toBe(3);
    expect(Array.from(out.subarray(0, 3))).toEqual(inRange);
    expect(kernelRows(full, values(L.ownerSentinel), none, null, 8, out)).toBe(3);
    expect(kernelRows(full, none, none, values(L.sharedSentinel), 8, out)).toBe(3);
    expect(Array.from(out.subarray(0, 3))).toEqual(inRange);
    // One entry more than the memory holds: the JavaScript loop's.
    const larger = (change: Partial<RowTest>) => kernelRows({ ...full, ...change }, none, values(5), none, 8, out);
    expect(larger({ bus: new Uint8Array(L.buSentinel + 1) })).toBe(-1);
    expect(larger({ ownerTable: new Uint8Array(L.ownerSentinel + 1) })).toBe(-1);
    expect(larger({ sharedLimit: L.sharedSentinel + 1 })).toBe(-1);
    // After the full tables, a small test allows nothing past its own limits, the sentinels included.
    const small = rowTest({
      bus: [0, 1, 2, 3, 4],
      buCount: 6,
      owners: [0],
      ownerLimit: 6,
      shared: [0, 1, 2, 3, 4],
      sharedLimit: 6,
    });
    const past = (last: number) => column([6, 7, last - 1, last, last + 1, 2 ** 31 - 1, 1000, 12]);
    expect(kernelRows(small, none, past(L.buSentinel), null, 8, out)).toBe(0);
    expect(kernelRows(small, past(L.ownerSentinel), none, null, 8, out)).toBe(0);
    expect(kernelRows(small, none, none, past(L.sharedSentinel), 8, out)).toBe(0);
  });

  it('declines calls the JavaScript loop should take, unless told otherwise', () => {
    const test = rowTest({ bus: [1], buCount: 40, owners: null, ownerLimit: 0, shared: [], sharedLimit: 0 });
    const out = new Uint32Array(10);
    const column = new Int32Array(10);
    useRowKernels('auto');
    expect(kernelRows(test, column, column, null, 10, out)).toBe(-1);
    useRowKernels('never');
    expect(kernelRows(test, column, column, null, 10, out)).toBe(-1);
    useRowKernels('always');
    expect(kernelRows(test, column, column, null, 10, out)).toBe(0);
  });
});

describe('kernelMarked', () => {
  const random = rng(2027);
  const below = (n: number) => Math.floor(random() * n);
  const L = KernelLayout;

  /** A bitset of `words` words with about `density` of its bits set. */
  function bitset(words: number, density: number): Uint32Array {
    const bits = new Uint32Array(words);
    for (let r = 0; r < words * 32; r++)
      if (random() < density) bits[r >>> 5] = (bits[r >>> 5] as number) | (1 << (r & 31));
    return bits;
  }
  const plain = (bits: Uint32Array, records: Int32Array) => {
    const allowed: number[] = [];
    records.forEach((r, i) => {
      if (r >= 0 && r < bits.length * 32 && (((bits[r >>> 5] as number) >>> (r & 31)) & 1) === 1) allowed.push(i);
    });
    return allowed;
  };

  it('answers as a plain bit test at every length, with out-of-range values', () => {
    useRowKernels('always');
    const edges = [-1, -2, 2 ** 31 - 1, -(2 ** 31), L.sharedSentinel, L.sharedSentinel + 1];
    for (const words of [1, 3, 40]) {
      for (const density of [0.02, 0.5, 1]) {
        const bits = bitset(words, density);
        for (const length of [1, 3, 4, 5, 255, 256, BLOCK_ROWS - 1, BLOCK_ROWS, BLOCK_ROWS + 1, 2 * BLOCK_ROWS + 3]) {
          const records = Int32Array.from({ length }, () =>
            random() < 0.05 ? (edges[below(edges.length)] as number) : below(words * 32 + 40),
          );
          const out = new Uint32Array(length);
          const n = kernelMarked(bits, records, out);
          const want = plain(bits, records);
          expect(n, `${words} words, ${length} rows`).toBe(want.length);
          expect(Array.from(out.subarray(0, n))).toEqual(want);
        }
      }
    }
  });

  it('takes a bitset up to the kernel memory, declines a larger one, and a full one leaves nothing behind', () => {
    useRowKernels('always');
    const out = new Uint32Array(8);
    const values = (last: number) => Int32Array.from([0, last - 1, last, last + 1, 2 ** 31 - 1, -1, -(2 ** 31), 5]);
    // The largest bitset the memory takes, every bit set: rows past its limit still read nothing.
    const full = new Uint32Array(L.sharedSentinel >>> 5).fill(0xffff_ffff);
    const limit = full.length * 32;
    expect(kernelMarked(full, values(limit), out)).toBe(3);
    expect(Array.from(out.subarray(0, 3))).toEqual([0, 1, 7]);
    expect(kernelMarked(new Uint32Array(full.length + 1), values(5), out)).toBe(-1);
    // After it, a one-word bitset allows nothing past its own 32 records, the sentinel included.
    const past = Int32Array.from([32, 33, limit - 1, L.sharedSentinel, 1000, 2 ** 31 - 1, 64, 40]);
    expect(kernelMarked(new Uint32Array(1).fill(0xffff_ffff), past, out)).toBe(0);
  });

  it('declines calls the JavaScript loop should take, unless told otherwise', () => {
    const bits = new Uint32Array(4).fill(1);
    const records = new Int32Array(100);
    const out = new Uint32Array(100);
    useRowKernels('auto');
    expect(kernelMarked(bits, records, out)).toBe(-1);
    // Long enough, but the bitset costs more to copy than the rows save.
    expect(kernelMarked(new Uint32Array(2 ** 16), new Int32Array(1_000), new Uint32Array(1_000))).toBe(-1);
    expect(kernelMarked(bits, new Int32Array(1_000), new Uint32Array(1_000))).toBe(1_000);
    useRowKernels('never');
    expect(kernelMarked(bits, new Int32Array(1_000), new Uint32Array(1_000))).toBe(-1);
    useRowKernels('always');
    expect(kernelMarked(bits, records, out)).toBe(100);
  });
});
