/**
 * msgpackr decodes its own extension types into values no JSON body can hold: `undefined`, dates
 * (the timestamp extension), big integers, sets, regular expressions, error objects, typed arrays
 * of any element type, and records (objects whose keys come from an earlier definition, after
 * which small integers read as records). Schemas do not stop them all: an open object (AuthZEN's
 * `context` and `properties`) takes a date or a set as readily as a map.
 *
 * So a body is scanned before it is decoded, and refused at the first extension value, named by
 * its field. The scan reads only the type bytes and length headers (strings and binary data are
 * skipped whole), once per request. Only the typed arrays `/v1/filter` and `/v1/checks/columns`
 * take as index columns (uint8, int32, uint32) pass: every other extension type is refused, the
 * ones msgpackr knows today and any a later msgpackr (or an `addExtension` anywhere in the
 * process, whose registry is global) would decode into something else.
 */

/** msgpackr's typed-array extension and the element types index columns may arrive as (indexesIn). */
const TYPED_ARRAY = 0x74;
const ACCEPTED_TYPED_ARRAYS = new Set([1 /* Uint8Array */, 5 /* Int32Array */, 6 /* Uint32Array */]);
/** msgpackr's record definition (in fixext 1 and fixext 2). */
const RECORD = 0x72;

/** For messages: what msgpackr decodes its extension types to (unpack.js `currentExtensions`). */
const DECODED_AS: ReadonlyMap<number, string> = new Map([
  [0x00, '`undefined`'],
  [0x42, 'a big integer'],
  [0x62, 'bundled strings'],
  [0x65, 'an error object'],
  [0x73, 'a set'],
  [TYPED_ARRAY, 'a typed array other than uint8, int32 or uint32'],
  [0x78, 'a regular expression'],
  [0xff, 'a timestamp'],
]);

export interface RefusedExtension {
  /** Where in the body, as the errors plugin names fields: `items[3].record`, or `body`. */
  readonly field: string;
  /** What the value would have decoded to, for the message. */
  readonly what: string;
  /** The byte 0xc1, which MessagePack never uses: the body is malformed rather than refused. */
  readonly malformed: boolean;
}

/** The never-used byte: msgpackr decodes it, nested, to its shared `C1` marker object. */
const NEVER_USED = 0xc1;

/** The first msgpackr extension value in one MessagePack value that a request may not hold, or null. */
export function refusedExtension(bytes: Uint8Array): RefusedExtension | null {
  const at = firstRefused(bytes);
  if (at === -1) return null;
  const malformed = bytes[at] === NEVER_USED;
  return { field: fieldAt(bytes, at), what: malformed ? 'the byte 0xc1' : describe(bytes, at), malformed };
}

// `skipToken`'s other results, in module variables rather than an object per token: the scan
// runs over every token of every MessagePack body. `children`: entries the token's container
// holds (a map's keys and values each count); `refusedAt`: the token's offset when it is a
// refused extension.
let children = 0;
let refusedAt = -1;

function u16(bytes: Uint8Array, at: number): number {
  return ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
}

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at] as number) * 0x1000000 + (((bytes[at + 1] as number) << 16) | u16(bytes, at + 2));
}

/** An extension of type `type` with its data at `data` (fixext or ext): refused unless an accepted typed array. */
function refusedType(bytes: Uint8Array, type: number, data: number): boolean {
  return type !== TYPED_ARRAY || !ACCEPTED_TYPED_ARRAYS.has(bytes[data] as number);
}

/** The offset after the token at `at`: its header and payload, not a container's entries (they follow it). */
function skipToken(bytes: Uint8Array, at: number): number {
  children = 0;
  const token = bytes[at] as number;
  if (token < 0x80 || token >= 0xe0) return at + 1;
  if (token < 0x90) {
    children = 2 * (token & 0x0f);
    return at + 1;
  }
  if (token < 0xa0) {
    children = token & 0x0f;
    return at + 1;
  }
  if (token < 0xc0) return at + 1 + (token & 0x1f);
  switch (token) {
    case 0xc4: // bin 8
    case 0xd9: // str 8
      return at + 2 + (bytes[at + 1] as number);
    case 0xc5:
    case 0xda:
      return at + 3 + u16(bytes, at + 1);
    case 0xc6:
    case 0xdb:
      return at + 5 + u32(bytes, at + 1);
    case 0xc7: // ext 8: length, type, data
      if (refusedType(bytes, bytes[at + 2] as number, at + 3)) refusedAt = at;
      return at + 3 + (bytes[at + 1] as number);
    case 0xc8:
      if (refusedType(bytes, bytes[at + 3] as number, at + 4)) refusedAt = at;
      return at + 4 + u16(bytes, at + 1);
    case 0xc9:
      if (refusedType(bytes, bytes[at + 5] as number, at + 6)) refusedAt = at;
      return at + 6 + u32(bytes, at + 1);
    case 0xd4: // fixext 1, 2, 4, 8, 16: type, data
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
      if (refusedType(bytes, bytes[at + 1] as number, at + 2)) refusedAt = at;
      return at + 2 + (1 << (token - 0xd4));
    case 0xca:
      return at + 5;
    case 0xcb:
      return at + 9;
    case 0xcc:
    case 0xd0:
      return at + 2;
    case 0xcd:
    case 0xd1:
      return at + 3;
    case 0xce:
    case 0xd2:
      return at + 5;
    case 0xcf:
    case 0xd3:
      return at + 9;
    case 0xdc:
      children = u16(bytes, at + 1);
      return at + 3;
    case 0xdd:
      children = u32(bytes, at + 1);
      return at + 5;
    case 0xde:
      children = 2 * u16(bytes, at + 1);
      return at + 3;
    case 0xdf:
      children = 2 * u32(bytes, at + 1);
      return at + 5;
    case NEVER_USED:
      refusedAt = at;
      return at + 1;
    default: // nil, false, true
      return at + 1;
  }
}

/** The offset of the first refused extension, or -1. Stops at the end of the bytes: truncation is the decoder's to report. */
function firstRefused(bytes: Uint8Array): number {
  refusedAt = -1;
  let pending = 1;
  let at = 0;
  const end = bytes.length;
  while (pending > 0 && at < end) {
    const token = bytes[at] as number;
    // The tokens bodies are mostly made of, inline: small integers and short strings.
    if (token < 0x80) {
      at++;
      pending--;
    } else if (token >= 0xa0 && token < 0xc0) {
      at += 1 + (token & 0x1f);
      pending--;
    } else {
      at = skipToken(bytes, at);
      if (refusedAt !== -1) return refusedAt;
      pending += children - 1;
    }
  }
  return -1;
}

/** The offset after the whole value at `at`, entries included. */
function skipValue(bytes: Uint8Array, at: number): number {
  let pending = 1;
  let next = at;
  while (pending > 0 && next < bytes.length) {
    next = skipToken(bytes, next);
    pending += children - 1;
  }
  return next;
}

function describe(bytes: Uint8Array, at: number): string {
  const token = bytes[at] as number;
  const type = (token >= 0xd4 ? bytes[at + 1] : bytes[at + (token === 0xc7 ? 2 : token === 0xc8 ? 3 : 5)]) as number;
  return type === RECORD ? 'a msgpackr record' : (DECODED_AS.get(type) ?? `an extension value of type ${type}`);
}

interface Frame {
  readonly map: boolean;
  /** Entries (a map's keys and values each count) still to come. */
  left: number;
  /** The position of the entry being read (arrays), or its key (maps). */
  index: number;
  key: string;
}

/**
 * Field names stop at this depth (with `…`): past it the walk would cost time and memory in
 * proportion to the nesting, which a body of nested one-entry arrays makes as deep as it is long.
 */
const MAX_FIELD_DEPTH = 32;
/** Keys longer than this are cut (with `…`) in field names. */
const MAX_KEY_BYTES = 64;

/** The field of the value at `target` (the map holding it, when it is a key), found by walking the containers before it. */
function fieldAt(bytes: Uint8Array, target: number): string {
  const frames: Frame[] = [];
  let deeper = false;
  let at = 0;
  while (at < target && at < bytes.length) {
    const top = frames.at(-1);
    if (top?.map === true && top.left % 2 === 0) {
      // A key: remembered, then skipped whole (msgpackr takes containers as keys too).
      top.key = keyAt(bytes, at);
      at = skipValue(bytes, at);
      top.left--;
      continue;
    }
    const next = skipToken(bytes, at);
    if (children > 0) {
      if (frames.length < MAX_FIELD_DEPTH) {
        frames.push({ map: isMap(bytes[at] as number), left: children, index: 0, key: '' });
        at = next;
        continue;
      }
      // Past the depth names stop at: a container holding the target ends the walk, any other is
      // skipped whole, so a later sibling is still named right.
      const end = skipValue(bytes, at);
      if (target < end) {
        deeper = true;
        break;
      }
      at = end;
    } else {
      at = next;
    }
    // One value done: close every container it completes.
    for (let frame = frames.at(-1); frame !== undefined; frame = frames.at(-1)) {
      frame.left--;
      frame.index++;
      if (frame.left > 0) break;
      frames.pop();
    }
  }
  let name = '';
  for (const frame of frames) {
    const isKey = !deeper && frame === frames.at(-1) && frame.map && frame.left % 2 === 0;
    if (isKey) break;
    name += frame.map ? (name === '' ? frame.key : `.${frame.key}`) : `[${frame.index}]`;
  }
  if (deeper) name += '…';
  return name === '' ? 'body' : name;
}

function isMap(token: number): boolean {
  return (token >= 0x80 && token <= 0x8f) || token === 0xde || token === 0xdf;
}

function keyAt(bytes: Uint8Array, at: number): string {
  const token = bytes[at] as number;
  let start = -1;
  let length = 0;
  if (token >= 0xa0 && token <= 0xbf) {
    start = at + 1;
    length = token & 0x1f;
  } else if (token === 0xd9) {
    start = at + 2;
    length = bytes[at + 1] as number;
  } else if (token === 0xda) {
    start = at + 3;
    length = u16(bytes, at + 1);
  } else if (token === 0xdb) {
    start = at + 5;
    length = u32(bytes, at + 1);
  }
  if (start !== -1) {
    const cut = length > MAX_KEY_BYTES;
    // `fatal: false`: a cut through a character decodes to U+FFFD instead of throwing.
    const key = new TextDecoder().decode(bytes.subarray(start, start + Math.min(length, MAX_KEY_BYTES)));
    return cut ? `${key}…` : key;
  }
  if (token < 0x80) return String(token);
  if (token >= 0xe0) return String(token - 0x100);
  return '?';
}
