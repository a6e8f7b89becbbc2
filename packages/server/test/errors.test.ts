import { readFileSync } from 'node:fs';
import { encodeMsgpack, FailureCauses, ServerErrorCodes, STATUS_OF_CODE } from '@palisade/server';
import { afterAll, describe, expect, it } from 'vitest';
import { errorOf, get, post, testApp, u32Bytes } from './support/http.js';

const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

/** The rows (code, status) of the table under `## <heading>` of docs/errors.md. */
function documented(heading: string): Map<string, string> {
  const section = docs.split('\n## ').find((s) => s.startsWith(heading)) ?? '';
  return new Map(
    [...section.matchAll(/^\| `(PALISADE_[A-Z_]+)` \| ([^|]+) \|/gm)].map((m) => [m[1] ?? '', m[2] ?? '']),
  );
}

describe('server error codes', () => {
  it('are the codes docs/errors.md lists for the server, no more and no fewer, each with its status', () => {
    const rows = documented('@palisade/server');
    expect([...rows.keys()].sort()).toEqual(Object.values(ServerErrorCodes).sort());
    for (const [code, status] of rows) {
      if (status.trim() === '—') continue;
      expect(STATUS_OF_CODE[code as keyof typeof STATUS_OF_CODE], code).toBe(Number(status));
    }
  });

  it('name their failures with the causes docs/errors.md lists, no more and no fewer', () => {
    const section = docs.split('\n### ').find((s) => s.startsWith('Failure causes')) ?? '';
    const rows = [...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(rows.sort()).toEqual(Object.values(FailureCauses).sort());
  });

  it('are unique, carry the PALISADE_ prefix, and none is also a core code', () => {
    const codes = Object.values(ServerErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^PALISADE_[A-Z_]+$/);
    const core = documented('@palisade/core');
    for (const code of codes) expect(core.has(code), code).toBe(false);
  });
});

describe('bad input', () => {
  const app = testApp({ limits: { bodyLimit: 4096, maxBatchItems: 3, maxFilterRows: 4 } });
  afterAll(() => app.close());
  const question = { user: 'u-wendy', table: 'account', privilege: 'read', record: 'acc-litware' };

  it('malformed JSON or MessagePack is 400 PALISADE_MALFORMED_BODY', async () => {
    for (const [body, wire] of [
      ['{"user":', 'json'],
      ['', 'json'],
      [Buffer.from([0x85, 0xa1]), 'msgpack'],
      [Buffer.alloc(0), 'msgpack'],
      [Buffer.concat([encodeMsgpack(question), Buffer.from([0x01])]), 'msgpack'],
      [Buffer.from([0xc1]), 'msgpack'],
    ] as const) {
      const answer = await post(app, '/v1/check', body, { wire });
      expect(answer.status, String(body)).toBe(400);
      expect(errorOf(answer).code).toBe('PALISADE_MALFORMED_BODY');
    }
    // An extension type no one registered is well-formed MessagePack, but not plain data.
    const extension = await post(app, '/v1/check', Buffer.from([0xd4, 0x05, 0x00]), { wire: 'msgpack' });
    expect(extension.status).toBe(400);
    expect(errorOf(extension)).toMatchObject({
      code: 'PALISADE_INVALID_REQUEST',
      details: { field: 'body', rule: 'plain-data' },
    });
  });

  it('prototype poisoning in JSON is refused, not applied', async () => {
    const answer = await post(app, '/v1/check', '{"__proto__":{"allowed":true},"user":"u"}');
    expect(answer.status).toBe(400);
    expect(errorOf(answer).code).toBe('PALISADE_MALFORMED_BODY');
  });

  it('another content type is 415, a body over the limit 413, a batch over the limit 413', async () => {
    const text = await post(app, '/v1/check', 'user=u-wendy', { headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    expect(errorOf(text).code).toBe('PALISADE_UNSUPPORTED_MEDIA_TYPE');
    const large = await post(app, '/v1/check', { ...question, record: 'x'.repeat(5000) });
    expect(large.status).toBe(413);
    expect(errorOf(large).code).toBe('PALISADE_BODY_TOO_LARGE');
    const items = [1, 2, 3, 4].map((i) => ({ id: String(i), record: 'acc-litware' }));
    const batch = await post(app, '/v1/checks', { user: 'u-wendy', table: 'account', privilege: 'read', items });
    expect(batch.status).toBe(413);
    expect(errorOf(batch)).toMatchObject({ code: 'PALISADE_BATCH_TOO_LARGE', details: { field: 'items', limit: 3 } });
    // The column form counts its items whether they arrive as numbers or as MessagePack `bin`.
    const columns = { users: ['u-wendy'], tables: ['account'], privileges: ['read'] };
    for (const wire of ['json', 'msgpack'] as const) {
      const list = (values: number[]) => (wire === 'json' ? values : u32Bytes(values));
      const tooMany = await post(
        app,
        '/v1/checks/columns',
        { ...columns, items: { record: list([0, 1, 2, 3]) } },
        { wire },
      );
      expect(tooMany.status, wire).toBe(413);
      expect(errorOf(tooMany).code).toBe('PALISADE_BATCH_TOO_LARGE');
      const fits = await post(app, '/v1/checks/columns', { ...columns, items: { record: list([0, 1, 2]) } }, { wire });
      expect(fits.status, wire).toBe(200);
      // A dictionary over the limit is refused as such, even with a bad id in it.
      const dictionary = await post(
        app,
        '/v1/checks/columns',
        { ...columns, users: ['u-wendy', 5, 'u-alex', 'u-evan'], items: { record: list([0]) } },
        { wire },
      );
      expect(dictionary.status, wire).toBe(413);
      expect(errorOf(dictionary)).toMatchObject({ code: 'PALISADE_BATCH_TOO_LARGE', details: { field: 'users' } });
    }
    const filter = { user: 'u-wendy', table: 'account', privilege: 'read' };
    const rows = await post(app, '/v1/filter', { ...filter, ids: ['a', 'b', 'c', 'd', 'e'] });
    expect(errorOf(rows).code).toBe('PALISADE_BATCH_TOO_LARGE');
    const binary = { ...filter, records: Buffer.alloc(20) };
    const binaryRows = await post(app, '/v1/filter', binary, { wire: 'msgpack' });
    expect(binaryRows.status).toBe(413);
    expect(errorOf(binaryRows)).toMatchObject({ code: 'PALISADE_BATCH_TOO_LARGE', details: { field: 'records' } });
  });

  it('wrong types, missing and unknown fields are 400 PALISADE_INVALID_REQUEST with a message naming the field', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ ...question, user: 5 }, 'user', /`user` must be a string/],
      [{ ...question, user: '' }, 'user', /`user` must not be empty/],
      [{ table: 'account', privilege: 'read', record: 'x' }, 'user', /`user` is required/],
      [{ ...question, privilege: 'fly' }, 'privilege', /`privilege` must be one of `create`/],
      [{ ...question, colour: 'red' }, 'colour', /`colour` is not a known field/],
      [{ ...question, record: 7 }, 'record', /`record` must be a record id, or an inline row/],
      [{ ...question, record: { ownerId: 7 } }, 'record.ownerId', /`record.ownerId` must be a string/],
      [[question], 'body', /`body` must be an object/],
      ['"text"', 'body', /`body` must be an object/],
      ['1e999', 'body', /`body` must be an object/],
    ];
    for (const [body, field, message] of cases) {
      const answer = await post(app, '/v1/check', typeof body === 'string' ? body : JSON.stringify(body));
      expect(answer.status, JSON.stringify(body)).toBe(400);
      const error = errorOf(answer);
      expect(error.code).toBe('PALISADE_INVALID_REQUEST');
      expect(error.message).toMatch(message);
      expect(error.details?.field).toBe(field);
    }
    const nested = await post(app, '/v1/checks', {
      user: 'u-wendy',
      table: 'account',
      privilege: 'read',
      items: [{ id: 'a', record: 'acc-litware' }, { id: 'b' }],
    });
    expect(errorOf(nested)).toMatchObject({ details: { field: 'items[1].record' } });
    const integer = await post(app, '/v1/lookup', { ...question, record: undefined, limit: 1.5 });
    expect(errorOf(integer)).toMatchObject({ details: { field: 'limit' } });
    expect(errorOf(integer).message).toBe('`limit` must be an integer');
  });

  it('numbers arrive as numbers: no coercion of strings', async () => {
    const body = { user: 'u-wendy', table: 'account', privilege: 'read', format: 'page', limit: '5' };
    const answer = await post(app, '/v1/lookup', body);
    expect(answer.status).toBe(400);
    expect(errorOf(answer).message).toBe('`limit` must be an integer');
  });

  it('an unknown route is 404 PALISADE_NOT_FOUND; errors in MessagePack have the same shape', async () => {
    const missing = await get(app, '/v2/check');
    expect(missing.status).toBe(404);
    expect(errorOf(missing).code).toBe('PALISADE_NOT_FOUND');
    const packed = await post(app, '/v1/check', { ...question, user: 5 }, { wire: 'msgpack' });
    expect(packed.headers['content-type']).toBe('application/msgpack');
    expect(errorOf(packed)).toMatchObject({ code: 'PALISADE_INVALID_REQUEST', details: { field: 'user' } });
  });
});
