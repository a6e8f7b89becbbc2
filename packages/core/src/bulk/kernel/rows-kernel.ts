import type { RowTest } from '../filter.js';
import { BLOCK_ROWS, type ColumnTest, kernelName, KernelLayout as L } from './layout.js';
import { ROWS_WASM } from './rows-wasm.js';

type Kernel = (n: number, base: number, buLimit: number, ownerLimit: number, sharedLimit: number) => number;

/** The part of the WebAssembly API used here (the project's `lib` has no DOM, where its types live). */
interface WebAssemblyApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object) => { readonly exports: Record<string, unknown> };
}

const TESTS: readonly ColumnTest[] = ['none', 'registers', 'table'];

/** One thread's instance of the kernels and views of its memory. */
class RowKernels {
  /** By `kernelIndex`; the all-`none` slot is never called. */
  readonly kernels: readonly Kernel[];
  readonly registers: Int32Array;
  readonly buTable: Uint8Array;
  readonly ownerTable: Uint8Array;
  readonly sharedBits: Uint32Array;
  readonly buColumn: Int32Array;
  readonly ownerColumn: Int32Array;
  readonly recordColumn: Int32Array;
  readonly out: Uint32Array;

  constructor(exports: Record<string, unknown>) {
    const memory = (exports.memory as { readonly buffer: ArrayBuffer }).buffer;
    const kernels: Kernel[] = [];
    for (const bu of TESTS) {
      for (const owner of TESTS) {
        for (const record of TESTS) kernels.push((exports[kernelName(bu, owner, record)] ?? noKernel) as Kernel);
      }
    }
    this.kernels = kernels;
    this.registers = new Int32Array(memory, L.registers, 12);
    this.buTable = new Uint8Array(memory, L.buTable, L.buSentinel + 1);
    this.ownerTable = new Uint8Array(memory, L.ownerTable, L.ownerSentinel + 1);
    this.sharedBits = new Uint32Array(memory, L.sharedBits, (L.sharedSentinel + 1) / 32);
    this.buColumn = new Int32Array(memory, L.buColumn, BLOCK_ROWS);
    this.ownerColumn = new Int32Array(memory, L.ownerColumn, BLOCK_ROWS);
    this.recordColumn = new Int32Array(memory, L.recordColumn, BLOCK_ROWS);
    this.out = new Uint32Array(memory, L.out, BLOCK_ROWS + 4);
  }
}

function noKernel(): number {
  throw new Error('no row kernel for no test');
}

const testCode = (test: ColumnTest) => TESTS.indexOf(test);
const kernelIndex = (bu: ColumnTest, owner: ColumnTest, record: ColumnTest) =>
  testCode(bu) * 9 + testCode(owner) * 3 + testCode(record);

/** Undefined until first asked; null when this runtime has no WebAssembly SIMD. */
let loaded: RowKernels | null | undefined;

function rowKernels(): RowKernels | null {
  if (loaded === undefined) {
    const api = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
    try {
      if (api === undefined) throw new Error('no WebAssembly');
      const bytes = Uint8Array.from(atob(ROWS_WASM), (c) => c.charCodeAt(0));
      loaded = new RowKernels(new api.Instance(new api.Module(bytes)).exports);
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

/** `auto`: the kernels for calls that pay for them; `always`, `never`: for tests and benchmarks. */
export type RowKernelUse = 'auto' | 'always' | 'never';
let use: RowKernelUse = 'auto';

/** Sets, for this thread, when `filter` runs caller columns through the kernels. */
export function useRowKernels(mode: RowKernelUse): void {
  use = mode;
}

/**
 * Below this many rows the JavaScript loop is as fast: the kernels' setup is per call (on the
 * bulk world, 256 rows took 1.4 µs either way, 1,024 rows 2.3 against 5.9 µs).
 */
const MIN_ROWS = 256;
/**
 * A table the kernels test must be copied into their memory each call: at ~0.03 ns a byte against
 * the ~4 ns a row the kernels save, it pays from about one byte in 128 a row; half that, to be safe.
 */
const TABLE_BYTES_PER_ROW = 64;

/** How the kernel tests each column of `test`'s rows; shares only with a record column. */
export function kernelTests(test: RowTest, withRecords: boolean): [ColumnTest, ColumnTest, ColumnTest] {
  const bu = test.buCount === 0 ? 'none' : test.buCount <= 4 ? 'registers' : 'table';
  const owner = test.ownerTable === null ? 'registers' : test.ownerTable.length === 0 ? 'none' : 'table';
  const record = !withRecords || test.sharedCount === 0 ? 'none' : test.sharedCount <= 4 ? 'registers' : 'table';
  return [bu, owner, record];
}

/**
 * Filters rows [0, length) of the columns with the kernels: the allowed positions, ascending, into
 * `out`, and their count. -1 when the kernels do not take this call (none on this runtime, a
 * table past the kernel's memory, or too few rows to pay for copying the tables), and the caller
 * runs its own loop. `records` is null when no share counts.
 *
 * The columns are copied into the kernels' memory a block at a time (WebAssembly reads only its
 * own memory): ~0.13 ms for 333,334 rows of three columns, against the 1.3 ms or more the kernels
 * save over the JavaScript loop on them.
 */
export function kernelRows(
  test: RowTest,
  owners: Int32Array,
  businessUnits: Int32Array,
  records: Int32Array | null,
  length: number,
  out: Uint32Array,
): number {
  if (use === 'never' || (use === 'auto' && length < MIN_ROWS)) return -1;
  const k = rowKernels();
  if (k === null) return -1;
  const [bu, owner, record] = kernelTests(test, records !== null);
  if (bu === 'none' && owner === 'none' && record === 'none') return 0;
  const ownerTable = test.ownerTable ?? EMPTY;
  if (test.bus.length > L.buSentinel || ownerTable.length > L.ownerSentinel || test.sharedLimit > L.sharedSentinel) {
    return -1;
  }
  const tableBytes =
    (bu === 'table' ? test.bus.length : 0) +
    (owner === 'table' ? ownerTable.length : 0) +
    (record === 'table' ? test.shared.byteLength : 0);
  if (use === 'auto' && tableBytes > length * TABLE_BYTES_PER_ROW) return -1;

  const { registers } = k;
  registers.set(test.firstBus, 0);
  registers[4] = test.self;
  registers[5] = test.team0;
  registers[6] = test.team1;
  registers[7] = test.self;
  registers.set(test.firstShared, 8);
  if (bu === 'table') k.buTable.set(test.bus);
  if (owner === 'table') k.ownerTable.set(ownerTable);
  if (record === 'table') k.sharedBits.set(test.shared);
  clearSentinels(k);
  return runBlocks(
    k,
    k.kernels[kernelIndex(bu, owner, record)] as Kernel,
    bu === 'none' ? null : businessUnits,
    owner === 'none' ? null : owners,
    record === 'none' ? null : records,
    length,
    [test.bus.length, ownerTable.length, test.sharedLimit],
    out,
  );
}

/**
 * Rows given as record indexes, against a bitset of the records allowed (`markRecords`), with the
 * kernel that tests the record column alone: the allowed positions, ascending, into `out`, and
 * their count; -1 when the kernels do not take the call. An index outside the bitset, or NONE,
 * reads the sentinel's bit, which is never set.
 */
export function kernelMarked(bits: Uint32Array, records: Int32Array, out: Uint32Array): number {
  const length = records.length;
  if (use === 'never' || (use === 'auto' && (length < MIN_ROWS || bits.byteLength > length * TABLE_BYTES_PER_ROW))) {
    return -1;
  }
  const limit = bits.length * 32;
  if (limit > L.sharedSentinel) return -1;
  const k = rowKernels();
  if (k === null) return -1;
  k.sharedBits.set(bits);
  clearSentinels(k);
  return runBlocks(
    k,
    k.kernels[kernelIndex('none', 'none', 'table')] as Kernel,
    null,
    null,
    records,
    length,
    [0, 0, limit],
    out,
  );
}

/**
 * Values out of a table's range read its sentinel entry, so that entry must be 0. The limit checks
 * keep tables off it; clearing it every call also clears anything a caller's words past its limit
 * (the last word of a share bitset) or an earlier call could have left there.
 */
function clearSentinels(k: RowKernels): void {
  k.buTable[L.buSentinel] = 0;
  k.ownerTable[L.ownerSentinel] = 0;
  k.sharedBits[L.sharedSentinel >>> 5] =
    (k.sharedBits[L.sharedSentinel >>> 5] as number) & ~(1 << (L.sharedSentinel & 31));
}

/**
 * Runs `kernel` over rows [0, length) a block at a time, copying in the columns it tests (null: a
 * column it does not read), with its tables' limits (BU, owner, shared): the allowed positions,
 * ascending, into `out`, and their count.
 */
function runBlocks(
  k: RowKernels,
  kernel: Kernel,
  businessUnits: Int32Array | null,
  owners: Int32Array | null,
  records: Int32Array | null,
  length: number,
  [buLimit, ownerLimit, sharedLimit]: readonly [number, number, number],
  out: Uint32Array,
): number {
  let n = 0;
  for (let from = 0; from < length; from += BLOCK_ROWS) {
    const to = Math.min(length, from + BLOCK_ROWS);
    if (businessUnits !== null) k.buColumn.set(businessUnits.subarray(from, to));
    if (owners !== null) k.ownerColumn.set(owners.subarray(from, to));
    if (records !== null) k.recordColumn.set(records.subarray(from, to));
    let count = kernel(to - from, from, buLimit, ownerLimit, sharedLimit);
    // The last turn may test up to three rows past the block, left from an earlier one.
    while (count > 0 && (k.out[count - 1] as number) >= to) count--;
    out.set(k.out.subarray(0, count), n);
    n += count;
  }
  return n;
}

const EMPTY = new Uint8Array(0);
