import { PRIVILEGE_OF_ACTION } from '@palisade/server';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECK_KEY, errorOf, get, post, sampleEngine, testApp } from './support/http.js';

const engine = sampleEngine();
const app = testApp();
afterAll(() => app.close());

const wendy = { type: 'user', id: 'u-wendy' };
const litware = { type: 'account', id: 'acc-litware' };

interface Decision {
  decision: boolean;
  context: { reason: string; error?: { code: string; message: string } };
}

describe('POST /access/v1/evaluation', () => {
  it('maps subject, action and resource onto a check and answers decision and reason', async () => {
    for (const name of ['read', 'can_read', 'delete', 'can_append_to', 'appendTo', 'append_to']) {
      const privilege = PRIVILEGE_OF_ACTION.get(name);
      expect(privilege).toBeDefined();
      const expected = engine.check('u-wendy', 'account', privilege as never, 'acc-litware');
      const answer = await post(app, '/access/v1/evaluation', { subject: wendy, action: { name }, resource: litware });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ decision: expected.allowed, context: { reason: expected.reason } });
    }
    // `update` is Dataverse's Write, for record questions as for column questions.
    for (const name of ['update', 'can_update']) {
      const expected = engine.check('u-wendy', 'account', 'write', 'acc-litware');
      const answer = await post(app, '/access/v1/evaluation', { subject: wendy, action: { name }, resource: litware });
      expect(answer.body, name).toEqual({ decision: expected.allowed, context: { reason: expected.reason } });
    }
  });

  it('takes a resource’s owner and business unit from its properties (an inline row)', async () => {
    const resource = { type: 'account', properties: { ownerId: 'u-wendy', owningBusinessUnitId: 'bu-sales-west' } };
    const answer = await post(app, '/access/v1/evaluation', {
      subject: wendy,
      action: { name: 'can_write' },
      resource,
    });
    const expected = engine.check('u-wendy', 'account', 'write', resource.properties);
    expect((answer.body as Decision).decision).toBe(expected.allowed);
  });

  it('accepts and ignores context and extra properties, in MessagePack too', async () => {
    const body = {
      subject: { ...wendy, properties: { department: 'Sales' } },
      action: { name: 'can_read', properties: { method: 'GET' } },
      resource: litware,
      context: { time: '1985-10-26T01:22-07:00' },
    };
    const answer = await post(app, '/access/v1/evaluation', body, { wire: 'msgpack' });
    expect(answer.headers['content-type']).toBe('application/msgpack');
    expect(answer.body).toEqual({ decision: true, context: { reason: 'role' } });
  });

  it('denies with the error for an unknown subject, action, resource type or record, or a non-user subject', async () => {
    const cases = [
      [{ subject: { type: 'user', id: 'u-nobody' } }, 'PALISADE_UNKNOWN_USER'],
      [{ action: { name: 'can_fly' } }, 'PALISADE_UNKNOWN_PRIVILEGE'],
      [{ resource: { type: 'nothing', id: 'x' } }, 'PALISADE_UNKNOWN_TABLE'],
      [{ resource: { type: 'account', id: 'acc-none' } }, 'PALISADE_UNKNOWN_RECORD'],
      [{ resource: { type: 'account' } }, 'PALISADE_INVALID_REQUEST'],
      [{ subject: { type: 'group', id: 'g' } }, 'PALISADE_INVALID_REQUEST'],
    ] as const;
    for (const [change, code] of cases) {
      const body = { subject: wendy, action: { name: 'can_read' }, resource: litware, ...change };
      const answer = await post(app, '/access/v1/evaluation', body);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ decision: false, context: { reason: 'error', error: { code } } });
    }
  });

  it('refuses a body without subject, action or resource (400, naming the field)', async () => {
    const answer = await post(app, '/access/v1/evaluation', { subject: wendy, action: { name: 'can_read' } });
    expect(answer.status).toBe(400);
    expect(errorOf(answer)).toMatchObject({ code: 'PALISADE_INVALID_REQUEST', details: { field: 'resource' } });
  });
});

describe('POST /access/v1/evaluations', () => {
  const records = ['acc-litware', 'acc-none', 'acc-coho', 'acc-wingtip'];
  const evaluations = records.map((id) => ({ resource: { type: 'account', id } }));
  const expected = records.map((id) => {
    const d = engine.check('u-wendy', 'account', 'read', id);
    return d.allowed;
  });

  it('evaluates every item with the top-level defaults, in request order (execute_all)', async () => {
    const answer = await post(app, '/access/v1/evaluations', {
      subject: wendy,
      action: { name: 'can_read' },
      evaluations,
    });
    const decisions = (answer.body as { evaluations: Decision[] }).evaluations;
    expect(decisions.map((d) => d.decision)).toEqual(expected);
    expect(decisions[1]?.context).toMatchObject({ reason: 'error', error: { code: 'PALISADE_UNKNOWN_RECORD' } });
  });

  it('stops at the first deny (deny_on_first_deny) or the first permit (permit_on_first_permit)', async () => {
    const base = { subject: wendy, action: { name: 'can_read' }, evaluations };
    const deny = await post(app, '/access/v1/evaluations', {
      ...base,
      options: { evaluations_semantic: 'deny_on_first_deny' },
    });
    const firstDeny = expected.indexOf(false);
    expect((deny.body as { evaluations: Decision[] }).evaluations).toHaveLength(firstDeny + 1);
    const permit = await post(app, '/access/v1/evaluations', {
      ...base,
      evaluations: [...evaluations].reverse(),
      options: { evaluations_semantic: 'permit_on_first_permit' },
    });
    const firstPermit = [...expected].reverse().indexOf(true);
    const decisions = (permit.body as { evaluations: Decision[] }).evaluations;
    expect(decisions).toHaveLength(firstPermit + 1);
    expect(decisions.at(-1)?.decision).toBe(true);
  });

  it('lets an item override a default, and without `evaluations` answers as a single evaluation', async () => {
    const answer = await post(app, '/access/v1/evaluations', {
      subject: wendy,
      action: { name: 'can_read' },
      resource: litware,
      evaluations: [{}, { subject: { type: 'user', id: 'u-alex' }, action: { name: 'can_delete' } }],
    });
    expect((answer.body as { evaluations: Decision[] }).evaluations).toEqual([
      { decision: true, context: { reason: 'role' } },
      { decision: true, context: { reason: 'system-administrator' } },
    ]);
    const single = await post(app, '/access/v1/evaluations', {
      subject: wendy,
      action: { name: 'can_read' },
      resource: litware,
    });
    expect(single.body).toEqual({ decision: true, context: { reason: 'role' } });
  });

  it('refuses an item left without a subject, an unknown semantic, and too many items', async () => {
    const noSubject = await post(app, '/access/v1/evaluations', {
      action: { name: 'can_read' },
      evaluations: [{ resource: litware }],
    });
    expect(errorOf(noSubject)).toMatchObject({ details: { field: 'evaluations[0].subject' } });
    const semantic = await post(app, '/access/v1/evaluations', {
      subject: wendy,
      action: { name: 'can_read' },
      options: { evaluations_semantic: 'first_come' },
      evaluations,
    });
    expect(errorOf(semantic)).toMatchObject({
      code: 'PALISADE_INVALID_REQUEST',
      details: { field: 'options.evaluations_semantic' },
    });
    const small = testApp({ limits: { maxBatchItems: 2 } });
    const tooMany = await post(small, '/access/v1/evaluations', {
      subject: wendy,
      action: { name: 'read' },
      evaluations,
    });
    expect(tooMany.status).toBe(413);
    expect(errorOf(tooMany).code).toBe('PALISADE_BATCH_TOO_LARGE');
    await small.close();
  });
});

describe('POST /access/v1/search/resource', () => {
  it('pages through every record the subject may act on, `next_token` empty after the last', async () => {
    const all = engine.lookup('u-wendy', 'account', 'read').ids();
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const answer = await post(app, '/access/v1/search/resource', {
        subject: wendy,
        action: { name: 'can_read' },
        resource: { type: 'account' },
        page: { limit: 3, ...(token === '' ? {} : { token }) },
      });
      const body = answer.body as {
        results: { type: string; id: string }[];
        page: { next_token: string; total: number };
      };
      expect(body.page.total).toBe(all.length);
      for (const r of body.results) expect(r.type).toBe('account');
      seen.push(...body.results.map((r) => r.id));
      token = body.page.next_token;
      pages++;
    } while (token !== '');
    expect(seen).toEqual(all);
    expect(pages).toBe(Math.ceil(all.length / 3));
  });

  it('answers 422 with the engine code for an unknown user or table, and for an unknown action', async () => {
    const base = { subject: wendy, action: { name: 'can_read' }, resource: { type: 'account' } };
    const cases = [
      [{ subject: { type: 'user', id: 'u-nobody' } }, 'PALISADE_UNKNOWN_USER'],
      [{ resource: { type: 'nothing' } }, 'PALISADE_UNKNOWN_TABLE'],
      [{ action: { name: 'fly' } }, 'PALISADE_UNKNOWN_PRIVILEGE'],
    ] as const;
    for (const [change, code] of cases) {
      const answer = await post(app, '/access/v1/search/resource', { ...base, ...change });
      expect(answer.status).toBe(422);
      expect(errorOf(answer).code).toBe(code);
    }
  });
});

describe('GET /.well-known/authzen-configuration', () => {
  const endpoints = (base: string) => ({
    policy_decision_point: base,
    access_evaluation_endpoint: `${base}/access/v1/evaluation`,
    access_evaluations_endpoint: `${base}/access/v1/evaluations`,
    search_resource_endpoint: `${base}/access/v1/search/resource`,
  });

  it('is public and names the endpoints under the listen address, whatever Host the request names', async () => {
    const forged = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' };
    const answer = await get(app, '/.well-known/authzen-configuration', { key: null, headers: forged });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(endpoints('http://127.0.0.1:8787'));
    const configured = testApp({ listen: { host: '::1', port: 9000 } });
    const body = (await get(configured, '/.well-known/authzen-configuration', { key: null, headers: forged })).body;
    expect(body).toEqual(endpoints('http://[::1]:9000'));
    await configured.close();
  });

  it('names the port actually bound when listening on port 0', async () => {
    const listening = testApp({ listen: { host: '127.0.0.1', port: 0 } });
    try {
      await listening.listen({ host: '127.0.0.1', port: 0 });
      const address = listening.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      expect(port).toBeGreaterThan(0);
      const answer = await get(listening, '/.well-known/authzen-configuration', { key: null });
      expect(answer.body).toEqual(endpoints(`http://127.0.0.1:${port}`));
    } finally {
      await listening.close();
    }
  });

  it('names the endpoints under --public-url when it is set', async () => {
    const configured = testApp({ publicUrl: 'https://pdp.example.com', listen: { host: '0.0.0.0', port: 8787 } });
    const body = (await get(configured, '/.well-known/authzen-configuration', { key: CHECK_KEY })).body;
    expect(body).toEqual(endpoints('https://pdp.example.com'));
    await configured.close();
  });
});

describe('AuthZEN column questions (§6)', () => {
  it('a resource with properties.column asks columnAccess; in a batch too, beside record questions', async () => {
    const column = engine.model.tables.find((t) => t.name === 'account')?.securedColumns[0] as string;
    const users = engine.model.principals.filter((_, i) => engine.model.isUser(i)).map((p) => p.id);
    for (const id of users) {
      const access = engine.columnAccess(id, 'account', 'acc-litware', column);
      for (const [action, permission] of [
        ['read', 'read'],
        ['can_update', 'update'],
        ['write', 'update'],
        ['create', 'create'],
      ] as const) {
        const resource = { ...litware, properties: { column } };
        const answer = await post(app, '/access/v1/evaluation', {
          subject: { type: 'user', id },
          action: { name: action },
          resource,
        });
        expect(answer.body).toEqual({ decision: access[permission], context: { reason: 'column-security', access } });
      }
      const batch = await post(app, '/access/v1/evaluations', {
        subject: { type: 'user', id },
        action: { name: 'read' },
        evaluations: [{ resource: { ...litware, properties: { column } } }, { resource: litware }],
      });
      const [first, second] = (batch.body as { evaluations: { decision: boolean }[] }).evaluations;
      expect(first?.decision).toBe(access.read);
      expect(second?.decision).toBe(engine.check(id, 'account', 'read', 'acc-litware').allowed);
    }
    // A column that is not a name is a bad request, never a record question in disguise.
    for (const notAName of ['', 7, ['ssn'], null, { name: column }]) {
      const answer = await post(app, '/access/v1/evaluation', {
        subject: wendy,
        action: { name: 'read' },
        resource: { ...litware, properties: { column: notAName } },
      });
      expect(answer.status, JSON.stringify(notAName)).toBe(400);
      expect(errorOf(answer)).toMatchObject({ code: 'PALISADE_INVALID_REQUEST' });
    }
    const bad = await post(app, '/access/v1/evaluation', {
      subject: wendy,
      action: { name: 'delete' },
      resource: { ...litware, properties: { column } },
    });
    expect(bad.body).toMatchObject({
      decision: false,
      context: { reason: 'error', error: { code: 'PALISADE_UNKNOWN_PRIVILEGE' } },
    });
  });
});
