/**
 * The reference evaluator on small hand-built worlds. Every expectation is derived by hand from
 * shared/spec/semantics.md and docs/decisions.md; the comments give the reasoning.
 */
import { describe, expect, it } from 'vitest';
import type { DepthName, PrivilegeName, RoleInput, UserInput, WorldInput } from '../../src/world/format.js';
import { ACCESS_RIGHT_BITS, ORGANIZATION, PRIVILEGES } from '../../src/world/format.js';
import { randomWorld, rng } from './random-world.js';
import { ReferenceEvaluator } from './reference.js';

const ALL_BITS = PRIVILEGES.reduce((mask, privilege) => mask | ACCESS_RIGHT_BITS[privilege], 0);

/** A role giving `depth` on every listed privilege of `table`. */
function role(
  id: string,
  table: string,
  grants: Partial<Record<PrivilegeName, DepthName>>,
  extra: Partial<RoleInput> = {},
): RoleInput {
  return { id, privileges: { [table]: grants }, ...extra };
}

function user(id: string, businessUnitId: string, extra: Partial<UserInput> = {}): UserInput {
  return { id, businessUnitId, ...extra };
}

const ALL_BASIC = {
  create: 'basic',
  read: 'basic',
  write: 'basic',
  delete: 'basic',
  append: 'basic',
  appendTo: 'basic',
  assign: 'basic',
  share: 'basic',
} as const;

describe('covers: each depth (§2)', () => {
  // root ─┬─ east ── eastsub ── eastsubsub
  //       └─ west
  const world: WorldInput = {
    businessUnits: [
      { id: 'root', parentId: null },
      { id: 'east', parentId: 'root' },
      { id: 'eastsub', parentId: 'east' },
      { id: 'eastsubsub', parentId: 'eastsub' },
      { id: 'west', parentId: 'root' },
    ],
    users: [
      user('u-basic', 'east'),
      user('u-local', 'east'),
      user('u-deep', 'east'),
      user('u-global', 'east'),
      user('u-sub', 'eastsub'),
      user('u-west', 'west'),
      user('u-root', 'root'),
    ],
    teams: [{ id: 'team-x', businessUnitId: 'west', type: 'owner', members: ['u-basic'] }],
    tables: [{ name: 'account', ownership: 'user' }],
    roles: [
      role('r-basic', 'account', { read: 'basic' }),
      role('r-local', 'account', { read: 'local' }),
      role('r-deep', 'account', { read: 'deep' }),
      role('r-global', 'account', { read: 'global' }),
    ],
    roleAssignments: [
      { principalId: 'u-basic', roleId: 'r-basic' },
      { principalId: 'u-local', roleId: 'r-local' },
      { principalId: 'u-deep', roleId: 'r-deep' },
      { principalId: 'u-global', roleId: 'r-global' },
    ],
    records: [
      { table: 'account', id: 'a-basic', ownerId: 'u-basic' }, // owning BU east (owner's)
      { table: 'account', id: 'a-basic-west', ownerId: 'u-basic', owningBusinessUnitId: 'west' },
      { table: 'account', id: 'a-east', ownerId: 'u-root', owningBusinessUnitId: 'east' },
      { table: 'account', id: 'a-sub', ownerId: 'u-sub' }, // eastsub
      { table: 'account', id: 'a-subsub', ownerId: 'u-sub', owningBusinessUnitId: 'eastsubsub' },
      { table: 'account', id: 'a-west', ownerId: 'u-west' },
      { table: 'account', id: 'a-root', ownerId: 'u-root' },
      { table: 'account', id: 'a-team', ownerId: 'team-x' }, // west (team's BU)
    ],
  };
  const ref = new ReferenceEvaluator(world);
  const readable = (userId: string): string[] =>
    (world.records ?? []).filter((r) => ref.decide(userId, 'account', 'read', r.id).allowed).map((r) => r.id);

  it('basic: records owned by the user or one of its teams, whatever their BU', () => {
    // a-basic-west is owned by u-basic (ownership ignores BUs); a-team by team-x, which u-basic is in.
    expect(readable('u-basic')).toEqual(['a-basic', 'a-basic-west', 'a-team']);
  });

  it('local: records whose owning BU is the anchor BU (plus owned records)', () => {
    // anchor east: a-basic (east), a-east (owner in root, but owning BU east); not a-sub (eastsub).
    expect(readable('u-local')).toEqual(['a-basic', 'a-east']);
  });

  it('deep: the anchor BU and all its descendants', () => {
    expect(readable('u-deep')).toEqual(['a-basic', 'a-east', 'a-sub', 'a-subsub']);
  });

  it('global: everything', () => {
    expect(readable('u-global')).toEqual((world.records ?? []).map((r) => r.id));
  });

  it('reports role as reason and path, no-access with no path', () => {
    expect(ref.decide('u-local', 'account', 'read', 'a-east')).toEqual({
      allowed: true,
      reason: 'role',
      paths: ['role'],
      missing: null,
    });
    expect(ref.decide('u-local', 'account', 'read', 'a-west')).toEqual({
      allowed: false,
      reason: 'no-access',
      paths: [],
      missing: null,
    });
    // a privilege no role grants
    expect(ref.decide('u-global', 'account', 'write', 'a-east').reason).toBe('no-access');
  });

  it('produces the grants of §2', () => {
    expect(ref.grants('u-local', 'account', 'read')).toEqual([
      { table: 'account', privilege: 'read', depth: 'local', anchorBU: 'east', scope: ['u-local', ORGANIZATION] },
    ]);
    expect(ref.grants('u-local', 'account', 'write')).toEqual([]);
  });

  it('takes inline records: owner and owning BU from the object', () => {
    expect(ref.decide('u-local', 'account', 'read', { ownerId: 'u-root', owningBusinessUnitId: 'east' }).allowed).toBe(
      true,
    );
    // the owning BU defaults to the owner's: root
    expect(ref.decide('u-local', 'account', 'read', { ownerId: 'u-root' }).allowed).toBe(false);
    expect(ref.decide('u-basic', 'account', 'read', { ownerId: 'team-x', owningBusinessUnitId: 'root' }).allowed).toBe(
      true,
    );
  });

  it('throws on bad input', () => {
    expect(() => ref.decide('nobody', 'account', 'read', 'a-east')).toThrow(/^unknown user/);
    expect(() => ref.decide('team-x', 'account', 'read', 'a-east')).toThrow(/^unknown user/);
    expect(() => ref.decide('u-local', 'contact', 'read', 'a-east')).toThrow(/^unknown table/);
    expect(() => ref.decide('u-local', 'account', 'read', 'a-nope')).toThrow(/^unknown record/);
    expect(() => ref.decide('u-local', 'account', 'read', { ownerId: 'ghost' })).toThrow(/^unknown principal/);
    expect(() => ref.decide('u-local', 'account', 'read', { ownerId: ORGANIZATION })).toThrow(/^invalid owner/);
    expect(() => ref.decide('u-local', 'account', 'read', { ownerId: 'u-root', owningBusinessUnitId: 'mars' })).toThrow(
      /^unknown business unit/,
    );
    expect(() => ref.accessRights('u-local', 'account', 'a-nope')).toThrow(/^unknown record/);
  });
});

describe('team roles (§2, §7.1)', () => {
  // root ─┬─ east
  //       └─ west
  const teamWorld = (inheritance: 'direct' | 'team'): WorldInput => ({
    businessUnits: [
      { id: 'root', parentId: null },
      { id: 'east', parentId: 'root' },
      { id: 'west', parentId: 'root' },
    ],
    users: [user('u-m', 'east'), user('u-e', 'east'), user('u-w', 'west')],
    teams: [{ id: 'team-w', businessUnitId: 'west', type: 'owner', members: ['u-m'] }],
    tables: [{ name: 'account', ownership: 'user' }],
    roles: [role('r-team-local', 'account', { read: 'local' }, { inheritance })],
    roleAssignments: [{ principalId: 'team-w', roleId: 'r-team-local' }],
    records: [
      { table: 'account', id: 'e1', ownerId: 'u-e' },
      { table: 'account', id: 'w1', ownerId: 'u-w' },
      { table: 'account', id: 'm1', ownerId: 'u-m' },
    ],
  });

  it('a local team role covers the team BU, not the member BU', () => {
    const ref = new ReferenceEvaluator(teamWorld('team'));
    expect(ref.decide('u-m', 'account', 'read', 'w1').allowed).toBe(true);
    expect(ref.decide('u-m', 'account', 'read', 'e1').allowed).toBe(false);
    // non-members get nothing from the team's role
    expect(ref.decide('u-e', 'account', 'read', 'w1').allowed).toBe(false);
  });

  it('team inheritance gives no basic grant to the member; direct inheritance does', () => {
    // team: grants = (local, west, {team-w}) → m1 (owned by u-m, BU east) not covered
    expect(new ReferenceEvaluator(teamWorld('team')).decide('u-m', 'account', 'read', 'm1').allowed).toBe(false);
    // direct: also (basic, -, userScope(u-m)) → m1 covered by ownership; e1 still not
    const direct = new ReferenceEvaluator(teamWorld('direct'));
    expect(direct.decide('u-m', 'account', 'read', 'm1').allowed).toBe(true);
    expect(direct.decide('u-m', 'account', 'read', 'e1').allowed).toBe(false);
    expect(direct.grants('u-m', 'account', 'read')).toEqual([
      { table: 'account', privilege: 'read', depth: 'local', anchorBU: 'west', scope: ['team-w'] },
      {
        table: 'account',
        privilege: 'read',
        depth: 'basic',
        anchorBU: null,
        scope: ['u-m', 'team-w', ORGANIZATION],
      },
    ]);
  });

  it('role inheritance defaults to direct', () => {
    const world = teamWorld('team');
    const roles = world.roles ?? [];
    world.roles = roles.map(({ inheritance: _ignored, ...rest }) => rest);
    expect(new ReferenceEvaluator(world).decide('u-m', 'account', 'read', 'm1').allowed).toBe(true);
  });

  it('a basic team role covers records owned by the team', () => {
    const world = teamWorld('team');
    world.roles = [role('r-team-local', 'account', { read: 'basic' }, { inheritance: 'team' })];
    world.records = [
      ...(world.records ?? []),
      { table: 'account', id: 't1', ownerId: 'team-w', owningBusinessUnitId: 'east' },
    ];
    const ref = new ReferenceEvaluator(world);
    expect(ref.decide('u-m', 'account', 'read', 't1').allowed).toBe(true);
    expect(ref.decide('u-m', 'account', 'read', 'w1').allowed).toBe(false);
  });

  it('depth none in a role is no grant', () => {
    const world = teamWorld('direct');
    world.roles = [role('r-team-local', 'account', { read: 'none' })];
    const ref = new ReferenceEvaluator(world);
    expect(ref.grants('u-m', 'account', 'read')).toEqual([]);
    expect(ref.decide('u-m', 'account', 'read', 'm1').allowed).toBe(false);
  });
});

describe('default teams (§1)', () => {
  // root ─┬─ east (default team dt-east) ── eastsub
  //       └─ west (default team dt-west)
  const world: WorldInput = {
    businessUnits: [
      { id: 'root', parentId: null },
      { id: 'east', parentId: 'root', defaultTeamId: 'dt-east' },
      { id: 'eastsub', parentId: 'east' },
      { id: 'west', parentId: 'root', defaultTeamId: 'dt-west' },
    ],
    users: [user('u-e', 'east'), user('u-s', 'eastsub'), user('u-w', 'west'), user('u-w2', 'west')],
    tables: [{ name: 'account', ownership: 'user' }],
    roles: [
      role('r-local', 'account', { read: 'local' }, { inheritance: 'team' }),
      role('r-basic', 'account', { read: 'basic' }, { inheritance: 'team' }),
    ],
    roleAssignments: [
      { principalId: 'dt-east', roleId: 'r-local' },
      { principalId: 'dt-west', roleId: 'r-basic', businessUnitId: 'west' },
    ],
    records: [
      { table: 'account', id: 'e1', ownerId: 'u-e' },
      { table: 'account', id: 'w-dt', ownerId: 'dt-west', owningBusinessUnitId: 'root' },
      { table: 'account', id: 'w2', ownerId: 'u-w2' },
      { table: 'account', id: 'w3', ownerId: 'u-w2' },
    ],
    shares: [{ table: 'account', recordId: 'w3', principalId: 'dt-west', rights: ['read'] }],
  };
  const ref = new ReferenceEvaluator(world);

  it('members of a default team are exactly the users of its BU', () => {
    expect(ref.decide('u-e', 'account', 'read', 'e1').allowed).toBe(true);
    // u-s is in eastsub: not a member of dt-east
    expect(ref.decide('u-s', 'account', 'read', 'e1').allowed).toBe(false);
  });

  it('a default team can own records and receive shares', () => {
    // basic team grant (basic, west, {dt-west}) covers w-dt, owned by dt-west
    expect(ref.decide('u-w', 'account', 'read', 'w-dt').allowed).toBe(true);
    expect(ref.decide('u-w', 'account', 'read', 'w2').allowed).toBe(false);
    // share to dt-west, which holds a (t, read) grant → usable
    expect(ref.decide('u-w', 'account', 'read', 'w3')).toMatchObject({ allowed: true, reason: 'share' });
  });
});

describe('shares (§3)', () => {
  // root ─┬─ east
  //       └─ west
  const shareWorld = (inheritance: 'direct' | 'team'): WorldInput => ({
    businessUnits: [
      { id: 'root', parentId: null },
      { id: 'east', parentId: 'root' },
      { id: 'west', parentId: 'root' },
    ],
    users: [user('u-m', 'east'), user('u-o', 'west'), user('u-x', 'east'), user('u-none', 'east')],
    teams: [
      { id: 'team-w', businessUnitId: 'west', type: 'owner', members: ['u-m'] },
      { id: 'team-acc', businessUnitId: 'east', type: 'access', members: ['u-x'] },
    ],
    tables: [{ name: 'account', ownership: 'user' }],
    roles: [
      role('r-team', 'account', { read: 'basic' }, { inheritance }),
      role('r-user', 'account', { read: 'basic', write: 'basic' }),
    ],
    roleAssignments: [
      { principalId: 'team-w', roleId: 'r-team' },
      { principalId: 'u-x', roleId: 'r-user' },
    ],
    records: [
      { table: 'account', id: 's1', ownerId: 'u-o' },
      { table: 'account', id: 's2', ownerId: 'u-o' },
      { table: 'account', id: 's3', ownerId: 'u-o' },
      { table: 'account', id: 's4', ownerId: 'u-o' },
      { table: 'account', id: 's5', ownerId: 'u-o' },
      { table: 'account', id: 's6', ownerId: 'u-o' },
    ],
    shares: [
      { table: 'account', recordId: 's1', principalId: 'u-m', rights: ['read'] },
      { table: 'account', recordId: 's2', principalId: 'team-w', rights: ['read'] },
      { table: 'account', recordId: 's3', principalId: ORGANIZATION, rights: ['read'] },
      { table: 'account', recordId: 's4', principalId: 'u-m', rights: ['write'] },
      { table: 'account', recordId: 's5', principalId: 'u-x', rights: ['read'] },
      { table: 'account', recordId: 's5', principalId: 'u-x', rights: ['write'] },
      { table: 'account', recordId: 's6', principalId: 'team-acc', rights: ['read', 'delete'] },
    ],
  });

  it('team inheritance: a share to the user personally or to the organization is inert', () => {
    const ref = new ReferenceEvaluator(shareWorld('team'));
    // grants of (account, read): only (basic, west, {team-w}); s1 shared with u-m: scope lacks u-m
    expect(ref.decide('u-m', 'account', 'read', 's1').allowed).toBe(false);
    // s2 shared with team-w: the team grant's scope contains team-w
    expect(ref.decide('u-m', 'account', 'read', 's2')).toEqual({
      allowed: true,
      reason: 'share',
      paths: ['share'],
      missing: null,
    });
    // s3 shared with the organization: no grant's scope contains organization
    expect(ref.decide('u-m', 'account', 'read', 's3').allowed).toBe(false);
  });

  it('direct inheritance: the basic userScope grant makes every share usable', () => {
    const ref = new ReferenceEvaluator(shareWorld('direct'));
    expect(ref.decide('u-m', 'account', 'read', 's1').reason).toBe('share');
    expect(ref.decide('u-m', 'account', 'read', 's2').reason).toBe('share');
    expect(ref.decide('u-m', 'account', 'read', 's3').reason).toBe('share');
  });

  it('a share needs the right itself, and a grant of the privilege', () => {
    const ref = new ReferenceEvaluator(shareWorld('direct'));
    // s4 carries write only
    expect(ref.decide('u-m', 'account', 'read', 's4').allowed).toBe(false);
    // u-m holds no write grant, so the write share is inert
    expect(ref.decide('u-m', 'account', 'write', 's4').allowed).toBe(false);
  });

  it('organization shares reach every user holding the privilege, and only them', () => {
    const ref = new ReferenceEvaluator(shareWorld('team'));
    expect(ref.decide('u-x', 'account', 'read', 's3').reason).toBe('share');
    expect(ref.decide('u-none', 'account', 'read', 's3').allowed).toBe(false);
    expect(ref.decide('u-o', 'account', 'read', 's3').allowed).toBe(false);
  });

  it('two share rows for one record and principal union their rights', () => {
    const ref = new ReferenceEvaluator(shareWorld('team'));
    expect(ref.decide('u-x', 'account', 'read', 's5').reason).toBe('share');
    expect(ref.decide('u-x', 'account', 'write', 's5').reason).toBe('share');
    expect(ref.accessRights('u-x', 'account', 's5')).toBe(ACCESS_RIGHT_BITS.read | ACCESS_RIGHT_BITS.write);
  });

  it('shares to an access team are usable through the member own grants', () => {
    const ref = new ReferenceEvaluator(shareWorld('team'));
    // u-x is in team-acc; its direct read grant has scope userScope(u-x) ∋ team-acc
    expect(ref.decide('u-x', 'account', 'read', 's6').reason).toBe('share');
    // delete: u-x holds no delete grant
    expect(ref.decide('u-x', 'account', 'delete', 's6').allowed).toBe(false);
  });

  it('inline records find the shares of the stored record with that id', () => {
    const ref = new ReferenceEvaluator(shareWorld('direct'));
    expect(ref.decide('u-m', 'account', 'read', { id: 's1', ownerId: 'u-o' }).reason).toBe('share');
    expect(ref.decide('u-m', 'account', 'read', { ownerId: 'u-o' }).allowed).toBe(false);
  });

  it('lists every granting path, role first', () => {
    const world = shareWorld('direct');
    world.shares = [
      ...(world.shares ?? []),
      { table: 'account', recordId: 's1', principalId: 'u-o', rights: ['read'] },
    ];
    world.roles = [...(world.roles ?? []), role('r-own', 'account', { read: 'basic' })];
    world.roleAssignments = [...(world.roleAssignments ?? []), { principalId: 'u-o', roleId: 'r-own' }];
    const ref = new ReferenceEvaluator(world);
    expect(ref.decide('u-o', 'account', 'read', 's1')).toEqual({
      allowed: true,
      reason: 'role',
      paths: ['role', 'share'],
      missing: null,
    });
  });
});

describe('matrix role assignments (§1)', () => {
  // root ─┬─ east
  //       └─ west ── westsub
  const world: WorldInput = {
    businessUnits: [
      { id: 'root', parentId: null },
      { id: 'east', parentId: 'root' },
      { id: 'west', parentId: 'root' },
      { id: 'westsub', parentId: 'west' },
    ],
    users: [
      user('u-a', 'east'),
      user('u-b', 'east'),
      user('u-e', 'east'),
      user('u-w', 'west'),
      user('u-ws', 'westsub'),
    ],
    tables: [{ name: 'account', ownership: 'user' }],
    roles: [role('r-local', 'account', { read: 'local' }), role('r-deep', 'account', { read: 'deep' })],
    roleAssignments: [
      { principalId: 'u-a', roleId: 'r-local', businessUnitId: 'west' },
      { principalId: 'u-b', roleId: 'r-deep', businessUnitId: 'west' },
    ],
    records: [
      { table: 'account', id: 'e1', ownerId: 'u-e' },
      { table: 'account', id: 'w1', ownerId: 'u-w' },
      { table: 'account', id: 'ws1', ownerId: 'u-ws' },
      { table: 'account', id: 'own', ownerId: 'u-a' },
    ],
  };
  const ref = new ReferenceEvaluator(world);

  it('anchors the grant at the assignment BU, not the user BU', () => {
    expect(ref.decide('u-a', 'account', 'read', 'w1').allowed).toBe(true);
    expect(ref.decide('u-a', 'account', 'read', 'e1').allowed).toBe(false);
    expect(ref.decide('u-a', 'account', 'read', 'ws1').allowed).toBe(false);
    // ownership still covers (local ≥ basic)
    expect(ref.decide('u-a', 'account', 'read', 'own').allowed).toBe(true);
  });

  it('deep from the assignment BU covers its descendants', () => {
    expect(ref.decide('u-b', 'account', 'read', 'w1').allowed).toBe(true);
    expect(ref.decide('u-b', 'account', 'read', 'ws1').allowed).toBe(true);
    expect(ref.decide('u-b', 'account', 'read', 'e1').allowed).toBe(false);
  });
});

describe('organization-owned tables (§3.3)', () => {
  const world: WorldInput = {
    businessUnits: [
      { id: 'root', parentId: null },
      { id: 'east', parentId: 'root' },
    ],
    users: [user('u-a', 'east'), user('u-b', 'east'), user('u-c', 'east'), user('u-t', 'east')],
    teams: [
      { id: 'team-g', businessUnitId: 'root', type: 'group', members: ['u-t'] },
      { id: 'team-acc', businessUnitId: 'root', type: 'access', members: [] },
    ],
    tables: [{ name: 'currency', ownership: 'organization' }],
    roles: [
      role('r-cur', 'currency', { read: 'global', write: 'none', create: 'global', assign: 'global', share: 'global' }),
      role('r-create', 'currency', { create: 'global' }),
      role('r-team', 'currency', { read: 'global' }, { inheritance: 'team' }),
    ],
    roleAssignments: [
      { principalId: 'u-a', roleId: 'r-cur' },
      { principalId: 'u-c', roleId: 'r-create' },
      { principalId: 'team-g', roleId: 'r-team' },
    ],
    records: [
      { table: 'currency', id: 'usd' },
      { table: 'currency', id: 'eur' },
    ],
  };
  const ref = new ReferenceEvaluator(world);

  it('allows exactly what a global grant allows', () => {
    expect(ref.decide('u-a', 'currency', 'read', 'usd')).toEqual({
      allowed: true,
      reason: 'role',
      paths: ['role'],
      missing: null,
    });
    expect(ref.decide('u-a', 'currency', 'write', 'usd').reason).toBe('no-access');
    expect(ref.decide('u-b', 'currency', 'read', 'usd').allowed).toBe(false);
    // through a group team, even with "team privileges only"
    expect(ref.decide('u-t', 'currency', 'read', 'eur').allowed).toBe(true);
    // inline rows: owner and BU are ignored
    expect(ref.decide('u-a', 'currency', 'read', { id: 'gbp', ownerId: 'team-acc' }).allowed).toBe(true);
  });

  it('the mask reports assign and share by the roles, and create for a global create grant', () => {
    const expected =
      ACCESS_RIGHT_BITS.read | ACCESS_RIGHT_BITS.create | ACCESS_RIGHT_BITS.assign | ACCESS_RIGHT_BITS.share;
    expect(ref.accessRights('u-a', 'currency', 'usd')).toBe(expected);
    expect(ref.accessRights('u-c', 'currency', 'usd')).toBe(ACCESS_RIGHT_BITS.create);
    expect(ref.accessRights('u-b', 'currency', 'usd')).toBe(0);
  });

  it('records cannot be assigned or shared, whatever the roles say', () => {
    expect(ref.decide('u-a', 'currency', 'assign', 'usd').allowed).toBe(true);
    expect(ref.canAssign('u-a', 'currency', 'usd')).toEqual({
      allowed: false,
      reason: 'organization-owned',
      paths: [],
      missing: null,
    });
    expect(ref.canShare('u-a', 'currency', 'usd', ['read']).reason).toBe('organization-owned');
  });

  it('canCreate needs global create and global read, and ignores owner and BU', () => {
    expect(ref.canCreate('u-a', 'currency')).toEqual({ allowed: true, reason: 'role', paths: ['role'], missing: null });
    // an access team and an unknown BU are ignored here (not validated)
    expect(ref.canCreate('u-a', 'currency', 'team-acc', 'mars').allowed).toBe(true);
    expect(ref.canCreate('u-c', 'currency')).toMatchObject({
      allowed: false,
      reason: 'missing-privilege',
      missing: 'read',
    });
    expect(ref.canCreate('u-b', 'currency').missing).toBe('create');
  });
});

describe('disabled users and system administrators (§3.1, §3.2)', () => {
  const world: WorldInput = {
    businessUnits: [
      { id: 'root', parentId: null },
      { id: 'east', parentId: 'root', defaultTeamId: 'dt-east' },
      { id: 'eastsub', parentId: 'east' },
    ],
    users: [
      user('u-d', 'root', { disabled: true }),
      user('u-ad', 'root', { disabled: true }),
      user('u-t', 'root'),
      user('u-g', 'root'),
      user('u-dt', 'east'),
      user('u-sub', 'eastsub'),
      user('u-o', 'root'),
    ],
    teams: [
      { id: 'team-admins', businessUnitId: 'eastsub', type: 'owner', members: ['u-t'] },
      { id: 'team-gadmins', businessUnitId: 'root', type: 'group', members: ['u-g'] },
    ],
    tables: [
      { name: 'account', ownership: 'user', securedColumns: ['secret'] },
      { name: 'currency', ownership: 'organization' },
    ],
    roles: [
      { id: 'r-global', privileges: { account: { read: 'global', create: 'global' }, currency: { read: 'global' } } },
      { id: 'r-admin', systemAdministrator: true, inheritance: 'team', privileges: {} },
    ],
    roleAssignments: [
      { principalId: 'u-d', roleId: 'r-global' },
      { principalId: 'u-ad', roleId: 'r-admin' },
      { principalId: 'team-admins', roleId: 'r-admin' },
      { principalId: 'team-gadmins', roleId: 'r-admin' },
      { principalId: 'dt-east', roleId: 'r-admin' },
    ],
    records: [
      { table: 'account', id: 'a1', ownerId: 'u-o' },
      { table: 'currency', id: 'usd' },
    ],
  };
  const ref = new ReferenceEvaluator(world);
  const DISABLED = { allowed: false, reason: 'disabled', paths: [], missing: null };
  const ADMIN = { allowed: true, reason: 'system-administrator', paths: ['system-administrator'], missing: null };

  it('a disabled user is denied everything', () => {
    expect(ref.decide('u-d', 'account', 'read', 'a1')).toEqual(DISABLED);
    expect(ref.decide('u-d', 'currency', 'read', 'usd')).toEqual(DISABLED);
    expect(ref.accessRights('u-d', 'account', 'a1')).toBe(0);
    expect(ref.columnAccess('u-d', 'account', 'a1', 'name')).toEqual({ read: false, create: false, update: false });
  });

  it('a disabled system administrator is denied too', () => {
    expect(ref.decide('u-ad', 'account', 'read', 'a1')).toEqual(DISABLED);
    expect(ref.accessRights('u-ad', 'currency', 'usd')).toBe(0);
  });

  it('a system administrator through an owner team, a group team or a default team may do everything', () => {
    for (const userId of ['u-t', 'u-g', 'u-dt']) {
      for (const privilege of PRIVILEGES) {
        expect(ref.decide(userId, 'account', privilege, 'a1')).toEqual(ADMIN);
        expect(ref.decide(userId, 'currency', privilege, 'usd')).toEqual(ADMIN);
      }
      expect(ref.accessRights(userId, 'account', 'a1')).toBe(ALL_BITS);
      expect(ref.accessRights(userId, 'currency', 'usd')).toBe(ALL_BITS);
      expect(ref.columnAccess(userId, 'account', 'a1', 'secret')).toEqual({ read: true, create: true, update: true });
    }
    expect(ALL_BITS).toBe(852023);
  });

  it('a user in a child BU is not a member of the parent BU default team', () => {
    expect(ref.decide('u-sub', 'account', 'read', 'a1').reason).toBe('no-access');
  });
});

describe('accessRights: the create bit (§3)', () => {
  const world: WorldInput = {
    businessUnits: [
      { id: 'root', parentId: null },
      { id: 'east', parentId: 'root' },
      { id: 'west', parentId: 'root' },
    ],
    users: [user('u-c', 'east'), user('u-l', 'east'), user('u-s', 'east'), user('u-e', 'east'), user('u-w', 'west')],
    tables: [{ name: 'account', ownership: 'user' }],
    roles: [
      role('r-create', 'account', { create: 'basic' }),
      role('r-create-local', 'account', { create: 'local', read: 'basic' }),
      role('r-cr', 'account', { create: 'basic', read: 'basic' }),
    ],
    roleAssignments: [
      { principalId: 'u-c', roleId: 'r-create' },
      { principalId: 'u-l', roleId: 'r-create-local' },
      { principalId: 'u-s', roleId: 'r-cr' },
    ],
    records: [
      { table: 'account', id: 'c-own', ownerId: 'u-c' },
      { table: 'account', id: 'l-own', ownerId: 'u-l' },
      { table: 'account', id: 'east1', ownerId: 'u-e' },
      { table: 'account', id: 'west1', ownerId: 'u-w' },
    ],
    shares: [{ table: 'account', recordId: 'west1', principalId: 'u-s', rights: ['read', 'write'] }],
  };
  const ref = new ReferenceEvaluator(world);
  const { read, create, write } = ACCESS_RIGHT_BITS;

  it('create alone, read not required', () => {
    expect(ref.accessRights('u-c', 'account', 'c-own')).toBe(create);
    expect(ref.accessRights('u-c', 'account', 'east1')).toBe(0);
  });

  it('a create grant covering a record with this owner and owning BU', () => {
    // create local at east covers east1 (owning BU east); read basic does not
    expect(ref.accessRights('u-l', 'account', 'east1')).toBe(create);
    expect(ref.accessRights('u-l', 'account', 'l-own')).toBe(create | read);
    expect(ref.accessRights('u-l', 'account', 'west1')).toBe(0);
  });

  it('role path only: a share never gives the create bit', () => {
    // read via the share; write shared but u-s holds no write grant
    expect(ref.accessRights('u-s', 'account', 'west1')).toBe(read);
    expect(ref.accessRights('u-s', 'account', 'west1') & write).toBe(0);
  });
});

describe('composite actions (§4, docs/decisions.md)', () => {
  const world: WorldInput = {
    businessUnits: [
      { id: 'root', parentId: null },
      { id: 'east', parentId: 'root' },
      { id: 'west', parentId: 'root' },
    ],
    users: [
      user('u-full', 'east'),
      user('u-read', 'east'),
      user('u-ar', 'east'),
      user('u-aw', 'east'),
      user('u-srd', 'east'),
      user('u-sh', 'east'),
      user('u-lc', 'east'),
      user('u-ap', 'east'),
      user('u-assoc', 'east'),
      user('u-dis', 'east', { disabled: true }),
      user('u-admin', 'east'),
      user('u-off', 'west', { disabled: true }),
      user('u-on', 'west'),
    ],
    teams: [
      { id: 'team-acc', businessUnitId: 'east', type: 'access', members: ['u-full'] },
      { id: 'team-own', businessUnitId: 'west', type: 'owner', members: [] },
      { id: 'team-grp', businessUnitId: 'west', type: 'group', members: [] },
    ],
    tables: [
      { name: 'account', ownership: 'user' },
      { name: 'currency', ownership: 'organization' },
    ],
    roles: [
      role('r-full', 'account', ALL_BASIC),
      role('r-read', 'account', { read: 'basic' }),
      role('r-ar', 'account', { assign: 'basic', read: 'basic' }),
      role('r-aw', 'account', { assign: 'basic', write: 'basic' }),
      role('r-srd', 'account', { share: 'basic', read: 'basic', delete: 'basic' }),
      role('r-sh', 'account', { read: 'basic', write: 'basic', assign: 'basic' }),
      role('r-lc', 'account', { create: 'local', read: 'local' }),
      role('r-ap', 'account', { append: 'basic', appendTo: 'basic' }),
      role('r-assoc', 'account', { append: 'basic', appendTo: 'global' }),
      { id: 'r-admin', systemAdministrator: true, privileges: {} },
    ],
    roleAssignments: [
      { principalId: 'u-full', roleId: 'r-full' },
      { principalId: 'u-read', roleId: 'r-read' },
      { principalId: 'u-ar', roleId: 'r-ar' },
      { principalId: 'u-aw', roleId: 'r-aw' },
      { principalId: 'u-srd', roleId: 'r-srd' },
      { principalId: 'u-sh', roleId: 'r-sh' },
      { principalId: 'u-lc', roleId: 'r-lc' },
      { principalId: 'u-ap', roleId: 'r-ap' },
      { principalId: 'u-assoc', roleId: 'r-assoc' },
      { principalId: 'u-dis', roleId: 'r-full' },
      { principalId: 'u-admin', roleId: 'r-admin' },
    ],
    records: [
      { table: 'account', id: 'f1', ownerId: 'u-full' },
      { table: 'account', id: 'f2', ownerId: 'u-full' },
      { table: 'account', id: 'r1', ownerId: 'u-read' },
      { table: 'account', id: 'ar1', ownerId: 'u-ar' },
      { table: 'account', id: 'aw1', ownerId: 'u-aw' },
      { table: 'account', id: 'srd1', ownerId: 'u-srd' },
      { table: 'account', id: 'ap1', ownerId: 'u-ap' },
      { table: 'account', id: 'd1', ownerId: 'u-dis' },
      { table: 'account', id: 'o1', ownerId: 'u-on' },
      { table: 'account', id: 'o2', ownerId: 'u-on' },
      { table: 'currency', id: 'usd' },
    ],
    shares: [
      { table: 'account', recordId: 'o1', principalId: 'u-sh', rights: ['assign', 'write', 'read'] },
      { table: 'account', recordId: 'o2', principalId: 'u-assoc', rights: ['append'] },
    ],
  };
  const ref = new ReferenceEvaluator(world);
  const ok = (reason: string, paths: string[] = [reason]) => ({ allowed: true, reason, paths, missing: null });
  const missing = (privilege: string) => ({
    allowed: false,
    reason: 'missing-privilege',
    paths: [],
    missing: privilege,
  });
  const denied = (reason: string) => ({ allowed: false, reason, paths: [], missing: null });

  describe('canCreate', () => {
    it('create then read, role path only, on the prospective record', () => {
      expect(ref.canCreate('u-full', 'account')).toEqual(ok('role'));
      expect(ref.canCreate('u-full', 'account', null, null)).toEqual(ok('role'));
      // owned by u-on (BU west): basic grants do not cover it
      expect(ref.canCreate('u-full', 'account', 'u-on')).toEqual(missing('create'));
      expect(ref.canCreate('u-full', 'account', 'team-own')).toEqual(missing('create'));
      // create is checked before read
      expect(ref.canCreate('u-ap', 'account')).toEqual(missing('create'));
      expect(ref.canCreate('u-read', 'account')).toEqual(missing('create'));
    });

    it('the owning BU defaults to the owner BU, or is the one given', () => {
      // local grants at east: a record of u-on in west is not covered, one in east is
      expect(ref.canCreate('u-lc', 'account', 'u-on')).toEqual(missing('create'));
      expect(ref.canCreate('u-lc', 'account', 'u-on', 'east')).toEqual(ok('role'));
      expect(ref.canCreate('u-lc', 'account', 'team-grp', 'east')).toEqual(ok('role'));
      // a disabled owner is not checked
      expect(ref.canCreate('u-lc', 'account', 'u-dis')).toEqual(ok('role'));
    });

    it('bad input first, then disabled, then system administrator', () => {
      expect(() => ref.canCreate('u-full', 'account', 'team-acc')).toThrow(/^invalid owner/);
      expect(() => ref.canCreate('u-full', 'account', ORGANIZATION)).toThrow(/^invalid owner/);
      expect(() => ref.canCreate('u-full', 'account', 'ghost')).toThrow(/^unknown principal/);
      expect(() => ref.canCreate('u-full', 'account', null, 'mars')).toThrow(/^unknown business unit/);
      expect(() => ref.canCreate('ghost', 'account')).toThrow(/^unknown user/);
      expect(() => ref.canCreate('u-full', 'contact')).toThrow(/^unknown table/);
      expect(() => ref.canCreate('u-dis', 'account', 'team-acc')).toThrow(/^invalid owner/);
      expect(ref.canCreate('u-dis', 'account')).toEqual(denied('disabled'));
      expect(ref.canCreate('u-admin', 'account', 'u-on', 'west')).toEqual(ok('system-administrator'));
    });
  });

  describe('canAssign', () => {
    it('assign, write, read in that order', () => {
      expect(ref.canAssign('u-full', 'account', 'f1')).toEqual(ok('role'));
      expect(ref.canAssign('u-full', 'account', 'f1', 'u-on')).toEqual(ok('role'));
      expect(ref.canAssign('u-full', 'account', 'f1', 'team-own')).toEqual(ok('role'));
      expect(ref.canAssign('u-full', 'account', 'f1', 'team-grp')).toEqual(ok('role'));
      expect(ref.canAssign('u-read', 'account', 'r1')).toEqual(missing('assign'));
      expect(ref.canAssign('u-ar', 'account', 'ar1')).toEqual(missing('write'));
      expect(ref.canAssign('u-aw', 'account', 'aw1')).toEqual(missing('read'));
      expect(ref.canAssign('u-full', 'account', 'o1')).toEqual(missing('assign'));
    });

    it('every path counts; the reason is that of the assign decision', () => {
      expect(ref.canAssign('u-sh', 'account', 'o1', 'u-full')).toEqual(ok('share'));
    });

    it('bad input, disabled, organization-owned, recipient-disabled, system administrator', () => {
      expect(() => ref.canAssign('u-full', 'account', 'f1', 'team-acc')).toThrow(/^invalid owner/);
      expect(() => ref.canAssign('u-full', 'account', 'f1', 'ghost')).toThrow(/^unknown principal/);
      expect(() => ref.canAssign('u-full', 'account', 'nope', 'u-on')).toThrow(/^unknown record/);
      // bad input comes before disabled
      expect(() => ref.canAssign('u-dis', 'account', 'd1', 'team-acc')).toThrow(/^invalid owner/);
      // disabled before organization-owned and before recipient-disabled
      expect(ref.canAssign('u-dis', 'currency', 'usd')).toEqual(denied('disabled'));
      expect(ref.canAssign('u-dis', 'account', 'd1', 'u-off')).toEqual(denied('disabled'));
      // organization-owned before system administrator
      expect(ref.canAssign('u-admin', 'currency', 'usd')).toEqual(denied('organization-owned'));
      // recipient-disabled before system administrator, and before missing privileges
      expect(ref.canAssign('u-admin', 'account', 'o1', 'u-off')).toEqual(denied('recipient-disabled'));
      expect(ref.canAssign('u-read', 'account', 'o1', 'u-off')).toEqual(denied('recipient-disabled'));
      expect(ref.canAssign('u-admin', 'account', 'o1', 'u-on')).toEqual(ok('system-administrator'));
    });
  });

  describe('canShare', () => {
    it('share, read, then each requested right in the fixed order', () => {
      expect(ref.canShare('u-full', 'account', 'f1', ['read', 'write'])).toEqual(ok('role'));
      expect(ref.canShare('u-srd', 'account', 'srd1', [])).toEqual(ok('role'));
      expect(ref.canShare('u-srd', 'account', 'srd1', ['delete'])).toEqual(ok('role'));
      // write comes before delete in read, write, delete, append, appendTo, assign, share
      expect(ref.canShare('u-srd', 'account', 'srd1', ['delete', 'write', 'append'])).toEqual(missing('write'));
      expect(ref.canShare('u-read', 'account', 'r1', ['read'])).toEqual(missing('share'));
      expect(ref.canShare('u-ar', 'account', 'ar1', [])).toEqual(missing('share'));
      expect(ref.canShare('u-full', 'account', 'o1', [])).toEqual(missing('share'));
    });

    it('bad input, disabled, organization-owned, system administrator', () => {
      expect(() => ref.canShare('u-full', 'account', 'f1', ['create'])).toThrow(/^invalid share right/);
      expect(() => ref.canShare('u-full', 'account', 'f1', ['read', 'bogus'])).toThrow(/^invalid share right/);
      expect(() => ref.canShare('u-dis', 'account', 'd1', ['create'])).toThrow(/^invalid share right/);
      expect(ref.canShare('u-dis', 'account', 'd1', ['read'])).toEqual(denied('disabled'));
      expect(ref.canShare('u-dis', 'currency', 'usd', [])).toEqual(denied('disabled'));
      expect(ref.canShare('u-admin', 'currency', 'usd', ['read'])).toEqual(denied('organization-owned'));
      expect(ref.canShare('u-admin', 'account', 'o1', ['assign', 'share'])).toEqual(ok('system-administrator'));
    });
  });

  describe('canAssociate', () => {
    it('append on the child, then appendTo on the parent', () => {
      expect(ref.canAssociate('u-full', 'account', 'f1', 'account', 'f2')).toEqual(ok('role'));
      // u-read lacks both: append is reported
      expect(ref.canAssociate('u-read', 'account', 'r1', 'account', 'f1')).toEqual(missing('append'));
      expect(ref.canAssociate('u-ap', 'account', 'ap1', 'account', 'f1')).toEqual(missing('appendTo'));
      expect(ref.canAssociate('u-ap', 'account', 'ap1', 'account', 'ap1')).toEqual(ok('role'));
      expect(ref.canAssociate('u-ap', 'account', 'f1', 'account', 'ap1')).toEqual(missing('append'));
    });

    it('the reason is that of the append decision', () => {
      // append on o2 via the share; appendTo on f1 via the global role
      expect(ref.canAssociate('u-assoc', 'account', 'o2', 'account', 'f1')).toEqual(ok('share'));
    });

    it('bad input, disabled, system administrator', () => {
      expect(() => ref.canAssociate('u-full', 'account', 'f1', 'account', 'nope')).toThrow(/^unknown record/);
      expect(() => ref.canAssociate('u-full', 'account', 'f1', 'contact', 'f1')).toThrow(/^unknown table/);
      expect(ref.canAssociate('u-dis', 'account', 'd1', 'account', 'd1')).toEqual(denied('disabled'));
      expect(ref.canAssociate('u-admin', 'account', 'o1', 'currency', 'usd')).toEqual(ok('system-administrator'));
    });
  });
});

describe('hierarchy security (§5)', () => {
  // root ─┬─ east ── eastsub ── eastsubsub
  //       └─ west
  // manager chain: m ← s1 ← s2 ← s3 ← s5 ; m ← s4 ; m ← sd (disabled) ; m2 ← s6 ; m3 ← s7
  const hierarchyWorld = (hierarchy: NonNullable<WorldInput['settings']>['hierarchy']): WorldInput => ({
    ...(hierarchy === undefined ? {} : { settings: { hierarchy } }),
    businessUnits: [
      { id: 'root', parentId: null },
      { id: 'east', parentId: 'root' },
      { id: 'eastsub', parentId: 'east' },
      { id: 'eastsubsub', parentId: 'eastsub' },
      { id: 'west', parentId: 'root' },
    ],
    users: [
      user('m', 'east'),
      user('s1', 'east', { managerId: 'm' }),
      user('s2', 'eastsub', { managerId: 's1' }),
      user('s3', 'eastsubsub', { managerId: 's2' }),
      user('s5', 'eastsubsub', { managerId: 's3' }),
      user('s4', 'west', { managerId: 'm' }),
      user('sd', 'east', { managerId: 'm', disabled: true }),
      user('m2', 'east'),
      user('s6', 'east', { managerId: 'm2' }),
      user('m3', 'east'),
      user('s7', 'east', { managerId: 'm3' }),
      user('other', 'west'),
    ],
    teams: [{ id: 't1', businessUnitId: 'west', type: 'access', members: ['s1'] }],
    tables: [
      { name: 'account', ownership: 'user' },
      { name: 'currency', ownership: 'organization' },
    ],
    roles: [
      role('r-m', 'account', {
        create: 'basic',
        read: 'basic',
        write: 'basic',
        delete: 'basic',
        append: 'basic',
        appendTo: 'basic',
      }),
      role('r-write', 'account', { write: 'basic' }),
      role('r-read', 'account', { read: 'basic' }),
    ],
    roleAssignments: [
      { principalId: 'm', roleId: 'r-m' },
      { principalId: 'm2', roleId: 'r-write' },
      { principalId: 'm3', roleId: 'r-read' },
    ],
    records: [
      { table: 'account', id: 'rs1', ownerId: 's1' },
      { table: 'account', id: 'rs2', ownerId: 's2' },
      { table: 'account', id: 'rs3', ownerId: 's3' },
      { table: 'account', id: 'rs4', ownerId: 's4' },
      { table: 'account', id: 'rs5', ownerId: 's5' },
      { table: 'account', id: 'rsd', ownerId: 'sd' },
      { table: 'account', id: 'rs6', ownerId: 's6' },
      { table: 'account', id: 'rs7', ownerId: 's7' },
      { table: 'account', id: 'x1', ownerId: 'other' },
      { table: 'account', id: 'x2', ownerId: 'other' },
      { table: 'account', id: 'x3', ownerId: 'other' },
      { table: 'account', id: 'xt', ownerId: 'other' },
    ],
    shares: [
      { table: 'account', recordId: 'x1', principalId: 's1', rights: ['read', 'write', 'delete'] },
      { table: 'account', recordId: 'x2', principalId: 's2', rights: ['write'] },
      { table: 'account', recordId: 'x3', principalId: ORGANIZATION, rights: ['read'] },
      { table: 'account', recordId: 'xt', principalId: 't1', rights: ['read', 'append'] },
    ],
  });
  const can = (ref: ReferenceEvaluator, userId: string, privilege: PrivilegeName, recordId: string): boolean =>
    ref.decide(userId, 'account', privilege, recordId).allowed;

  it('is off unless enabled', () => {
    const ref = new ReferenceEvaluator(hierarchyWorld(undefined));
    expect(can(ref, 'm', 'read', 'rs1')).toBe(false);
    expect(can(new ReferenceEvaluator(hierarchyWorld({ enabled: false })), 'm', 'read', 'rs1')).toBe(false);
  });

  it('level 1 gives read, write, append, appendTo on owned records; level 2 read only', () => {
    const ref = new ReferenceEvaluator(hierarchyWorld({ enabled: true }));
    expect(ref.decide('m', 'account', 'read', 'rs1')).toEqual({
      allowed: true,
      reason: 'hierarchy',
      paths: ['hierarchy'],
      missing: null,
    });
    expect(can(ref, 'm', 'write', 'rs1')).toBe(true);
    expect(can(ref, 'm', 'append', 'rs1')).toBe(true);
    expect(can(ref, 'm', 'appendTo', 'rs1')).toBe(true);
    expect(can(ref, 'm', 'delete', 'rs1')).toBe(false);
    // the mask: read, write, append, appendTo; no create (role path only: create basic does not cover rs1)
    expect(ref.accessRights('m', 'account', 'rs1')).toBe(1 + 2 + 4 + 16);
    // s2 at level 2 (eastsub, whose parent is m's BU east)
    expect(can(ref, 'm', 'read', 'rs2')).toBe(true);
    expect(can(ref, 'm', 'write', 'rs2')).toBe(false);
    // disabled subordinates still count
    expect(can(ref, 'm', 'write', 'rsd')).toBe(true);
    // hierarchy never helps canCreate
    expect(ref.canCreate('m', 'account', 's1')).toMatchObject({ missing: 'create' });
  });

  it('the BU rule: same BU or immediate parent, comparing M with S directly', () => {
    const ref = new ReferenceEvaluator(hierarchyWorld({ enabled: true }));
    // s3 (eastsubsub, parent eastsub ≠ east) at level 3 does not count
    expect(can(ref, 'm', 'read', 'rs3')).toBe(false);
    // s4 (west, parent root) at level 1 does not count
    expect(can(ref, 'm', 'read', 'rs4')).toBe(false);
    // s5 is at level 4 > depth 3
    expect(can(ref, 'm', 'read', 'rs5')).toBe(false);
    const relaxed = new ReferenceEvaluator(
      hierarchyWorld({ enabled: true, managersMustBeInSameOrParentBusinessUnit: false }),
    );
    expect(can(relaxed, 'm', 'read', 'rs3')).toBe(true);
    expect(can(relaxed, 'm', 'write', 'rs4')).toBe(true);
    expect(can(relaxed, 'm', 'read', 'rs5')).toBe(false);
  });

  it('a subordinate that does not count still links M to those below it', () => {
    // depth 4: s5 at level 4; s5's BU eastsubsub's parent is eastsub ≠ east, so s5 doesn't count either
    const ref = new ReferenceEvaluator(hierarchyWorld({ enabled: true, depth: 4 }));
    expect(can(ref, 'm', 'read', 'rs5')).toBe(false);
    const world = hierarchyWorld({ enabled: true, depth: 4 });
    world.users = (world.users ?? []).map((u) => (u.id === 's5' ? { ...u, businessUnitId: 'east' } : u));
    // now s5 is in m's BU; linked through s3 which does not count
    expect(can(new ReferenceEvaluator(world), 'm', 'read', 'rs5')).toBe(true);
    expect(can(new ReferenceEvaluator(world), 'm', 'read', 'rs3')).toBe(false);
  });

  it('depth limits the levels', () => {
    const ref = new ReferenceEvaluator(hierarchyWorld({ enabled: true, depth: 1 }));
    expect(can(ref, 'm', 'read', 'rs1')).toBe(true);
    expect(can(ref, 'm', 'read', 'rs2')).toBe(false);
  });

  it('shared records: the level rights capped by the shared rights; organization shares do not count', () => {
    const ref = new ReferenceEvaluator(hierarchyWorld({ enabled: true }));
    expect(can(ref, 'm', 'read', 'x1')).toBe(true);
    expect(can(ref, 'm', 'write', 'x1')).toBe(true);
    expect(can(ref, 'm', 'delete', 'x1')).toBe(false);
    // shared with s2 (level 2: read only) with write only → nothing
    expect(can(ref, 'm', 'read', 'x2')).toBe(false);
    expect(can(ref, 'm', 'write', 'x2')).toBe(false);
    // organization share: m reads it through the share path, not the hierarchy
    expect(ref.decide('m', 'account', 'read', 'x3').paths).toEqual(['share']);
    // shared with a team of s1 (even an access team)
    expect(ref.decide('m', 'account', 'append', 'xt').paths).toEqual(['hierarchy']);
    expect(can(ref, 'm', 'write', 'xt')).toBe(false);
  });

  it('the gate: a grant of (t, read) and of (t, p), at any depth', () => {
    const ref = new ReferenceEvaluator(hierarchyWorld({ enabled: true }));
    // m2 holds write but no read
    expect(can(ref, 'm2', 'write', 'rs6')).toBe(false);
    expect(can(ref, 'm2', 'read', 'rs6')).toBe(false);
    // m3 holds read only
    expect(can(ref, 'm3', 'read', 'rs7')).toBe(true);
    expect(can(ref, 'm3', 'write', 'rs7')).toBe(false);
  });

  it('excluded tables', () => {
    const ref = new ReferenceEvaluator(hierarchyWorld({ enabled: true, excludedTables: ['account'] }));
    expect(can(ref, 'm', 'read', 'rs1')).toBe(false);
  });

  it('position model: position distance, no BU rule, same position is no subordinate', () => {
    const world: WorldInput = {
      settings: { hierarchy: { enabled: true, model: 'position', depth: 2 } },
      businessUnits: [
        { id: 'root', parentId: null },
        { id: 'east', parentId: 'root' },
        { id: 'west', parentId: 'root' },
      ],
      positions: [
        { id: 'p-ceo', parentId: null },
        { id: 'p-vp', parentId: 'p-ceo' },
        { id: 'p-dir', parentId: 'p-vp' },
        { id: 'p-mgr', parentId: 'p-dir' },
      ],
      users: [
        user('ceo', 'west', { positionId: 'p-ceo' }),
        user('vp', 'east', { positionId: 'p-vp' }),
        user('vp2', 'east', { positionId: 'p-vp', managerId: 'ceo' }),
        user('dir', 'east', { positionId: 'p-dir' }),
        user('mgr', 'east', { positionId: 'p-mgr' }),
      ],
      tables: [{ name: 'account', ownership: 'user' }],
      roles: [role('r', 'account', { read: 'basic', write: 'basic' })],
      roleAssignments: [
        { principalId: 'ceo', roleId: 'r' },
        { principalId: 'vp', roleId: 'r' },
      ],
      records: [
        { table: 'account', id: 'r-vp', ownerId: 'vp' },
        { table: 'account', id: 'r-vp2', ownerId: 'vp2' },
        { table: 'account', id: 'r-dir', ownerId: 'dir' },
        { table: 'account', id: 'r-mgr', ownerId: 'mgr' },
      ],
    };
    const ref = new ReferenceEvaluator(world);
    expect(can(ref, 'ceo', 'write', 'r-vp')).toBe(true);
    expect(can(ref, 'ceo', 'write', 'r-vp2')).toBe(true);
    expect(can(ref, 'ceo', 'read', 'r-dir')).toBe(true);
    expect(can(ref, 'ceo', 'write', 'r-dir')).toBe(false);
    expect(can(ref, 'ceo', 'read', 'r-mgr')).toBe(false);
    expect(can(ref, 'vp', 'read', 'r-vp2')).toBe(false);
    expect(can(ref, 'vp', 'write', 'r-dir')).toBe(true);
  });
});

describe('column security (§6)', () => {
  const world: WorldInput = {
    businessUnits: [{ id: 'root', parentId: null }],
    users: [user('u-a', 'root'), user('u-b', 'root'), user('u-admin', 'root')],
    teams: [{ id: 'team-b', businessUnitId: 'root', type: 'access', members: ['u-b'] }],
    tables: [{ name: 'account', ownership: 'user', securedColumns: ['secret', 'other'] }],
    roles: [
      role('r', 'account', { create: 'basic', read: 'basic', write: 'basic' }),
      { id: 'r-admin', systemAdministrator: true, privileges: {} },
    ],
    roleAssignments: [
      { principalId: 'u-a', roleId: 'r' },
      { principalId: 'u-b', roleId: 'r' },
      { principalId: 'u-admin', roleId: 'r-admin' },
    ],
    records: [
      { table: 'account', id: 'a1', ownerId: 'u-a' },
      { table: 'account', id: 'b1', ownerId: 'u-b' },
    ],
    fieldSecurityProfiles: [
      { id: 'fsp-1', members: ['u-a'], permissions: { account: { secret: ['read'] } } },
      { id: 'fsp-2', members: ['team-b'], permissions: { account: { secret: ['update', 'create'] } } },
    ],
    fieldShares: [
      { table: 'account', recordId: 'a1', column: 'other', principalId: 'u-a', rights: ['update'] },
      { table: 'account', recordId: 'b1', column: 'other', principalId: 'team-b', rights: ['read'] },
      { table: 'account', recordId: 'b1', column: 'secret', principalId: 'u-a', rights: ['read', 'update'] },
    ],
  };
  const ref = new ReferenceEvaluator(world);

  it('unsecured columns follow record access (create: the create bit)', () => {
    expect(ref.columnAccess('u-a', 'account', 'a1', 'name')).toEqual({ read: true, create: true, update: true });
    expect(ref.columnAccess('u-a', 'account', 'b1', 'name')).toEqual({ read: false, create: false, update: false });
  });

  it('profiles, directly or through a team, and field shares', () => {
    expect(ref.columnAccess('u-a', 'account', 'a1', 'secret')).toEqual({ read: true, create: false, update: false });
    expect(ref.columnAccess('u-a', 'account', 'a1', 'other')).toEqual({ read: false, create: false, update: true });
    expect(ref.columnAccess('u-b', 'account', 'b1', 'secret')).toEqual({ read: false, create: true, update: true });
    expect(ref.columnAccess('u-b', 'account', 'b1', 'other')).toEqual({ read: true, create: false, update: false });
  });

  it('the record privilege is needed too', () => {
    // u-a's profile and field share on b1 do not help: u-a has no access to b1
    expect(ref.columnAccess('u-a', 'account', 'b1', 'secret')).toEqual({ read: false, create: false, update: false });
  });

  it('system administrators see every column', () => {
    expect(ref.columnAccess('u-admin', 'account', 'b1', 'other')).toEqual({ read: true, create: true, update: true });
  });
});

describe('names that are also properties of every object', () => {
  // A world's names are data: a table or column called `constructor` or `toString` is no grant.
  it('grant nothing: a role without the table has no depth on it', () => {
    const ref = new ReferenceEvaluator({
      businessUnits: [{ id: 'root', parentId: null }],
      users: [user('u-a', 'root'), user('u-b', 'root')],
      tables: [
        { name: 'constructor', ownership: 'user' },
        { name: 'toString', ownership: 'user' },
      ],
      roles: [{ id: 'r-empty', privileges: {} }],
      roleAssignments: [{ principalId: 'u-a', roleId: 'r-empty' }],
      records: [{ table: 'constructor', id: 'rec', ownerId: 'u-b' }],
      // A share needs a grant whose scope holds the recipient (§3): none here.
      shares: [{ table: 'constructor', recordId: 'rec', principalId: 'u-a', rights: ['assign', 'read'] }],
    });
    for (const privilege of PRIVILEGES) {
      expect(ref.grants('u-a', 'constructor', privilege), privilege).toEqual([]);
      expect(ref.grants('u-a', 'toString', privilege), privilege).toEqual([]);
    }
    expect(ref.accessRights('u-a', 'constructor', 'rec')).toBe(0);
  });

  it('permit no column: a profile that does not name the column does not allow it', () => {
    const ref = new ReferenceEvaluator({
      businessUnits: [{ id: 'root', parentId: null }],
      users: [user('u-a', 'root')],
      tables: [{ name: 'account', ownership: 'user', securedColumns: ['constructor', 'x'] }],
      roles: [role('r', 'account', { read: 'global' })],
      roleAssignments: [{ principalId: 'u-a', roleId: 'r' }],
      records: [{ table: 'account', id: 'rec', ownerId: 'u-a' }],
      fieldSecurityProfiles: [{ id: 'fsp', members: ['u-a'], permissions: { account: { x: ['read'] } } }],
    });
    expect(ref.columnAccess('u-a', 'account', 'rec', 'constructor')).toEqual({
      read: false,
      create: false,
      update: false,
    });
    expect(ref.columnAccess('u-a', 'account', 'rec', 'x').read).toBe(true);
  });
});

describe('randomWorld', () => {
  it('rng is deterministic and in [0, 1)', () => {
    const a = rng(42);
    const b = rng(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(990);
  });

  it('is deterministic, and different seeds differ', () => {
    expect(randomWorld(7)).toEqual(randomWorld(7));
    expect(randomWorld(7, { hierarchy: false })).toEqual(randomWorld(7, { hierarchy: false }));
    expect(randomWorld(1)).not.toEqual(randomWorld(2));
    const distinct = new Set(Array.from({ length: 50 }, (_, seed) => JSON.stringify(randomWorld(seed))));
    expect(distinct.size).toBe(50);
  });

  it('respects feature switches', () => {
    for (let seed = 0; seed < 100; seed++) {
      const world = randomWorld(seed, { hierarchy: false, columnSecurity: false, shares: false, scale: 0.5 });
      expect(world.settings?.hierarchy).toBeUndefined();
      expect(world.positions).toBeUndefined();
      expect((world.users ?? []).every((u) => u.managerId === undefined || u.managerId === null)).toBe(true);
      expect((world.tables ?? []).every((t) => t.securedColumns === undefined)).toBe(true);
      expect(world.shares).toEqual([]);
      expect(world.fieldShares).toEqual([]);
      expect((world.businessUnits ?? []).length).toBeLessThanOrEqual(6);
    }
  });

  it('produces worlds that keep the loading rules and that the reference evaluator answers', () => {
    let allowed = 0;
    let denied = 0;
    const reasons = new Set<string>();
    for (let seed = 0; seed < 150; seed++) {
      const world = randomWorld(seed);
      expectLoadable(world);
      const ref = new ReferenceEvaluator(world);
      for (const u of world.users ?? []) {
        for (const record of world.records ?? []) {
          for (const privilege of PRIVILEGES) {
            const decision = ref.decide(u.id, record.table, privilege, record.id);
            if (decision.allowed) allowed++;
            else denied++;
            reasons.add(decision.reason);
          }
          ref.accessRights(u.id, record.table, record.id);
        }
      }
    }
    expect(allowed).toBeGreaterThan(0);
    expect(denied).toBeGreaterThan(0);
    expect([...reasons].sort()).toEqual([
      'disabled',
      'hierarchy',
      'no-access',
      'role',
      'share',
      'system-administrator',
    ]);
  });
});

/** A few of world-format.md's loading rules, checked plainly (the loader proper lives elsewhere). */
function expectLoadable(world: WorldInput): void {
  const bus = world.businessUnits ?? [];
  const users = world.users ?? [];
  const teams = world.teams ?? [];
  const tables = world.tables ?? [];
  const defaultTeamIds = bus.flatMap((bu) => (bu.defaultTeamId === undefined ? [] : [bu.defaultTeamId]));
  const principalIds = [...users.map((u) => u.id), ...teams.map((t) => t.id), ...defaultTeamIds];
  // id-unique, id-reserved
  expect(new Set(principalIds).size).toBe(principalIds.length);
  expect(principalIds).not.toContain(ORGANIZATION);
  expect(new Set(bus.map((bu) => bu.id)).size).toBe(bus.length);
  // bu-single-tree
  expect(bus.filter((bu) => bu.parentId === null)).toHaveLength(1);
  for (const bu of bus) {
    let current: string | null = bu.id;
    for (let steps = 0; current !== null; steps++) {
      expect(steps).toBeLessThanOrEqual(bus.length);
      const id: string = current;
      current = bus.find((candidate) => candidate.id === id)?.parentId ?? null;
    }
  }
  // manager-chain-acyclic, reference-resolves for managers
  for (const u of users) {
    let current = u.managerId ?? null;
    for (let steps = 0; current !== null; steps++) {
      expect(current).not.toBe(u.id);
      expect(steps).toBeLessThanOrEqual(users.length);
      const id: string = current;
      const manager = users.find((candidate) => candidate.id === id);
      expect(manager).toBeDefined();
      current = manager?.managerId ?? null;
    }
  }
  const tableOf = (name: string) => tables.find((t) => t.name === name);
  const accessTeamIds = teams.filter((t) => t.type === 'access').map((t) => t.id);
  // org-table-depth
  for (const r of world.roles ?? []) {
    for (const [tableName, depths] of Object.entries(r.privileges)) {
      expect(tableOf(tableName)).toBeDefined();
      if (tableOf(tableName)?.ownership === 'organization') {
        for (const depth of Object.values(depths)) expect(['none', 'global']).toContain(depth);
      }
    }
  }
  // access-team-no-roles, team-assignment-bu
  for (const a of world.roleAssignments ?? []) {
    expect(principalIds).toContain(a.principalId);
    expect(accessTeamIds).not.toContain(a.principalId);
    const team = teams.find((t) => t.id === a.principalId);
    const defaultOf = bus.find((bu) => bu.defaultTeamId === a.principalId);
    if (a.businessUnitId !== undefined) {
      expect(bus.map((bu) => bu.id)).toContain(a.businessUnitId);
      if (team !== undefined) expect(a.businessUnitId).toBe(team.businessUnitId);
      if (defaultOf !== undefined) expect(a.businessUnitId).toBe(defaultOf.id);
    }
  }
  // org-record-unowned, access-team-no-records, record-owner-required, record ids unique per table
  const recordKeys = new Set<string>();
  for (const r of world.records ?? []) {
    recordKeys.add(`${r.table}/${r.id}`);
    if (tableOf(r.table)?.ownership === 'organization') {
      expect(r.ownerId).toBeUndefined();
      expect(r.owningBusinessUnitId).toBeUndefined();
    } else {
      expect(r.ownerId).toBeDefined();
      expect(principalIds).toContain(r.ownerId);
      expect(accessTeamIds).not.toContain(r.ownerId);
    }
  }
  expect(recordKeys.size).toBe((world.records ?? []).length);
  // shares: not on org records, rights among the seven
  for (const s of world.shares ?? []) {
    expect(tableOf(s.table)?.ownership).toBe('user');
    expect(recordKeys.has(`${s.table}/${s.recordId}`)).toBe(true);
    expect([...principalIds, ORGANIZATION]).toContain(s.principalId);
    expect(s.rights.length).toBeGreaterThan(0);
    for (const right of s.rights) expect(right).not.toBe('create');
  }
  // secured-column, field-share-rights, field-share-principal
  for (const p of world.fieldSecurityProfiles ?? []) {
    for (const [tableName, columns] of Object.entries(p.permissions)) {
      for (const column of Object.keys(columns)) expect(tableOf(tableName)?.securedColumns).toContain(column);
    }
  }
  for (const f of world.fieldShares ?? []) {
    expect(tableOf(f.table)?.securedColumns).toContain(f.column);
    expect(recordKeys.has(`${f.table}/${f.recordId}`)).toBe(true);
    expect(principalIds).toContain(f.principalId);
    for (const right of f.rights) expect(['read', 'update']).toContain(right);
  }
  // hierarchy depth ≥ 1, excluded tables exist
  const h = world.settings?.hierarchy;
  if (h?.depth !== undefined) expect(h.depth).toBeGreaterThanOrEqual(1);
  for (const name of h?.excludedTables ?? []) expect(tableOf(name)).toBeDefined();
}
