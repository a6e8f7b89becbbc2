import { PRIVILEGES } from '@palisade/core';
import { afterAll, describe, expect, it } from 'vitest';
import { errorOf, fromU32Bytes, get, post, sampleEngine, testApp, u32Bytes } from './support/http.js';

const engine = sampleEngine();
const app = testApp();
afterAll(() => app.close());

const { model } = engine;
const users = model.principals.filter((_, i) => model.isUser(i)).map((p) => p.id);
const account = model.tables.find((t) => t.name === 'account');
const accountIds = account?.records.ids.filter((id): id is string => typeof id === 'string') ?? [];

describe('POST /v1/check', () => {
  it('answers every (user, privilege, record) of the sample accounts as the engine does, in both encodings', async () => {
    for (const user of users) {
      for (const privilege of PRIVILEGES) {
        for (const record of accountIds.slice(0, 4)) {
          const expected = engine.check(user, 'account', privilege, record);
          for (const wire of ['json', 'msgpack'] as const) {
            const answer = await post(app, '/v1/check', { user, table: 'account', privilege, record }, { wire });
            expect(answer.status).toBe(200);
            expect(answer.body).toEqual({
              allowed: expected.allowed,
              reason: expected.reason,
              missing: null,
              error: null,
            });
          }
        }
      }
    }
  });

  it('takes a row inline (owner and business unit) as the engine does', async () => {
    const record = { ownerId: 'u-evan', owningBusinessUnitId: 'bu-sales-east' };
    const answer = await post(app, '/v1/check', { user: 'u-wendy', table: 'account', privilege: 'read', record });
    const expected = engine.check('u-wendy', 'account', 'read', record);
    expect(answer.body).toMatchObject({ allowed: expected.allowed, reason: expected.reason });
  });

  it('denies an unknown user, table or record with reason `error` and the engine code (200: decisions never fail)', async () => {
    const cases = [
      [{ user: 'u-nobody', table: 'account', record: 'acc-litware' }, 'PALISADE_UNKNOWN_USER'],
      [{ user: 'u-wendy', table: 'nothing', record: 'acc-litware' }, 'PALISADE_UNKNOWN_TABLE'],
      [{ user: 'u-wendy', table: 'account', record: 'acc-none' }, 'PALISADE_UNKNOWN_RECORD'],
      [{ user: 'u-wendy', table: 'account', record: { ownerId: 'nobody' } }, 'PALISADE_UNKNOWN_PRINCIPAL'],
      [{ user: 'u-wendy', table: 'account', record: {} }, 'PALISADE_INVALID_OWNER'],
    ] as const;
    for (const [question, code] of cases) {
      const answer = await post(app, '/v1/check', { ...question, privilege: 'read' });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ allowed: false, reason: 'error', error: { code } });
      expect((answer.body as { error: { message: string } }).error.message).toMatch(/`/);
    }
  });
});

describe('POST /v1/checks', () => {
  it('answers in input order with the correlation ids, per-item errors with codes', async () => {
    const items = [
      { id: 'one', record: 'acc-litware' },
      { id: 'two', record: 'acc-missing' },
      { id: 'three', user: 'u-alex', record: 'acc-coho' },
      { id: 'four', privilege: 'delete', record: 'acc-litware' },
      { id: 'five', user: 'u-nobody', record: 'acc-litware' },
    ];
    const answer = await post(app, '/v1/checks', { user: 'u-wendy', table: 'account', privilege: 'read', items });
    expect(answer.status).toBe(200);
    const results = (answer.body as { results: { id: string; allowed: boolean; reason: string; error: unknown }[] })
      .results;
    expect(results.map((r) => r.id)).toEqual(['one', 'two', 'three', 'four', 'five']);
    expect(results[0]).toEqual({ id: 'one', allowed: true, reason: 'role', error: null });
    expect(results[1]).toEqual({
      id: 'two',
      allowed: false,
      reason: 'error',
      error: { code: 'PALISADE_UNKNOWN_RECORD', message: 'unknown record `acc-missing` in table `account`' },
    });
    expect(results[2]).toMatchObject({ allowed: true, reason: 'system-administrator' });
    expect(results[3]).toMatchObject({ allowed: false, reason: 'no-access', error: null });
    expect(results[4]).toMatchObject({ reason: 'error', error: { code: 'PALISADE_UNKNOWN_USER' } });
  });

  it('agrees with single checks over many items, in MessagePack too', async () => {
    const items = users.flatMap((user) =>
      accountIds.map((record, i) => ({ id: `${user}/${record}`, user, privilege: PRIVILEGES[i % 8], record })),
    );
    const answer = await post(app, '/v1/checks', { table: 'account', items }, { wire: 'msgpack' });
    const results = (answer.body as { results: { id: string; allowed: boolean; reason: string }[] }).results;
    expect(results).toHaveLength(items.length);
    items.forEach((item, i) => {
      const expected = engine.check(item.user, 'account', item.privilege as never, item.record);
      expect(results[i]).toMatchObject({ id: item.id, allowed: expected.allowed, reason: expected.reason });
    });
  });

  it('rejects a repeated correlation id and an item with no user, naming the item', async () => {
    const repeated = await post(app, '/v1/checks', {
      user: 'u-wendy',
      table: 'account',
      privilege: 'read',
      items: [
        { id: 'a', record: 'acc-litware' },
        { id: 'a', record: 'acc-coho' },
      ],
    });
    expect(repeated.status).toBe(400);
    expect(errorOf(repeated)).toMatchObject({ code: 'PALISADE_INVALID_REQUEST', details: { field: 'items[1].id' } });
    const noUser = await post(app, '/v1/checks', {
      table: 'account',
      privilege: 'read',
      items: [{ id: 'a', record: 'acc-litware' }],
    });
    expect(errorOf(noUser).message).toContain('`items[0].user`');
  });
});

describe('POST /v1/filter', () => {
  const ids = [...accountIds, 'acc-unknown'];
  const expected = Array.from(engine.filter('u-wendy', 'account', 'read', { ids }));

  it('takes record ids and answers the allowed positions', async () => {
    const answer = await post(app, '/v1/filter', { user: 'u-wendy', table: 'account', privilege: 'read', ids });
    expect(answer.body).toEqual({ rows: ids.length, allowed: expected.length, indexes: expected });
  });

  it('takes owner / business unit / id columns', async () => {
    const rows = accountIds.map((id) => engine.record('account', id));
    const ownerIds = rows.map((r) => model.principals[account?.records.ownerOf(r) as number]?.id ?? null);
    const businessUnitIds = rows.map((r) => model.businessUnits[account?.records.buOf(r) as number]?.id ?? null);
    const body = { user: 'u-wendy', table: 'account', privilege: 'read', ownerIds, businessUnitIds, ids: accountIds };
    const answer = await post(app, '/v1/filter', body);
    expect((answer.body as { indexes: number[] }).indexes).toEqual(
      Array.from(engine.filter('u-wendy', 'account', 'read', { ownerIds, businessUnitIds, ids: accountIds })),
    );
  });

  it('in MessagePack takes record indexes as bin and answers indexes and bitmasks as bin (little-endian uint32)', async () => {
    const records = accountIds.map((id) => engine.record('account', id) as number);
    const expectedRows = Array.from(
      engine.filter('u-wendy', 'account', 'read', { records: Uint32Array.from(records) }),
    );
    const body = { user: 'u-wendy', table: 'account', privilege: 'read', records: u32Bytes(records) };
    const answer = await post(app, '/v1/filter', body, { wire: 'msgpack' });
    expect(answer.headers['content-type']).toBe('application/msgpack');
    const out = answer.body as { rows: number; allowed: number; indexes: Uint8Array };
    expect(out.indexes).toBeInstanceOf(Uint8Array);
    expect(fromU32Bytes(out.indexes)).toEqual(expectedRows);

    const mask = await post(app, '/v1/filter', { ...body, output: 'bitmask' }, { wire: 'msgpack' });
    const words = fromU32Bytes((mask.body as { bitmask: Uint8Array }).bitmask);
    const bits = records.map((_, i) => ((words[i >> 5] as number) >>> (i & 31)) & 1);
    expect(bits.flatMap((b, i) => (b === 1 ? [i] : []))).toEqual(expectedRows);
    expect((mask.body as { allowed: number }).allowed).toBe(expectedRows.length);
  });

  it('takes record indexes as JSON numbers too', async () => {
    const records = accountIds.map((id) => engine.record('account', id) as number);
    const answer = await post(app, '/v1/filter', { user: 'u-wendy', table: 'account', privilege: 'read', records });
    expect((answer.body as { indexes: number[] }).indexes).toEqual(
      Array.from(engine.filter('u-wendy', 'account', 'read', { records: Uint32Array.from(records) })),
    );
  });

  it('needs exactly one form of rows', async () => {
    const question = { user: 'u-wendy', table: 'account', privilege: 'read' };
    for (const rows of [{}, { ids: [], records: [] }, { ownerIds: [] }, { businessUnitIds: [] }]) {
      const answer = await post(app, '/v1/filter', { ...question, ...rows });
      expect(answer.status).toBe(400);
      expect(errorOf(answer).code).toBe('PALISADE_INVALID_REQUEST');
    }
    const uneven = await post(app, '/v1/filter', { ...question, ownerIds: ['u-wendy'], businessUnitIds: [] });
    expect(uneven.status).toBe(422);
    expect(errorOf(uneven).code).toBe('PALISADE_INVALID_ARGUMENT');
  });
});

describe('POST /v1/lookup', () => {
  const all = engine.lookup('u-wendy', 'account', 'read').ids();

  it('answers every id, a capped list, or pages with a cursor that walk the whole set', async () => {
    const question = { user: 'u-wendy', table: 'account', privilege: 'read' };
    expect((await post(app, '/v1/lookup', { ...question, format: 'ids' })).body).toEqual({
      format: 'ids',
      total: all.length,
      ids: all,
    });
    expect((await post(app, '/v1/lookup', { ...question, limit: 2 })).body).toMatchObject({ ids: all.slice(0, 2) });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (
        await post(app, '/v1/lookup', { ...question, format: 'page', limit: 3, ...(cursor ? { cursor } : {}) })
      ).body as { ids: string[]; cursor: string | null; total: number };
      expect(page.total).toBe(all.length);
      seen.push(...page.ids);
      cursor = page.cursor;
    } while (cursor !== null);
    expect(seen).toEqual(all);
  });

  it('answers portable roaring bytes: base64 in JSON, bin in MessagePack', async () => {
    const bytes = Buffer.from(engine.lookup('u-wendy', 'account', 'read').serialize());
    const question = { user: 'u-wendy', table: 'account', privilege: 'read', format: 'roaring' };
    const json = (await post(app, '/v1/lookup', question)).body as { roaring: string; total: number };
    expect(Buffer.from(json.roaring, 'base64')).toEqual(bytes);
    const packed = (await post(app, '/v1/lookup', question, { wire: 'msgpack' })).body as { roaring: Uint8Array };
    expect(Buffer.from(packed.roaring)).toEqual(bytes);
  });

  it('refuses a bad cursor (422, the engine code) and a cursor outside paging (400)', async () => {
    const question = { user: 'u-wendy', table: 'account', privilege: 'read' };
    const bad = await post(app, '/v1/lookup', { ...question, format: 'page', cursor: 'nonsense' });
    expect(bad.status).toBe(422);
    expect(errorOf(bad).code).toBe('PALISADE_INVALID_ARGUMENT');
    const misplaced = await post(app, '/v1/lookup', { ...question, format: 'ids', cursor: 'r1' });
    expect(errorOf(misplaced)).toMatchObject({ code: 'PALISADE_INVALID_REQUEST', details: { field: 'cursor' } });
  });

  it('answers 422 PALISADE_RESULT_TOO_LARGE when ids would pass the limit, and pages still work', async () => {
    const small = testApp({ limits: { maxLookupIds: 2 } });
    const question = { user: 'u-wendy', table: 'account', privilege: 'read' };
    const answer = await post(small, '/v1/lookup', question);
    expect(answer.status).toBe(422);
    expect(errorOf(answer).code).toBe('PALISADE_RESULT_TOO_LARGE');
    expect((await post(small, '/v1/lookup', { ...question, limit: 2 })).status).toBe(200);
    await small.close();
  });
});

describe('data routes', () => {
  it('POST /v1/filter-spec answers the spec and the SQL with parameters, with column names', async () => {
    const body = {
      user: 'u-wendy',
      table: 'account',
      privilege: 'read',
      columns: { owner: 'a.owner_id', owningBusinessUnit: 'bu' },
      firstParameter: 3,
    };
    const answer = (await post(app, '/v1/filter-spec', body)).body as { spec: unknown; sql: string; params: unknown };
    expect(answer.spec).toEqual(engine.filterSpec('u-wendy', 'account', 'read'));
    expect(answer.sql).toContain('"a"."owner_id" = ANY($4::text[])');
    expect(answer.sql).toContain('"bu" = ANY($3::text[])');
  });

  it('POST /v1/access answers the mask and the names of its rights', async () => {
    const mask = engine.accessRights('u-wendy', 'account', 'acc-litware');
    const answer = await post(app, '/v1/access', { user: 'u-wendy', table: 'account', record: 'acc-litware' });
    expect(answer.body).toEqual({ mask, rights: ['read', 'appendTo'] });
    const unknown = await post(app, '/v1/access', { user: 'u-wendy', table: 'account', record: 'acc-none' });
    expect(unknown.status).toBe(422);
    expect(errorOf(unknown).code).toBe('PALISADE_UNKNOWN_RECORD');
  });

  it('POST /v1/explain answers the engine’s explanation, field for field', async () => {
    for (const [user, privilege] of [
      ['u-wendy', 'read'],
      ['u-wendy', 'delete'],
      ['u-alex', 'write'],
    ] as const) {
      const answer = await post(app, '/v1/explain', { user, table: 'account', privilege, record: 'acc-litware' });
      expect(answer.body).toEqual(
        JSON.parse(JSON.stringify(engine.explain(user, 'account', privilege, 'acc-litware'))),
      );
    }
  });

  it('GET /v1/users/:id/privileges answers the privileges document; 404 for an unknown user (id in the URL)', async () => {
    const answer = await get(app, '/v1/users/u-wendy/privileges');
    expect(answer.body).toEqual(JSON.parse(JSON.stringify(engine.userPrivileges('u-wendy'))));
    const unknown = await get(app, '/v1/users/u-nobody/privileges');
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown).code).toBe('PALISADE_UNKNOWN_USER');
  });

  it('POST /v1/who-can-access answers every user with reasons and paths', async () => {
    const answer = await post(app, '/v1/who-can-access', {
      table: 'account',
      record: 'acc-litware',
      privilege: 'read',
    });
    expect(answer.body).toEqual({
      users: JSON.parse(JSON.stringify(engine.whoCanAccess('account', 'acc-litware', 'read'))),
    });
    const unknown = await post(app, '/v1/who-can-access', { table: 'nothing', record: 'x', privilege: 'read' });
    expect(unknown.status).toBe(422);
    expect(errorOf(unknown).code).toBe('PALISADE_UNKNOWN_TABLE');
  });
});

describe('POST /v1/noop (the load-test floor)', () => {
  it('parses, authenticates and validates as /v1/check does, and decides nothing', async () => {
    const body = { user: 'u-nobody', table: 'nothing', privilege: 'read', record: 'x' };
    for (const wire of ['json', 'msgpack'] as const) {
      const answer = await post(app, '/v1/noop', body, { wire });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ ok: true });
    }
    const invalid = await post(app, '/v1/noop', { user: 'u-wendy' });
    expect(invalid.status).toBe(400);
    const anonymous = await app.inject({ method: 'POST', url: '/v1/noop', payload: body });
    expect(anonymous.statusCode).toBe(401);
  });

  it('every reply carries its server time as Server-Timing', async () => {
    const answer = await app.inject({ method: 'GET', url: '/healthz' });
    expect(answer.headers['server-timing']).toMatch(/^app;dur=\d+\.\d{3}$/);
  });
});

describe('POST /v1/checks/columns', () => {
  const tables = model.tables.map((t) => t.name);
  const privileges = [...PRIVILEGES];
  // Every (user, privilege) of every stored record, as dictionary positions.
  const asks = users.flatMap((user, u) =>
    model.tables.flatMap((table, t) =>
      table.records.ids.flatMap((id, r) => privileges.map((privilege, p) => ({ user, u, t, p, r, id, privilege }))),
    ),
  );
  const expected = asks.map((a) => engine.check(a.user, tables[a.t] as string, a.privilege, a.id));
  const REASONS = ['no-access', 'role', 'share', 'hierarchy', 'system-administrator', 'disabled'];

  it('answers every item as check does, records as indexes or ids, in both encodings', async () => {
    for (const wire of ['json', 'msgpack'] as const) {
      const column = (values: number[]) => (wire === 'json' ? values : u32Bytes(values));
      for (const records of ['record', 'recordId'] as const) {
        const body = {
          users,
          tables,
          privileges,
          items: {
            user: column(asks.map((a) => a.u)),
            table: column(asks.map((a) => a.t)),
            privilege: column(asks.map((a) => a.p)),
            ...(records === 'record' ? { record: column(asks.map((a) => a.r)) } : { recordId: asks.map((a) => a.id) }),
          },
        };
        const answer = await post(app, '/v1/checks/columns', body, { wire });
        expect(answer.status).toBe(200);
        const result = answer.body as {
          count: number;
          allowed: number;
          codes: number[] | Uint8Array;
          errors: unknown[];
        };
        const codes = Array.from(result.codes);
        expect(result.count).toBe(asks.length);
        expect(codes.map((c) => REASONS[c])).toEqual(expected.map((d) => d.reason));
        expect(result.allowed).toBe(expected.filter((d) => d.allowed).length);
        expect(result.errors).toEqual([]);
      }
    }
  });

  it('gives each bad item its own error code and message; a single-entry dictionary needs no column', async () => {
    const body = {
      users: ['u-wendy', 'u-nobody'],
      tables: ['account'],
      privileges: ['read'],
      items: { user: [0, 1, 0], recordId: ['acc-litware', 'acc-litware', 'acc-none'] },
    };
    const answer = await post(app, '/v1/checks/columns', body);
    const result = answer.body as { codes: number[]; errors: { index: number; code: string; message: string }[] };
    expect(result.codes[0]).toBe(REASONS.indexOf(engine.check('u-wendy', 'account', 'read', 'acc-litware').reason));
    expect(result.errors).toEqual([
      { index: 1, code: 'PALISADE_UNKNOWN_USER', message: 'unknown user `u-nobody`' },
      { index: 2, code: 'PALISADE_UNKNOWN_RECORD', message: 'unknown record `acc-none` in table `account`' },
    ]);
  });

  it('refuses a position past its dictionary, columns of unequal length and a missing column (400 naming the field)', async () => {
    const base = { users: ['u-wendy'], tables: ['account', 'contact'], privileges: ['read'] };
    const cases = [
      [{ ...base, items: { table: [0, 2], record: [0, 1] } }, 'items.table'],
      [{ ...base, items: { table: [0], record: [0, 1] } }, 'items.table'],
      [{ ...base, items: { record: [0, 1] } }, 'items.table'],
      [{ ...base, items: { table: [0] } }, 'items'],
    ] as const;
    for (const [body, field] of cases) {
      const answer = await post(app, '/v1/checks/columns', body);
      expect(answer.status).toBe(400);
      expect(`${errorOf(answer).details?.field ?? ''} ${errorOf(answer).message}`).toContain(field);
    }
  });

  it('refuses a dictionary id that is no string, empty or too long, naming the entry, in both encodings', async () => {
    const long = 'u'.repeat(1025);
    // 1,024 characters (code points) of two UTF-16 units each: within the limit, as JSON Schema counts.
    const astral = '😀'.repeat(1024);
    const items = { record: [0] };
    const cases: [Record<string, unknown>, { code: string; message: string; details: object } | null][] = [
      [
        { users: ['u-wendy', 5], tables: ['account'], privileges: ['read'] },
        {
          code: 'PALISADE_INVALID_REQUEST',
          message: '`users[1]` must be a string',
          details: { field: 'users[1]', rule: 'type' },
        },
      ],
      [
        { users: ['u-wendy', null], tables: ['account'], privileges: ['read'] },
        {
          code: 'PALISADE_INVALID_REQUEST',
          message: '`users[1]` must be a string',
          details: { field: 'users[1]', rule: 'type' },
        },
      ],
      [
        { users: [''], tables: ['account'], privileges: ['read'] },
        {
          code: 'PALISADE_INVALID_REQUEST',
          message: '`users[0]` must not be empty',
          details: { field: 'users[0]', rule: 'minLength' },
        },
      ],
      [
        { users: ['u-wendy', 'u-alex', long], tables: ['account'], privileges: ['read'] },
        {
          code: 'PALISADE_INVALID_REQUEST',
          message: '`users[2]` must NOT have more than 1024 characters',
          details: { field: 'users[2]', rule: 'maxLength' },
        },
      ],
      [
        { users: ['u-wendy'], tables: [['account']], privileges: ['read'] },
        {
          code: 'PALISADE_INVALID_REQUEST',
          message: '`tables[0]` must be a string',
          details: { field: 'tables[0]', rule: 'type' },
        },
      ],
      // Checked in order: the users' bad entry is the one reported, not the later fields' errors.
      [
        { users: [7], tables: [''], privileges: ['nothing'] },
        {
          code: 'PALISADE_INVALID_REQUEST',
          message: '`users[0]` must be a string',
          details: { field: 'users[0]', rule: 'type' },
        },
      ],
      [{ users: [astral], tables: ['account'], privileges: ['read'] }, null],
    ];
    for (const wire of ['json', 'msgpack'] as const) {
      for (const [dictionaries, expected] of cases) {
        const answer = await post(app, '/v1/checks/columns', { ...dictionaries, items }, { wire });
        if (expected === null) {
          expect(answer.status, wire).toBe(200);
          continue;
        }
        expect(answer.status, `${wire} ${expected.message}`).toBe(400);
        expect(errorOf(answer), wire).toEqual(expected);
      }
    }
  });
});

describe('column security routes (§6)', () => {
  const columns = [...(account?.securedColumns ?? []), 'name'];

  it('POST /v1/column-access and /v1/explain/column answer as the engine, in both encodings', async () => {
    expect(account?.securedColumns.length).toBeGreaterThan(0);
    for (const user of users) {
      for (const record of accountIds) {
        for (const column of columns) {
          const body = { user, table: 'account', record, column };
          for (const wire of ['json', 'msgpack'] as const) {
            const access = await post(app, '/v1/column-access', body, { wire });
            expect(access.body).toEqual(engine.columnAccess(user, 'account', record, column));
          }
          const explained = await post(app, '/v1/explain/column', body);
          expect(explained.body).toEqual(
            JSON.parse(JSON.stringify(engine.explainColumn(user, 'account', record, column))),
          );
        }
      }
    }
    const unknown = await post(app, '/v1/column-access', {
      user: 'u-nobody',
      table: 'account',
      record: 'acc-litware',
      column: 'x',
    });
    expect(unknown.status).toBe(422);
  });

  it('/v1/filter and /v1/lookup answer the secured columns to null out per returned record', async () => {
    for (const user of users) {
      const allowed = engine.filter(user, 'account', 'read', { ids: accountIds });
      const expected = engine.hiddenColumns(
        user,
        'account',
        Array.from(allowed, (i) => accountIds[i] as string),
      );
      const filtered = await post(app, '/v1/filter', {
        user,
        table: 'account',
        privilege: 'read',
        ids: accountIds,
        hiddenColumns: true,
      });
      expect(filtered.body).toMatchObject({
        hiddenColumns: { columns: expected.columns, words: expected.words, masks: Array.from(expected.masks) },
      });
      const records = Uint32Array.from(accountIds, (id) => engine.record('account', id));
      const binary = await post(
        app,
        '/v1/filter',
        { user, table: 'account', privilege: 'read', records: u32Bytes(Array.from(records)), hiddenColumns: true },
        { wire: 'msgpack' },
      );
      const hidden = (binary.body as { hiddenColumns: { masks: Uint8Array } }).hiddenColumns;
      expect(fromU32Bytes(hidden.masks)).toEqual(Array.from(expected.masks));
      const lookup = await post(app, '/v1/lookup', { user, table: 'account', privilege: 'read', hiddenColumns: true });
      const ids = (lookup.body as { ids: string[] }).ids;
      expect(lookup.body).toMatchObject({
        hiddenColumns: { masks: Array.from(engine.hiddenColumns(user, 'account', ids).masks) },
      });
    }
    const bitmask = await post(app, '/v1/filter', {
      user: 'u-wendy',
      table: 'account',
      privilege: 'read',
      ids: accountIds,
      output: 'bitmask',
      hiddenColumns: true,
    });
    expect(bitmask.status).toBe(400);
  });
});
