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

describe('a worker that crashes', () => {
  it('fails its request with 503 and is replaced: the next batch is answered', async () => {
    const fragile = new PoolEvaluator(engine, {
      threads: 1,
      threshold: 10,
      workerFile: new URL('./support/crashing-worker.mjs', import.meta.url),
    });
    try {
      await expect(fragile.checkBatch(items.slice(0, 13))).rejects.toMatchObject({
        statusCode: 503,
        code: 'PALISADE_UNAVAILABLE',
      });
      const next = items.slice(0, 20);
      expect(Array.from((await fragile.checkBatch(next)).codes)).toEqual(Array.from(engine.checkBatch(next)));
    } finally {
      await fragile.close();
    }
  });
});
