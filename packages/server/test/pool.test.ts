import type { CheckItem } from '@palisade/core';
import { InlineEvaluator, PoolEvaluator } from '@palisade/server';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECK_KEY, post, sampleEngine, testApp } from './support/http.js';

const engine = sampleEngine();
const users = engine.model.principals.filter((_, i) => engine.model.isUser(i)).map((p) => p.id);
const records = engine.model.tables.flatMap((t) => t.records.ids.map((id) => ({ table: t.name, id })));
const PRIVILEGES = ['create', 'read', 'write', 'delete', 'append', 'appendTo', 'assign', 'share'];

/** Every (user, record, privilege) of the sample world, and a few bad and inline items among them. */
const items: CheckItem[] = users.flatMap((user) =>
  records.flatMap((r) => PRIVILEGES.map((privilege) => ({ user, table: r.table, privilege, record: r.id }))),
);
items.splice(7, 0, { user: 'nobody', table: 'account', privilege: 'read', record: 'acc-litware' });
items.splice(50, 0, { user: 'u-wendy', table: 'account', privilege: 'read', record: { ownerId: 'u-evan' } });
items.splice(99, 0, { user: 'u-wendy', table: 'account', privilege: 'read', record: 'no-such-record' });

const pool = new PoolEvaluator(engine, { threads: 2, threshold: 64 });
afterAll(() => pool.close());

describe('the worker pool', () => {
  it('answers a large batch exactly as the main thread does, errors and inline rows included', async () => {
    const inline = await new InlineEvaluator(engine).checkBatch(items);
    const pooled = await pool.checkBatch(items);
    expect(Array.from(pooled.codes)).toEqual(Array.from(inline.codes));
    expect([...pooled.errors]).toEqual([...inline.errors]);
  });

  it('answers a large column batch exactly as the main thread does', async () => {
    const tables = engine.model.tables.map((t) => t.name);
    const asks = items.filter((item) => typeof item.record === 'string');
    const request = {
      users: [...new Set(asks.map((a) => a.user))],
      tables,
      privileges: PRIVILEGES,
      user: null as Uint32Array | null,
      table: null as Uint32Array | null,
      privilege: null as Uint32Array | null,
      record: null,
      recordId: asks.map((a) => a.record as string),
    };
    request.user = Uint32Array.from(asks, (a) => request.users.indexOf(a.user));
    request.table = Uint32Array.from(asks, (a) => tables.indexOf(a.table));
    request.privilege = Uint32Array.from(asks, (a) => PRIVILEGES.indexOf(a.privilege));
    const inline = await new InlineEvaluator(engine).checkColumns(request);
    const pooled = await pool.checkColumns(request);
    expect(asks.length).toBeGreaterThan(64);
    expect(Array.from(pooled.codes)).toEqual(Array.from(inline.codes));
    expect([...pooled.errors]).toEqual([...inline.errors]);
  });

  it('keeps small batches on the main thread', async () => {
    const small = items.slice(0, 10);
    expect(Array.from((await pool.checkBatch(small)).codes)).toEqual(Array.from(engine.checkBatch(small)));
    expect(pool.queueDepth()).toBe(0);
  });

  it('refuses with 503 and Retry-After when its queue is full', async () => {
    const busy = new PoolEvaluator(engine, { threads: 1, threshold: 64, maxQueue: 0 });
    try {
      await expect(busy.checkBatch(items)).rejects.toMatchObject({ statusCode: 503, code: 'PALISADE_UNAVAILABLE' });
      const app = testApp({ evaluator: busy });
      const answer = await post(
        app,
        '/v1/checks',
        {
          items: items.slice(0, 200).map((item, i) => ({ id: String(i), ...item })),
        },
        { key: CHECK_KEY },
      );
      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBe('1');
      await app.close();
    } finally {
      await busy.close();
    }
  });
});

describe('the worker pool filtering', () => {
  const filtering = new PoolEvaluator(engine, { threads: 2, filterThreshold: 64 });
  afterAll(() => filtering.close());
  const account = engine.model.tables.find((t) => t.name === 'account');
  const stored = account?.records.ids ?? [];
  // Enough rows to shard (each record many times, some ids unknown), in a shuffled order.
  const ids = Array.from({ length: 5_003 }, (_, i) =>
    i % 97 === 5 ? 'no-such-record' : (stored[(i * 7) % stored.length] as string),
  );
  const records = Int32Array.from(ids, (id) => account?.records.index.get(id) ?? -1);
  const owners = Int32Array.from(records, (r) => (r === -1 ? -1 : (account?.records.ownerOf(r) ?? -1)));
  const businessUnits = Int32Array.from(records, (r) => (r === -1 ? -1 : (account?.records.buOf(r) ?? -1)));
  const forms = {
    columns: { owners, businessUnits, records },
    'columns without records': { owners, businessUnits },
    records: { records },
    'ids (answered inline)': { ids },
    'uint32 records': { records: new Uint32Array(records.buffer) },
  } as const;

  it.each(Object.keys(forms))(
    'answers rows given as %s exactly as the main thread, for every user and privilege',
    async (form) => {
      const rows = forms[form as keyof typeof forms];
      let pooled = 0;
      for (const user of users) {
        for (const privilege of PRIVILEGES) {
          const question = { user, table: 'account', privilege: privilege as 'read' };
          for (const output of ['indexes', 'bitmask'] as const) {
            const expected = engine.filter(user, 'account', privilege as 'read', rows, { output });
            expect(Array.from(await filtering.filter(question, rows, output))).toEqual(Array.from(expected));
          }
          if (engine.filterJob(user, 'account', privilege as 'read', rows).kind === 'rows') pooled++;
        }
      }
      // The pool must have had rows to decide (not only `all`/`none` plans, which stay inline).
      expect(pooled).toBeGreaterThan(0);
    },
  );
});

describe('concurrent pooled filters', () => {
  it('answer correctly when one finds the shared scratch taken (it runs inline)', async () => {
    const pooled = new PoolEvaluator(engine, { threads: 2, filterThreshold: 8 });
    try {
      const account = engine.model.tables.find((t) => t.name === 'account');
      const records = Int32Array.from({ length: 4_000 }, (_, i) => i % (account?.records.count ?? 1));
      const asks = users.flatMap((user) =>
        (['read', 'write'] as const).map((privilege) => ({ user, table: 'account', privilege })),
      );
      const answers = await Promise.all(asks.map((q) => pooled.filter(q, { records }, 'indexes')));
      answers.forEach((answer, i) => {
        const q = asks[i] as (typeof asks)[number];
        expect(Array.from(answer)).toEqual(Array.from(engine.filter(q.user, q.table, q.privilege, { records })));
      });
    } finally {
      await pooled.close();
    }
  });
});

describe('a worker that crashes', () => {
  it('fails its request with 503 and is replaced: the next batch is answered', async () => {
    const fragile = new PoolEvaluator(engine, {
      threads: 1,
      threshold: 10,
      filterThreshold: 10,
      workerFile: new URL('./support/crashing-worker.mjs', import.meta.url),
    });
    try {
      await expect(fragile.checkBatch(items.slice(0, 13))).rejects.toMatchObject({
        statusCode: 503,
        code: 'PALISADE_UNAVAILABLE',
      });
      const next = items.slice(0, 20);
      expect(Array.from((await fragile.checkBatch(next)).codes)).toEqual(Array.from(engine.checkBatch(next)));
      // A filter goes to the pool too: 13 rows, one range.
      const records = new Int32Array(13).fill(engine.record('account', 'acc-litware'));
      // A user whose plan decides row by row (`all` and `none` plans never reach the pool).
      const user = users.find((u) => engine.filterJob(u, 'account', 'read', { records }).kind === 'rows') as string;
      const question = { user, table: 'account', privilege: 'read' as const };
      await expect(fragile.filter(question, { records }, 'indexes')).rejects.toMatchObject({
        code: 'PALISADE_UNAVAILABLE',
      });
      const rows = { records: new Int32Array(20).fill(records[0] as number) };
      expect(Array.from(await fragile.filter(question, rows, 'indexes'))).toEqual(
        Array.from(engine.filter(user, 'account', 'read', rows)),
      );
    } finally {
      await fragile.close();
    }
  });
});
