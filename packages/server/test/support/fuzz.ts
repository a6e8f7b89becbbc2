/**
 * The fuzzer behind fuzz.test.ts (and the write route's fuzz in write.test.ts): random, truncated,
 * mistyped, deeply nested, oversized and extension-laden bodies for a route, in JSON and
 * MessagePack, sent through `inject()`. Every answer must be a 2xx or a 4xx in the one error
 * shape: no 5xx, no crash, no hang. Seeded, so a failure names its seed and request.
 */
import { encodeMsgpack } from '@palisade/server';
import type { FastifyInstance } from 'fastify';
import { Packr } from 'msgpackr';
import { expect } from 'vitest';
import { rng } from '../../../core/test/reference/random-world.js';
import { decodeBody } from './http.js';

/** A route and a valid body for it: the fuzzer breaks the body, or ignores it. */
export interface FuzzRoute {
  readonly url: string;
  readonly body: unknown;
}

/** Longest any one request may take before the fuzzer calls it a hang. */
const REQUEST_TIMEOUT_MS = 5_000;
/** Requests in flight at once: concurrent requests must not disturb each other either. */
const CONCURRENCY = 16;

const wendy = { type: 'user', id: 'u-wendy' };
/** A valid body for every route but the writes (write.test.ts fuzzes those against a store). */
export const FUZZ_ROUTES: readonly FuzzRoute[] = [
  { url: '/v1/check', body: { user: 'u-wendy', table: 'account', privilege: 'read', record: 'acc-litware' } },
  {
    url: '/v1/check',
    body: { user: 'u-wendy', table: 'account', privilege: 'write', record: { ownerId: 'u-evan', id: 'acc-coho' } },
  },
  {
    url: '/v1/checks',
    body: {
      user: 'u-wendy',
      table: 'account',
      privilege: 'read',
      items: [
        { id: 'a', record: 'acc-litware' },
        { id: 'b', user: 'u-alex', record: { ownerId: 'u-wendy' } },
      ],
    },
  },
  {
    url: '/v1/checks/columns',
    body: {
      users: ['u-wendy', 'u-alex'],
      tables: ['account'],
      privileges: ['read', 'write'],
      items: { user: [0, 1, 1], privilege: [0, 1, 0], record: [0, 1, 99] },
    },
  },
  {
    url: '/v1/checks/columns',
    body: { users: ['u-wendy'], tables: ['account'], privileges: ['read'], items: { recordId: ['acc-litware', 'x'] } },
  },
  { url: '/v1/filter', body: { user: 'u-wendy', table: 'account', privilege: 'read', ids: ['acc-litware', null] } },
  {
    url: '/v1/filter',
    body: { user: 'u-wendy', table: 'account', privilege: 'read', ids: ['acc-litware'], hiddenColumns: true },
  },
  {
    url: '/v1/column-access',
    body: { user: 'u-wendy', table: 'account', record: 'acc-litware', column: 'creditlimit' },
  },
  { url: '/v1/explain/column', body: { user: 'u-wendy', table: 'account', record: 'acc-litware', column: 'name' } },
  {
    url: '/v1/filter',
    body: { user: 'u-wendy', table: 'account', privilege: 'read', records: [0, 1, 99], output: 'bitmask' },
  },
  {
    url: '/v1/filter',
    body: {
      user: 'u-wendy',
      table: 'account',
      privilege: 'read',
      ownerIds: ['u-wendy', 'u-evan'],
      businessUnitIds: ['bu-sales-west', null],
    },
  },
  {
    url: '/v1/lookup',
    body: { user: 'u-wendy', table: 'account', privilege: 'read', format: 'page', limit: 2, cursor: 'r2' },
  },
  { url: '/v1/lookup', body: { user: 'u-wendy', table: 'account', privilege: 'read', format: 'roaring' } },
  {
    url: '/v1/filter-spec',
    body: { user: 'u-wendy', table: 'account', privilege: 'read', columns: { owner: 'o' }, firstParameter: 2 },
  },
  { url: '/v1/access', body: { user: 'u-wendy', table: 'account', record: 'acc-litware' } },
  { url: '/v1/explain', body: { user: 'u-wendy', table: 'account', privilege: 'read', record: 'acc-litware' } },
  { url: '/v1/who-can-access', body: { table: 'account', record: 'acc-litware', privilege: 'read' } },
  {
    url: '/access/v1/evaluation',
    body: { subject: wendy, action: { name: 'can_read' }, resource: { type: 'account', id: 'acc-litware' } },
  },
  {
    url: '/access/v1/evaluations',
    body: {
      subject: wendy,
      action: { name: 'can_read' },
      options: { evaluations_semantic: 'deny_on_first_deny' },
      evaluations: [{ resource: { type: 'account', id: 'acc-litware' } }, { resource: { type: 'account' } }],
    },
  },
  {
    url: '/access/v1/search/resource',
    body: { subject: wendy, action: { name: 'read' }, resource: { type: 'account' }, page: { limit: 2, token: 'r1' } },
  },
];
export const FUZZ_GETS = [
  '/v1/users/u-wendy/privileges',
  '/healthz',
  '/readyz',
  '/metrics',
  '/.well-known/authzen-configuration',
];

const STRINGS = [
  '',
  'u-wendy',
  'account',
  'read',
  'acc-litware',
  '__proto__',
  'constructor',
  '\u0000',
  '😀',
  'x'.repeat(2000),
];

const packrWithExtensions = new Packr({ useRecords: false, moreTypes: true, structuredClone: true });

interface Attempt {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly contentType: string;
  readonly accept: string | undefined;
  readonly payload: string | Buffer | undefined;
  readonly label: string;
}

/** Request makers over one seeded random sequence. */
function requestMaker(seed: number) {
  const random = rng(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)] as T;

  /** A random value of any JSON type, with the awkward numbers. */
  function randomValue(depth: number): unknown {
    switch (int(depth > 3 ? 6 : 9)) {
      case 0:
        return null;
      case 1:
        return random() < 0.5;
      case 2:
        return pick([0, -0, -1, 1.5, 2 ** 31, 2 ** 32, 2 ** 53 + 2, 1e308, -1e308, Number.MAX_SAFE_INTEGER, 5e-324]);
      case 3:
        return pick(STRINGS);
      case 4:
        return int(1000);
      case 5:
        return String.fromCharCode(...Array.from({ length: int(20) }, () => int(0xffff)));
      case 6:
        return Array.from({ length: int(5) }, () => randomValue(depth + 1));
      default: {
        const object: Record<string, unknown> = {};
        for (let i = int(5); i > 0; i--)
          object[pick([...STRINGS, 'user', 'record', 'items', 'id', 'ownerId'])] = randomValue(depth + 1);
        return object;
      }
    }
  }

  /** A copy of `value` with one random node replaced, removed, or given an extra key. */
  function mutate(value: unknown): unknown {
    if (value === null || typeof value !== 'object' || random() < 0.15) return randomValue(0);
    if (Array.isArray(value)) {
      const copy = [...value];
      if (copy.length === 0 || random() < 0.2) copy.push(randomValue(1));
      else {
        const i = int(copy.length);
        copy[i] = mutate(copy[i]);
      }
      return copy;
    }
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    const roll = random();
    if (keys.length === 0 || roll < 0.15) copy[pick(STRINGS)] = randomValue(1);
    else if (roll < 0.3) delete copy[pick(keys)];
    else {
      const key = pick(keys);
      copy[key] = mutate(copy[key]);
    }
    return copy;
  }

  function randomBytes(length: number): Buffer {
    return Buffer.from(Array.from({ length }, () => int(256)));
  }

  /** One random request to `route`. */
  function attempt(route: FuzzRoute): Attempt {
    const wire = random() < 0.5 ? 'json' : 'msgpack';
    const contentType =
      random() < 0.03
        ? pick(['text/plain', 'application/xml', 'application/json; charset=latin1', ''])
        : wire === 'json'
          ? 'application/json'
          : pick(['application/msgpack', 'application/x-msgpack']);
    const accept = pick([undefined, 'application/json', 'application/msgpack', '*/*', 'text/html;q=0.9, */*;q=0.1']);
    const encode = (value: unknown) => (wire === 'json' ? (JSON.stringify(value) ?? 'null') : encodeMsgpack(value));
    const kind = int(11);
    let payload: string | Buffer;
    let label: string;
    switch (kind) {
      case 0:
        payload = randomBytes(int(300));
        label = 'random bytes';
        break;
      case 1: {
        const whole = encode(route.body);
        payload = whole.slice(0, int(whole.length)) as string | Buffer;
        label = 'truncated';
        break;
      }
      case 2: {
        const depth = 1 + int(20_000);
        payload =
          wire === 'json'
            ? `${'['.repeat(depth)}${']'.repeat(depth)}`
            : Buffer.concat([Buffer.alloc(depth, 0x91), Buffer.from([0xc0])]);
        label = `nested ${depth}`;
        break;
      }
      case 3:
        payload = encode(randomValue(0));
        label = 'random value';
        break;
      case 4: {
        // Extensions a standard decoder would not expect: typed arrays, sets, dates, errors, regexps.
        const exotic = pick<unknown>([
          new Set([1, 2]),
          new Date(0),
          new Error('e'),
          /x/g,
          Float64Array.from([1.5]),
          new Map([[1, 'a']]),
          2n ** 70n,
        ]);
        const body = { ...(route.body as Record<string, unknown>) };
        body[pick(Object.keys(body))] = exotic;
        payload = packrWithExtensions.pack(body);
        label = 'msgpack extensions';
        break;
      }
      case 5: {
        // Huge or malformed numbers written as JSON text.
        const text = JSON.stringify(route.body);
        payload = text.replace(
          /"(read|acc-litware|u-wendy)"|\d+/,
          pick(['1e999', '-1e999', '123456789012345678901234567890', '0.0000', '-0']),
        );
        label = 'huge numbers';
        break;
      }
      case 6:
        payload = encode({ ...(route.body as object), padding: 'x'.repeat(int(2) === 0 ? 300_000 : 200_000) });
        label = 'oversize';
        break;
      default:
        payload = encode(mutate(route.body));
        label = 'mutated';
    }
    return {
      method: 'POST',
      url: route.url,
      contentType: kind === 4 ? 'application/msgpack' : kind === 5 ? 'application/json' : contentType,
      accept,
      payload,
      label,
    };
  }

  function getAttempt(): Attempt {
    const url = random() < 0.5 ? pick(FUZZ_GETS) : `/v1/users/${encodeURIComponent(pick(STRINGS) || '%')}/privileges`;
    return {
      method: 'GET',
      url,
      contentType: '',
      accept: pick([undefined, 'application/msgpack']),
      payload: undefined,
      label: 'get',
    };
  }

  return { attempt, getAttempt, chance: (p: number) => random() < p };
}

export interface FuzzOptions {
  readonly seed: number;
  /** Random requests per route. */
  readonly perRoute: number;
  /** Bearer key for every request. */
  readonly key: string;
  /** Also GET the read-only routes, one in `getShare` of the requests (default 0). */
  readonly getShare?: number;
}

/**
 * Sends `perRoute` random requests to each route, CONCURRENCY at a time, interleaving the routes,
 * and checks every answer; returns how many answers came back with each status.
 */
export async function fuzzRoutes(
  app: FastifyInstance,
  routes: readonly FuzzRoute[],
  options: FuzzOptions,
): Promise<Map<number, number>> {
  const { seed, key } = options;
  const maker = requestMaker(seed);
  const statuses = new Map<number, number>();
  const total = routes.length * options.perRoute;
  for (let start = 0; start < total; start += CONCURRENCY) {
    const batch = Array.from({ length: Math.min(CONCURRENCY, total - start) }, (_, i) =>
      maker.chance(options.getShare ?? 0)
        ? maker.getAttempt()
        : maker.attempt(routes[(start + i) % routes.length] as FuzzRoute),
    );
    await Promise.all(
      batch.map(async (a, i) => {
        const where = `seed ${seed}, request ${start + i}: ${a.method} ${a.url} (${a.label}, ${a.contentType})`;
        const headers: Record<string, string> = { authorization: `Bearer ${key}` };
        if (a.contentType !== '') headers['content-type'] = a.contentType;
        if (a.accept !== undefined) headers.accept = a.accept;
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`hang: ${where}`)), REQUEST_TIMEOUT_MS);
        });
        const response = await Promise.race([
          app.inject({
            method: a.method,
            url: a.url,
            headers,
            ...(a.payload === undefined ? {} : { payload: a.payload }),
          }),
          timeout,
        ]).finally(() => clearTimeout(timer));
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        expect(response.statusCode, where).toBeLessThan(500);
        const contentType = String(response.headers['content-type'] ?? '');
        const body = decodeBody(contentType, response.rawPayload);
        if (response.statusCode >= 400) {
          const error = (body as { error?: { code?: unknown; message?: unknown } }).error;
          expect(error?.code, where).toMatch(/^PALISADE_[A-Z_]+$/);
          expect(typeof error?.message, where).toBe('string');
        }
      }),
    );
  }
  return statuses;
}
