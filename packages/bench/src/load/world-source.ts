/**
 * The world a load run talks about: a generated preset or a world file, read into a `WorldInput`
 * for the questions and the verifiers, and written to a file when a started server must load it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorldInput } from '@palisade/core';
import { Unpackr } from 'msgpackr';
import { generateWorld, PRESETS } from '../generate/world.js';
import { writeWorld } from '../generate/write.js';
import type { WorldSpec } from './options.js';

/** The server's default world: with `--url` and no world, its ids are the best guess. */
const SAMPLE_WORLD = fileURLToPath(new URL('../../../../fixtures/worlds/sample.json', import.meta.url));

export interface LoadedWorld {
  /** For people: `preset medium`, a file path, … */
  readonly label: string;
  readonly world: WorldInput;
  /** The file it came from, if any (a started server loads it as is). */
  readonly file: string | null;
  /** False when the world is only a stand-in (no world given): answers cannot be verified. */
  readonly known: boolean;
}

// Standard MessagePack, as the world writer and the engine read it.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** Generates or reads the world `spec` names; null: the sample world's ids, as a stand-in. */
export async function loadWorld(spec: WorldSpec | null): Promise<LoadedWorld> {
  if (spec === null) {
    return {
      label: 'unknown (questions use the sample world ids)',
      world: await readWorld(SAMPLE_WORLD),
      file: null,
      known: false,
    };
  }
  if ('preset' in spec) {
    return { label: `preset ${spec.preset}`, world: generateWorld(PRESETS[spec.preset]), file: null, known: true };
  }
  return { label: spec.file, world: await readWorld(spec.file), file: spec.file, known: true };
}

/** A file the server can load: the world's own, else the generated world written (MessagePack) into `dir`. */
export async function worldFile(loaded: LoadedWorld, dir: string): Promise<string> {
  if (loaded.file !== null) return loaded.file;
  const file = join(dir, 'world.msgpack');
  await writeWorld(loaded.world, file, 'msgpack');
  return file;
}

/** JSON or MessagePack, by the first byte as the engine decides; not validated (the engine does that). */
async function readWorld(file: string): Promise<WorldInput> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new Error(`cannot read world file ${file}: ${(error as Error).message}`);
  }
  const first = bytes.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
  try {
    const value: unknown = first === 0x7b ? JSON.parse(bytes.toString('utf8')) : unpackr.unpack(bytes);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as WorldInput;
  } catch (error) {
    throw new Error(`world file ${file} is neither a json nor a messagepack world: ${(error as Error).message}`);
  }
}
