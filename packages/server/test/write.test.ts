/**
 * Durable writes (issue 6): `/v1/write` through the PostgreSQL change log, revisions and
 * `atLeastRevision`, several servers on one store, restart from snapshot + log, the worker pool
 * after a write, and a write whose INSERT fails. One embedded PostgreSQL for the file; each test
 * works in its own schema.
 */
import { readFileSync } from 'node:fs';
import type { WorldInput } from '@palisade/core';
import {
  buildServer,
  InlineEvaluator,
  openStore,
  PoolEvaluator,
  Replica,
  type ReplicaOptions,
  SAMPLE_WORLD,
  type Store,
} from '@palisade/server';
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { fuzzRoutes } from './support/fuzz.js';
import {
  ADMIN_KEY,
  type Answer,
  CHECK_KEY,
  errorOf,
  get,
  post,
  shareToSam,
  TEST_KEYS,
  testApp,
} from './support/http.js';
import { usePostgres } from './support/postgres.js';

const postgres = usePostgres();
const SAMPLE = JSON.parse(readFileSync(SAMPLE_WORLD, 'utf8')) as WorldInput;
const PRIVILEGES = ['create', 'read', 'write', 'delete', 'append', 'appendTo', 'assign', 'share'] as const;

const stores: Store[] = [];
const apps: FastifyInstance[] = [];
afterAll(async () => {
  for (const app of apps) await app.close();
  for (const store of stores) await store.close();
});

/** A store handle on `schema` (each handle is what one server process would hold). */
async function openSchema(schema: string): Promise<Store> {
  const store = await openStore({ databaseUrl: postgres.url, schema });
  stores.push(store);
  return store;
}

/** A store in its own schema holding the sample world (revision 1). */
async function sampleStore(schema: string): Promise<Store> {
  const store = await openSchema(schema);
  expect((await store.importWorld(SAMPLE)).revision).toBe(1);
  return store;
}

/** A server on `store`, as `serve` builds it (closed after the file). */
async function serverOn(store: Store, options: ReplicaOptions = {}): Promise<FastifyInstance> {
  const replica = await Replica.open(store, options);
  const app = buildServer({ replica, keys: TEST_KEYS });
  apps.push(app);
  return app;
}

async function write(app: FastifyInstance, body: unknown, options: Parameters<typeof post>[3] = {}): Promise<Answer> {
  return post(app, '/v1/write', body, { key: ADMIN_KEY, ...options });
}

const check = (app: FastifyInstance, user: string, record: string, privilege = 'read', table = 'account', url = '') =>
  post(app, `/v1/check${url}`, { user, table, privilege, record }, { key: CHECK_KEY });

/** Every (user, record, privilege) of the sample world's records and `extra` ones, in one batch. */
function everyQuestion(extra: readonly [string, string][] = []) {
  const records = [...(SAMPLE.records ?? []).map((r) => [r.table, r.id] as [string, string]), ...extra];
  const items = [];
  for (const user of SAMPLE.users ?? [])
    for (const [table, record] of records)
      for (const privilege of PRIVILEGES)
        items.push({ id: `${items.length}`, user: user.id, table, privilege, record });
  return items;
}

/** The answers to `everyQuestion(extra)` (at `atLeastRevision` when given). */
async function everyAnswer(app: FastifyInstance, extra: readonly [string, string][] = [], atLeast?: number) {
  const url = atLeast === undefined ? '/v1/checks' : `/v1/checks?atLeastRevision=${atLeast}`;
  const answer = await post(app, url, { items: everyQuestion(extra) }, { key: CHECK_KEY });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return (answer.body as { results: unknown[] }).results;
}

async function changeLog(schema: string): Promise<{ revision: number; ops: unknown; key_id: string | null }[]> {
  const rows = await postgres.client.query(
    `SELECT revision, ops, key_id, as_user FROM "${schema}".palisade_changes ORDER BY revision`,
  );
  return rows.rows.map((r) => ({ ...r, revision: Number(r.revision) }));
}

describe('POST /v1/write', () => {
  it('commits to the change log, answers the revision, and the next check sees the change', async () => {
    const store = await sampleStore('w_basic');
    const app = await serverOn(store);
    const before = await check(app, 'u-sam', 'acc-fabrikam');
    expect(before.body).toMatchObject({ allowed: false });
    expect(before.headers['palisade-revision']).toBe('1');

    const written = await write(app, { ops: [shareToSam('acc-fabrikam')] });
    expect(written.status).toBe(200);
    expect(written.body).toEqual({ revision: 2, operations: 1 });
    expect(written.headers['palisade-revision']).toBe('2');

    const after = await check(app, 'u-sam', 'acc-fabrikam');
    expect(after.body).toMatchObject({ allowed: true, reason: 'share' });
    expect(after.headers['palisade-revision']).toBe('2');

    // MessagePack like every route; several operations in one transaction.
    const packed = await write(
      app,
      {
        ops: [
          { op: 'createRecord', table: 'account', id: 'acc-new', ownerId: 'u-sam' },
          { op: 'grantShare', table: 'account', recordId: 'acc-new', principalId: 'u-wendy', rights: ['read'] },
        ],
      },
      { wire: 'msgpack' },
    );
    expect(packed.headers['content-type']).toBe('application/msgpack');
    expect(packed.body).toEqual({ revision: 3, operations: 2 });
    expect((await check(app, 'u-wendy', 'acc-new')).body).toMatchObject({ allowed: true, reason: 'share' });

    // The log holds the operations as sent, and who wrote them (the key's id, never the key).
    const log = await changeLog('w_basic');
    expect(log.map((c) => c.revision)).toEqual([1, 2, 3]);
    expect(log[1]).toMatchObject({ ops: [shareToSam('acc-fabrikam')], key_id: 'operator' });
    expect(await store.revision()).toBe(3);
    expect((await get(app, '/readyz', { key: null })).body).toEqual({ status: 'ready', revision: 3, records: 22 });
  });

  it('refuses an invalid operation with 422 naming its index, field and rule; nothing changes', async () => {
    const store = await sampleStore('w_invalid');
    const app = await serverOn(store);
    const before = await everyAnswer(app);
    const answer = await write(app, {
      ops: [shareToSam('acc-fabrikam'), { op: 'createRecord', table: 'opportunity', id: 'opp-1', ownerId: 'u-sam' }],
    });
    expect(answer.status).toBe(422);
    expect(errorOf(answer)).toMatchObject({
      code: 'PALISADE_UPDATE_INVALID',
      details: { index: 1, op: 'createRecord', field: 'table', rule: 'reference-resolves' },
    });
    expect(answer.headers['palisade-revision']).toBe('1');
    // Neither the engine (every answer) nor the store (the log) changed.
    expect(await everyAnswer(app)).toEqual(before);
    expect((await changeLog('w_invalid')).map((c) => c.revision)).toEqual([1]);

    // Unknown fields and operations are the engine's too; the body's shape is the schema's (400).
    const misspelt = await write(app, { ops: [{ ...shareToSam('acc-fabrikam'), right: ['read'] }] });
    expect(errorOf(misspelt).details).toMatchObject({ index: 0, field: 'right', rule: 'shape' });
    const unknown = await write(app, { ops: [{ op: 'dropTable', table: 'account' }] });
    expect(errorOf(unknown).details).toMatchObject({ index: 0, op: 'dropTable', rule: 'exact-word' });
    expect((await write(app, { ops: [] })).status).toBe(400);
    expect((await write(app, { ops: [{ table: 'account' }] })).status).toBe(400);
    // Writes need the admin scope.
    expect((await write(app, { ops: [shareToSam('acc-fabrikam')] }, { key: CHECK_KEY })).status).toBe(403);
    expect(await store.revision()).toBe(1);
  });

  it('answers a thousand random, truncated and broken write bodies with 2xx or a 4xx; the engine stays the store’s', async () => {
    const store = await sampleStore('w_fuzz');
    const app = await serverOn(store);
    const created = [
      { op: 'createRecord', table: 'account', id: 'acc-fuzz', ownerId: 'u-sam' },
      { op: 'grantShare', table: 'account', recordId: 'acc-fuzz', principalId: 'u-wendy', rights: ['read'] },
    ];
    const routes = [
      { url: '/v1/write', body: { ops: [shareToSam('acc-fabrikam')] } },
      { url: '/v1/write', body: { ops: created } },
    ];
    const seed = Number(process.env.PALISADE_FUZZ_SEED ?? 20_261_122) + 2;
    const statuses = await fuzzRoutes(app, routes, { seed, perRoute: 500, key: ADMIN_KEY });
    // Refused bodies and committed writes both.
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    // Whatever was committed is in the store, and only that: a server started on it afresh
    // answers every question as this one does, at the same revision.
    const revision = await store.revision();
    const fresh = await serverOn(store);
    expect((await get(fresh, '/readyz', { key: null })).body).toMatchObject({ revision });
    expect((await get(app, '/readyz', { key: null })).body).toMatchObject({ revision });
    // Its record too, if a fuzzed write created it (an unknown record is the same error on both).
    const extra: [string, string][] = [['account', 'acc-fuzz']];
    expect(await everyAnswer(app, extra)).toEqual(await everyAnswer(fresh, extra));
  }, 120_000);

  it('grows the organization: business units, users, teams, roles, column security and settings, durable across a restart', async () => {
    const store = await sampleStore('w_grow');
    const app = await serverOn(store);
    const columnOf = (server: FastifyInstance, user: string, record: string) =>
      post(server, '/v1/column-access', { user, table: 'account', record, column: 'creditlimit' }, { key: CHECK_KEY });
    const batches: unknown[][] = [
      [
        { op: 'createBusinessUnit', id: 'bu-north', parentId: 'bu-sales', defaultTeamId: 'dt-north' },
        { op: 'createRole', id: 'role-north', privileges: { account: { read: 'local', write: 'basic' } } },
        { op: 'createUser', id: 'u-nina', businessUnitId: 'bu-north', managerId: 'u-carol' },
        { op: 'addRoleAssignment', principalId: 'u-nina', roleId: 'role-north' },
      ],
      [
        { op: 'createTeam', id: 'team-north', businessUnitId: 'bu-north', type: 'owner', members: ['u-nina'] },
        { op: 'createRecord', table: 'account', id: 'acc-north', ownerId: 'team-north' },
        { op: 'createFieldSecurityProfile', id: 'fsp-north', members: ['dt-north'] },
        {
          op: 'setFieldSecurityPermissions',
          profileId: 'fsp-north',
          permissions: { account: { creditlimit: ['read'] } },
        },
      ],
      [
        {
          op: 'grantFieldShare',
          table: 'account',
          recordId: 'acc-north',
          column: 'creditlimit',
          principalId: 'u-nina',
          rights: ['update'],
        },
        { op: 'setAssignSettings', shareToPreviousOwnerOnAssign: true },
        { op: 'createPosition', id: 'pos-north' },
      ],
    ];
    for (const ops of batches) {
      const answer = await write(app, { ops });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    }
    // Local read in her new BU; basic write through her new team, which owns the record; nothing elsewhere.
    expect((await check(app, 'u-nina', 'acc-north')).body).toMatchObject({ allowed: true, reason: 'role' });
    expect((await check(app, 'u-nina', 'acc-north', 'write')).body).toMatchObject({ allowed: true, reason: 'role' });
    expect((await check(app, 'u-nina', 'acc-fabrikam')).body).toMatchObject({ allowed: false });
    // Read through her BU's default team's profile, update through the field share (with write on the record).
    expect((await columnOf(app, 'u-nina', 'acc-north')).body).toEqual({ read: true, create: false, update: true });

    // Administration as a user needs a system administrator; an invalid creation is refused whole.
    const denied = await write(app, {
      ops: [{ op: 'createUser', id: 'u-x', businessUnitId: 'bu-north' }],
      asUser: 'u-wendy',
    });
    expect(errorOf(denied)).toMatchObject({
      code: 'PALISADE_WRITE_DENIED',
      details: { reason: 'system-administrator-required' },
    });
    const twice = await write(app, {
      ops: [
        { op: 'createUser', id: 'u-y', businessUnitId: 'bu-north' },
        { op: 'createTeam', id: 'u-nina', businessUnitId: 'bu-north', type: 'group' },
      ],
    });
    expect(errorOf(twice)).toMatchObject({ details: { index: 1, field: 'id', rule: 'id-unique' } });
    expect((await check(app, 'u-y', 'acc-north')).body).toMatchObject({ allowed: false, reason: 'error' });

    // A new server replays the log to the same answers, new users and records included.
    const restarted = await serverOn(await openSchema('w_grow'), { follow: false });
    const extra: [string, string][] = [['account', 'acc-north']];
    expect(await everyAnswer(restarted, extra)).toEqual(await everyAnswer(app, extra));
    for (const server of [app, restarted]) {
      expect((await check(server, 'u-nina', 'acc-north')).body).toMatchObject({ allowed: true });
      expect((await columnOf(server, 'u-nina', 'acc-north')).body).toEqual({
        read: true,
        create: false,
        update: true,
      });
    }
  });

  it('refuses U+0000 before anything applies (the store cannot hold it)', async () => {
    const store = await sampleStore('w_nul');
    const app = await serverOn(store);
    const answer = await write(app, {
      ops: [{ op: 'createRecord', table: 'account', id: 'a\u0000b', ownerId: 'u-sam' }],
    });
    expect(answer.status).toBe(422);
    expect(errorOf(answer)).toMatchObject({ code: 'PALISADE_STORE_REJECTED', details: { rule: 'no-nul' } });
    expect(await store.revision()).toBe(1);
  });

  it('refuses what the change log could not hold, or what is not JSON data, before anything applies', async () => {
    const store = await sampleStore('w_storable');
    const app = await serverOn(store);
    const create = (id: unknown) => ({ op: 'createRecord', table: 'account', id, ownerId: 'u-sam' });
    const loneSurrogate = await write(app, { ops: [create('a\ud800b')] });
    expect(loneSurrogate.status).toBe(422);
    expect(errorOf(loneSurrogate)).toMatchObject({
      code: 'PALISADE_STORE_REJECTED',
      details: { field: 'ops[0].id', rule: 'well-formed' },
    });
    // A pair is one character, and fine.
    expect((await write(app, { ops: [create('a\ud83d\ude00b')] })).status).toBe(200);
    // msgpackr writes a Date as the timestamp extension, which decodes as a Date again.
    const date = await write(app, { ops: [create(new Date(0))] }, { wire: 'msgpack' });
    expect(date.status).toBe(400);
    expect(errorOf(date)).toMatchObject({
      code: 'PALISADE_INVALID_REQUEST',
      details: { field: 'ops[0].id', rule: 'plain-data' },
    });
    const deep = `${'['.repeat(100_000)}"x"${']'.repeat(100_000)}`;
    const nested = await write(
      app,
      `{"ops":[{"op":"createRecord","table":"account","id":"n","ownerId":"u-sam","x":${deep}}]}`,
    );
    expect(nested.status).toBe(400);
    expect(errorOf(nested)).toMatchObject({ code: 'PALISADE_INVALID_REQUEST', details: { rule: 'depth' } });
    // Only the well-formed pair was written.
    expect(await store.revision()).toBe(2);
    expect((await check(app, 'u-sam', 'a\ud83d\ude00b')).status).toBe(200);
  });

  it('as a user: enforces create, delete, assign and share rights, and administrators for the rest', async () => {
    const store = await sampleStore('w_as_user');
    const app = await serverOn(store);
    // u-wendy (salesperson: share at basic depth) may share her own account, not u-evan's.
    const denied = await write(app, { ops: [shareToSam('acc-wingtip'), shareToSam('acc-litware')], asUser: 'u-wendy' });
    expect(denied.status).toBe(403);
    expect(errorOf(denied)).toMatchObject({
      code: 'PALISADE_WRITE_DENIED',
      details: { index: 1, op: 'grantShare', asUser: 'u-wendy', reason: 'missing-privilege', missing: 'share' },
    });
    expect(await store.revision()).toBe(1);
    const allowed = await write(app, { ops: [shareToSam('acc-wingtip')], asUser: 'u-wendy' });
    expect(allowed.body).toEqual({ revision: 2, operations: 1 });
    expect((await changeLog('w_as_user'))[1]).toMatchObject({ as_user: 'u-wendy' });

    const cases: [unknown, string, Record<string, unknown>][] = [
      // Assign needs assign, write and read on the record: basic depth, and the record is u-evan's.
      [
        { op: 'assignRecord', table: 'account', id: 'acc-litware', ownerId: 'u-wendy' },
        'u-wendy',
        { missing: 'assign' },
      ],
      // Delete at basic depth: only her own records.
      [{ op: 'deleteRecord', table: 'account', id: 'acc-litware' }, 'u-wendy', { op: 'deleteRecord' }],
      // Create for an owner outside her basic depth.
      [{ op: 'createRecord', table: 'account', id: 'acc-x', ownerId: 'u-sam' }, 'u-wendy', { missing: 'create' }],
      // Security itself: a system administrator's.
      [
        { op: 'addTeamMember', teamId: 'team-key-accounts', userId: 'u-wendy' },
        'u-wendy',
        {
          reason: 'system-administrator-required',
        },
      ],
      // A disabled user may do nothing.
      [{ op: 'deleteRecord', table: 'account', id: 'acc-alpine' }, 'u-dave', { reason: 'disabled' }],
    ];
    for (const [op, asUser, details] of cases) {
      const answer = await write(app, { ops: [op], asUser });
      expect(answer.status, JSON.stringify(op)).toBe(403);
      expect(errorOf(answer).details, JSON.stringify(op)).toMatchObject({ index: 0, asUser, ...details });
    }
    expect(await store.revision()).toBe(2);

    // What they may do passes: her own record created, assigned and deleted; the administrator's team change.
    for (const [ops, asUser] of [
      [[{ op: 'createRecord', table: 'account', id: 'acc-mine', ownerId: 'u-wendy' }], 'u-wendy'],
      [[{ op: 'deleteRecord', table: 'account', id: 'acc-mine' }], 'u-wendy'],
      [[{ op: 'addTeamMember', teamId: 'team-key-accounts', userId: 'u-wendy' }], 'u-alex'],
      [[{ op: 'assignRecord', table: 'account', id: 'acc-litware', ownerId: 'u-wendy' }], 'u-carol'],
    ] as const) {
      const answer = await write(app, { ops, asUser });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    }
    expect(await store.revision()).toBe(6);

    // An unknown user is the engine's 422; so is an operation on what the world does not hold.
    const nobody = await write(app, { ops: [shareToSam('acc-wingtip')], asUser: 'u-nobody' });
    expect(errorOf(nobody)).toMatchObject({ code: 'PALISADE_UNKNOWN_USER', details: { field: 'asUser' } });
    const missing = await write(app, { ops: [shareToSam('acc-none')], asUser: 'u-alex' });
    expect(missing.status).toBe(422);
    expect(errorOf(missing)).toMatchObject({ code: 'PALISADE_UNKNOWN_RECORD', details: { index: 0 } });
  });
});

describe('revisions', () => {
  it('every reply names its revision; atLeastRevision beyond the log waits, then answers 503 with the code', async () => {
    const store = await sampleStore('w_tokens');
    const app = await serverOn(store, { waitMs: 300 });
    for (const url of ['/v1/check?atLeastRevision=5', '/access/v1/evaluation?atLeastRevision=5']) {
      const body = url.startsWith('/access')
        ? {
            subject: { type: 'user', id: 'u-wendy' },
            action: { name: 'read' },
            resource: { type: 'account', id: 'acc-litware' },
          }
        : { user: 'u-wendy', table: 'account', privilege: 'read', record: 'acc-litware' };
      const answer = await post(app, url, body, { key: CHECK_KEY });
      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBe('1');
      expect(answer.headers['palisade-revision']).toBe('1');
      expect(errorOf(answer)).toMatchObject({
        code: 'PALISADE_REVISION_NOT_READY',
        details: { atLeastRevision: 5, revision: 1 },
      });
    }
    // The header works too; a revision already applied answers at once.
    const header = await post(
      app,
      '/v1/check',
      { user: 'u-wendy', table: 'account', privilege: 'read', record: 'acc-litware' },
      { key: CHECK_KEY, headers: { 'palisade-at-least-revision': '1' } },
    );
    expect(header.status).toBe(200);
    expect(header.headers['palisade-revision']).toBe('1');
    const bad = await check(app, 'u-wendy', 'acc-litware', 'read', 'account', '?atLeastRevision=soon');
    expect(bad.status).toBe(400);
    expect(errorOf(bad).details).toMatchObject({ field: 'atLeastRevision' });
    // GET routes take it as well.
    const privileges = await get(app, '/v1/users/u-wendy/privileges?atLeastRevision=1', { key: ADMIN_KEY });
    expect(privileges.status).toBe(200);
    expect(privileges.headers['palisade-revision']).toBe('1');
    const late = await get(app, '/v1/users/u-wendy/privileges?atLeastRevision=2', { key: ADMIN_KEY });
    expect(errorOf(late).code).toBe('PALISADE_REVISION_NOT_READY');
  });

  it('two servers on one store: concurrent writes all land in revision order, no lost update, each sees both', async () => {
    await sampleStore('w_two');
    const a = await serverOn(await openSchema('w_two'));
    const b = await serverOn(await openSchema('w_two'));
    const records = ['acc-fabrikam', 'acc-litware', 'acc-wingtip', 'acc-tailspin', 'acc-coho', 'acc-alpine'];
    // Both create the same record at once: exactly one may (the other caught up and found it).
    const race = { ops: [{ op: 'createRecord', table: 'account', id: 'acc-race', ownerId: 'u-erin' }] };
    const answers = await Promise.all([
      ...records.map((record, i) => write(i % 2 === 0 ? a : b, { ops: [shareToSam(record)] })),
      write(a, race),
      write(b, race),
    ]);
    const statuses = answers.map((x) => x.status);
    expect(statuses.slice(0, records.length)).toEqual(records.map(() => 200));
    expect(statuses.slice(records.length).sort()).toEqual([200, 422]);
    const loser = answers.slice(records.length).find((x) => x.status === 422) as Answer;
    expect(errorOf(loser).details).toMatchObject({ field: 'id', rule: 'id-unique' });
    const revisions = answers.filter((x) => x.status === 200).map((x) => (x.body as { revision: number }).revision);
    expect(revisions.sort((x, y) => x - y)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect((await changeLog('w_two')).map((c) => c.revision)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

    // Each server, asked at the last revision, sees every write; the two agree on every answer.
    const extra: [string, string][] = [['account', 'acc-race']];
    const fromA = await everyAnswer(a, extra, 8);
    const fromB = await everyAnswer(b, extra, 8);
    expect(fromB).toEqual(fromA);
    for (const server of [a, b]) {
      for (const record of records) {
        const answer = await check(server, 'u-sam', record, 'read', 'account', '?atLeastRevision=8');
        expect(answer.body, record).toMatchObject({ allowed: true });
        expect(answer.headers['palisade-revision']).toBe('8');
      }
    }
  });

  it('a server follows the log by itself (LISTEN/NOTIFY), and reloads after an import', async () => {
    const store = await sampleStore('w_follow');
    const writer = await serverOn(store);
    const follower = await serverOn(await openSchema('w_follow'));
    expect((await write(writer, { ops: [shareToSam('acc-fabrikam')] })).status).toBe(200);
    // No atLeastRevision: the notification brings the change.
    const deadline = Date.now() + 10_000;
    let seen = await check(follower, 'u-sam', 'acc-fabrikam');
    while ((seen.body as { allowed: boolean }).allowed === false && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen = await check(follower, 'u-sam', 'acc-fabrikam');
    }
    expect(seen.body).toMatchObject({ allowed: true, reason: 'share' });
    expect(seen.headers['palisade-revision']).toBe('2');

    // An import replaces the world: both servers reload it (the share is gone again).
    const { revision } = await store.importWorld(SAMPLE);
    expect(revision).toBe(3);
    for (const server of [writer, follower]) {
      const answer = await check(server, 'u-sam', 'acc-fabrikam', 'read', 'account', `?atLeastRevision=${revision}`);
      expect(answer.body).toMatchObject({ allowed: false });
      expect(answer.headers['palisade-revision']).toBe('3');
    }
    // And writes continue on top of it.
    expect((await write(follower, { ops: [shareToSam('acc-coho')] })).body).toEqual({ revision: 4, operations: 1 });
  });
});

describe('following without notifications', () => {
  it('a replica whose LISTEN hears nothing (a pooler in transaction mode) still catches up by reading the log periodically', async () => {
    const store = await sampleStore('w_deaf');
    const writer = await serverOn(store);
    // LISTEN succeeds and never delivers anything, as behind PgBouncer in transaction mode, or on
    // a connection a NAT dropped without telling either end.
    const deafened = (handle: Store): Store => ({ ...handle, listen: async () => ({ close: async () => {} }) });
    const polling = await serverOn(deafened(await openSchema('w_deaf')), { catchUpMs: 50 });
    const notifiedOnly = await serverOn(deafened(await openSchema('w_deaf')), { catchUpMs: 0 });
    expect((await write(writer, { ops: [shareToSam('acc-fabrikam')] })).body).toEqual({ revision: 2, operations: 1 });

    const deadline = Date.now() + 10_000;
    let seen = await check(polling, 'u-sam', 'acc-fabrikam');
    while ((seen.body as { allowed: boolean }).allowed === false && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen = await check(polling, 'u-sam', 'acc-fabrikam');
    }
    expect(seen.body).toMatchObject({ allowed: true, reason: 'share' });
    expect(seen.headers['palisade-revision']).toBe('2');
    // Without the periodic catch-up nothing tells it: it answers from revision 1 until a read asks for 2.
    const stale = await check(notifiedOnly, 'u-sam', 'acc-fabrikam');
    expect(stale.body).toMatchObject({ allowed: false });
    expect(stale.headers['palisade-revision']).toBe('1');
    const asked = await check(notifiedOnly, 'u-sam', 'acc-fabrikam', 'read', 'account', '?atLeastRevision=2');
    expect(asked.body).toMatchObject({ allowed: true, reason: 'share' });
  });
});

describe('a notification during a catch-up', () => {
  it('is not lost: a change that commits after a running catch-up read the log gets a catch-up of its own', async () => {
    const store = await sampleStore('w_mid_catch_up');
    const writer = await serverOn(store);
    const handle = await openSchema('w_mid_catch_up');
    // A store whose reads can be held after they ran, and whose notifications can be awaited.
    let hold: Promise<void> | null = null;
    let readDone: () => void = () => {};
    let heard: () => void = () => {};
    const wrapped: Store = {
      ...handle,
      withClient: async (body) => {
        const result = await handle.withClient(body);
        if (hold !== null) {
          readDone();
          await hold;
        }
        return result;
      },
      listen: (onChange, onLost) =>
        handle.listen((revision) => {
          onChange(revision);
          heard();
        }, onLost),
    };
    // No periodic catch-up: only the notification can bring the change.
    const replica = await Replica.open(wrapped, { catchUpMs: 0 });
    try {
      await replica.sync();
      let release: () => void = () => {};
      hold = new Promise((resolve) => {
        release = resolve;
      });
      const read = new Promise<void>((resolve) => {
        readDone = resolve;
      });
      const notified = new Promise<void>((resolve) => {
        heard = resolve;
      });
      // A catch-up reads the log (nothing new) and is held before it ends…
      const catchingUp = replica.sync();
      await read;
      // …while a write commits and its NOTIFY arrives.
      expect((await write(writer, { ops: [shareToSam('acc-fabrikam')] })).body).toEqual({ revision: 2, operations: 1 });
      await notified;
      hold = null;
      release();
      await catchingUp;
      const deadline = Date.now() + 3_000;
      while (replica.revision < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(replica.revision).toBe(2);
    } finally {
      await replica.close();
    }
  });
});

describe('restart', () => {
  it('a new server loading snapshot + log answers exactly as the one that made the writes, indexes included', async () => {
    const store = await sampleStore('w_restart');
    const first = await serverOn(store);
    const batches = [
      [
        shareToSam('acc-fabrikam'),
        { op: 'revokeShare', table: 'account', recordId: 'acc-proseware', principalId: 'u-wendy' },
      ],
      // A deleted record keeps its index; a record created after it takes a new one.
      [{ op: 'deleteRecord', table: 'account', id: 'acc-litware' }],
      [{ op: 'createRecord', table: 'account', id: 'acc-after', ownerId: 'u-wendy' }],
      [{ op: 'assignRecord', table: 'account', id: 'acc-wingtip', ownerId: 'u-erin' }],
      [{ op: 'moveUser', userId: 'u-evan', businessUnitId: 'bu-sales-west' }],
      [{ op: 'addTeamMember', teamId: 'team-key-accounts', userId: 'u-sam' }],
      [{ op: 'addRoleAssignment', principalId: 'u-sofia', roleId: 'role-sales-manager' }],
      [
        {
          op: 'setRolePrivileges',
          roleId: 'role-key-accounts',
          privileges: { account: { read: 'deep', write: 'local', share: 'local' }, contact: { read: 'global' } },
        },
      ],
      [{ op: 'setUserDisabled', userId: 'u-dave', disabled: false }],
      [{ op: 'setHierarchySettings', enabled: true, depth: 2 }],
      [{ op: 'setManager', userId: 'u-sam', managerId: 'u-carol' }],
      [
        {
          op: 'modifyShare',
          table: 'account',
          recordId: 'acc-fabrikam',
          principalId: 'u-sam',
          rights: ['read', 'write'],
        },
      ],
    ];
    for (const ops of batches) expect((await write(first, { ops })).status).toBe(200);
    const last = batches.length + 1;

    const restarted = await serverOn(await openSchema('w_restart'), { follow: false });
    const extra: [string, string][] = [['account', 'acc-after']];
    const answers = await everyAnswer(first, extra);
    expect(await everyAnswer(restarted, extra)).toEqual(answers);
    expect((await check(restarted, 'u-alex', 'acc-after')).headers['palisade-revision']).toBe(String(last));
    // Record indexes: the administrator's roaring lookup (every record, by index) is the same bytes.
    const roaring = async (app: FastifyInstance) =>
      (
        await post(
          app,
          '/v1/lookup',
          { user: 'u-alex', table: 'account', privilege: 'read', format: 'roaring' },
          { key: CHECK_KEY },
        )
      ).body;
    expect(await roaring(restarted)).toEqual(await roaring(first));
    // The sample's account records are indexes 0–10: acc-litware (2) is gone, acc-after took 11.
    const byIndex = async (app: FastifyInstance, user: string, records: number[]) =>
      (await post(app, '/v1/filter', { user, table: 'account', privilege: 'read', records }, { key: CHECK_KEY })).body;
    for (const server of [first, restarted]) {
      expect(await byIndex(server, 'u-wendy', [11])).toMatchObject({ indexes: [0] });
      expect(await byIndex(server, 'u-carol', [2])).toMatchObject({ indexes: [] });
    }
    const ids = async (app: FastifyInstance) =>
      (await post(app, '/v1/lookup', { user: 'u-carol', table: 'account', privilege: 'read' }, { key: CHECK_KEY }))
        .body;
    expect(await ids(restarted)).toEqual(await ids(first));
  });
});

describe('compaction', () => {
  it('folds the log into a snapshot: the same answers everywhere, followers reload it as an import, writes go on', async () => {
    const store = await sampleStore('w_compact');
    const writer = await serverOn(store);
    const follower = await serverOn(await openSchema('w_compact'));
    const batches = [
      [shareToSam('acc-fabrikam'), { op: 'deleteRecord', table: 'account', id: 'acc-litware' }],
      [{ op: 'createRecord', table: 'account', id: 'acc-later', ownerId: 'u-wendy' }],
      [
        { op: 'createUser', id: 'u-olga', businessUnitId: 'bu-sales-east', managerId: 'u-carol' },
        { op: 'addRoleAssignment', principalId: 'u-olga', roleId: 'role-salesperson' },
        { op: 'assignRecord', table: 'account', id: 'acc-later', ownerId: 'u-olga' },
      ],
      [{ op: 'setHierarchySettings', enabled: true }],
    ];
    for (const ops of batches) expect((await write(writer, { ops })).status).toBe(200);
    const folded = batches.length + 1;
    const extra: [string, string][] = [['account', 'acc-later']];
    const before = await everyAnswer(writer, extra);
    // Export writes the world as of the last write, not the last import.
    const exported = await store.exportWorld();
    expect(exported.records?.some((r) => r.id === 'acc-later' && r.ownerId === 'u-olga')).toBe(true);
    expect(exported.records?.some((r) => r.id === 'acc-litware')).toBe(false);

    const result = await store.compact();
    expect(result).toMatchObject({ compacted: true, folded, changes: batches.length, revision: folded + 1 });
    const log = await changeLog('w_compact');
    expect(log.map((c) => c.revision)).toEqual([folded + 1]);
    expect(log[0]?.ops).toMatchObject([{ op: 'importWorld', compactedThrough: folded }]);

    const restarted = await serverOn(await openSchema('w_compact'), { follow: false });
    for (const server of [writer, follower, restarted]) {
      expect(await everyAnswer(server, extra, folded + 1)).toEqual(before);
      expect((await check(server, 'u-olga', 'acc-later')).body).toMatchObject({ allowed: true });
    }
    // Writing goes on from the compacted snapshot, through any server.
    expect((await write(follower, { ops: [shareToSam('acc-wingtip')] })).body).toMatchObject({ revision: folded + 2 });
    expect(
      (await check(writer, 'u-sam', 'acc-wingtip', 'read', 'account', `?atLeastRevision=${folded + 2}`)).body,
    ).toMatchObject({
      allowed: true,
      reason: 'share',
    });
    // Again: the one write since; then nothing after the fresh snapshot, nothing to do.
    expect(await store.compact()).toMatchObject({ compacted: true, changes: 1, revision: folded + 3 });
    expect(await store.compact()).toMatchObject({ compacted: false, changes: 0, revision: folded + 3 });
  });
});

describe('the worker pool', () => {
  it('re-posts the state after a write: pooled answers equal inline ones, never a half-updated state', async () => {
    const store = await sampleStore('w_pool');
    const pooled = await serverOn(store, {
      evaluator: (engine) => new PoolEvaluator(engine, { threads: 2, threshold: 64 }),
    });
    const inline = await serverOn(await openSchema('w_pool'), {
      evaluator: (engine) => new InlineEvaluator(engine),
    });
    const extra: [string, string][] = [
      ['account', 'acc-pool-1'],
      ['account', 'acc-pool-2'],
    ];
    const before = await everyAnswer(inline, extra, 1);
    expect(await everyAnswer(pooled, extra)).toEqual(before);

    // A new record (the tables' sizes are part of the posted state), a share, a role change.
    const ops = [
      { op: 'createRecord', table: 'account', id: 'acc-pool-1', ownerId: 'u-sam' },
      shareToSam('acc-fabrikam'),
      { op: 'addRoleAssignment', principalId: 'u-sam', roleId: 'role-finance' },
    ];
    expect((await write(pooled, { ops })).body).toEqual({ revision: 2, operations: 3 });
    const after = await everyAnswer(inline, extra, 2);
    expect(after).not.toEqual(before);
    expect(await everyAnswer(pooled, extra)).toEqual(after);

    // Pooled batches racing a write see the state before it or after it, whole.
    const racing = [everyAnswer(pooled, extra), everyAnswer(pooled, extra)];
    const written = write(pooled, {
      ops: [
        { op: 'createRecord', table: 'account', id: 'acc-pool-2', ownerId: 'u-erin' },
        { op: 'removeRoleAssignment', principalId: 'u-sam', roleId: 'role-finance' },
      ],
    });
    racing.push(everyAnswer(pooled, extra));
    const results = await Promise.all(racing);
    expect((await written).status).toBe(200);
    const latest = await everyAnswer(inline, extra, 3);
    for (const result of results) expect([after, latest]).toContainEqual(result);
    expect(await everyAnswer(pooled, extra)).toEqual(latest);
  });
});

describe('faults', () => {
  it('a write whose INSERT fails leaves neither the engine nor the store changed (the engine is rebuilt)', async () => {
    const store = await sampleStore('w_insert_fails');
    const app = await serverOn(store);
    const before = await everyAnswer(app, [['account', 'acc-doomed']]);
    // The database refuses this one change (after the engine has applied it).
    await postgres.client.query(
      `ALTER TABLE w_insert_fails.palisade_changes ADD CONSTRAINT refuse_doomed CHECK (ops::text NOT LIKE '%acc-doomed%')`,
    );
    const answer = await write(app, {
      ops: [{ op: 'createRecord', table: 'account', id: 'acc-doomed', ownerId: 'u-sam' }, shareToSam('acc-fabrikam')],
    });
    expect(answer.status).toBe(422);
    expect(errorOf(answer)).toMatchObject({ code: 'PALISADE_STORE_REJECTED', details: { sqlState: '23514' } });
    expect(await store.revision()).toBe(1);
    expect(await everyAnswer(app, [['account', 'acc-doomed']])).toEqual(before);
    expect((await get(app, '/readyz', { key: null })).body).toMatchObject({ status: 'ready', revision: 1 });
    // The server goes on: the next write lands.
    expect((await write(app, { ops: [shareToSam('acc-coho')] })).body).toEqual({ revision: 3, operations: 1 });
  });
});

describe('without the store', () => {
  it('a world file is served at revision 0; writes are refused with PALISADE_STORE_REQUIRED', async () => {
    const app = testApp();
    apps.push(app);
    const answer = await write(app, { ops: [shareToSam('acc-fabrikam')] });
    expect(answer.status).toBe(409);
    expect(errorOf(answer).code).toBe('PALISADE_STORE_REQUIRED');
    expect(answer.headers['palisade-revision']).toBe('0');
    const later = await check(app, 'u-wendy', 'acc-litware', 'read', 'account', '?atLeastRevision=1');
    expect(later.status).toBe(503);
    expect(errorOf(later).code).toBe('PALISADE_REVISION_NOT_READY');
    expect((await check(app, 'u-wendy', 'acc-litware', 'read', 'account', '?atLeastRevision=0')).status).toBe(200);
  });
});
