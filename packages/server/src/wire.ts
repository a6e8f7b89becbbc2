/**
 * The two encodings on the wire: JSON and standard MessagePack.
 *
 * Binary data (filter's row indexes, lookup's roaring bitmap) travels as MessagePack `bin` and as
 * JSON numbers or base64. A list of 32-bit indexes is the `bin` of its bytes, little-endian,
 * 4 bytes per index: any MessagePack library can read it, unlike msgpackr's typed-array extension.
 */
import { endianness } from 'node:os';
import { C1, Packr, Unpackr } from 'msgpackr';

export type Wire = 'json' | 'msgpack';

export const JSON_TYPE = 'application/json';
export const MSGPACK_TYPE = 'application/msgpack';
/** Media types read as MessagePack: the registered one and the older unregistered name. */
export const MSGPACK_TYPES = [MSGPACK_TYPE, 'application/x-msgpack'] as const;

// One instance of each for the process: building them compiles nothing, but they keep buffers.
// `useRecords: false`: msgpackr's default record extension is not standard MessagePack.
const packr = new Packr({ useRecords: false });
// `structuredClone: false` turns off msgpackr's reference extensions (which can build cycles);
// 64-bit integers read as numbers, so an encoder that always writes 64-bit ints is understood.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, structuredClone: false, int64AsType: 'number' });

export function encodeMsgpack(value: unknown): Buffer {
  return packr.pack(value);
}

/** Decodes one MessagePack value; throws on malformed, truncated or trailing bytes. */
export function decodeMsgpack(bytes: Uint8Array): unknown {
  const value = unpackr.unpack(bytes);
  // msgpackr reads the reserved byte 0xc1 as a marker object rather than failing.
  if (value === C1) throw new Error('0xc1 is not a MessagePack value');
  return value;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * 32-bit indexes for the response: numbers in JSON, raw little-endian bytes in MessagePack.
 * (msgpackr must never see a `Uint32Array` itself: it would write one byte per element.)
 */
export function indexesOut(wire: Wire, values: Uint32Array): number[] | Buffer {
  if (wire === 'json') return Array.from(values);
  if (LITTLE_ENDIAN) return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const bytes = Buffer.alloc(values.byteLength);
  for (let i = 0; i < values.length; i++) bytes.writeUInt32LE(values[i] as number, i * 4);
  return bytes;
}

/** Opaque bytes for the response: base64 in JSON, `bin` in MessagePack. */
export function bytesOut(wire: Wire, bytes: Uint8Array): string | Buffer {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return wire === 'json' ? buffer.toString('base64') : buffer;
}

/** True for the binary forms a list of 32-bit indexes may arrive in (MessagePack only). */
export function isIndexBytes(value: unknown): boolean {
  if (value instanceof Uint32Array || value instanceof Int32Array) return true;
  return value instanceof Uint8Array && value.byteLength % 4 === 0;
}

/**
 * A request's list of 32-bit indexes as a `Uint32Array`: from JSON numbers, from `bin` bytes
 * (little-endian), or from msgpackr's typed-array extension. Copies only when it must.
 */
export function indexesIn(value: readonly number[] | Uint8Array | Uint32Array | Int32Array): Uint32Array {
  if (Array.isArray(value)) return Uint32Array.from(value as readonly number[]);
  if (value instanceof Uint32Array) return value;
  if (value instanceof Int32Array) return new Uint32Array(value.buffer, value.byteOffset, value.length);
  const bytes = value as Uint8Array;
  const count = bytes.byteLength >>> 2;
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, count);
  const out = new Uint32Array(count);
  if (LITTLE_ENDIAN) {
    // A `bin` at an odd offset in the body: one byte copy, not a DataView read per index.
    new Uint8Array(out.buffer).set(bytes.subarray(0, count * 4));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

/**
 * The response encoding: the best of JSON and MessagePack by the Accept header's q-values; with no
 * Accept (or only wildcards) the request body's own encoding, else JSON. Accept naming neither
 * falls back to JSON rather than failing (RFC 9110 §12.5.1 allows ignoring Accept).
 */
export function negotiate(accept: string | undefined, contentType: string | undefined): Wire {
  const bodyWire: Wire = contentType !== undefined && isMsgpackType(contentType) ? 'msgpack' : 'json';
  if (accept === undefined || accept === '' || accept === '*/*') return bodyWire;
  // Fast paths for the exact values clients send.
  if (accept === JSON_TYPE) return 'json';
  if (accept === MSGPACK_TYPE || accept === 'application/x-msgpack') return 'msgpack';
  let jsonQ = 0;
  let msgpackQ = 0;
  let jsonSpecific = false;
  let msgpackSpecific = false;
  for (const range of accept.split(',')) {
    const [rawType = '', ...params] = range.split(';');
    const type = rawType.trim().toLowerCase();
    let q = 1;
    for (const param of params) {
      const [name, value] = param.split('=');
      if (name?.trim().toLowerCase() === 'q') {
        const parsed = Number(value);
        q = Number.isFinite(parsed) ? Math.min(Math.max(parsed, 0), 1) : 0;
      }
    }
    if (type === JSON_TYPE) {
      jsonQ = q;
      jsonSpecific = true;
    } else if (type === MSGPACK_TYPE || type === 'application/x-msgpack') {
      msgpackQ = Math.max(q, msgpackSpecific ? msgpackQ : 0);
      msgpackSpecific = true;
    } else if (type === '*/*' || type === 'application/*') {
      if (!jsonSpecific) jsonQ = Math.max(jsonQ, q);
      if (!msgpackSpecific) msgpackQ = Math.max(msgpackQ, q);
    }
  }
  if (jsonQ === msgpackQ) return jsonQ === 0 ? 'json' : bodyWire;
  return msgpackQ > jsonQ ? 'msgpack' : 'json';
}

export function isMsgpackType(contentType: string): boolean {
  const type = contentType.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return type === MSGPACK_TYPE || type === 'application/x-msgpack';
}
