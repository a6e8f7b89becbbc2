import { Engine } from '@palisade/core';
import { describe, expect, it } from 'vitest';
import { sampleWorld } from './support/scenarios.js';

const engine = Engine.fromWorld(sampleWorld());

describe('explain names every path that grants', () => {
  it('a matrix assignment: the role, the BU it was assigned from, and the BU match', () => {
    const x = engine.explain('u-wendy', 'account', 'read', 'acc-litware');
    expect(x.allowed).toBe(true);
    expect(x.paths).toEqual([
      expect.objectContaining({
        kind: 'role',
        match: 'business-unit',
        grant: expect.objectContaining({
          role: { id: 'role-salesperson', name: 'Salesperson' },
          depth: 'local',
          businessUnit: 'bu-sales-east',
          team: null,
        }),
      }),
    ]);
    expect(x.summary).toContain('bu-sales-east');
  });

  it('a deep grant reaching a descendant BU', () => {
    const x = engine.explain('u-carol', 'account', 'read', 'acc-fabrikam');
    expect(x.paths.map((p) => p.kind === 'role' && [p.match, p.grant.depth, p.grant.businessUnit])).toEqual([
      ['subtree', 'deep', 'bu-sales'],
    ]);
  });

  it('ownership, team roles and the basic grant a direct-inheritance team role adds, all at once', () => {
    const x = engine.explain('u-erin', 'account', 'write', 'acc-fabrikam');
    const roles = x.paths.flatMap((p) =>
      p.kind === 'role' ? [[p.grant.role.id, p.match, p.grant.team, p.grant.inherited]] : [],
    );
    expect(roles).toEqual([
      ['role-salesperson', 'owner', null, false],
      ['role-key-accounts', 'business-unit', 'team-key-accounts', false],
      ['role-service-rep', 'owner', 'team-escalations', true],
    ]);
  });

  it('a share, with the grant that makes it usable', () => {
    const x = engine.explain('u-wendy', 'account', 'write', 'acc-fourth-coffee');
    expect(x.reason).toBe('share');
    expect(x.paths).toEqual([
      expect.objectContaining({
        kind: 'share',
        principal: 'u-wendy',
        rights: ['read', 'write', 'assign', 'share'],
        usableThrough: expect.objectContaining({ depth: 'basic' }),
      }),
    ]);
  });

  it('a system administrator role held through a team', () => {
    const x = engine.explain('u-ivan', 'account', 'delete', 'acc-fabrikam');
    expect(x.paths).toEqual([expect.objectContaining({ kind: 'system-administrator', team: 'team-it-ops' })]);
  });
});

describe('explain says what is missing on a deny', () => {
  it('a disabled user: nothing but being enabled', () => {
    const x = engine.explain('u-dave', 'account', 'read', 'acc-alpine');
    expect(x).toMatchObject({ allowed: false, reason: 'disabled', paths: [] });
    expect(x.missing).toEqual([expect.stringContaining('enabled')]);
  });

  it('a user with the privilege elsewhere: the BU grants, the ownership and the share that would do', () => {
    const x = engine.explain('u-wendy', 'account', 'delete', 'acc-litware');
    expect(x).toMatchObject({ allowed: false, reason: 'no-access', paths: [] });
    expect(x.missing).toHaveLength(3);
    expect(x.missing[0]).toMatch(
      /`delete` on `account` at local from business unit `bu-sales-east`, at deep from `bu-sales-east` or an ancestor/,
    );
    expect(x.missing[1]).toMatch(/owned by the user or one of its teams \(it is owned by `u-evan`\)/);
    expect(x.missing[2]).toMatch(/a share with delete to the user, one of its teams or the organization/);
    expect(x.summary).toMatch(/^`u-wendy` may not delete account `acc-litware`: needs /);
  });

  it('a user holding no grant of the privilege at all', () => {
    const x = engine.explain('u-sam', 'account', 'delete', 'acc-litware');
    expect(x.allowed).toBe(false);
    expect(x.missing).toEqual([expect.stringMatching(/^a role granting `delete` on `account`/)]);
  });

  it('throws on unknown ids instead of explaining a made-up question', () => {
    expect(() => engine.explain('u-nobody', 'account', 'read', 'acc-litware')).toThrow(
      expect.objectContaining({ code: 'PALISADE_UNKNOWN_USER' }),
    );
    expect(() => engine.explain('u-erin', 'account', 'read', 'acc-missing')).toThrow(
      expect.objectContaining({ code: 'PALISADE_UNKNOWN_RECORD' }),
    );
  });
});

describe('userPrivileges', () => {
  it('lists each grant with its role, depth, anchor and team', () => {
    const p = engine.userPrivileges('u-wendy');
    expect(p).toMatchObject({
      user: 'u-wendy',
      businessUnit: 'bu-sales-west',
      disabled: false,
      systemAdministrator: false,
      teams: ['team-west-deal'],
    });
    const read = p.privileges.find((x) => x.table === 'account' && x.privilege === 'read');
    expect(read?.grants.map((g) => [g.role.id, g.depth, g.businessUnit, g.scope, g.team])).toEqual([
      ['role-salesperson', 'local', 'bu-sales-west', 'user', null],
      ['role-salesperson', 'local', 'bu-sales-east', 'user', null],
    ]);
  });

  it('marks administrators and disabled users', () => {
    expect(engine.userPrivileges('u-ivan').systemAdministrator).toBe(true);
    expect(engine.userPrivileges('u-dave').disabled).toBe(true);
  });
});
