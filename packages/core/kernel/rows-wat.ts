/**
 * Emits the WebAssembly text of the row kernels that `filter` runs over caller columns. One
 * exported function per way of testing the three columns (BU, owner, record): each is a straight
 * loop over four rows per turn, because V8 does not inline WebAssembly calls and a test chosen per
 * turn measured ~3× slower than a loop with its tests written in.
 *
 * Per turn the four rows' BU, owner and record are loaded as SIMD vectors and each column's test
 * gives a 4-bit mask:
 * - registers: the vector compared with four values (fewer repeat one), no memory read;
 * - table: each lane's byte in a table (BUs, owners) or bit in a bitset (records), values outside
 *   the table's limit replaced by its sentinel, an entry never set.
 * A turn with any allowed row stores all four positions, advancing the count by each row's bit.
 *
 * `build.ts` compiles this text with wabt into `src/bulk/kernel/rows-wasm.ts`; a test holds the two
 * to each other.
 */
import { type ColumnTest, kernelName, KernelLayout as L } from '../src/bulk/kernel/layout.js';

const TESTS: readonly ColumnTest[] = ['none', 'registers', 'table'];
const LANES = [0, 1, 2, 3] as const;

const hex = (n: number) => `0x${n.toString(16)}`;
const or32 = (xs: string[]) => xs.reduce((a, b) => `(i32.or ${a} ${b})`);
const orVec = (xs: string[]) => xs.reduce((a, b) => `(v128.or ${a} ${b})`);
const atLane = (k: number, x: string) => (k === 0 ? x : `(i32.shl ${x} (i32.const ${k}))`);
const lane = (k: number) => `(i32x4.extract_lane ${k} (local.get $v))`;

interface Column {
  readonly offset: number;
  /** First of the column's four registers. */
  readonly register: number;
  readonly limit: string;
  readonly sentinel: number;
  /** The 0/1 entry of lane k's (clamped) value. */
  readonly entry: (k: number) => string;
}

const COLUMNS: readonly Column[] = [
  {
    offset: L.buColumn,
    register: 0,
    limit: '$buLimit',
    sentinel: L.buSentinel,
    entry: (k) => `(i32.load8_u offset=${hex(L.buTable)} ${lane(k)})`,
  },
  {
    offset: L.ownerColumn,
    register: 4,
    limit: '$ownerLimit',
    sentinel: L.ownerSentinel,
    entry: (k) => `(i32.load8_u offset=${hex(L.ownerTable)} ${lane(k)})`,
  },
  {
    offset: L.recordColumn,
    register: 8,
    limit: '$sharedLimit',
    sentinel: L.sharedSentinel,
    entry: (k) =>
      `(i32.and (i32.shr_u (i32.load offset=${hex(L.sharedBits)} (i32.shl (i32.shr_u ${lane(k)} (i32.const 5)) (i32.const 2))) ${lane(k)}) (i32.const 1))`,
  },
];

/** Statements that leave the column's 4-bit mask in $bits. */
function columnMask(column: Column, test: ColumnTest): string[] {
  const load = `(v128.load offset=${hex(column.offset)} (local.get $p))`;
  if (test === 'registers') {
    const equal = LANES.map((k) => `(i32x4.eq (local.get $v) (local.get $r${column.register + k}))`);
    return [`(local.set $v ${load})`, `(local.set $bits (i32x4.bitmask ${orVec(equal)}))`];
  }
  const inside = `(i32x4.lt_u (local.get $v) (local.get ${column.limit}V))`;
  return [
    `(local.set $v ${load})`,
    `(local.set $v (v128.bitselect (local.get $v) (i32x4.splat (i32.const ${hex(column.sentinel)})) ${inside}))`,
    `(local.set $bits ${or32(LANES.map((k) => atLane(k, column.entry(k))))})`,
  ];
}

function kernel(tests: readonly ColumnTest[]): string {
  const [bu, owner, record] = tests as [ColumnTest, ColumnTest, ColumnTest];
  const body: string[] = ['(local.set $m (i32.const 0))'];
  COLUMNS.forEach((column, c) => {
    const test = tests[c] as ColumnTest;
    if (test === 'none') return;
    body.push(...columnMask(column, test), '(local.set $m (i32.or (local.get $m) (local.get $bits)))');
  });
  const store = LANES.flatMap((k) => [
    `(i32.store offset=${hex(L.out)} (i32.shl (local.get $count) (i32.const 2)) (i32.add (local.get $at) (i32.const ${k})))`,
    `(local.set $count (i32.add (local.get $count) (i32.and (i32.shr_u (local.get $m) (i32.const ${k})) (i32.const 1))))`,
  ]);
  const registers = Array.from({ length: 12 }, (_, k) => k);
  return `
  (func (export "${kernelName(bu, owner, record)}")
    (param $n i32) (param $base i32) (param $buLimit i32) (param $ownerLimit i32) (param $sharedLimit i32) (result i32)
    (local $i i32) (local $p i32) (local $m i32) (local $bits i32) (local $count i32) (local $at i32) (local $v v128)
    (local $buLimitV v128) (local $ownerLimitV v128) (local $sharedLimitV v128)
    ${registers.map((k) => `(local $r${k} v128)`).join(' ')}
    ${registers.map((k) => `(local.set $r${k} (v128.load32_splat offset=${hex(L.registers + 4 * k)} (i32.const 0)))`).join('\n    ')}
    (local.set $buLimitV (i32x4.splat (local.get $buLimit)))
    (local.set $ownerLimitV (i32x4.splat (local.get $ownerLimit)))
    (local.set $sharedLimitV (i32x4.splat (local.get $sharedLimit)))
    (block $done
      (loop $turn
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $p (i32.shl (local.get $i) (i32.const 2)))
        ${body.join('\n        ')}
        (if (local.get $m)
          (then
            (local.set $at (i32.add (local.get $base) (local.get $i)))
            ${store.join('\n            ')}))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $turn)))
    (local.get $count))`;
}

/** The module: its memory and one kernel per combination of column tests (all `none` excepted). */
export function rowsWat(): string {
  const kernels: string[] = [];
  for (const bu of TESTS) {
    for (const owner of TESTS) {
      for (const record of TESTS) {
        if (bu !== 'none' || owner !== 'none' || record !== 'none') kernels.push(kernel([bu, owner, record]));
      }
    }
  }
  return `;; Generated by packages/core/kernel/rows-wat.ts.
(module
  (memory (export "memory") ${L.pages} ${L.pages})${kernels.join('\n')})
`;
}
