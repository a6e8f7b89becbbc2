import type {
  PrivilegeName,
  RecordInput,
  RoleInput,
  ShareInput,
  ShareRight,
  TeamInput,
  UserInput,
  WorldInput,
} from '@palisade/core';
import { Picker } from './random.js';

/** The shape of a generated world. Counts are exact; the rest is drawn from `seed`. */
export interface WorldShape {
  seed: number;
  businessUnits: number;
  /** Levels below the root: the tree is a near-complete tree of this depth. */
  depth: number;
  users: number;
  records: number;
  /** Fraction of records that get one to three shares. */
  shareRatio: number;
}

export const PRESETS = {
  small: { seed: 1, businessUnits: 50, depth: 4, users: 500, records: 10_000, shareRatio: 0.05 },
  check: { seed: 1, businessUnits: 1_000, depth: 8, users: 10_000, records: 100_000, shareRatio: 0.05 },
  medium: { seed: 1, businessUnits: 1_000, depth: 8, users: 10_000, records: 1_000_000, shareRatio: 0.05 },
  large: { seed: 1, businessUnits: 10_000, depth: 8, users: 100_000, records: 10_000_000, shareRatio: 0.05 },
} as const satisfies Record<string, WorldShape>;

const USER_TABLES = ['account', 'contact', 'opportunity'] as const;
export type UserTable = (typeof USER_TABLES)[number];
const ALL: readonly PrivilegeName[] = ['create', 'read', 'write', 'delete', 'append', 'appendTo', 'assign', 'share'];
const SHARE_RIGHTS: readonly ShareRight[] = ['read', 'write', 'delete', 'append', 'appendTo', 'assign', 'share'];

type Depths = Partial<Record<PrivilegeName, 'none' | 'basic' | 'local' | 'deep' | 'global'>>;

function each(depth: Depths['read']): Depths {
  return Object.fromEntries(ALL.map((p) => [p, depth]));
}

/** Realistic role mixes: salesperson basic/local, manager deep, auditor global read, both inheritance modes. */
const ROLES: RoleInput[] = [
  {
    id: 'role-salesperson',
    name: 'Salesperson',
    privileges: Object.fromEntries([
      ...USER_TABLES.map((t) => [t, { ...each('basic'), read: 'local', append: 'local', appendTo: 'local' } as Depths]),
      ['currency', { read: 'global' }],
    ]),
  },
  {
    id: 'role-sales-manager',
    name: 'Sales Manager',
    privileges: Object.fromEntries([
      ...USER_TABLES.map((t) => [t, { ...each('local'), read: 'deep', appendTo: 'deep' } as Depths]),
      ['currency', { read: 'global' }],
    ]),
  },
  {
    id: 'role-auditor',
    name: 'Auditor',
    privileges: Object.fromEntries([...USER_TABLES, 'currency'].map((t) => [t, { read: 'global' } as Depths])),
  },
  {
    id: 'role-account-team',
    name: 'Account Team',
    inheritance: 'team',
    privileges: { account: { read: 'local', write: 'local', append: 'local', appendTo: 'local' } },
  },
  {
    id: 'role-support',
    name: 'Support',
    inheritance: 'direct',
    privileges: { contact: { read: 'deep', write: 'basic', create: 'basic' }, account: { read: 'basic' } },
  },
  { id: 'role-admin', name: 'System Administrator', systemAdministrator: true, privileges: {} },
];

/**
 * A large, Dataverse-shaped world: a BU tree of the given depth, users spread over it, owner /
 * access / group teams, named default teams, matrix assignments, three user-owned tables and one
 * organization-owned table, and a share ratio. Deterministic for a shape.
 */
export interface GenerateOptions {
  readonly tables?: readonly UserTable[];
  /**
   * Hierarchy security on (manager model): users form a management tree in which each manager has
   * `span` direct reports, counted `depth` levels down (span 7, depth 2: 56 effective reports).
   * The BU rule is off, so every report counts wherever its BU is.
   */
  readonly hierarchy?: { readonly span: number; readonly depth: number };
  /**
   * Column security on `account`: this many secured columns, field security profiles that each
   * allow some of them to a few teams, and field shares on about 1% of the accounts.
   */
  readonly securedColumns?: number;
}

export function generateWorld(shape: WorldShape, options: GenerateOptions = {}): WorldInput {
  const recordTables = options.tables ?? USER_TABLES;
  const pick = new Picker(shape.seed);
  const buIds = Array.from({ length: shape.businessUnits }, (_, i) => (i === 0 ? 'bu-root' : `bu-${i}`));
  // A near-complete tree: branching chosen so `businessUnits` fill `depth` levels.
  const branching = Math.max(2, Math.ceil(shape.businessUnits ** (1 / Math.max(1, shape.depth))));
  const businessUnits = buIds.map((id, i) => ({
    id,
    name: i === 0 ? 'Contoso' : `Unit ${i}`,
    parentId: i === 0 ? null : (buIds[Math.floor((i - 1) / branching)] as string),
    ...(i % 2 === 0 ? { defaultTeamId: `dt-${id}` } : {}),
  }));

  const span = options.hierarchy?.span ?? 0;
  const users: UserInput[] = Array.from({ length: shape.users }, (_, i) => ({
    id: `u-${i}`,
    businessUnitId: pick.pick(buIds),
    ...(i % 97 === 5 ? { disabled: true } : {}),
    ...(span > 0 && i > 0 ? { managerId: `u-${Math.floor((i - 1) / span)}` } : {}),
  }));

  const teams: TeamInput[] = [];
  const teamCount = Math.max(1, Math.floor(shape.users / 20));
  for (let i = 0; i < teamCount; i++) {
    const type = i % 5 === 0 ? 'access' : i % 7 === 0 ? 'group' : 'owner';
    const size = 3 + pick.int(12);
    const members = new Set<string>();
    for (let m = 0; m < size; m++) members.add(pick.pick(users).id);
    teams.push({ id: `team-${i}`, businessUnitId: pick.pick(buIds), type, members: [...members] });
  }

  const roleAssignments: WorldInput['roleAssignments'] = [];
  users.forEach((user, i) => {
    const roll = pick.next();
    const role =
      roll < 0.7
        ? 'role-salesperson'
        : roll < 0.9
          ? 'role-sales-manager'
          : roll < 0.97
            ? 'role-support'
            : 'role-auditor';
    roleAssignments.push({ principalId: user.id, roleId: role });
    if (pick.chance(0.05))
      roleAssignments.push({ principalId: user.id, roleId: 'role-salesperson', businessUnitId: pick.pick(buIds) });
    if (i % 1000 === 7) roleAssignments.push({ principalId: user.id, roleId: 'role-admin' });
  });
  for (const team of teams) {
    if (team.type === 'access') continue;
    roleAssignments.push({ principalId: team.id, roleId: pick.chance(0.5) ? 'role-account-team' : 'role-support' });
  }
  for (const bu of businessUnits) {
    if (bu.defaultTeamId !== undefined && pick.chance(0.2))
      roleAssignments.push({ principalId: bu.defaultTeamId, roleId: 'role-support' });
  }

  const owners = [
    ...teams.filter((t) => t.type !== 'access').map((t) => t.id),
    ...businessUnits.flatMap((b) => (b.defaultTeamId === undefined ? [] : [b.defaultTeamId])),
  ];
  const sharees = [...teams.map((t) => t.id), 'organization'];
  const records: RecordInput[] = [];
  const shares: ShareInput[] = [];
  for (let i = 0; i < shape.records; i++) {
    const table = recordTables[i % recordTables.length] as string;
    const id = `${table}-${i}`;
    const ownerId = pick.chance(0.9) ? (pick.pick(users).id as string) : pick.pick(owners);
    records.push(
      pick.chance(0.02) ? { table, id, ownerId, owningBusinessUnitId: pick.pick(buIds) } : { table, id, ownerId },
    );
    if (pick.chance(shape.shareRatio)) {
      const count = 1 + pick.int(3);
      for (let s = 0; s < count; s++) {
        const principalId = pick.chance(0.6) ? pick.pick(users).id : pick.pick(sharees);
        const rights = SHARE_RIGHTS.filter((r) => r === 'read' || pick.chance(0.3));
        shares.push({ table, recordId: id, principalId, rights });
      }
    }
  }
  for (const code of ['usd', 'eur', 'gbp']) records.push({ table: 'currency', id: code });

  const columns = [
    'creditlimit',
    ...Array.from({ length: Math.max(0, (options.securedColumns ?? 1) - 1) }, (_, c) => `secret${c + 1}`),
  ];
  const fieldSecurityProfiles: WorldInput['fieldSecurityProfiles'] = [];
  const fieldShares: WorldInput['fieldShares'] = [];
  if (options.securedColumns !== undefined) {
    const holders = teams.map((team) => team.id);
    for (let p = 0; p < 4; p++) {
      const members = Array.from({ length: 1 + pick.int(Math.max(1, Math.floor(holders.length / 10))) }, () =>
        pick.pick(holders),
      );
      const allowed = columns.filter(() => pick.chance(0.4));
      fieldSecurityProfiles.push({
        id: `fsp-${p}`,
        members: [...new Set(members)],
        permissions: { account: Object.fromEntries(allowed.map((column) => [column, ['read', 'update']])) },
      });
    }
    for (const record of records) {
      if (record.table !== 'account' || !pick.chance(0.01)) continue;
      fieldShares.push({
        table: 'account',
        recordId: record.id,
        column: pick.pick(columns),
        principalId: pick.pick(users).id,
        rights: ['read'],
      });
    }
  }

  return {
    ...(options.hierarchy === undefined
      ? {}
      : {
          settings: {
            hierarchy: {
              enabled: true,
              model: 'manager',
              depth: options.hierarchy.depth,
              managersMustBeInSameOrParentBusinessUnit: false,
            },
          },
        }),
    fieldSecurityProfiles,
    fieldShares,
    formatVersion: 1,
    businessUnits,
    users,
    teams,
    tables: [
      { name: 'account', ownership: 'user', securedColumns: columns },
      { name: 'contact', ownership: 'user' },
      { name: 'opportunity', ownership: 'user' },
      { name: 'currency', ownership: 'organization' },
    ],
    roles: ROLES,
    roleAssignments,
    records,
    shares,
  };
}
