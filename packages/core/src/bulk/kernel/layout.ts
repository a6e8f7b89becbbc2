/**
 * The row kernel's memory (see `kernel/rows-wat.ts`, which emits the WebAssembly that reads it, and
 * `rows-kernel.ts`, which fills it). Byte offsets in one fixed memory per thread. Each table's last
 * entry is never set: a column value outside a table's range is replaced by that entry's index.
 */
export const KernelLayout = {
  /** Registers: four BU indexes, four owner indexes, four record indexes (i32 each). */
  registers: 0x0,
  /** One byte per BU index, 1 when the grant covers it. */
  buTable: 0x1_0000,
  buSentinel: 0xf_ffff,
  /** One byte per principal index, 1 when its rows are in the owner scope. */
  ownerTable: 0x11_0000,
  ownerSentinel: 0x3f_ffff,
  /** One bit per stored record, set when the record is shared usably. */
  sharedBits: 0x51_0000,
  sharedSentinel: 0x1ff_ffff,
  /** A block of caller rows: BU, owner and record columns, BLOCK_ROWS each. */
  buColumn: 0x91_0000,
  ownerColumn: 0x92_0000,
  recordColumn: 0x93_0000,
  /** Allowed positions of one block (BLOCK_ROWS, and one quad the last may spill). */
  out: 0x94_0000,
  /** Memory size in 64 KiB pages. */
  pages: 150,
} as const;

/** Rows per block: one column of a block fills the 64 KiB between two column offsets. */
export const BLOCK_ROWS = 16_384;

/** How a kernel tests one column: not at all, against up to four registers, or in a table. */
export type ColumnTest = 'none' | 'registers' | 'table';

/** The exported function testing BUs, owners and records so (`table` for records is the bitset). */
export function kernelName(bu: ColumnTest, owner: ColumnTest, record: ColumnTest): string {
  return `rows_${bu}_${owner}_${record}`;
}
