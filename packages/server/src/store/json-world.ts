/**
 * A JSON world read from byte chunks without ever holding it as one string (V8 stops near 512 MiB,
 * about 4M records): the top-level object's values are parsed one at a time, and a top-level array
 * item by item, each with `JSON.parse`. The result is the value `JSON.parse` would give for the
 * whole document. Structure is found on bytes: JSON's structural characters are ASCII, and no byte
 * of a multi-byte UTF-8 character is, so a scan never mistakes one for another.
 */
import { ErrorCodes, PalisadeError } from '@palisade/core';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function malformed(message: string): PalisadeError {
  return new PalisadeError(ErrorCodes.WORLD_MALFORMED, `world is not valid json: ${message}`);
}

/** The bytes read so far that are not consumed yet, refilled from the chunks on demand. */
class ByteWindow {
  private buffer: Buffer = Buffer.alloc(0);
  /** Offset in the document of `buffer[0]`, for error messages. */
  private base = 0;
  pos = 0;
  done = false;

  constructor(private readonly chunks: AsyncIterator<Uint8Array> | Iterator<Uint8Array>) {}

  get bytes(): Buffer {
    return this.buffer;
  }

  /** Appends the next chunk (dropping what is consumed); false at the end of the input. */
  async more(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.chunks.next();
    if (next.done === true) {
      this.done = true;
      return false;
    }
    this.base += this.pos;
    this.buffer = Buffer.concat([this.buffer.subarray(this.pos), next.value]);
    this.pos = 0;
    return true;
  }

  /** The next byte that is not white space (not consumed), or undefined at the end. */
  async peek(): Promise<number | undefined> {
    for (;;) {
      while (this.pos < this.buffer.length && isSpace(this.buffer[this.pos])) this.pos++;
      if (this.pos < this.buffer.length) return this.buffer[this.pos];
      if (!(await this.more())) return undefined;
    }
  }

  async expect(byte: number, what: string): Promise<void> {
    if ((await this.peek()) !== byte) throw malformed(`expected ${what} at byte ${this.offset}`);
    this.pos++;
  }

  /** Parses the JSON value that starts at the next non-space byte and consumes it. */
  async value(): Promise<unknown> {
    const first = await this.peek();
    if (first === undefined) throw malformed('unexpected end of input');
    let end = scanValue(this.buffer, this.pos, this.done);
    while (end === -1) {
      const more = await this.more();
      end = scanValue(this.buffer, this.pos, !more);
      if (end === -1 && !more) throw malformed('unexpected end of input');
    }
    const text = this.buffer.toString('utf8', this.pos, end);
    const at = this.offset;
    this.pos = end;
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw malformed(`${(error as Error).message} (in the value at byte ${at})`);
    }
  }

  get offset(): number {
    return this.base + this.pos;
  }
}

/** The end (exclusive) of the value starting at `i`, or -1 when the bytes end first. */
function scanValue(bytes: Buffer, i: number, atEnd: boolean): number {
  const first = bytes[i];
  if (first === QUOTE) return scanString(bytes, i);
  if (first === OPEN_OBJECT || first === OPEN_ARRAY) {
    let depth = 0;
    let j = i;
    while (j < bytes.length) {
      const b = bytes[j];
      if (b === QUOTE) {
        j = scanString(bytes, j);
        if (j === -1) return -1;
        continue;
      }
      if (b === OPEN_OBJECT || b === OPEN_ARRAY) depth++;
      else if ((b === CLOSE_OBJECT || b === CLOSE_ARRAY) && --depth === 0) return j + 1;
      j++;
    }
    return -1;
  }
  // A number, true, false or null: up to the next delimiter (JSON.parse judges what it is).
  let j = i;
  while (j < bytes.length) {
    const b = bytes[j];
    if (b === COMMA || b === CLOSE_OBJECT || b === CLOSE_ARRAY || b === COLON || isSpace(b)) return j;
    j++;
  }
  return atEnd ? j : -1;
}

/** The end (after the closing quote) of the string starting at `i`, or -1. */
function scanString(bytes: Buffer, i: number): number {
  let from = i + 1;
  for (;;) {
    const quote = bytes.indexOf(QUOTE, from);
    if (quote === -1) return -1;
    let k = quote - 1;
    while (bytes[k] === BACKSLASH) k--;
    if ((quote - 1 - k) % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** Parses a JSON document whose top level is an object, from its bytes in chunks. */
export async function parseJsonWorld(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<unknown> {
  const iterator =
    Symbol.asyncIterator in chunks
      ? (chunks as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
      : (chunks as Iterable<Uint8Array>)[Symbol.iterator]();
  const input = new ByteWindow(iterator);
  while (input.bytes.length - input.pos < 3 && (await input.more()));
  // A byte order mark, as TextDecoder would drop it.
  if (input.bytes[input.pos] === 0xef && input.bytes[input.pos + 1] === 0xbb && input.bytes[input.pos + 2] === 0xbf) {
    input.pos += 3;
  }
  const world: Record<string, unknown> = {};
  await input.expect(OPEN_OBJECT, '`{`');
  if ((await input.peek()) === CLOSE_OBJECT) {
    input.pos++;
  } else {
    for (;;) {
      if ((await input.peek()) !== QUOTE) throw malformed(`expected a key at byte ${input.offset}`);
      const key = (await input.value()) as string;
      await input.expect(COLON, '`:`');
      let value: unknown;
      if ((await input.peek()) === OPEN_ARRAY) {
        input.pos++;
        const items: unknown[] = [];
        if ((await input.peek()) === CLOSE_ARRAY) {
          input.pos++;
        } else {
          for (;;) {
            items.push(await input.value());
            const next = await input.peek();
            input.pos++;
            if (next === CLOSE_ARRAY) break;
            if (next !== COMMA) throw malformed(`expected \`,\` or \`]\` at byte ${input.offset - 1}`);
          }
        }
        value = items;
      } else {
        value = await input.value();
      }
      // As JSON.parse does: an own property, even for `__proto__`.
      Object.defineProperty(world, key, { value, enumerable: true, writable: true, configurable: true });
      const next = await input.peek();
      input.pos++;
      if (next === CLOSE_OBJECT) break;
      if (next !== COMMA) throw malformed(`expected \`,\` or \`}\` at byte ${input.offset - 1}`);
    }
  }
  if ((await input.peek()) !== undefined) throw malformed(`unexpected data after the world at byte ${input.offset}`);
  return world;
}
