/**
 * The engine's long-lived columns live in SharedArrayBuffers: worker threads read them without a
 * copy (posting a shared-memory typed array shares it). Access costs the same as ordinary memory.
 */
export function sharedInt32(length: number, fill = 0): Int32Array {
  const array = new Int32Array(new SharedArrayBuffer(length * 4));
  if (fill !== 0) array.fill(fill);
  return array;
}

export function sharedUint8(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

export function sharedUint32(length: number): Uint32Array {
  return new Uint32Array(new SharedArrayBuffer(length * 4));
}

/** A copy in shared memory, or `array` itself when it already lives there. */
export function inSharedMemory<T extends Int32Array | Uint32Array>(array: T): T {
  if (array.buffer instanceof SharedArrayBuffer) return array;
  const copy = (array instanceof Int32Array ? sharedInt32(array.length) : sharedUint32(array.length)) as T;
  copy.set(array);
  return copy;
}

/** Returns `array` if it holds `needed` items, else a larger copy (doubling, so appends stay amortized O(1)). */
export function ensureInt32(array: Int32Array, needed: number, fill = -1): Int32Array {
  if (needed <= array.length) return array;
  const next = sharedInt32(Math.max(needed, array.length * 2, 16));
  next.set(array);
  next.fill(fill, array.length);
  return next;
}

/**
 * `ensureInt32` for arrays that no worker reads (interning tables, scratch): ordinary memory.
 * The new tail holds `fill`.
 */
export function growInt32(array: Int32Array, needed: number, fill = 0): Int32Array {
  if (needed <= array.length) return array;
  const next = new Int32Array(Math.max(needed, array.length * 2, 16));
  next.set(array);
  if (fill !== 0) next.fill(fill, array.length);
  return next;
}

export function growUint8(array: Uint8Array, needed: number): Uint8Array {
  if (needed <= array.length) return array;
  const next = new Uint8Array(Math.max(needed, array.length * 2, 16));
  next.set(array);
  return next;
}

export function ensureUint8(array: Uint8Array, needed: number): Uint8Array {
  if (needed <= array.length) return array;
  const next = sharedUint8(Math.max(needed, array.length * 2, 16));
  next.set(array);
  return next;
}
