/**
 * Writes a world to a file item by item, so a world of any size streams to disk: JSON text stops
 * at V8's string limit near 4M records, and one MessagePack buffer for 10M records would need
 * gigabytes. The output is an ordinary JSON document or MessagePack map that `Engine.fromWorld`
 * and `palisade import` read.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { WorldInput } from '@palisade/core';
import { Packr } from 'msgpackr';

export type WorldFileFormat = 'json' | 'msgpack';

// Standard MessagePack, as everywhere in Palisade: no record extension.
const packr = new Packr({ useRecords: false });
const FLUSH_BYTES = 1 << 20;

/** The format a file name asks for: `.json`, or `.msgpack` / `.mpk`; null for anything else. */
export function worldFileFormat(path: string): WorldFileFormat | null {
  if (/\.json$/i.test(path)) return 'json';
  if (/\.(msgpack|mpk)$/i.test(path)) return 'msgpack';
  return null;
}

/** Writes `world` to `path`; `onProgress(items written, items in all)` after each flushed megabyte. */
export async function writeWorldFile(
  world: WorldInput,
  path: string,
  format: WorldFileFormat,
  onProgress: (written: number, total: number) => void = () => {},
): Promise<void> {
  const out = createWriteStream(path);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  const chunks: (string | Uint8Array)[] = [];
  let pending = 0;
  const flush = async () => {
    if (chunks.length === 0) return;
    const data = format === 'json' ? (chunks as string[]).join('') : Buffer.concat(chunks as Uint8Array[]);
    chunks.length = 0;
    pending = 0;
    if (!out.write(data)) await Promise.race([once(out, 'drain'), failed]);
    onProgress(written, total);
  };
  const push = async (chunk: string | Uint8Array) => {
    chunks.push(chunk);
    pending += chunk.length;
    if (pending >= FLUSH_BYTES) await flush();
  };

  const entries = Object.entries(world).filter(([, value]) => value !== undefined);
  const total = entries.reduce((n, [, value]) => n + (Array.isArray(value) ? value.length : 1), 0);
  let written = 0;
  if (format === 'json') {
    await push('{');
    for (const [index, [key, value]] of entries.entries()) {
      await push(`${index === 0 ? '' : ','}\n${JSON.stringify(key)}: `);
      if (!Array.isArray(value)) {
        await push(JSON.stringify(value));
        written++;
        continue;
      }
      await push('[');
      for (let i = 0; i < value.length; i++) {
        await push(`${i === 0 ? '\n  ' : ',\n  '}${JSON.stringify(value[i])}`);
        written++;
      }
      await push(value.length === 0 ? ']' : '\n]');
    }
    await push('\n}\n');
  } else {
    await push(mapHeader(entries.length));
    for (const [key, value] of entries) {
      await push(packr.pack(key));
      if (!Array.isArray(value)) {
        await push(packr.pack(value));
        written++;
        continue;
      }
      await push(arrayHeader(value.length));
      for (const item of value) {
        await push(packr.pack(item));
        written++;
      }
    }
  }
  await flush();
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
}

/** A MessagePack map header: fixmap up to 15 entries, else map16. */
export function mapHeader(size: number): Uint8Array {
  return size < 16 ? Uint8Array.of(0x80 | size) : Uint8Array.of(0xde, size >>> 8, size & 0xff);
}

/** A MessagePack array32 header: fits any length. */
export function arrayHeader(length: number): Uint8Array {
  const header = new Uint8Array(5);
  header[0] = 0xdd;
  new DataView(header.buffer).setUint32(1, length);
  return header;
}
