/**
 * Streaming a generated world to a file without holding its records: lists are `LazyList`s that
 * generate their items again on demand, and the writer packs them one by one. The file is the same
 * kind the server's writer (`writeWorldFile`, packages/server/src/store/world-file.ts) produces: a
 * JSON document with one list item per line, or standard MessagePack (`useRecords: false`) with
 * array32 headers, which `Engine.fromWorld` and `palisade import` read.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { arrayHeader, mapHeader } from '@palisade/server';
import { Packr } from 'msgpackr';

export type WorldFormat = 'json' | 'msgpack';

/** A list whose items are generated (again) each time they are asked for; its length may need a pass to know. */
export class LazyList<T> {
  private known: number | undefined;

  constructor(
    private readonly source: () => Iterable<T>,
    count?: number,
  ) {
    this.known = count;
  }

  items(): Iterable<T> {
    return this.source();
  }

  /** The number of items: given, or counted by generating them once (and remembered). */
  count(): number {
    if (this.known === undefined) {
      let n = 0;
      for (const _ of this.source()) n++;
      this.known = n;
    }
    return this.known;
  }

  toArray(): T[] {
    const out: T[] = [];
    for (const item of this.source()) out.push(item);
    this.known = out.length;
    return out;
  }
}

/** A world's top-level entries in file order; a value is written as it is, an array or a `LazyList` item by item. */
export type WorldEntries = readonly (readonly [key: string, value: unknown])[];

// Standard MessagePack, as everywhere in Palisade: no record extension.
const packr = new Packr({ useRecords: false });
const FLUSH_BYTES = 1 << 20;
/** Items packed in one call (as an array whose header is cut off): far fewer calls into msgpackr. */
const PACK_BATCH = 512;

/**
 * Writes `entries` to `path`. `onProgress(items written, items in all)` is called after each
 * flushed megabyte; the total counts every list item (counting a `LazyList` once when needed,
 * which the MessagePack array header needs anyway).
 */
export async function writeWorldStream(
  entries: WorldEntries,
  path: string,
  format: WorldFormat,
  onProgress: (written: number, total: number) => void = () => {},
): Promise<{ items: number; bytes: number }> {
  const sized = entries
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => {
      const length = value instanceof LazyList ? value.count() : Array.isArray(value) ? value.length : -1;
      return { key, value, length };
    });
  const total = sized.reduce((n, entry) => n + Math.max(1, entry.length), 0);

  const out = createWriteStream(path);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  let chunks: (string | Uint8Array)[] = [];
  let pending = 0;
  let written = 0;
  let bytes = 0;
  const flush = async () => {
    if (chunks.length === 0) return;
    const data = format === 'json' ? (chunks as string[]).join('') : Buffer.concat(chunks as Uint8Array[]);
    chunks = [];
    pending = 0;
    bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (!out.write(data)) await Promise.race([once(out, 'drain'), failed]);
    onProgress(written, total);
  };
  const push = (chunk: string | Uint8Array) => {
    chunks.push(chunk);
    pending += chunk.length;
  };

  if (format === 'json') {
    push('{');
    for (const [index, { key, value, length }] of sized.entries()) {
      push(`${index === 0 ? '' : ','}\n${JSON.stringify(key)}: `);
      if (length < 0) {
        push(JSON.stringify(value));
        written++;
        continue;
      }
      push('[');
      let first = true;
      for (const item of items(value)) {
        push(`${first ? '\n  ' : ',\n  '}${JSON.stringify(item)}`);
        first = false;
        written++;
        if (pending >= FLUSH_BYTES) await flush();
      }
      push(first ? ']' : '\n]');
    }
    push('\n}\n');
  } else {
    push(mapHeader(sized.length));
    for (const { key, value, length } of sized) {
      push(packr.pack(key));
      if (length < 0) {
        push(packr.pack(value));
        written++;
        continue;
      }
      push(arrayHeader(length));
      let batch: unknown[] = [];
      let count = 0;
      for (const item of items(value)) {
        batch.push(item);
        if (batch.length === PACK_BATCH) {
          push(packItems(batch));
          written += batch.length;
          count += batch.length;
          batch = [];
          if (pending >= FLUSH_BYTES) await flush();
        }
      }
      if (batch.length > 0) push(packItems(batch));
      written += batch.length;
      count += batch.length;
      if (count !== length) throw new Error(`${key}: wrote ${count} items, the header says ${length}`);
    }
  }
  await flush();
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
  return { items: written, bytes };
}

function items(value: unknown): Iterable<unknown> {
  return value instanceof LazyList ? value.items() : (value as unknown[]);
}

/** The items' MessagePack, back to back: `items` packed as one array, without the array's header. */
function packItems(batch: readonly unknown[]): Uint8Array {
  const packed = packr.pack(batch);
  const headerLength = batch.length < 16 ? 1 : batch.length < 0x10000 ? 3 : 5;
  return packed.subarray(headerLength);
}
