/**
 * Where an import reads its world from: a parsed object, the bytes of a JSON or MessagePack
 * document (as `Engine.fromWorld` takes them), or a file holding one. JSON is parsed value by
 * value (json-world.ts), never as one string; MessagePack is decoded as the core loader does.
 */
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import type { WorldInput } from '@palisade/core';
import { decodeWorld, isJsonWorld } from '@palisade/core/internal';
import { parseJsonWorld } from './json-world.js';

export type WorldSource = WorldInput | Uint8Array | { readonly file: string };

const READ_CHUNK = 1 << 20;

/** The world `source` names, decoded but not validated (the loader's job). */
export async function readWorldSource(source: WorldSource): Promise<WorldInput> {
  if (source instanceof Uint8Array) return decodeWorldBytes(source);
  if (isFile(source)) return readWorldFile(source.file);
  return source;
}

function isFile(source: WorldInput | { readonly file: string }): source is { readonly file: string } {
  // A world has no `file` field (the loader would refuse it), so the two cannot be confused.
  return 'file' in source && typeof source.file === 'string';
}

export async function decodeWorldBytes(bytes: Uint8Array): Promise<WorldInput> {
  if (isJsonWorld(bytes)) return (await parseJsonWorld([bytes])) as WorldInput;
  return unpack(bytes);
}

/** Reads a JSON or MessagePack world file (told apart by its first byte, as the core loader does). */
export async function readWorldFile(path: string): Promise<WorldInput> {
  const handle = await open(path, 'r');
  let head: Uint8Array;
  try {
    const probe = Buffer.alloc(64);
    const { bytesRead } = await handle.read(probe, 0, probe.length, 0);
    head = probe.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  if (isJsonWorld(head)) {
    return (await parseJsonWorld(createReadStream(path, { highWaterMark: READ_CHUNK }))) as WorldInput;
  }
  return unpack(await readFile(path));
}

function unpack(bytes: Uint8Array): WorldInput {
  return decodeWorld(bytes) as WorldInput;
}
