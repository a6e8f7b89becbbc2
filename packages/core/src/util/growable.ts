/** Returns `array` if it holds `needed` items, else a larger copy (doubling, so appends stay amortized O(1)). */
export function ensureInt32(array: Int32Array, needed: number, fill = -1): Int32Array {
  if (needed <= array.length) return array;
  const next = new Int32Array(Math.max(needed, array.length * 2, 16));
  next.set(array);
  next.fill(fill, array.length);
  return next;
}

export function ensureUint8(array: Uint8Array, needed: number): Uint8Array {
  if (needed <= array.length) return array;
  const next = new Uint8Array(Math.max(needed, array.length * 2, 16));
  next.set(array);
  return next;
}
