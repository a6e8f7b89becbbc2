import * as core from '@palisade/core';
import { Engine } from '@palisade/core';
import { describe, expect, it } from 'vitest';
import { sampleWorld } from './support/scenarios.js';

describe('public API', () => {
  it('exports exactly these runtime names (a change here is an API change)', () => {
    const manifest = Object.fromEntries(Object.entries(core).map(([name, value]) => [name, typeof value]));
    expect(manifest).toMatchInlineSnapshot(`
      {
        "ACCESS_RIGHT_BITS": "object",
        "BatchCode": "object",
        "DEPTHS": "object",
        "Depth": "object",
        "Engine": "function",
        "ErrorCodes": "object",
        "Lookup": "function",
        "ORGANIZATION": "string",
        "PRIVILEGES": "object",
        "PalisadeError": "function",
        "Privilege": "object",
        "UPDATE_OPS": "object",
        "UPDATE_RULES": "object",
        "WORLD_RULES": "object",
        "errorOfCode": "function",
        "isAllowedCode": "function",
        "isPalisadeError": "function",
        "loadWorld": "function",
        "toSqlWhere": "function",
      }
    `);
  });
});

describe('decisions', () => {
  const engine = Engine.fromWorld(sampleWorld());
  const u = engine.user('u-erin');
  const t = engine.table('account');
  const r = engine.record(t, 'acc-fabrikam');

  it('are shared frozen objects: answering allocates nothing', () => {
    const first = engine.check(u, t, core.Privilege.read, r);
    expect(engine.check(u, t, core.Privilege.read, r)).toBe(first);
    expect(engine.check('u-erin', 'account', 'read', 'acc-fabrikam')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('have one shape whatever the answer', () => {
    const answers = [
      engine.check('u-erin', 'account', 'read', 'acc-fabrikam'),
      engine.check('u-dave', 'account', 'read', 'acc-fabrikam'),
      engine.check('u-alex', 'account', 'read', 'acc-fabrikam'),
      engine.check('u-sam', 'account', 'delete', 'acc-fabrikam'),
      engine.check('u-nobody', 'account', 'read', 'acc-fabrikam'),
      engine.canCreate('u-sam', 'account'),
    ];
    for (const answer of answers) expect(Object.keys(answer)).toEqual(['allowed', 'reason', 'missing', 'error']);
  });

  it('deny on bad input and carry the error, never throwing', () => {
    expect(engine.check(u, t, 9 as core.Privilege, r)).toMatchObject({
      allowed: false,
      reason: 'error',
      error: { code: 'PALISADE_UNKNOWN_PRIVILEGE' },
    });
    expect(engine.check(-1 as core.UserIdx, t, core.Privilege.read, r).error?.code).toBe('PALISADE_UNKNOWN_USER');
    expect(engine.check(engine.principal('team-key-accounts') as core.UserIdx, t, 1, r).error?.code).toBe(
      'PALISADE_UNKNOWN_USER',
    );
    expect(engine.check(u, t, core.Privilege.read, 10_000 as core.RecordIdx).error?.code).toBe(
      'PALISADE_UNKNOWN_RECORD',
    );
  });

  it('the resolvers throw with a code that names the kind of id', () => {
    expect(() => engine.user('nobody')).toThrow(
      expect.objectContaining({ code: 'PALISADE_UNKNOWN_USER', message: 'unknown user `nobody`' }),
    );
    expect(() => engine.table('nope')).toThrow(expect.objectContaining({ code: 'PALISADE_UNKNOWN_TABLE' }));
    expect(() => engine.privilege('READ')).toThrow(expect.objectContaining({ code: 'PALISADE_UNKNOWN_PRIVILEGE' }));
    expect(() => engine.businessUnit('bu-x')).toThrow(
      expect.objectContaining({ code: 'PALISADE_UNKNOWN_BUSINESS_UNIT' }),
    );
    expect(() => engine.principal('organization')).toThrow(
      expect.objectContaining({ code: 'PALISADE_UNKNOWN_PRINCIPAL' }),
    );
  });

  it('the bulk resolvers agree with the single ones and give -1 where an id names nothing', () => {
    expect([...engine.userIndexes(['u-erin', 'nobody', 'team-key-accounts', 'u-sam'])]).toEqual([
      u,
      -1,
      -1,
      engine.user('u-sam'),
    ]);
    expect([...engine.tableIndexes(['account', 'nope', 'contact'])]).toEqual([t, -1, engine.table('contact')]);
    const c = engine.table('contact');
    const tables = Int32Array.of(t, t, -1, c, c, t);
    expect([
      ...engine.recordIndexes(tables, ['acc-fabrikam', 'nope', 'acc-fabrikam', 'acc-fabrikam', 'con-ben', 'con-ben']),
    ]).toEqual([r, -1, -1, -1, engine.record(c, 'con-ben'), -1]);
  });

  it('stats count what was loaded and how far profiles were shared', () => {
    const stats = engine.stats();
    expect(stats).toMatchObject({ businessUnits: 5, users: 10, tables: 3 });
    expect(stats.profiles).toBeLessThanOrEqual(stats.users);
  });
});
