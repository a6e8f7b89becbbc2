import { BroadcastChannel } from 'node:worker_threads';
import type { CheckItem } from '@palisade/core';
import {
  DEFAULT_POOL_QUEUE_PER_THREAD,
  defaultPoolMaxQueue,
  InlineEvaluator,
  PoolEvaluator,
  type PoolOptions,
} from '@palisade/server';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CompiledWorld } from '../../core/src/compile/compile.js';
import { SharedRegions, SharedScratch } from '../src/pool/shared-scratch.js';
import { ADMIN_KEY, CHECK_KEY, errorOf, get, post, sampleEngine, testApp } from './support/http.js';

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

const pool = new PoolEvaluator(engine, { threads: 2, threshold: 64, columnThreshold: 64 });

/** Items `from` to `to` as a `/v1/checks` body, each with its position as correlation id. */
const checksBody = (from: number, to: number) => ({
  items: items.slice(from, to).map((item, i) => ({ id: String(i), ...item })),
});

/** The items whose record is an id (or some of them), as a `/v1/checks/columns` request. */
function columnRequest(from = 0, to = items.length) {
  const tables = engine.model.tables.map((t) => t.name);
  const asks = items.filter((item) => typeof item.record === 'string').slice(from, to);
  const users = [...new Set(asks.map((a) => a.user))];
  return {
    users,
    tables,
    privileges: PRIVILEGES,
    user: Uint32Array.from(asks, (a) => users.indexOf(a.user)),
    table: Uint32Array.from(asks, (a) => tables.indexOf(a.table)),
    privilege: Uint32Array.from(asks, (a) => PRIVILEGES.indexOf(a.privilege)),
    record: null,
    recordId: asks.map((a) => a.record as string),
  };
}

/** The same request with its records as engine record indexes (an unknown id: an index past the table). */
function byIndex(request: ReturnType<typeof columnRequest>) {
  const record = Uint32Array.from(request.recordId, (id, i) => {
    const table = engine.model.tables[request.table[i] as number];
    return table?.records.index.get(id) ?? 0xfffffff0;
  });
  return { ...request, record, recordId: null };
}

/** A worker that holds every range until `openGate` (support/gated-worker.mjs). */
const GATED_WORKER = new URL('./support/gated-worker.mjs', import.meta.url);

/** Opens the gated workers' gate until `pending` settles (a worker may start after the first message). */
async function openGate<T>(pending: Promise<T>): Promise<T> {
  const gate = new BroadcastChannel('palisade-test-pool-gate');
  const timer = setInterval(() => gate.postMessage('open'), 10);
  try {
    return await pending;
  } finally {
    clearInterval(timer);
    gate.close();
  }
}
afterAll(() => pool.close());

describe('the worker pool', () => {
  it('answers a large batch exactly as the main thread does, errors and inline rows included', async () => {
    const inline = await new InlineEvaluator(engine).checkBatch(items);
    const pooled = await pool.checkBatch(items);
    expect(Array.from(pooled.codes)).toEqual(Array.from(inline.codes));
    expect([...pooled.errors]).toEqual([...inline.errors]);
  });

  it('answers a large column batch exactly as the main thread does', async () => {
    const request = columnRequest();
    const inline = await new InlineEvaluator(engine).checkColumns(request);
    const pooled = await pool.checkColumns(request);
    expect(request.user.length).toBeGreaterThan(64);
    expect(Array.from(pooled.codes)).toEqual(Array.from(inline.codes));
    expect([...pooled.errors]).toEqual([...inline.errors]);
  });

  it('answers concurrent column batches of different sizes exactly as the main thread, rounds after rounds', async () => {
    // Each batch in flight holds a shared region; later batches reuse them (larger regions for
    // smaller batches included): nothing of an earlier batch may show through.
    // Answers are compared after the last round: an answer left in a region would be overwritten by then.
    const inline = new InlineEvaluator(engine);
    const total = columnRequest().recordId.length;
    const asked: Parameters<typeof pool.checkColumns>[0][] = [];
    const answered: Awaited<ReturnType<typeof pool.checkColumns>>[] = [];
    for (let round = 0; round < 3; round++) {
      // Records by id and by engine index, alternately.
      const requests = Array.from({ length: 6 }, (_, k) => {
        const request = columnRequest((k * 37 + round * 11) % 50, total - ((k * round * 53) % 400));
        return k % 2 === 0 ? request : byIndex(request);
      });
      asked.push(...requests);
      answered.push(...(await Promise.all(requests.map((request) => pool.checkColumns(request)))));
    }
    // Unknown records are among them: their messages quote the columns the region held.
    expect(
      answered.some((answer) => [...answer.errors.values()].some((e) => /no record at index/.test(e.message))),
    ).toBe(true);
    for (const [k, answer] of answered.entries()) {
      const expected = await inline.checkColumns(asked[k] as Parameters<typeof pool.checkColumns>[0]);
      expect(Array.from(answer.codes)).toEqual(Array.from(expected.codes));
      expect([...answer.errors]).toEqual([...expected.errors]);
    }
  });

  it('keeps small batches on the main thread', async () => {
    const small = items.slice(0, 10);
    expect(Array.from((await pool.checkBatch(small)).codes)).toEqual(Array.from(engine.checkBatch(small)));
    expect(pool.queueDepth()).toBe(0);
  });

  it('sends column batches and object batches to the workers by their own thresholds', async () => {
    // One thread, no room to wait: while a column batch holds the worker, a second one is refused,
    // and an object batch under its (higher) threshold is answered on the main thread.
    const split = new PoolEvaluator(engine, {
      threads: 1,
      threshold: 1_000_000,
      columnThreshold: 64,
      maxQueue: 0,
      workerFile: GATED_WORKER,
    });
    try {
      const request = columnRequest();
      const first = split.checkColumns(request);
      await expect(split.checkColumns(request)).rejects.toMatchObject({ code: 'PALISADE_UNAVAILABLE' });
      expect(Array.from((await split.checkBatch(items)).codes)).toEqual(Array.from(engine.checkBatch(items)));
      const inline = await new InlineEvaluator(engine).checkColumns(request);
      expect(Array.from((await openGate(first)).codes)).toEqual(Array.from(inline.codes));
    } finally {
      await split.close();
    }
  });

  it('refuses with 503 and Retry-After when its queue is full', async () => {
    // One thread and no room to wait: the worker takes the first batch, the next is refused.
    const busy = new PoolEvaluator(engine, { threads: 1, threshold: 64, maxQueue: 0, workerFile: GATED_WORKER });
    const app = testApp({ evaluator: busy });
    try {
      const first = busy.checkBatch(items);
      await expect(busy.checkBatch(items)).rejects.toMatchObject({ statusCode: 503, code: 'PALISADE_UNAVAILABLE' });
      const answer = await post(app, '/v1/checks', checksBody(0, 200), { key: CHECK_KEY });
      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBe('1');
      expect(errorOf(answer)).toMatchObject({ code: 'PALISADE_UNAVAILABLE', details: { retryAfter: 1 } });
      expect(Array.from((await openGate(first)).codes)).toEqual(Array.from(engine.checkBatch(items)));
      // Answered: the queue has room again.
      expect(Array.from((await openGate(busy.checkBatch(items))).codes)).toEqual(Array.from(engine.checkBatch(items)));
    } finally {
      await app.close();
      await busy.close();
    }
  });

  it('honours its queue bound: admits pooled requests while their ranges fit, refuses the rest', async () => {
    // Two threads: a batch is two ranges. Batches 1–3 leave 0, 2 and 4 ranges waiting; the 4th would leave 6.
    const bounded = new PoolEvaluator(engine, { threads: 2, threshold: 64, maxQueue: 4, workerFile: GATED_WORKER });
    try {
      const asked = Array.from({ length: 6 }, () => bounded.checkBatch(items));
      const settled = await openGate(Promise.allSettled(asked));
      expect(settled.map((s) => s.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'fulfilled',
        'rejected',
        'rejected',
        'rejected',
      ]);
      for (const s of settled) {
        if (s.status === 'fulfilled') expect(Array.from(s.value.codes)).toEqual(Array.from(engine.checkBatch(items)));
        else
          expect(s.reason).toMatchObject({ statusCode: 503, code: 'PALISADE_UNAVAILABLE', details: { retryAfter: 1 } });
      }
      expect(bounded.queueDepth()).toBe(0);
    } finally {
      await bounded.close();
    }
  });

  it('by default lets 16 concurrent pooled requests wait (a closed loop of 16 clients sees no 503)', async () => {
    expect(defaultPoolMaxQueue(2)).toBe(2 * DEFAULT_POOL_QUEUE_PER_THREAD);
    const roomy = new PoolEvaluator(engine, { threads: 2, threshold: 64, workerFile: GATED_WORKER });
    const app = testApp({ evaluator: roomy });
    try {
      const waiting = Promise.allSettled(Array.from({ length: 16 }, () => roomy.checkBatch(items)));
      // While they wait, /metrics shows the queue: two ranges per batch, two of them being answered.
      const metrics = (await get(app, '/metrics', { key: ADMIN_KEY })).body as string;
      expect(metrics).toContain(`palisade_pool_queue_depth ${roomy.queueDepth()}`);
      expect(roomy.queueDepth()).toBeGreaterThan(0);
      const settled = await openGate(waiting);
      expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
      expect((await get(app, '/metrics', { key: ADMIN_KEY })).body).toContain('palisade_pool_queue_depth 0');
    } finally {
      await app.close();
      await roomy.close();
    }
  });
});

describe('an update the engine fails to compile', () => {
  it('leaves the workers answering from the rolled-back engine, and the next update from the new one', async () => {
    const updated = sampleEngine();
    const workers = new PoolEvaluator(updated, { threads: 2, threshold: 64 });
    try {
      const before = Array.from((await new InlineEvaluator(sampleEngine()).checkBatch(items)).codes);
      expect(Array.from((await workers.checkBatch(items)).codes)).toEqual(before);
      // Joining an owner team changes what a user may do with the team's records.
      const join = [
        { op: 'addTeamMember' as const, teamId: 'team-key-accounts', userId: 'u-wendy' },
        { op: 'addTeamMember' as const, teamId: 'team-key-accounts', userId: 'u-sam' },
      ];
      // The second user's refresh fails: the first one's is already in the arrays the workers had.
      const original = CompiledWorld.prototype.refreshUser;
      let calls = 0;
      const refresh = vi.spyOn(CompiledWorld.prototype, 'refreshUser').mockImplementation(function (
        this: CompiledWorld,
        user,
      ) {
        if (++calls === 2) throw new Error('simulated allocation failure');
        original.call(this, user);
      });
      await expect(workers.exclusive(() => updated.apply(join))).rejects.toMatchObject({
        code: 'PALISADE_UPDATE_FAILED',
        details: { rolledBack: true },
      });
      refresh.mockRestore();
      // The engine compiled its world afresh: the workers must read that, not the arrays they had.
      expect(Array.from((await workers.checkBatch(items)).codes)).toEqual(before);

      await workers.exclusive(() => updated.apply(join));
      const fresh = sampleEngine();
      fresh.apply(join);
      const after = Array.from((await new InlineEvaluator(fresh).checkBatch(items)).codes);
      expect(after).not.toEqual(before);
      expect(Array.from((await workers.checkBatch(items)).codes)).toEqual(after);
    } finally {
      await workers.close();
    }
  });
});

describe('stats after an update the engine rolled back', () => {
  it('count what the engine compiled afresh, though the revision did not move', async () => {
    const engine = sampleEngine();
    const evaluator = new InlineEvaluator(engine);
    const member = { teamId: 'team-key-accounts', userId: 'u-wendy' };
    await evaluator.exclusive(() => engine.apply([{ op: 'addTeamMember', ...member }]));
    await evaluator.exclusive(() => engine.apply([{ op: 'removeTeamMember', ...member }]));
    // u-wendy's profile while a member is kept, unused: one more than a fresh compile has
    const fresh = sampleEngine().stats().profiles;
    expect(evaluator.stats().profiles).toBe(fresh + 1);
    vi.spyOn(CompiledWorld.prototype, 'refreshUser').mockImplementationOnce(() => {
      throw new Error('simulated allocation failure');
    });
    await expect(evaluator.exclusive(() => engine.apply([{ op: 'addTeamMember', ...member }]))).rejects.toMatchObject({
      code: 'PALISADE_UPDATE_FAILED',
    });
    vi.restoreAllMocks();
    expect(evaluator.stats()).toMatchObject({ revision: 2, profiles: fresh });
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
      const crashed = fragile.checkBatch(items.slice(0, 13));
      await expect(crashed).rejects.toMatchObject({
        statusCode: 503,
        code: 'PALISADE_UNAVAILABLE',
        details: { retryAfter: 1, cause: 'worker-failed' },
      });
      // What the worker said (its exit code) is for the log, not the client.
      await expect(crashed).rejects.not.toMatchObject({ message: expect.stringMatching(/exit/) });
      await expect(crashed).rejects.toMatchObject({
        cause: expect.objectContaining({ message: expect.stringMatching(/exit/) }),
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

  it('over HTTP: the request it was answering gets 503 with its cause, the next request is answered', async () => {
    const fragile = new PoolEvaluator(engine, {
      threads: 1,
      threshold: 10,
      workerFile: new URL('./support/crashing-worker.mjs', import.meta.url),
    });
    const app = testApp({ evaluator: fragile });
    const inline = testApp();
    try {
      // 13 items: one range on the one thread, which dies on it.
      const crashed = await post(app, '/v1/checks', checksBody(0, 13), { key: CHECK_KEY });
      expect(crashed.status).toBe(503);
      expect(crashed.headers['retry-after']).toBe('1');
      expect(errorOf(crashed)).toMatchObject({ code: 'PALISADE_UNAVAILABLE', details: { cause: 'worker-failed' } });
      expect(JSON.stringify(crashed.body)).not.toMatch(/exit/);
      // 20 items, pooled too: the replacement worker answers them as the main thread would.
      const next = await post(app, '/v1/checks', checksBody(0, 20), { key: CHECK_KEY });
      expect(next.status).toBe(200);
      expect(next.body).toEqual((await post(inline, '/v1/checks', checksBody(0, 20), { key: CHECK_KEY })).body);
    } finally {
      await app.close();
      await inline.close();
      await fragile.close();
    }
  });

  it('fails a column batch with 503 once every range has settled, and answers the next from the same memory', async () => {
    const fragile = new PoolEvaluator(engine, {
      threads: 2,
      columnThreshold: 10,
      workerFile: new URL('./support/crashing-worker.mjs', import.meta.url),
    });
    try {
      // 25 items in two ranges, 13 and 12: the first worker dies, the second answers its range.
      await expect(fragile.checkColumns(columnRequest(0, 25))).rejects.toMatchObject({
        statusCode: 503,
        code: 'PALISADE_UNAVAILABLE',
      });
      const next = columnRequest(0, 24);
      const expected = await new InlineEvaluator(engine).checkColumns(next);
      expect(Array.from((await fragile.checkColumns(next)).codes)).toEqual(Array.from(expected.codes));
    } finally {
      await fragile.close();
    }
  });
});

describe('a worker that hangs', () => {
  /** A range of exactly 13 items or rows never returns (support/hanging-worker.mjs). */
  const HANGING_WORKER = new URL('./support/hanging-worker.mjs', import.meta.url);
  const timedOut = {
    statusCode: 503,
    code: 'PALISADE_UNAVAILABLE',
    details: { retryAfter: 1, cause: 'worker-timeout' },
  };

  /**
   * Resolves once `count` hanging workers have loaded, counting from now. The deadline runs from
   * when a range is handed to the pool, and a worker loading the engine from its TypeScript sources
   * takes longer than these tests' 200 ms: a test waits for its workers before asking.
   */
  function workersUp(count: number): Promise<void> {
    const channel = new BroadcastChannel('palisade-test-pool-up');
    let seen = 0;
    return new Promise((resolve) => {
      channel.onmessage = () => {
        if (++seen < count) return;
        channel.close();
        resolve();
      };
    });
  }

  /** A pool of hanging workers with a 200 ms deadline, once its workers are up. */
  async function hangingPool(options: PoolOptions): Promise<PoolEvaluator> {
    const up = workersUp(options.threads ?? 1);
    const pool = new PoolEvaluator(engine, { ...options, taskTimeoutMs: 200, workerFile: HANGING_WORKER });
    await up;
    return pool;
  }

  it('fails its request with 503 at the deadline, is replaced, and holds up no update', async () => {
    const stuck = await hangingPool({ threads: 1, threshold: 10, filterThreshold: 10 });
    try {
      const replaced = workersUp(1);
      const asked = performance.now();
      const hung = stuck.checkBatch(items.slice(0, 13));
      // An update waits for the pooled questions in flight: it runs once the hung one has failed.
      const update = stuck.exclusive(() => 'applied');
      await expect(hung).rejects.toMatchObject(timedOut);
      await expect(update).resolves.toBe('applied');
      expect(performance.now() - asked).toBeLessThan(10_000);
      await replaced;
      const next = items.slice(0, 20);
      expect(Array.from((await stuck.checkBatch(next)).codes)).toEqual(Array.from(engine.checkBatch(next)));

      // A filter: the shared scratch the hung range was writing is given up, not reused.
      const abandon = vi.spyOn(SharedScratch.prototype, 'abandon');
      const replacedAgain = workersUp(1);
      const records = new Int32Array(13).fill(engine.record('account', 'acc-litware'));
      const user = users.find((u) => engine.filterJob(u, 'account', 'read', { records }).kind === 'rows') as string;
      const question = { user, table: 'account', privilege: 'read' as const };
      await expect(stuck.filter(question, { records }, 'indexes')).rejects.toMatchObject(timedOut);
      expect(abandon).toHaveBeenCalledTimes(1);
      abandon.mockRestore();
      await replacedAgain;
      const rows = { records: new Int32Array(20).fill(records[0] as number) };
      expect(Array.from(await stuck.filter(question, rows, 'indexes'))).toEqual(
        Array.from(engine.filter(user, 'account', 'read', rows)),
      );
    } finally {
      await stuck.close();
    }
  }, 30_000);

  it('never gives the region a timed-out column batch was writing to another batch', async () => {
    const stuck = await hangingPool({ threads: 2, columnThreshold: 10 });
    const release = vi.spyOn(SharedRegions.prototype, 'release');
    try {
      const replaced = workersUp(1);
      // 25 items in two ranges, 13 and 12: the first hangs (writing into its answers), the second answers.
      await expect(stuck.checkColumns(columnRequest(0, 25))).rejects.toMatchObject(timedOut);
      expect(release).not.toHaveBeenCalled();
      await replaced;
      const inline = new InlineEvaluator(engine);
      for (const size of [24, 22, 24]) {
        const request = columnRequest(0, size);
        const expected = await inline.checkColumns(request);
        expect(Array.from((await stuck.checkColumns(request)).codes)).toEqual(Array.from(expected.codes));
      }
      expect(release).toHaveBeenCalledTimes(3);
    } finally {
      release.mockRestore();
      await stuck.close();
    }
  }, 30_000);

  it('answers 503 with Retry-After over HTTP, naming neither the worker nor its error', async () => {
    const stuck = await hangingPool({ threads: 1, threshold: 10 });
    const app = testApp({ evaluator: stuck });
    try {
      const answer = await post(app, '/v1/checks', checksBody(0, 13), { key: CHECK_KEY });
      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBe('1');
      expect(answer.body).toEqual({
        error: {
          code: 'PALISADE_UNAVAILABLE',
          message: 'a worker did not answer within 200 ms (it was replaced): retry',
          details: { retryAfter: 1, cause: 'worker-timeout' },
        },
      });
    } finally {
      await app.close();
      await stuck.close();
    }
  }, 30_000);
});
