import { decodeMsgpack, encodeMsgpack, indexesIn, indexesOut, negotiate } from '@palisade/server';
import { Packr } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
import { errorOf, fromU32Bytes, post, testApp, u32Bytes } from './support/http.js';
import { assertStandardMsgpack } from './support/standard-msgpack.js';

describe('negotiate', () => {
  it('answers in the body’s encoding when Accept says nothing useful', () => {
    expect(negotiate(undefined, 'application/msgpack')).toBe('msgpack');
    expect(negotiate('*/*', 'application/x-msgpack')).toBe('msgpack');
    expect(negotiate(undefined, 'application/json')).toBe('json');
    expect(negotiate(undefined, undefined)).toBe('json');
  });

  it('follows Accept, q-values included, and falls back to JSON when Accept names neither', () => {
    expect(negotiate('application/msgpack', 'application/json')).toBe('msgpack');
    expect(negotiate('application/x-msgpack', undefined)).toBe('msgpack');
    expect(negotiate('application/json', 'application/msgpack')).toBe('json');
    expect(negotiate('application/json;q=0.5, application/msgpack', undefined)).toBe('msgpack');
    expect(negotiate('application/msgpack;q=0.1, application/json;q=0.9', undefined)).toBe('json');
    expect(negotiate('application/json;q=0, */*', undefined)).toBe('msgpack');
    expect(negotiate('text/html', 'application/msgpack')).toBe('json');
    expect(negotiate('application/*', 'application/msgpack')).toBe('msgpack');
  });
});

describe('binary lists', () => {
  it('travel as little-endian uint32 bytes in MessagePack and as numbers in JSON', () => {
    const values = Uint32Array.from([0, 1, 0xffffffff, 70000]);
    expect(indexesOut('json', values)).toEqual([0, 1, 0xffffffff, 70000]);
    const bytes = indexesOut('msgpack', values) as Buffer;
    expect(fromU32Bytes(bytes)).toEqual([0, 1, 0xffffffff, 70000]);
    expect(Array.from(indexesIn(u32Bytes([5, 6, 7])))).toEqual([5, 6, 7]);
    // An unaligned bin (a subarray at an odd offset) is copied, not misread.
    const unaligned = Buffer.concat([Buffer.from([9]), u32Bytes([8, 9, 0xfffffffe, 0x01020304])]).subarray(1);
    expect(Array.from(indexesIn(unaligned))).toEqual([8, 9, 0xfffffffe, 0x01020304]);
    // Bytes past the last whole index are not an index.
    const ragged = Buffer.concat([Buffer.from([9]), u32Bytes([8, 0x01020304]), Buffer.from([7, 7])]).subarray(1);
    expect(Array.from(indexesIn(ragged))).toEqual([8, 0x01020304]);
    expect(Array.from(indexesIn([3, 4]))).toEqual([3, 4]);
  });

  it('standard MessagePack: no record extension on the wire, plain objects back', () => {
    const packed = encodeMsgpack({ a: [{ b: 1 }, { b: 2 }] });
    expect(packed[0]).toBe(0xde); // a map16, not msgpackr's record extension (0xd4…0xd8, 0xc7…0xc9)
    expect(decodeMsgpack(packed)).toEqual({ a: [{ b: 1 }, { b: 2 }] });
    expect(() => decodeMsgpack(Buffer.from([0xc1]))).toThrow();
  });
});

describe('routes in both encodings', () => {
  const app = testApp();
  afterAll(() => app.close());
  const question = { user: 'u-wendy', table: 'account', privilege: 'read', record: 'acc-litware' };
  const decision = { allowed: true, reason: 'role', missing: null, error: null };

  it('reads application/x-msgpack too, and answers per Accept', async () => {
    const xpack = await post(app, '/v1/check', encodeMsgpack(question), {
      headers: { 'content-type': 'application/x-msgpack' },
    });
    expect(xpack.headers['content-type']).toBe('application/msgpack');
    expect(xpack.body).toEqual(decision);
    const jsonOut = await post(app, '/v1/check', question, { wire: 'msgpack', accept: 'application/json' });
    expect(jsonOut.headers['content-type']).toMatch(/^application\/json/);
    expect(jsonOut.body).toEqual(decision);
    const packedOut = await post(app, '/v1/check', question, { accept: 'application/msgpack' });
    expect(packedOut.headers['content-type']).toBe('application/msgpack');
    expect(packedOut.body).toEqual(decision);
  });

  it('reads a body from msgpackr with its typed-array extension and 64-bit integers', async () => {
    const extended = new Packr({ useRecords: false, moreTypes: true, largeBigIntToFloat: false });
    const body = { user: 'u-wendy', table: 'account', privilege: 'read', records: Uint32Array.from([0, 1, 2]) };
    const answer = await post(app, '/v1/filter', extended.pack(body), { wire: 'msgpack' });
    expect(answer.status).toBe(200);
    expect((answer.body as { rows: number }).rows).toBe(3);
    // A BigInt packs as a 64-bit integer (0xd3 int64), as some encoders write every integer.
    const withLimit = extended.pack({
      user: 'u-wendy',
      table: 'account',
      privilege: 'read',
      format: 'page',
      limit: 2n,
    });
    expect(withLimit.includes(Buffer.from([0xd3, 0, 0, 0, 0, 0, 0, 0, 2]))).toBe(true);
    const page = await post(app, '/v1/lookup', withLimit, { wire: 'msgpack' });
    expect(page.status).toBe(200);
    expect((page.body as { ids: string[] }).ids).toHaveLength(2);
  });
});

describe('msgpackr extension values in a body', () => {
  const app = testApp();
  afterAll(() => app.close());
  const extended = new Packr({ useRecords: false, moreTypes: true, useBigIntExtension: true });
  const evaluation = {
    subject: { type: 'user', id: 'u-wendy' },
    action: { name: 'read' },
    resource: { type: 'account', id: 'acc-litware' },
  };
  const question = { user: 'u-wendy', table: 'account', privilege: 'read', record: 'acc-litware' };
  const filter = { user: 'u-wendy', table: 'account', privilege: 'read' };

  it('are refused with 400 naming the field, even where the schema takes any value', async () => {
    const cases: [string, Buffer, string, RegExp][] = [
      // AuthZEN's context and properties are open objects: a date or a set passed them before.
      [
        '/access/v1/evaluation',
        extended.pack({ ...evaluation, context: { at: new Date(0) } }),
        'context.at',
        /timestamp/,
      ],
      [
        '/access/v1/evaluation',
        extended.pack({ ...evaluation, subject: { ...evaluation.subject, properties: { tags: new Set(['a']) } } }),
        'subject.properties.tags',
        /a set/,
      ],
      [
        '/access/v1/evaluation',
        extended.pack({ ...evaluation, context: { n: 2n ** 80n } }),
        'context.n',
        /big integer/,
      ],
      ['/v1/check', extended.pack({ ...question, note: undefined }), 'note', /undefined/],
      [
        '/v1/checks',
        extended.pack({
          items: [
            { id: 'a', ...question },
            { id: 'b', ...question, record: /acc-.*/ },
          ],
        }),
        'items[1].record',
        /regular expression/,
      ],
      // Typed arrays pass where index columns may be one: other element types do not.
      ['/v1/filter', extended.pack({ ...filter, records: Float64Array.from([0, 1]) }), 'records', /typed array/],
      ['/v1/check', extended.pack(new Date(0)), 'body', /timestamp/],
    ];
    for (const [url, body, field, what] of cases) {
      const answer = await post(app, url, body, { wire: 'msgpack' });
      expect(answer.status, `${url} ${field}`).toBe(400);
      expect(errorOf(answer), `${url} ${field}`).toMatchObject({
        code: 'PALISADE_INVALID_REQUEST',
        details: { field, rule: 'plain-data' },
      });
      expect(errorOf(answer).message).toMatch(what);
      expect(errorOf(answer).message).toContain(`\`${field}\``);
    }
  });

  it("refuses msgpackr's records, which decode as plain objects (and turn later small integers into records)", async () => {
    // msgpackr writes every object as a record, the body itself first.
    const records = new Packr({ useRecords: true });
    const body = records.pack({
      items: [
        { id: 'a', ...question },
        { id: 'b', ...question },
      ],
    });
    const answer = await post(app, '/v1/checks', body, { wire: 'msgpack' });
    expect(answer.status).toBe(400);
    expect(errorOf(answer)).toMatchObject({
      code: 'PALISADE_INVALID_REQUEST',
      details: { field: 'body', rule: 'plain-data' },
    });
    expect(errorOf(answer).message).toMatch(/record/);
  });

  it('still takes the typed arrays index columns may be, and refuses extension types msgpackr does not know too', async () => {
    for (const records of [Uint32Array.from([0, 1]), Int32Array.from([0, 1]), Uint8Array.from([0, 0, 0, 0])]) {
      const answer = await post(app, '/v1/filter', extended.pack({ ...filter, records }), { wire: 'msgpack' });
      expect(answer.status, records.constructor.name).toBe(200);
    }
    // fixext 1 of type 0x33, which no one registered, as the value of `x`: a later msgpackr, or
    // an addExtension anywhere in the process, could decode it to anything.
    const known = encodeMsgpack({ ...question, x: 0 });
    const unknown = Buffer.concat([known.subarray(0, -1), Buffer.from([0xd4, 0x33, 0x00])]);
    const answer = await post(app, '/v1/check', unknown, { wire: 'msgpack' });
    expect(answer.status).toBe(400);
    expect(errorOf(answer)).toMatchObject({
      code: 'PALISADE_INVALID_REQUEST',
      message: expect.stringMatching(/extension value of type 51/),
      details: { field: 'x', rule: 'plain-data' },
    });
  });

  it('names the field inside bins and strings of every length without mistaking their bytes for extensions', async () => {
    // Every byte value inside a bin, a long string key and a long string value.
    const bin = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
    const key = `k${'\u00d4r'.repeat(100)}`;
    const body = extended.pack({
      ...evaluation,
      context: { bin, [key]: 'x'.repeat(70_000), list: [1, [2, { at: new Date(0) }]] },
    });
    const answer = await post(app, '/access/v1/evaluation', body, { wire: 'msgpack' });
    expect(answer.status).toBe(400);
    expect(errorOf(answer).details).toEqual({ field: 'context.list[1][1].at', rule: 'plain-data' });
    const clean = extended.pack({ ...evaluation, context: { bin, [key]: 'x'.repeat(70_000) } });
    expect((await post(app, '/access/v1/evaluation', clean, { wire: 'msgpack' })).status).toBe(200);
  });

  it('refuses 0xc1, never a MessagePack value, nested as at the top (msgpackr decodes it to a shared marker)', async () => {
    // {"x": 0xc1} inside an evaluation's open context, and alone
    const nested = Buffer.concat([
      extended.pack({ ...evaluation, context: { x: 0 } }).subarray(0, -1),
      Buffer.from([0xc1]),
    ]);
    for (const [body, where] of [
      [nested, /in `context\.x`/],
      [Buffer.from([0xc1]), /0xc1$/],
    ] as const) {
      const answer = await post(app, '/access/v1/evaluation', body, { wire: 'msgpack' });
      expect(answer.status).toBe(400);
      expect(errorOf(answer).code).toBe('PALISADE_MALFORMED_BODY');
      expect(errorOf(answer).message).toMatch(where);
    }
  });

  it('keeps field names short however deep the nesting or long the keys', async () => {
    // 1 MB of one-entry arrays, each inside the last, around a timestamp: a field name naming every
    // level would be millions of characters long (and took seconds to build); the walk stops at 32.
    const depth = 1_000_000;
    const deep = Buffer.concat([
      extended.pack({ ...evaluation, context: { x: 0 } }).subarray(0, -1),
      Buffer.alloc(depth, 0x91),
      extended.pack(new Date(0)),
    ]);
    const answer = await post(app, '/access/v1/evaluation', deep, { wire: 'msgpack' });
    expect(answer.status).toBe(400);
    expect(errorOf(answer).details).toEqual({ field: `context.x${'[0]'.repeat(30)}…`, rule: 'plain-data' });

    // A sibling nested past that depth comes before the value: the walk skips it and names the value.
    let nested: unknown = 0;
    for (let level = 0; level < 40; level++) nested = [nested];
    const sibling = await post(
      app,
      '/access/v1/evaluation',
      extended.pack({ ...evaluation, context: { deep: nested, at: new Date(0) } }),
      { wire: 'msgpack' },
    );
    expect(errorOf(sibling).details).toEqual({ field: 'context.at', rule: 'plain-data' });

    const key = 'k'.repeat(10_000);
    const long = await post(
      app,
      '/access/v1/evaluation',
      extended.pack({ ...evaluation, context: { [key]: new Date(0) } }),
      {
        wire: 'msgpack',
      },
    );
    expect(errorOf(long).details).toEqual({ field: `context.${'k'.repeat(64)}…`, rule: 'plain-data' });
  });
});

describe("the tests' standard MessagePack check", () => {
  it('accepts every standard type and refuses extensions, reserved bytes, truncation and trailing bytes', () => {
    const standard = new Packr({ useRecords: false });
    const value = {
      small: [0, 127, -1, -32, 128, -129, 70_000, -70_000, 2 ** 40, -(2 ** 40), 1.5, true, false, null],
      text: ['', 'a', 'x'.repeat(40), 'y'.repeat(300), 'z'.repeat(70_000)],
      bytes: [Buffer.alloc(3), Buffer.alloc(300), Buffer.alloc(70_000)],
      big: {
        list: Array.from({ length: 20 }, (_, i) => i),
        map: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])),
      },
    };
    expect(() => assertStandardMsgpack(standard.pack(value))).not.toThrow();
    // msgpackr's `undefined` (fixext 1) and its record extension
    expect(() => assertStandardMsgpack(standard.pack({ a: undefined }))).toThrow(/extension/);
    expect(() => assertStandardMsgpack(new Packr().pack([{ a: 1 }, { a: 2 }]))).toThrow(/extension/);
    expect(() => assertStandardMsgpack(Buffer.from([0xc1]))).toThrow(/extension or reserved/);
    expect(() => assertStandardMsgpack(Buffer.from([0x92, 0x01]))).toThrow(/truncated/);
    expect(() => assertStandardMsgpack(Buffer.from([0x01, 0x02]))).toThrow(/after the MessagePack value/);
  });
});
