/**
 * One reusable region of shared memory for handing a request's rows to the workers. A fresh
 * SharedArrayBuffer costs page faults on every call (for a 1M-row filter, more than filtering
 * inline); a warm one costs only the copy. One request holds it at a time: a request that finds it
 * taken is answered inline, which is what it would cost without a pool.
 */
export class SharedScratch {
  private buffer: SharedArrayBuffer;
  private taken: boolean;

  constructor() {
    this.buffer = new SharedArrayBuffer(0);
    this.taken = false;
  }

  /** The region, at least `bytes` long, or null while another request holds it. */
  acquire(bytes: number): SharedArrayBuffer | null {
    if (this.taken) return null;
    if (this.buffer.byteLength < bytes)
      this.buffer = new SharedArrayBuffer(Math.max(bytes, this.buffer.byteLength * 2));
    this.taken = true;
    return this.buffer;
  }

  release(): void {
    this.taken = false;
  }

  /**
   * Gives the region up for good: a worker being terminated may still write into it (a range
   * aborted at its deadline). The next request gets a fresh one; this one is freed once no thread
   * holds it any more.
   */
  abandon(): void {
    this.buffer = new SharedArrayBuffer(0);
    this.taken = false;
  }
}

/**
 * Shared regions for requests that may run side by side (column batches): each takes a region of
 * its own and gives it back when its workers are done, so a region is reused warm rather than a
 * fresh SharedArrayBuffer paid for in page faults per request (~30–80 µs for a 10,000-item batch's
 * 140 KB, against ~4 µs warm). At most `keepBytes` of free regions are kept.
 */
export class SharedRegions {
  private readonly free: SharedArrayBuffer[];
  private freeBytes: number;
  private keepBytes: number;

  constructor(keepBytes: number) {
    this.free = [];
    this.freeBytes = 0;
    this.keepBytes = keepBytes;
  }

  /** A region of at least `bytes`: a free one that fits, else a new one. Its contents are not cleared. */
  acquire(bytes: number): SharedArrayBuffer {
    for (let i = this.free.length - 1; i >= 0; i--) {
      const region = this.free[i] as SharedArrayBuffer;
      if (region.byteLength >= bytes) {
        this.free.splice(i, 1);
        this.freeBytes -= region.byteLength;
        return region;
      }
    }
    return new SharedArrayBuffer(bytes);
  }

  /**
   * Keeps no region from now on: at shutdown the pool rejects running tasks before their workers
   * have stopped, so a region given back then may still be written.
   */
  stopKeeping(): void {
    this.keepBytes = 0;
    this.free.length = 0;
    this.freeBytes = 0;
  }

  /** Gives a region back; no worker may still be reading or writing it. */
  release(region: SharedArrayBuffer): void {
    if (this.freeBytes + region.byteLength > this.keepBytes) return;
    this.free.push(region);
    this.freeBytes += region.byteLength;
  }
}

/** Lays typed arrays out one after another in a shared region, each aligned to its element size. */
export class SharedLayout {
  private readonly buffer: SharedArrayBuffer;
  private offset: number;

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.offset = 0;
  }

  /** Bytes a layout of these arrays needs at most: their sizes plus the alignment padding. */
  static bytes(arrays: readonly { readonly length: number; readonly elementBytes: 1 | 4 }[]): number {
    let bytes = 0;
    for (const array of arrays) bytes += array.length * array.elementBytes + (array.elementBytes - 1);
    return bytes;
  }

  /** A copy of `source` in the region. */
  copyInt32(source: Int32Array | Uint32Array): Int32Array {
    const array = this.int32(source.length);
    array.set(source);
    return array;
  }

  /** An array of `length` elements in the region, holding whatever the region held (not zeroed). */
  int32(length: number): Int32Array {
    return new Int32Array(this.buffer, this.take(length * 4, 4), length);
  }

  uint32(length: number): Uint32Array {
    return new Uint32Array(this.buffer, this.take(length * 4, 4), length);
  }

  uint8(length: number): Uint8Array {
    return new Uint8Array(this.buffer, this.take(length, 1), length);
  }

  private take(bytes: number, align: number): number {
    const at = Math.ceil(this.offset / align) * align;
    if (at + bytes > this.buffer.byteLength) {
      throw new RangeError(`a shared layout of ${this.buffer.byteLength} bytes has no room for ${bytes} more`);
    }
    this.offset = at + bytes;
    return at;
  }
}
