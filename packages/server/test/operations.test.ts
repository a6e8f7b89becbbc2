import { type Evaluator, InlineEvaluator } from '@palisade/server';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, errorOf, get, post, sampleEngine, testApp } from './support/http.js';

const question = { user: 'u-wendy', table: 'account', privilege: 'read', record: 'acc-litware' };

describe('health and readiness', () => {
  it('/healthz and /readyz answer while a world is loaded', async () => {
    const app = testApp();
    expect((await get(app, '/healthz', { key: null })).body).toEqual({ status: 'ok' });
    expect((await get(app, '/readyz', { key: null })).body).toEqual({ status: 'ready', revision: 0, records: 21 });
    await app.close();
  });

  it('/readyz is 503 PALISADE_UNAVAILABLE until the evaluator is ready', async () => {
    const inline = new InlineEvaluator(sampleEngine());
    const loading: Evaluator = Object.assign(Object.create(inline) as InlineEvaluator, { ready: () => false });
    const app = testApp({ evaluator: loading });
    const answer = await get(app, '/readyz', { key: null });
    expect(answer.status).toBe(503);
    expect(errorOf(answer).code).toBe('PALISADE_UNAVAILABLE');
    expect((await get(app, '/healthz', { key: null })).status).toBe(200);
    await app.close();
  });
});

describe('GET /metrics', () => {
  const app = testApp();
  afterAll(() => app.close());

  it('exposes request counts by route and status, latency histograms, world sizes and the pool queue depth', async () => {
    await post(app, '/v1/check', question);
    await post(app, '/v1/check', question);
    await post(app, '/v1/check', { ...question, user: 5 });
    await get(app, '/no/such/route/12345');
    // The docs' static route hands a missing file to the not-found handler: unmatched too.
    expect((await get(app, '/docs/static/no-such-file-12345.css', { key: null })).status).toBe(404);
    const answer = await get(app, '/metrics', { key: ADMIN_KEY });
    expect(answer.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = answer.body as string;
    expect(text).toContain('palisade_http_requests_total{method="POST",route="/v1/check",status="200"} 2');
    expect(text).toContain('palisade_http_requests_total{method="POST",route="/v1/check",status="400"} 1');
    expect(text).toContain('palisade_http_requests_total{method="GET",route="unmatched",status="404"} 2');
    expect(text).not.toContain('route="/docs/static/*"');
    expect(text).not.toContain('12345');
    expect(text).toContain('# TYPE palisade_http_request_duration_seconds histogram');
    expect(text).toMatch(
      /palisade_http_request_duration_seconds_bucket\{method="POST",route="\/v1\/check",le="\+Inf"\} 3/,
    );
    expect(text).toContain('palisade_http_request_duration_seconds_count{method="POST",route="/v1/check"} 3');
    expect(text).toContain('palisade_world_size{kind="users"} 10');
    expect(text).toContain('palisade_world_size{kind="records"} 21');
    expect(text).toContain('palisade_pool_queue_depth 0');
    // Every sample line is `name{labels} value` or `name value` with a numeric value.
    for (const line of text.trim().split('\n')) {
      if (!line.startsWith('#')) expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? [0-9.e+-]+$/);
    }
    // Bucket counts are cumulative.
    const buckets = [...text.matchAll(/route="\/v1\/check",le="[^"]+"\} (\d+)/g)].map((m) => Number(m[1]));
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
  });
});

describe('OpenAPI', () => {
  const app = testApp();
  afterAll(() => app.close());

  it('documents every route, its key scope, both encodings and the one error shape', async () => {
    const doc = (await get(app, '/openapi.json', { key: null })).body as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { security?: unknown; requestBody?: { content: object }; responses: object }>
      >;
      components: { schemas: Record<string, unknown>; securitySchemes: object };
    };
    expect(doc.openapi).toBe('3.1.0');
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect(routes.sort()).toEqual(
      [
        'post /v1/check',
        'post /v1/checks',
        'post /v1/checks/columns',
        'post /v1/filter',
        'post /v1/lookup',
        'post /v1/noop',
        'post /v1/filter-spec',
        'post /v1/access',
        'post /v1/column-access',
        'post /v1/explain/column',
        'post /v1/explain',
        'get /v1/users/{id}/privileges',
        'post /v1/who-can-access',
        'post /v1/write',
        'post /access/v1/evaluation',
        'post /access/v1/evaluations',
        'post /access/v1/search/resource',
        'get /.well-known/authzen-configuration',
        'get /healthz',
        'get /readyz',
        'get /metrics',
      ].sort(),
    );
    const check = doc.paths['/v1/check']?.post;
    expect(check?.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(check?.requestBody?.content ?? {})).toEqual([
      'application/json',
      'application/msgpack',
      'application/x-msgpack',
    ]);
    expect(Object.keys(check?.responses ?? {})).toEqual(expect.arrayContaining(['200', '4XX', '5XX']));
    expect(doc.components.schemas.Error).toBeDefined();
    expect(doc.paths['/healthz']?.get?.security).toBeUndefined();
  });

  it('documents the id dictionaries of /v1/checks/columns with their items, not the keyword that checks them', async () => {
    const response = await get(app, '/openapi.json', { key: null });
    expect(JSON.stringify(response.body)).not.toContain('x-id-list');
    const doc = response.body as {
      paths: Record<string, { post: { requestBody: { content: Record<string, { schema: Schema }> } } }>;
    };
    type Schema = { properties: Record<string, { items?: unknown; minItems?: number }> };
    const body = doc.paths['/v1/checks/columns']?.post.requestBody.content['application/msgpack']?.schema;
    for (const dictionary of ['users', 'tables']) {
      expect(body?.properties[dictionary], dictionary).toMatchObject({
        type: 'array',
        minItems: 1,
        items: { type: 'string', minLength: 1, maxLength: 1024 },
      });
    }
  });

  it('serves the docs page', async () => {
    const page = await get(app, '/docs', { key: null });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
  });
});
