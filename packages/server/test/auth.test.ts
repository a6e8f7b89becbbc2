import { createHash } from 'node:crypto';
import { allows, generateKey, KeyStore, parseKeysFile, sha256 } from '@palisade/server';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import authPlugin from '../src/plugins/auth.js';
import routeConfigPlugin from '../src/plugins/route-config.js';
import { ADMIN_KEY, CHECK_KEY, errorOf, get, post, testApp } from './support/http.js';

const question = { user: 'u-wendy', table: 'account', privilege: 'read', record: 'acc-litware' };

describe('API keys on routes', () => {
  const app = testApp();
  afterAll(() => app.close());

  it('401 PALISADE_UNAUTHENTICATED without a key, with another scheme, or an unknown key; WWW-Authenticate: Bearer', async () => {
    for (const headers of [{}, { authorization: `Basic ${CHECK_KEY}` }, { authorization: 'Bearer' }]) {
      const answer = await post(app, '/v1/check', question, { key: null, headers });
      expect(answer.status).toBe(401);
      expect(errorOf(answer).code).toBe('PALISADE_UNAUTHENTICATED');
      expect(answer.headers['www-authenticate']).toBe('Bearer');
    }
    const unknown = await post(app, '/v1/check', question, { key: `${CHECK_KEY}x` });
    expect(unknown.status).toBe(401);
    expect(errorOf(unknown)).toEqual({ code: 'PALISADE_UNAUTHENTICATED', message: 'unknown API key' });
  });

  it('403 PALISADE_FORBIDDEN for a `check` key on admin routes; `admin` keys may do everything', async () => {
    const adminOnly = [
      () => get(app, '/v1/users/u-wendy/privileges', { key: CHECK_KEY }),
      () =>
        post(
          app,
          '/v1/who-can-access',
          { table: 'account', record: 'acc-litware', privilege: 'read' },
          { key: CHECK_KEY },
        ),
      () => get(app, '/metrics', { key: CHECK_KEY }),
    ];
    for (const call of adminOnly) {
      const answer = await call();
      expect(answer.status).toBe(403);
      expect(errorOf(answer)).toMatchObject({
        code: 'PALISADE_FORBIDDEN',
        details: { scope: 'admin', key: 'checker' },
      });
    }
    expect((await get(app, '/v1/users/u-wendy/privileges', { key: ADMIN_KEY })).status).toBe(200);
    expect((await get(app, '/metrics', { key: ADMIN_KEY })).status).toBe(200);
    expect((await post(app, '/v1/check', question, { key: CHECK_KEY })).status).toBe(200);
    expect((await post(app, '/v1/check', question, { key: ADMIN_KEY })).status).toBe(200);
    expect((await post(app, '/access/v1/evaluation', {}, { key: null })).status).toBe(401);
  });

  it('leaves health, readiness, the AuthZEN metadata and the API docs public', async () => {
    for (const url of ['/healthz', '/readyz', '/.well-known/authzen-configuration', '/openapi.json', '/docs']) {
      expect((await get(app, url, { key: null })).status, url).toBe(200);
    }
  });

  it('authenticates before reading the body: an unauthenticated malformed body is 401, not 400', async () => {
    const answer = await post(app, '/v1/check', '{"broken', { key: null });
    expect(answer.status).toBe(401);
  });
});

describe('the auth plugin on its own', () => {
  const keys = new KeyStore([{ id: 'k', key: 'a-development-key-long-enough', scopes: ['check'] }]);
  const scoped = (app: FastifyInstance) =>
    app.get('/secret', { config: { scope: 'admin' } }, async () => ({ secret: true }));

  it('will not start without the route-config plugin before it: a scoped route must never go public', async () => {
    const app = Fastify();
    app.register(authPlugin, { keys });
    app.register(async (instance) => scoped(instance));
    await expect(app.ready()).rejects.toThrow(/palisade-route-config/);
  });

  it('with it, refuses a scoped route without a key', async () => {
    const app = Fastify();
    app.register(routeConfigPlugin);
    app.register(authPlugin, { keys });
    app.register(async (instance) => scoped(instance));
    const answer = await app.inject({ method: 'GET', url: '/secret' });
    expect(answer.statusCode).toBe(401);
    expect(answer.body).not.toContain('secret":true');
    await app.close();
  });
});

describe('logs', () => {
  it('never contain a key, whatever the request', async () => {
    const lines: string[] = [];
    const app = testApp({ logger: { level: 'trace', stream: { write: (line) => lines.push(line) } } });
    await post(app, '/v1/check', question, { key: CHECK_KEY });
    await post(app, '/v1/check', question, { key: 'wrong-key-but-secret-too' });
    await get(app, '/metrics', { key: CHECK_KEY });
    await post(app, '/v1/check', '{"broken', { key: ADMIN_KEY });
    await app.close();
    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(4);
    expect(log).toContain('"key":"checker"');
    for (const secret of [CHECK_KEY, ADMIN_KEY, 'wrong-key-but-secret-too']) expect(log).not.toContain(secret);
  });
});

describe('KeyStore', () => {
  it('finds a key by its SHA-256 digest or its plaintext, and only that key', () => {
    const key = generateKey();
    const store = new KeyStore([
      { id: 'hashed', sha256: sha256(key).toString('hex').toUpperCase(), scopes: ['check'] },
      { id: 'plain', key: 'a-development-key-long-enough', scopes: ['admin'] },
    ]);
    expect(store.authenticate(key)?.id).toBe('hashed');
    expect(store.authenticate('a-development-key-long-enough')?.id).toBe('plain');
    expect(store.authenticate(`${key} `)).toBeNull();
    expect(store.authenticate('')).toBeNull();
    // The token's digest is written over one buffer: a miss must leave nothing for the next lookup.
    expect(store.authenticate(key)?.id).toBe('hashed');
    expect(allows({ id: 'x', scopes: ['check'] }, 'admin')).toBe(false);
    expect(allows({ id: 'x', scopes: ['admin'] }, 'check')).toBe(true);
  });

  it('digests a key with SHA-256 as a keys file lists it (the digest of its UTF-8 bytes)', () => {
    for (const key of [generateKey(), 'clé-de-développement-😀']) {
      const hex = createHash('sha256').update(key, 'utf8').digest('hex');
      expect(sha256(key).toString('hex')).toBe(hex);
      expect(new KeyStore([{ id: 'k', sha256: hex, scopes: ['check'] }]).authenticate(key)?.id).toBe('k');
    }
  });

  it('refuses bad entries with PALISADE_INVALID_CONFIG', () => {
    const bad = [
      [{ id: 'a', key: 'short', scopes: ['check'] }],
      [{ id: 'a', key: 'a key with spaces in it', scopes: ['check'] }],
      [{ id: 'a', key: 'clé-de-développement', scopes: ['check'] }],
      [{ id: 'a', sha256: 'abc', scopes: ['check'] }],
      [{ id: 'a', key: 'long-enough-key-0000', sha256: 'a'.repeat(64), scopes: ['check'] }],
      [{ id: 'a', key: 'long-enough-key-0000', scopes: [] }],
      [{ id: 'a', key: 'long-enough-key-0000', scopes: ['root'] }],
      [
        { id: 'a', key: 'long-enough-key-0000', scopes: ['check'] },
        { id: 'a', key: 'long-enough-key-0001', scopes: ['check'] },
      ],
    ];
    for (const entries of bad) {
      expect(() => new KeyStore(entries as never), JSON.stringify(entries)).toThrow(
        expect.objectContaining({ code: 'PALISADE_INVALID_CONFIG' }),
      );
    }
  });

  it('reads a keys file and says what is wrong with a bad one', () => {
    const entries = parseKeysFile(
      JSON.stringify({ keys: [{ id: 'a', sha256: 'f'.repeat(64), scopes: ['check'] }] }),
      'k.json',
    );
    expect(entries).toEqual([{ id: 'a', sha256: 'f'.repeat(64), scopes: ['check'] }]);
    expect(() => parseKeysFile('{', 'k.json')).toThrow(/k\.json is not JSON/);
    expect(() => parseKeysFile('{"keys":[]}', 'k.json')).toThrow(/non-empty `keys` array/);
    expect(() => parseKeysFile('{"keys":[{"id":"a","scopes":"check"}]}', 'k.json')).toThrow(/keys\[0\]\.scopes/);
  });
});
