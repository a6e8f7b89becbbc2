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
import { Picker, subSeed } from './random.js';
import { LazyList, type WorldEntries } from './stream.js';
import { buildTree, type TreeShape, treeDepth } from './tree.js';

/** The shape of a generated world. Counts are exact; the rest is drawn from `seed`. */
export interface WorldShape {
  seed: number;
  businessUnits: number;
  /** Levels below the root (exact when there are at least `depth + 1` BUs; see `GenerateOptions.tree`). */
  depth: number;
  users: number;
  /** Records of the user-owned tables (the organization-owned tables' few records come on top). */
  records: number;
  /** Fraction of records that get one to three shares. */
  shareRatio: number;
}

export const PRESETS = {
  small: { seed: 1, businessUnits: 50, depth: 4, users: 500, records: 10_000, shareRatio: 0.05 },
  check: { seed: 1, businessUnits: 1_000, depth: 8, users: 10_000, records: 100_000, shareRatio: 0.05 },
  medium: { seed: 1, businessUnits: 1_000, depth: 8, users: 10_000, records: 1_000_000, shareRatio: 0.05 },
  /** The world of `bench:bulk` and `bench:updates`. */
  bulk: { seed: 7, businessUnits: 10_000, depth: 8, users: 100_000, records: 1_000_000, shareRatio: 0.05 },
  large: { seed: 1, businessUnits: 10_000, depth: 8, users: 100_000, records: 10_000_000, shareRatio: 0.05 },
} as const satisfies Record<string, WorldShape>;

export const TEAM_TYPES = ['owner', 'access', 'group'] as const;
export type TeamType = (typeof TEAM_TYPES)[number];
/** The roles users are given one of (`role-<name>`; `manager` is `role-sales-manager`). */
export const USER_ROLES = ['salesperson', 'manager', 'support', 'auditor'] as const;
export type UserRole = (typeof USER_ROLES)[number];
/** Relative weights; missing names weigh 0. */
export type Mix<K extends string> = Partial<Record<K, number>>;

export const DEFAULT_TABLES: readonly string[] = ['account', 'contact', 'opportunity'];
export const DEFAULT_ORG_TABLES: readonly string[] = ['currency'];
export const DEFAULT_TEAM_MIX: Readonly<Record<TeamType, number>> = { owner: 70, access: 20, group: 10 };
export const DEFAULT_ROLE_MIX: Readonly<Record<UserRole, number>> = {
  salesperson: 70,
  manager: 20,
  support: 7,
  auditor: 3,
};

/** How the rest of a world looks beside its counts. Every option has a default; the same options and shape give the same world. */
export interface GenerateOptions {
  /**
   * The BU tree: `wide` (default) a near-complete tree whose levels grow by one branching factor,
   * `deep` chains of `depth` BUs hanging from the root, `skewed` one child of the root holding 90%
   * of the BUs (as deep as asked) beside a shallow rest.
   */
  readonly tree?: TreeShape;
  /** User-owned tables, records spread round-robin over them (default account, contact, opportunity). */
  readonly tables?: readonly string[];
  /** Organization-owned tables (default currency), with `orgRecords` records each (default 3). */
  readonly orgTables?: readonly string[];
  readonly orgRecords?: number;
  /** Named teams (default one per 20 users). */
  readonly teams?: number;
  /** Team types by weight (default owner 70, access 20, group 10), dealt out in exact proportion. */
  readonly teamMix?: Mix<TeamType>;
  /** Members per team, drawn uniformly from `min` to `max` (default 3 to 14). */
  readonly teamSize?: { readonly min: number; readonly max: number };
  /** Each user's role, drawn by weight (default salesperson 70, manager 20, support 7, auditor 3). */
  readonly roleMix?: Mix<UserRole>;
  /** Fraction of users with an extra salesperson role in a random other BU: matrix management (default 0.05). */
  readonly matrixRatio?: number;
  /**
   * Hierarchy security on (manager model): users form a management tree in which each manager has
   * `span` direct reports, counted `depth` levels down (span 7, depth 2: 56 effective reports).
   * The BU rule is off, so every report counts wherever its BU is.
   */
  readonly hierarchy?: { readonly span: number; readonly depth: number };
  /**
   * Column security on the first user-owned table: this many secured columns, field security
   * profiles that each allow some of them to a few teams, and field shares on about 1% of its records.
   */
  readonly securedColumns?: number;
}

type Depths = Partial<Record<PrivilegeName, 'none' | 'basic' | 'local' | 'deep' | 'global'>>;
type FieldShareInput = NonNullable<WorldInput['fieldShares']>[number];

const ALL: readonly PrivilegeName[] = ['create', 'read', 'write', 'delete', 'append', 'appendTo', 'assign', 'share'];
const SHARE_RIGHTS: readonly ShareRight[] = ['read', 'write', 'delete', 'append', 'appendTo', 'assign', 'share'];
const ROLE_IDS: Readonly<Record<UserRole, string>> = {
  salesperson: 'role-salesperson',
  manager: 'role-sales-manager',
  support: 'role-support',
  auditor: 'role-auditor',
};
// The independent random streams: the world's structure uses the seed itself.
const RECORD_STREAM = 1;
const SHARE_STREAM = 2;
const FIELD_SHARE_STREAM = 3;

function each(depth: Depths['read']): Depths {
  return Object.fromEntries(ALL.map((p) => [p, depth]));
}

/** Realistic roles: salesperson basic/local, manager deep, auditor global read, both inheritance modes. */
function roles(userTables: readonly string[], orgTables: readonly string[]): RoleInput[] {
  const [primary, secondary] = userTables;
  const orgRead = orgTables.map((t) => [t, { read: 'global' } as Depths]);
  return [
    {
      id: 'role-salesperson',
      name: 'Salesperson',
      privileges: Object.fromEntries([
        ...userTables.map((t) => [
          t,
          { ...each('basic'), read: 'local', append: 'local', appendTo: 'local' } as Depths,
        ]),
        ...orgRead,
      ]),
    },
    {
      id: 'role-sales-manager',
      name: 'Sales Manager',
      privileges: Object.fromEntries([
        ...userTables.map((t) => [t, { ...each('local'), read: 'deep', appendTo: 'deep' } as Depths]),
        ...orgRead,
      ]),
    },
    {
      id: 'role-auditor',
      name: 'Auditor',
      privileges: Object.fromEntries([...userTables, ...orgTables].map((t) => [t, { read: 'global' } as Depths])),
    },
    {
      id: 'role-account-team',
      name: 'Account Team',
      inheritance: 'team',
      privileges:
        primary === undefined
          ? {}
          : { [primary]: { read: 'local', write: 'local', append: 'local', appendTo: 'local' } as Depths },
    },
    {
      id: 'role-support',
      name: 'Support',
      inheritance: 'direct',
      privileges: Object.fromEntries([
        ...(secondary === undefined ? [] : [[secondary, { read: 'deep', write: 'basic', create: 'basic' } as Depths]]),
        ...(primary === undefined ? [] : [[primary, { read: 'basic' } as Depths]]),
      ]),
    },
    { id: 'role-admin', name: 'System Administrator', systemAdministrator: true, privileges: {} },
  ];
}

/** The weights of `mix` over `names`, checked: non-negative, not all zero. */
function weights<K extends string>(mix: Mix<K>, names: readonly K[], what: string): number[] {
  for (const key of Object.keys(mix)) {
    if (!names.includes(key as K)) throw new Error(`unknown ${what} \`${key}\` (${names.join(', ')})`);
  }
  const list = names.map((name) => mix[name] ?? 0);
  if (list.some((w) => !Number.isFinite(w) || w < 0) || list.every((w) => w === 0)) {
    throw new Error(`${what} weights must be non-negative and not all zero`);
  }
  return list;
}

/**
 * A generated world with its records, shares and field shares as lazy lists: each is drawn from
 * its own seeded stream, so it can be generated again (to count it, to write it) without holding
 * it. `generateWorld` materializes it; `writeGeneratedWorld` (generate/command.ts) streams it.
 */
export interface GeneratedWorld {
  /** Everything but the three large lists, in file order. */
  readonly head: Omit<WorldInput, 'records' | 'shares' | 'fieldShares'>;
  readonly records: LazyList<RecordInput>;
  readonly shares: LazyList<ShareInput>;
  readonly fieldShares: LazyList<FieldShareInput>;
  /** The BU tree's depth below the root. */
  readonly treeDepth: number;
}

/** The world's top-level entries in file order (the order `generateWorld`'s object has). */
export function worldEntries(world: GeneratedWorld): WorldEntries {
  return [
    ...Object.entries(world.head),
    ['records', world.records],
    ['shares', world.shares],
    ['fieldShares', world.fieldShares],
  ];
}

/**
 * A large, Dataverse-shaped world: a BU tree of the given depth and shape, users spread over it,
 * owner / access / group teams, named default teams, matrix assignments, user-owned tables and
 * organization-owned tables, and a share ratio. Deterministic for a shape and options.
 */
export function generateWorld(shape: WorldShape, options: GenerateOptions = {}): WorldInput {
  const world = planWorld(shape, options);
  return {
    ...world.head,
    records: world.records.toArray(),
    shares: world.shares.toArray(),
    fieldShares: world.fieldShares.toArray(),
  };
}

/** The world `generateWorld` returns, with its large lists left to generate (see `GeneratedWorld`). */
export function planWorld(shape: WorldShape, options: GenerateOptions = {}): GeneratedWorld {
  const userTables = options.tables ?? DEFAULT_TABLES;
  const orgTables = options.orgTables ?? DEFAULT_ORG_TABLES;
  const orgRecords = options.orgRecords ?? 3;
  const userCount = shape.users;
  const recordCount = shape.records;
  if (recordCount > 0 && userTables.length === 0) throw new Error('records need at least one user-owned table');
  const tableNames = [...userTables, ...orgTables];
  if (new Set(tableNames).size !== tableNames.length) throw new Error(`table names repeat: ${tableNames.join(', ')}`);
  const roleWeights = weights(options.roleMix ?? DEFAULT_ROLE_MIX, USER_ROLES, 'role');
  const teamWeights = weights(options.teamMix ?? DEFAULT_TEAM_MIX, TEAM_TYPES, 'team type');
  const teamSize = options.teamSize ?? { min: 3, max: 14 };
  if (!(teamSize.min >= 0 && teamSize.max >= teamSize.min)) throw new Error('team size: min <= max, both >= 0');
  const matrixRatio = options.matrixRatio ?? 0.05;

  const pick = new Picker(shape.seed);
  const parents = buildTree(options.tree ?? 'wide', Math.max(1, shape.businessUnits), shape.depth);
  const buIds = Array.from({ length: parents.length }, (_, i) => (i === 0 ? 'bu-root' : `bu-${i}`));
  const businessUnits = buIds.map((id, i) => ({
    id,
    name: i === 0 ? 'Contoso' : `Unit ${i}`,
    parentId: i === 0 ? null : (buIds[parents[i] as number] as string),
    ...(i % 2 === 0 ? { defaultTeamId: `dt-${id}` } : {}),
  }));
  const anyUser = (p: Picker) => `u-${p.int(userCount)}`;

  const span = options.hierarchy?.span ?? 0;
  const users: UserInput[] = Array.from({ length: userCount }, (_, i) => ({
    id: `u-${i}`,
    businessUnitId: pick.pick(buIds),
    ...(i % 97 === 5 ? { disabled: true } : {}),
    ...(span > 0 && i > 0 ? { managerId: `u-${Math.floor((i - 1) / span)}` } : {}),
  }));

  // Team types dealt out by smooth weighted round-robin: exact proportions, spread evenly.
  const teams: TeamInput[] = [];
  const teamCount = options.teams ?? (userCount === 0 ? 0 : Math.max(1, Math.floor(userCount / 20)));
  const teamTotal = teamWeights.reduce((a, b) => a + b, 0);
  const credit = teamWeights.map(() => 0);
  for (let i = 0; i < teamCount; i++) {
    let best = 0;
    for (let k = 0; k < credit.length; k++) {
      credit[k] = (credit[k] as number) + (teamWeights[k] as number);
      if ((credit[k] as number) > (credit[best] as number)) best = k;
    }
    credit[best] = (credit[best] as number) - teamTotal;
    const type = TEAM_TYPES[best] as TeamType;
    const size = teamSize.min + pick.int(teamSize.max - teamSize.min + 1);
    const members = new Set<string>();
    if (userCount > 0) for (let m = 0; m < size; m++) members.add(anyUser(pick));
    teams.push({ id: `team-${i}`, businessUnitId: pick.pick(buIds), type, members: [...members] });
  }

  const roleTotal = roleWeights.reduce((a, b) => a + b, 0);
  const roleThresholds = roleWeights.map((_, k) => roleWeights.slice(0, k + 1).reduce((a, b) => a + b, 0) / roleTotal);
  const roleAssignments: NonNullable<WorldInput['roleAssignments']> = [];
  users.forEach((user, i) => {
    const roll = pick.next();
    let k = 0;
    while (k < roleThresholds.length - 1 && roll >= (roleThresholds[k] as number)) k++;
    roleAssignments.push({ principalId: user.id, roleId: ROLE_IDS[USER_ROLES[k] as UserRole] });
    if (pick.chance(matrixRatio))
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

  const columns = [
    'creditlimit',
    ...Array.from({ length: Math.max(0, (options.securedColumns ?? 1) - 1) }, (_, c) => `secret${c + 1}`),
  ];
  const fieldSecurityProfiles: NonNullable<WorldInput['fieldSecurityProfiles']> = [];
  if (options.securedColumns !== undefined && userTables[0] !== undefined) {
    const holders = teams.map((team) => team.id);
    for (let p = 0; p < 4 && holders.length > 0; p++) {
      const members = Array.from({ length: 1 + pick.int(Math.max(1, Math.floor(holders.length / 10))) }, () =>
        pick.pick(holders),
      );
      const allowed = columns.filter(() => pick.chance(0.4));
      fieldSecurityProfiles.push({
        id: `fsp-${p}`,
        members: [...new Set(members)],
        permissions: { [userTables[0]]: Object.fromEntries(allowed.map((column) => [column, ['read', 'update']])) },
      });
    }
  }

  // ---- the large lists, each from its own stream ----
  const owners = [
    ...teams.filter((t) => t.type !== 'access').map((t) => t.id),
    ...businessUnits.flatMap((b) => (b.defaultTeamId === undefined ? [] : [b.defaultTeamId])),
  ];
  const sharees = [...teams.map((t) => t.id), 'organization'];
  const tableOf = (i: number) => userTables[i % userTables.length] as string;
  const { seed, shareRatio } = shape;

  const records = new LazyList<RecordInput>(
    function* () {
      const draw = new Picker(subSeed(seed, RECORD_STREAM));
      for (let i = 0; i < recordCount; i++) {
        const table = tableOf(i);
        const id = `${table}-${i}`;
        const ownerId = userCount > 0 && draw.chance(0.9) ? anyUser(draw) : draw.pick(owners);
        yield draw.chance(0.02)
          ? { table, id, ownerId, owningBusinessUnitId: draw.pick(buIds) }
          : { table, id, ownerId };
      }
      for (const table of orgTables) for (let j = 0; j < orgRecords; j++) yield { table, id: `${table}-${j}` };
    },
    recordCount + orgTables.length * orgRecords,
  );

  const shares = new LazyList<ShareInput>(function* () {
    const draw = new Picker(subSeed(seed, SHARE_STREAM));
    for (let i = 0; i < recordCount; i++) {
      if (!draw.chance(shareRatio)) continue;
      const table = tableOf(i);
      const recordId = `${table}-${i}`;
      const count = 1 + draw.int(3);
      for (let s = 0; s < count; s++) {
        const principalId = userCount > 0 && draw.chance(0.6) ? anyUser(draw) : draw.pick(sharees);
        const rights = SHARE_RIGHTS.filter((r) => r === 'read' || draw.chance(0.3));
        yield { table, recordId, principalId, rights };
      }
    }
  });

  const securedTable = userTables[0];
  const fieldShares = new LazyList<FieldShareInput>(
    function* () {
      if (options.securedColumns === undefined || securedTable === undefined || userCount === 0) return;
      const draw = new Picker(subSeed(seed, FIELD_SHARE_STREAM));
      // The secured table's records are every `userTables.length`-th, from 0.
      for (let i = 0; i < recordCount; i += userTables.length) {
        if (!draw.chance(0.01)) continue;
        yield {
          table: securedTable,
          recordId: `${securedTable}-${i}`,
          column: draw.pick(columns),
          principalId: anyUser(draw),
          rights: ['read'],
        };
      }
    },
    options.securedColumns === undefined ? 0 : undefined,
  );

  const head: GeneratedWorld['head'] = {
    formatVersion: 1,
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
    businessUnits,
    users,
    teams,
    tables: [
      ...userTables.map((name, i) =>
        i === 0 ? { name, ownership: 'user' as const, securedColumns: columns } : { name, ownership: 'user' as const },
      ),
      ...orgTables.map((name) => ({ name, ownership: 'organization' as const })),
    ],
    roles: roles(userTables, orgTables),
    roleAssignments,
    fieldSecurityProfiles,
  };
  return { head, records, shares, fieldShares, treeDepth: treeDepth(parents) };
}
