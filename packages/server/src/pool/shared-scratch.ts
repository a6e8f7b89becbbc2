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
}

/** Lays typed arrays out one after another in a shared region. */
export class SharedLayout {
  private readonly buffer: SharedArrayBuffer;
  private offset: number;

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.offset = 0;
  }

  /** A copy of `source` in the region (or, with a length, an empty array of that many elements). */
  int32(source: Int32Array | Uint32Array): Int32Array {
    const array = new Int32Array(this.buffer, this.take(source.length * 4), source.length);
    array.set(source);
    return array;
  }

  uint32(length: number): Uint32Array {
    return new Uint32Array(this.buffer, this.take(length * 4), length);
  }

  private take(bytes: number): number {
    const at = this.offset;
    this.offset += bytes;
    return at;
  }
}
