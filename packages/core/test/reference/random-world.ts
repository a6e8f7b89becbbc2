/**
 * A seeded generator of small, valid, densely interlinked worlds (shared/spec/world-format.md),
 * for testing the compiled engine against the reference evaluator. The same seed and options
 * always give the same world; only the PRNG below is used (no Math.random, no clock).
 */
import type {
  BusinessUnitInput,
  ColumnPermission,
  DepthName,
  FieldRight,
  FieldSecurityProfileInput,
  FieldShareInput,
  HierarchySettingsInput,
  PositionInput,
  PrivilegeName,
  RecordInput,
  RoleAssignmentInput,
  RoleInput,
  SettingsInput,
  ShareInput,
  ShareRight,
  TableInput,
  TeamInput,
  TeamType,
  UserInput,
  WorldInput,
} from '../../src/world/format.js';
import { DEPTHS, ORGANIZATION, PRIVILEGES } from '../../src/world/format.js';

export interface RandomWorldOptions {
  /** Multiplies every maximum count below (1 = the sizes given). */
  scale: number;
  maxBusinessUnits: number;
  /** At least 2 users are always generated. */
  maxUsers: number;
  maxTeams: number;
  maxTables: number;
  maxRoles: number;
  maxRecords: number;
  maxShares: number;
  /** Named default teams (`defaultTeamId`), their roles, records and shares. */
  defaultTeams: boolean;
  /** Role assignments to users from another BU (modernized business units). */
  matrix: boolean;
  /** Organization-owned tables. */
  organizationTables: boolean;
  /** Sometimes a `systemAdministrator` role (assigned rarely). */
  systemAdministrators: boolean;
  disabledUsers: boolean;
  shares: boolean;
  /** `settings.hierarchy`, manager ids and positions. */
  hierarchy: boolean;
  /** Secured columns, field security profiles and field shares. */
  columnSecurity: boolean;
}

export const DEFAULT_RANDOM_WORLD_OPTIONS: Readonly<RandomWorldOptions> = Object.freeze({
  scale: 1,
  maxBusinessUnits: 12,
  maxUsers: 10,
  maxTeams: 5,
  maxTables: 3,
  maxRoles: 5,
  maxRecords: 25,
  maxShares: 15,
  defaultTeams: true,
  matrix: true,
  organizationTables: true,
  systemAdministrators: true,
  disabledUsers: true,
  shares: true,
  hierarchy: true,
  columnSecurity: true,
});

/** mulberry32: a small seeded PRNG giving floats in [0, 1). */
export function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Convenience draws on top of a PRNG. */
class Draw {
  constructor(private readonly next: () => number) {}

  /** An integer in [lo, hi] (hi < lo gives lo). */
  int(lo: number, hi: number): number {
    if (hi <= lo) return lo;
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick() from an empty list');
    return item;
  }

  /** Each item independently with probability p, in the original order. */
  subset<T>(items: readonly T[], p: number): T[] {
    return items.filter(() => this.chance(p));
  }

  nonEmptySubset<T>(items: readonly T[], p: number): T[] {
    const chosen = this.subset(items, p);
    return chosen.length > 0 ? chosen : [this.pick(items)];
  }
}

const SHARE_RIGHTS: readonly ShareRight[] = ['read', 'write', 'delete', 'append', 'appendTo', 'assign', 'share'];
const COLUMN_PERMISSIONS: readonly ColumnPermission[] = ['read', 'create', 'update'];
const FIELD_RIGHTS: readonly FieldRight[] = ['read', 'update'];
const TEAM_TYPES: readonly TeamType[] = ['owner', 'access', 'group'];
const ORG_TABLE_DEPTHS: readonly DepthName[] = ['none', 'global'];

export function randomWorld(seed: number, options: Partial<RandomWorldOptions> = {}): WorldInput {
  const o: RandomWorldOptions = { ...DEFAULT_RANDOM_WORLD_OPTIONS, ...options };
  const d = new Draw(rng(seed));
  const max = (n: number): number => Math.max(0, Math.round(n * o.scale));

  // Business units: one root, every other BU's parent is an earlier BU (often the previous one,
  // which makes deep chains).
  const businessUnits: BusinessUnitInput[] = [];
  const buCount = d.int(1, Math.max(1, max(o.maxBusinessUnits)));
  for (let i = 0; i < buCount; i++) {
    const parentId = i === 0 ? null : `bu-${d.chance(0.4) ? i - 1 : d.int(0, i - 1)}`;
    const bu: BusinessUnitInput = { id: `bu-${i}`, parentId };
    if (d.chance(0.3)) bu.name = `Business unit ${i}`;
    if (o.defaultTeams && d.chance(0.4)) bu.defaultTeamId = `dt-${i}`;
    businessUnits.push(bu);
  }
  const buIds = businessUnits.map((bu) => bu.id);
  const defaultTeamIds = businessUnits.flatMap((bu) => (bu.defaultTeamId === undefined ? [] : [bu.defaultTeamId]));

  // Positions: a forest, every parent an earlier position.
  const positions: PositionInput[] = [];
  if (o.hierarchy && d.chance(0.5)) {
    const count = d.int(1, 6);
    for (let i = 0; i < count; i++) {
      const position: PositionInput = { id: `pos-${i}` };
      if (i > 0 && d.chance(0.75)) position.parentId = `pos-${d.int(0, i - 1)}`;
      else if (d.chance(0.5)) position.parentId = null;
      positions.push(position);
    }
  }

  // Users: managers are always earlier users, so manager chains never cycle.
  const users: UserInput[] = [];
  const userCount = d.int(2, Math.max(2, max(o.maxUsers)));
  for (let i = 0; i < userCount; i++) {
    const user: UserInput = { id: `u-${i}`, businessUnitId: d.pick(buIds) };
    if (o.hierarchy && i > 0 && d.chance(0.65)) user.managerId = `u-${d.chance(0.5) ? i - 1 : d.int(0, i - 1)}`;
    else if (d.chance(0.3)) user.managerId = null;
    if (positions.length > 0 && d.chance(0.75)) user.positionId = d.pick(positions).id;
    else if (d.chance(0.2)) user.positionId = null;
    if (o.disabledUsers && d.chance(0.12)) user.disabled = true;
    else if (d.chance(0.2)) user.disabled = false;
    users.push(user);
  }
  const userIds = users.map((user) => user.id);

  // Teams of every type, with random members (sometimes a duplicate member, which is ignored).
  const teams: TeamInput[] = [];
  const teamCount = d.int(0, max(o.maxTeams));
  for (let i = 0; i < teamCount; i++) {
    const members = d.subset(userIds, 0.35);
    const first = members[0];
    if (first !== undefined && d.chance(0.1)) members.push(first);
    teams.push({ id: `team-${i}`, businessUnitId: d.pick(buIds), type: d.pick(TEAM_TYPES), members });
  }
  const teamIds = teams.map((team) => team.id);
  const roleHoldingTeamIds = [
    ...teams.filter((team) => team.type !== 'access').map((team) => team.id),
    ...defaultTeamIds,
  ];

  // Tables: user- or organization-owned, some with secured columns.
  const tables: TableInput[] = [];
  const tableCount = d.int(1, Math.max(1, max(o.maxTables)));
  for (let i = 0; i < tableCount; i++) {
    const table: TableInput = {
      name: `table${i}`,
      ownership: o.organizationTables && d.chance(0.3) ? 'organization' : 'user',
    };
    if (o.columnSecurity && d.chance(0.5)) {
      table.securedColumns = Array.from({ length: d.int(1, 3) }, (_, c) => `col${c}`);
    }
    tables.push(table);
  }

  // Roles: random privilege → depth maps (organization-owned tables: none or global only).
  const roles: RoleInput[] = [];
  const roleCount = d.int(1, Math.max(1, max(o.maxRoles)));
  for (let i = 0; i < roleCount; i++) {
    const privileges: RoleInput['privileges'] = {};
    for (const table of tables) {
      if (!d.chance(0.8)) continue;
      const depths: Partial<Record<PrivilegeName, DepthName>> = {};
      for (const privilege of PRIVILEGES) {
        if (d.chance(0.7)) depths[privilege] = d.pick(table.ownership === 'organization' ? ORG_TABLE_DEPTHS : DEPTHS);
      }
      privileges[table.name] = depths;
    }
    const role: RoleInput = { id: `role-${i}`, privileges };
    if (d.chance(0.3)) role.name = `Role ${i}`;
    const inheritance = d.int(0, 2);
    if (inheritance === 1) role.inheritance = 'direct';
    if (inheritance === 2) role.inheritance = 'team';
    // role-0 is never an administrator, so there is always an ordinary role to assign
    if (o.systemAdministrators && i > 0 && d.chance(0.15)) role.systemAdministrator = true;
    else if (d.chance(0.1)) role.systemAdministrator = false;
    roles.push(role);
  }
  const ordinaryRoleIds = roles.filter((role) => role.systemAdministrator !== true).map((role) => role.id);
  const adminRoleIds = roles.filter((role) => role.systemAdministrator === true).map((role) => role.id);
  const pickRole = (): string =>
    adminRoleIds.length > 0 && d.chance(0.06) ? d.pick(adminRoleIds) : d.pick(ordinaryRoleIds);

  // Role assignments: users (sometimes from another BU: matrix), owner/group teams, named default
  // teams; never access teams; a team's assignment never names another BU.
  const roleAssignments: RoleAssignmentInput[] = [];
  for (const user of users) {
    const count = d.int(0, 2);
    for (let k = 0; k < count; k++) {
      const assignment: RoleAssignmentInput = { principalId: user.id, roleId: pickRole() };
      if (o.matrix && d.chance(0.25)) assignment.businessUnitId = d.pick(buIds);
      else if (d.chance(0.15)) assignment.businessUnitId = user.businessUnitId;
      roleAssignments.push(assignment);
    }
  }
  for (const teamId of roleHoldingTeamIds) {
    const count = d.int(0, 2);
    for (let k = 0; k < count; k++) {
      const assignment: RoleAssignmentInput = { principalId: teamId, roleId: pickRole() };
      if (d.chance(0.2)) assignment.businessUnitId = principalBusinessUnit(teamId, users, teams, businessUnits);
      roleAssignments.push(assignment);
    }
  }

  // Records: owners are users, owner/group teams and named default teams; organization-owned
  // records have neither owner nor BU.
  const owners = [...userIds, ...roleHoldingTeamIds];
  const records: RecordInput[] = [];
  const recordCount = d.int(0, max(o.maxRecords));
  for (let i = 0; i < recordCount; i++) {
    const table = d.pick(tables);
    const record: RecordInput = { table: table.name, id: `${table.name}-r${i}` };
    if (table.ownership === 'user') {
      record.ownerId = d.pick(owners);
      if (d.chance(0.25)) record.owningBusinessUnitId = d.pick(buIds);
    }
    records.push(record);
  }

  // Shares: only on records of user-owned tables; to users, any team, named default teams or the
  // organization; sometimes two rows for the same record and principal.
  const shares: ShareInput[] = [];
  const shareable = records.filter((record) => record.ownerId !== undefined);
  const recipients = [...userIds, ...teamIds, ...defaultTeamIds, ORGANIZATION];
  if (o.shares && shareable.length > 0) {
    const count = d.int(0, max(o.maxShares));
    for (let i = 0; i < count; i++) {
      const record = d.pick(shareable);
      const share: ShareInput = {
        table: record.table,
        recordId: record.id,
        principalId: d.pick(recipients),
        rights: d.nonEmptySubset(SHARE_RIGHTS, 0.4),
      };
      shares.push(share);
      if (d.chance(0.2)) shares.push({ ...share, rights: d.nonEmptySubset(SHARE_RIGHTS, 0.4) });
    }
  }

  // Column security: profiles (members: users, listed teams and named default teams) and field shares
  // on secured columns (to the same kinds of principal, never the organization).
  const fieldSecurityProfiles: FieldSecurityProfileInput[] = [];
  const fieldShares: FieldShareInput[] = [];
  const securedTables = tables.filter((table) => (table.securedColumns ?? []).length > 0);
  if (o.columnSecurity && securedTables.length > 0) {
    const columnHolders = [...userIds, ...teamIds, ...defaultTeamIds];
    const profileCount = d.int(0, 3);
    for (let i = 0; i < profileCount; i++) {
      const permissions: FieldSecurityProfileInput['permissions'] = {};
      for (const table of securedTables) {
        const columns = d.subset(table.securedColumns ?? [], 0.6);
        if (columns.length === 0) continue;
        const byColumn: Record<string, ColumnPermission[]> = {};
        for (const column of columns) byColumn[column] = d.nonEmptySubset(COLUMN_PERMISSIONS, 0.5);
        permissions[table.name] = byColumn;
      }
      fieldSecurityProfiles.push({ id: `fsp-${i}`, members: d.subset(columnHolders, 0.3), permissions });
    }
    const securedRecords = records.filter((record) => securedTables.some((table) => table.name === record.table));
    if (securedRecords.length > 0) {
      const count = d.int(0, 6);
      for (let i = 0; i < count; i++) {
        const record = d.pick(securedRecords);
        const table = securedTables.find((candidate) => candidate.name === record.table);
        const columns = table?.securedColumns ?? [];
        if (columns.length === 0) continue;
        fieldShares.push({
          table: record.table,
          recordId: record.id,
          column: d.pick(columns),
          principalId: d.pick(columnHolders),
          rights: d.nonEmptySubset(FIELD_RIGHTS, 0.5),
        });
      }
    }
  }

  // Settings: hierarchy sometimes (both models, depth 1-4, both BU rules, excluded tables), and the
  // assign side-effect switches (no effect on decisions).
  const settings: SettingsInput = {};
  if (o.hierarchy && d.chance(0.6)) {
    const hierarchy: HierarchySettingsInput = { enabled: d.chance(0.85) };
    if (d.chance(0.8)) hierarchy.model = positions.length > 0 && d.chance(0.5) ? 'position' : 'manager';
    if (d.chance(0.8)) hierarchy.depth = d.int(1, 4);
    if (d.chance(0.7)) hierarchy.managersMustBeInSameOrParentBusinessUnit = d.chance(0.5);
    if (d.chance(0.25)) hierarchy.excludedTables = d.subset(tables, 0.5).map((table) => table.name);
    settings.hierarchy = hierarchy;
  }
  if (d.chance(0.2)) settings.shareToPreviousOwnerOnAssign = d.chance(0.5);
  if (d.chance(0.2)) settings.alwaysMoveRecordToOwnerBusinessUnit = d.chance(0.5);

  const world: WorldInput = {
    formatVersion: 1,
    settings,
    businessUnits,
    users,
    teams,
    tables,
    roles,
    roleAssignments,
    records,
    shares,
    fieldSecurityProfiles,
    fieldShares,
  };
  if (positions.length > 0) world.positions = positions;
  return world;
}

function principalBusinessUnit(
  id: string,
  users: readonly UserInput[],
  teams: readonly TeamInput[],
  businessUnits: readonly BusinessUnitInput[],
): string {
  const owner =
    users.find((user) => user.id === id)?.businessUnitId ??
    teams.find((team) => team.id === id)?.businessUnitId ??
    businessUnits.find((bu) => bu.defaultTeamId === id)?.id;
  if (owner === undefined) throw new Error(`no principal ${id}`);
  return owner;
}
