/**
 * COPY in PostgreSQL's text format, both ways, streamed: rows go out in chunks of about 256 KiB
 * (a world of millions of records never becomes one string) and come back parsed chunk by chunk.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';

const CHUNK_CHARS = 1 << 18;
const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPED = /[\\\t\n\r]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A text cell: `\N` for null, backslash escapes for the characters the format reserves. */
export function cell(value: string | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPED, (c) => ESCAPES[c] ?? c) : value;
}

/** A `text[]` cell of words that need no quoting (privilege and right names). */
export function wordArray(words: readonly string[]): string {
  return `{${words.join(',')}}`;
}

/** Runs `COPY target (columns) FROM STDIN` with `lines` (each ending in a newline); resolves with the row count. */
export async function copyIn(
  client: pg.ClientBase,
  target: string,
  columns: string,
  lines: Iterable<string>,
): Promise<number> {
  function* chunks(): Generator<string> {
    let chunk = '';
    for (const line of lines) {
      chunk += line;
      if (chunk.length >= CHUNK_CHARS) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk !== '') yield chunk;
  }
  const stream = client.query(copyFrom(`COPY ${target} (${columns}) FROM STDIN`));
  await pipeline(Readable.from(chunks(), { objectMode: false }), stream);
  return stream.rowCount;
}

/**
 * Runs `COPY (query) TO STDOUT` and calls `onRow` with each row's cells (null for SQL NULL), in the
 * order PostgreSQL sends them; resolves with the row count.
 */
export async function copyOut(
  client: pg.ClientBase,
  query: string,
  onRow: (cells: (string | null)[]) => void,
): Promise<number> {
  const stream = client.query(copyTo(`COPY (${query}) TO STDOUT`));
  let carry: Buffer | null = null;
  let rows = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const bytes: Buffer = carry === null ? chunk : Buffer.concat([carry, chunk]);
    // A newline byte never occurs inside a UTF-8 sequence, so cutting there never splits a character.
    const last = bytes.lastIndexOf(0x0a);
    if (last === -1) {
      carry = bytes;
      continue;
    }
    carry = last + 1 < bytes.length ? bytes.subarray(last + 1) : null;
    for (const line of bytes.toString('utf8', 0, last).split('\n')) {
      onRow(line.split('\t').map(parseCell));
      rows++;
    }
  }
  if (carry !== null && carry.length > 0) throw new Error('COPY output ended inside a row');
  return rows;
}

function parseCell(text: string): string | null {
  if (text === '\\N') return null;
  return text.includes('\\') ? text.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, unescapeCell) : text;
}

const LETTERS: Readonly<Record<string, string>> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

function unescapeCell(_: string, code: string): string {
  if (code.startsWith('x') && code.length > 1) return String.fromCharCode(Number.parseInt(code.slice(1), 16));
  if (/^[0-7]/.test(code)) return String.fromCharCode(Number.parseInt(code, 8));
  return LETTERS[code] ?? code;
}
