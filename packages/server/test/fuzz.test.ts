/**
 * Throws thousands of random, truncated, mistyped, deeply nested and oversized bodies at every
 * route, in JSON and MessagePack (support/fuzz.ts), answered on the main thread and through the
 * worker pool. Every answer must be a 2xx or a 4xx with the one error shape: no 5xx, no crash, no
 * hang. Seeded (PALISADE_FUZZ_SEED to change it), so a failure reproduces; the write route is
 * fuzzed against a store in write.test.ts.
 */
import { PoolEvaluator } from '@palisade/server';
import { afterAll, describe, expect, it } from 'vitest';
import { FUZZ_ROUTES, type FuzzRoute, fuzzRoutes } from './support/fuzz.js';
import { ADMIN_KEY, sampleEngine, testApp } from './support/http.js';

const SEED = Number(process.env.PALISADE_FUZZ_SEED ?? 20_261_122);
const PER_ROUTE = Number(process.env.PALISADE_FUZZ_PER_ROUTE ?? 1_000);

const ROUTES: readonly FuzzRoute[] = [
  ...FUZZ_ROUTES,
  // The check route's body: the floor route parses and validates it the same way.
  { url: '/v1/noop', body: FUZZ_ROUTES[0]?.body },
];
/** The routes the pool answers when their batches are large enough. */
const POOLED = ROUTES.filter((r) =>
  ['/v1/checks', '/v1/checks/columns', '/v1/filter', '/access/v1/evaluations'].includes(r.url),
);

const VALID_CHECK = {
  method: 'POST' as const,
  url: '/v1/check',
  headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
  payload: JSON.stringify(FUZZ_ROUTES[0]?.body),
};
const ALLOWED = { allowed: true, reason: 'role', missing: null, error: null };

describe('fuzzing every route', () => {
  const app = testApp({ limits: { bodyLimit: 256 * 1024 } });
  afterAll(() => app.close());

  it(`answers ${PER_ROUTE} random requests per route with 2xx or a 4xx in the error shape (seed ${SEED})`, async () => {
    const statuses = await fuzzRoutes(app, ROUTES, { seed: SEED, perRoute: PER_ROUTE, key: ADMIN_KEY, getShare: 0.06 });
    // The fuzzer reached both the answers and the refusals.
    const total = ROUTES.length * PER_ROUTE;
    expect(statuses.get(200) ?? 0).toBeGreaterThan(total / 20);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(total / 20);
    expect(statuses.get(413) ?? 0).toBeGreaterThan(0);
  }, 120_000);

  it('still answers correctly afterwards', async () => {
    expect((await app.inject(VALID_CHECK)).json()).toEqual(ALLOWED);
  });
});

describe('fuzzing the routes the worker pool answers', () => {
  // Every batch of two or more goes to the pool, and the queue has room for all 16 requests in flight.
  const pool = new PoolEvaluator(sampleEngine(), {
    threads: 2,
    threshold: 2,
    columnThreshold: 2,
    filterThreshold: 2,
    maxQueue: 1_000,
  });
  const app = testApp({ evaluator: pool, limits: { bodyLimit: 256 * 1024 } });
  afterAll(async () => {
    await app.close();
    await pool.close();
  });

  it(`answers ${PER_ROUTE} random requests per pooled route with 2xx or a 4xx (seed ${SEED + 1})`, async () => {
    const statuses = await fuzzRoutes(app, POOLED, { seed: SEED + 1, perRoute: PER_ROUTE, key: ADMIN_KEY });
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
  }, 120_000);

  it('still answers correctly afterwards', async () => {
    expect((await app.inject(VALID_CHECK)).json()).toEqual(ALLOWED);
  });
});
