import { Unpackr } from 'msgpackr';
import { ErrorCodes, PalisadeError } from '../errors.js';

// Standard MessagePack: no record extension, maps read as plain objects.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/**
 * Turns a world given as JSON text, JSON bytes or MessagePack bytes into plain values. An already
 * parsed value passes through; validation is the loader's job.
 */
export function decodeWorld(input: unknown): unknown {
  if (typeof input === 'string') return parseJson(input);
  if (input instanceof Uint8Array) {
    if (isJsonWorld(input)) return parseJson(new TextDecoder().decode(input));
    try {
      return unpackr.unpack(input);
    } catch (error) {
      throw new PalisadeError(
        ErrorCodes.WORLD_MALFORMED,
        `world bytes are neither json nor messagepack: ${(error as Error).message}`,
      );
    }
  }
  return input;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new PalisadeError(ErrorCodes.WORLD_MALFORMED, `world is not valid json: ${(error as Error).message}`);
  }
}

/**
 * Whether world bytes (or their first few) are JSON rather than MessagePack: a JSON world starts
 * with `{` after any whitespace or byte order mark; a MessagePack map never starts with 0x7b
 * (that is the fixint 123).
 */
export function isJsonWorld(bytes: Uint8Array): boolean {
  return firstNonSpaceByte(bytes) === 0x7b;
}

function firstNonSpaceByte(bytes: Uint8Array): number {
  for (const byte of bytes) {
    if (
      byte !== 0x20 &&
      byte !== 0x0a &&
      byte !== 0x0d &&
      byte !== 0x09 &&
      byte !== 0xef &&
      byte !== 0xbb &&
      byte !== 0xbf
    ) {
      return byte;
    }
  }
  return -1;
}
