/**
 * Flat bitsets over dense ids: what hot loops read. Roaring bitmaps hold the same sets for
 * storage, algebra and the portable format; a bitset test is one load and two shifts.
 */
export function bitsetWords(size: number): number {
  return (size + 31) >>> 5;
}

export function bitsetHas(bits: Uint32Array, index: number): boolean {
  return ((bits[index >>> 5] as number) & (1 << (index & 31))) !== 0;
}

export function bitsetAdd(bits: Uint32Array, index: number): void {
  bits[index >>> 5] = (bits[index >>> 5] as number) | (1 << (index & 31));
}

export function bitsetFromIndexes(size: number, indexes: Iterable<number>): Uint32Array {
  const bits = new Uint32Array(bitsetWords(size));
  for (const index of indexes) bitsetAdd(bits, index);
  return bits;
}
