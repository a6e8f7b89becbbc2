/**
 * A plain, independent model of `Engine.apply`: every `UpdateOp` (src/update/ops.ts) applied to a
 * `WorldInput` JSON value, giving the world file as it would read after the operation. Loading the
 * result must answer every question exactly as an engine that applied the operation incrementally.
 *
 * Also seeded generators of valid operation sequences and of invalid operations with the rule they
 * break (src/errors.ts `UPDATE_RULES`). Nothing here looks at the engine.
 */
import type {
  BusinessUnitInput,
  ColumnPermission,
  DepthName,
  FieldRight,
  FieldSecurityProfileInput,
  FieldShareInput,
  PrivilegeName,
  RecordInput,
  RoleAssignmentInput,
  RoleInput,
  ShareInput,
  ShareRight,
  TableInput,
  TeamInput,
  WorldInput,
} from '@palisade/core';
import { DEPTHS, ORGANIZATION, PRIVILEGES } from '@palisade/core';
import type { UpdateOp } from '../../src/update/ops.js';

export const SHARE_RIGHTS: readonly ShareRight[] = ['read', 'write', 'delete', 'append', 'appendTo', 'assign', 'share'];
const ORG_TABLE_DEPTHS: readonly DepthName[] = ['none', 'global'];

// ---------------------------------------------------------------------------------------------
// Lookups on a world value
// ---------------------------------------------------------------------------------------------

function fail(message: string): never {
  throw new Error(`applyToWorld: ${message}`);
}

function tableOf(world: WorldInput, name: string): TableInput {
  return (world.tables ?? []).find((table) => table.name === name) ?? fail(`unknown table ${name}`);
}

function recordOf(world: WorldInput, table: string, id: string): RecordInput {
  return (
    (world.records ?? []).find((record) => record.table === table && record.id === id) ??
    fail(`unknown record ${table}/${id}`)
  );
}

/** The BU of a user, a listed team or a named default team. */
export function principalBusinessUnit(world: WorldInput, id: string): string {
  const user = (world.users ?? []).find((candidate) => candidate.id === id);
  if (user !== undefined) return user.businessUnitId;
  const team = (world.teams ?? []).find((candidate) => candidate.id === id);
  if (team !== undefined) return team.businessUnitId;
  const bu = (world.businessUnits ?? []).find((candidate) => candidate.defaultTeamId === id);
  if (bu !== undefined) return bu.id;
  return fail(`unknown principal ${id}`);
}

/** A stored record's owning BU: explicit, or its owner's BU at this moment (world-format.md). */
function owningBusinessUnit(world: WorldInput, record: RecordInput): string {
  if (record.owningBusinessUnitId !== undefined) return record.owningBusinessUnitId;
  if (record.ownerId === undefined) return fail(`record ${record.table}/${record.id} has no owner`);
  return principalBusinessUnit(world, record.ownerId);
}

function sameShare(share: ShareInput, table: string, recordId: string, principalId: string): boolean {
  return share.table === table && share.recordId === recordId && share.principalId === principalId;
}

/** Rights in one fixed order, without duplicates. */
function normalizeRights(rights: readonly string[]): ShareRight[] {
  return SHARE_RIGHTS.filter((right) => rights.includes(right));
}

/** Replaces every row of (record, principal) by one row with `rights` (at the first row's place). */
function putShare(world: WorldInput, table: string, recordId: string, principalId: string, rights: ShareRight[]): void {
  const shares = world.shares ?? [];
  const at = shares.findIndex((share) => sameShare(share, table, recordId, principalId));
  const kept = shares.filter((share) => !sameShare(share, table, recordId, principalId));
  const row: ShareInput = { table, recordId, principalId, rights };
  if (at < 0) kept.push(row);
  else kept.splice(at, 0, row);
  world.shares = kept;
}

/** §7.3: OR `rights` into the share of (record, principal); several rows of one pair union. */
function orShare(world: WorldInput, table: string, recordId: string, principalId: string, rights: string[]): void {
  const held = (world.shares ?? [])
    .filter((share) => sameShare(share, table, recordId, principalId))
    .flatMap((share) => share.rights);
  putShare(world, table, recordId, principalId, normalizeRights([...held, ...rights]));
}

function sameAssignment(a: RoleAssignmentInput, principalId: string, roleId: string, bu: string | undefined): boolean {
  return a.principalId === principalId && a.roleId === roleId && a.businessUnitId === bu;
}

function toDepths(privileges: Record<string, Partial<Record<PrivilegeName, string>>>): RoleInput['privileges'] {
  const result: RoleInput['privileges'] = {};
  for (const [table, byPrivilege] of Object.entries(privileges)) {
    const depths: Partial<Record<PrivilegeName, DepthName>> = {};
    for (const [privilege, depth] of Object.entries(byPrivilege)) {
      if (!(PRIVILEGES as readonly string[]).includes(privilege)) fail(`bad privilege ${privilege}`);
      if (!(DEPTHS as readonly string[]).includes(depth)) fail(`bad depth ${depth}`);
      depths[privilege as PrivilegeName] = depth as DepthName;
    }
    result[table] = depths;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// The operations
// ---------------------------------------------------------------------------------------------

/**
 * The world after `op`, as a new value (the input is not touched). `op` is assumed valid; an
 * obviously impossible one (unknown record, …) throws a plain Error. Records whose owning BU could
 * otherwise silently change with a later move of their owner get it written explicitly.
 */
export function applyToWorld(world: WorldInput, op: UpdateOp): WorldInput {
  const w: WorldInput = structuredClone(world);
  w.records ??= [];
  w.shares ??= [];
  w.roleAssignments ??= [];
  switch (op.op) {
    case 'createRecord': {
      const table = tableOf(w, op.table);
      if (w.records.some((record) => record.table === op.table && record.id === op.id)) fail(`duplicate ${op.id}`);
      const record: RecordInput = { table: op.table, id: op.id };
      if (table.ownership === 'user') {
        const ownerId = op.ownerId ?? fail('createRecord without ownerId');
        record.ownerId = ownerId;
        // the owner's BU at this moment, written down so that a later move of the owner leaves it
        record.owningBusinessUnitId = op.owningBusinessUnitId ?? principalBusinessUnit(w, ownerId);
      }
      w.records.push(record);
      break;
    }
    case 'deleteRecord': {
      recordOf(w, op.table, op.id);
      w.records = w.records.filter((record) => !(record.table === op.table && record.id === op.id));
      w.shares = w.shares.filter((share) => !(share.table === op.table && share.recordId === op.id));
      if (w.fieldShares !== undefined) {
        w.fieldShares = w.fieldShares.filter((share) => !(share.table === op.table && share.recordId === op.id));
      }
      break;
    }
    case 'assignRecord': {
      const record = recordOf(w, op.table, op.id);
      const previousOwner = record.ownerId ?? fail('assignRecord on a record without owner');
      const currentBU = owningBusinessUnit(w, record);
      record.ownerId = op.ownerId;
      const move = w.settings?.alwaysMoveRecordToOwnerBusinessUnit ?? true;
      record.owningBusinessUnitId = move ? principalBusinessUnit(w, op.ownerId) : currentBU;
      // Assigned to its own owner, there is no previous owner to share with (docs/semantics-notes.md).
      if (w.settings?.shareToPreviousOwnerOnAssign === true && previousOwner !== op.ownerId) {
        orShare(w, op.table, op.id, previousOwner, [...SHARE_RIGHTS]);
      }
      break;
    }
    case 'grantShare':
      recordOf(w, op.table, op.recordId);
      orShare(w, op.table, op.recordId, op.principalId, op.rights);
      break;
    case 'modifyShare':
      if (!w.shares.some((share) => sameShare(share, op.table, op.recordId, op.principalId))) fail('no such share');
      putShare(w, op.table, op.recordId, op.principalId, normalizeRights(op.rights));
      break;
    case 'revokeShare':
      if (!w.shares.some((share) => sameShare(share, op.table, op.recordId, op.principalId))) fail('no such share');
      w.shares = w.shares.filter((share) => !sameShare(share, op.table, op.recordId, op.principalId));
      break;
    case 'addTeamMember': {
      const team = (w.teams ?? []).find((candidate) => candidate.id === op.teamId) ?? fail(`no team ${op.teamId}`);
      if (!team.members.includes(op.userId)) team.members.push(op.userId);
      break;
    }
    case 'removeTeamMember': {
      const team = (w.teams ?? []).find((candidate) => candidate.id === op.teamId) ?? fail(`no team ${op.teamId}`);
      if (!team.members.includes(op.userId)) fail('not a member');
      team.members = team.members.filter((member) => member !== op.userId);
      break;
    }
    case 'addRoleAssignment': {
      // Kept without businessUnitId when given without: for a user that is "the user's own BU",
      // which follows the user when it moves; an explicit BU stays put.
      if (!w.roleAssignments.some((a) => sameAssignment(a, op.principalId, op.roleId, op.businessUnitId))) {
        const assignment: RoleAssignmentInput = { principalId: op.principalId, roleId: op.roleId };
        if (op.businessUnitId !== undefined) assignment.businessUnitId = op.businessUnitId;
        w.roleAssignments.push(assignment);
      }
      break;
    }
    case 'removeRoleAssignment': {
      if (!w.roleAssignments.some((a) => sameAssignment(a, op.principalId, op.roleId, op.businessUnitId))) {
        fail('no such role assignment');
      }
      // duplicate rows are one assignment (semantics-notes: duplicates are ignored): all go
      w.roleAssignments = w.roleAssignments.filter(
        (a) => !sameAssignment(a, op.principalId, op.roleId, op.businessUnitId),
      );
      break;
    }
    case 'setRolePrivileges': {
      const role = (w.roles ?? []).find((candidate) => candidate.id === op.roleId) ?? fail(`no role ${op.roleId}`);
      role.privileges = toDepths(op.privileges);
      break;
    }
    case 'moveUser': {
      const user = (w.users ?? []).find((candidate) => candidate.id === op.userId) ?? fail(`no user ${op.userId}`);
      for (const record of w.records) {
        if (record.ownerId !== op.userId) continue;
        // the BU before the move is needed for records that stay: compute it before moving the user
        record.owningBusinessUnitId = op.doNotMoveRecords === true ? owningBusinessUnit(w, record) : op.businessUnitId;
      }
      // the default team membership and BU-less role assignments follow by themselves: both are
      // computed from the user's businessUnitId
      user.businessUnitId = op.businessUnitId;
      break;
    }
    case 'setUserDisabled': {
      const user = (w.users ?? []).find((candidate) => candidate.id === op.userId) ?? fail(`no user ${op.userId}`);
      user.disabled = op.disabled;
      break;
    }
    case 'setManager': {
      const user = (w.users ?? []).find((candidate) => candidate.id === op.userId) ?? fail(`no user ${op.userId}`);
      user.managerId = op.managerId;
      break;
    }
    case 'setPosition': {
      const user = (w.users ?? []).find((candidate) => candidate.id === op.userId) ?? fail(`no user ${op.userId}`);
      user.positionId = op.positionId;
      break;
    }
    case 'setHierarchySettings': {
      const { op: _, ...changes } = op;
      w.settings = { ...(w.settings ?? {}), hierarchy: { ...(w.settings?.hierarchy ?? {}), ...changes } };
      break;
    }
    case 'setAssignSettings': {
      const { op: _, ...changes } = op;
      w.settings = { ...(w.settings ?? {}), ...changes };
      break;
    }
    case 'createBusinessUnit': {
      const bu: BusinessUnitInput = { id: op.id, parentId: op.parentId };
      if (op.name !== undefined) bu.name = op.name;
      if (op.defaultTeamId !== undefined) bu.defaultTeamId = op.defaultTeamId;
      w.businessUnits = [...(w.businessUnits ?? []), bu];
      break;
    }
    case 'createPosition':
      w.positions = [...(w.positions ?? []), { id: op.id, parentId: op.parentId ?? null }];
      break;
    case 'createUser':
      w.users = [
        ...(w.users ?? []),
        {
          id: op.id,
          businessUnitId: op.businessUnitId,
          managerId: op.managerId ?? null,
          positionId: op.positionId ?? null,
          disabled: op.disabled ?? false,
        },
      ];
      break;
    case 'createTeam':
      w.teams = [
        ...(w.teams ?? []),
        { id: op.id, businessUnitId: op.businessUnitId, type: op.type, members: [...new Set(op.members ?? [])] },
      ];
      break;
    case 'createRole': {
      const role: RoleInput = { id: op.id, privileges: toDepths(op.privileges) };
      if (op.name !== undefined) role.name = op.name;
      if (op.inheritance !== undefined) role.inheritance = op.inheritance;
      if (op.systemAdministrator !== undefined) role.systemAdministrator = op.systemAdministrator;
      w.roles = [...(w.roles ?? []), role];
      break;
    }
    case 'createFieldSecurityProfile':
      w.fieldSecurityProfiles = [
        ...(w.fieldSecurityProfiles ?? []),
        { id: op.id, members: op.members ?? [], permissions: op.permissions ?? {} },
      ];
      break;
    case 'setFieldSecurityPermissions':
      profileOf(w, op.profileId).permissions = op.permissions;
      break;
    case 'addFieldSecurityProfileMember': {
      const profile = profileOf(w, op.profileId);
      if (!profile.members.includes(op.principalId)) profile.members.push(op.principalId);
      break;
    }
    case 'removeFieldSecurityProfileMember': {
      const profile = profileOf(w, op.profileId);
      if (!profile.members.includes(op.principalId)) fail('not a profile member');
      profile.members = profile.members.filter((member) => member !== op.principalId);
      break;
    }
    case 'grantFieldShare': {
      const held = fieldSharesOf(w, op).flatMap((share) => share.rights);
      putFieldShare(w, op, normalizeFieldRights([...held, ...op.rights]));
      break;
    }
    case 'modifyFieldShare':
      if (fieldSharesOf(w, op).length === 0) fail('no such field share');
      putFieldShare(w, op, normalizeFieldRights(op.rights));
      break;
    case 'revokeFieldShare':
      if (fieldSharesOf(w, op).length === 0) fail('no such field share');
      putFieldShare(w, op, []);
      break;
  }
  return w;
}

function profileOf(world: WorldInput, id: string): FieldSecurityProfileInput {
  return (world.fieldSecurityProfiles ?? []).find((profile) => profile.id === id) ?? fail(`no profile ${id}`);
}

type FieldShareKey = Omit<FieldShareInput, 'rights'>;

function sameFieldShare(share: FieldShareInput, key: FieldShareKey): boolean {
  return (
    share.table === key.table &&
    share.recordId === key.recordId &&
    share.column === key.column &&
    share.principalId === key.principalId
  );
}

function fieldSharesOf(world: WorldInput, key: FieldShareKey): FieldShareInput[] {
  return (world.fieldShares ?? []).filter((share) => sameFieldShare(share, key));
}

function normalizeFieldRights(rights: readonly string[]): FieldRight[] {
  return (['read', 'update'] as const).filter((right) => rights.includes(right));
}

/** Replaces every field share of the key by one with `rights` (none: removed), at the first one's place. */
function putFieldShare(world: WorldInput, key: FieldShareKey, rights: FieldRight[]): void {
  const shares = world.fieldShares ?? [];
  const at = shares.findIndex((share) => sameFieldShare(share, key));
  const kept = shares.filter((share) => !sameFieldShare(share, key));
  if (rights.length > 0) {
    const row: FieldShareInput = {
      table: key.table,
      recordId: key.recordId,
      column: key.column,
      principalId: key.principalId,
      rights,
    };
    if (at < 0) kept.push(row);
    else kept.splice(at, 0, row);
  }
  world.fieldShares = kept;
}

/** Applies the operations in order, as one transaction would. */
export function applyAllToWorld(world: WorldInput, ops: readonly UpdateOp[]): WorldInput {
  return ops.reduce(applyToWorld, world);
}

// ---------------------------------------------------------------------------------------------
// Random valid operations
// ---------------------------------------------------------------------------------------------

class Pick {
  constructor(readonly random: () => number) {}

  chance(p: number): boolean {
    return this.random() < p;
  }

  int(lo: number, hi: number): number {
    return hi <= lo ? lo : lo + Math.floor(this.random() * (hi - lo + 1));
  }

  /** An item, or undefined from an empty list. */
  one<T>(items: readonly T[]): T | undefined {
    return items[Math.floor(this.random() * items.length)];
  }

  nonEmptySubset<T>(items: readonly T[], p: number): T[] {
    const chosen = items.filter(() => this.chance(p));
    const fallback = this.one(items);
    return chosen.length > 0 || fallback === undefined ? chosen : [fallback];
  }
}

/** The things of a world the generators choose from. */
class View {
  readonly users: string[];
  readonly listedTeams: TeamInput[];
  readonly defaultTeams: string[];
  readonly bus: string[];
  readonly tables: TableInput[];
  readonly roles: RoleInput[];

  constructor(readonly world: WorldInput) {
    this.users = (world.users ?? []).map((user) => user.id);
    this.listedTeams = world.teams ?? [];
    this.defaultTeams = (world.businessUnits ?? []).flatMap((bu) =>
      bu.defaultTeamId === undefined ? [] : [bu.defaultTeamId],
    );
    this.bus = (world.businessUnits ?? []).map((bu) => bu.id);
    this.tables = world.tables ?? [];
    this.roles = world.roles ?? [];
  }

  /** Users, owner and group teams, named default teams: who may own records and hold roles. */
  get owners(): string[] {
    return [
      ...this.users,
      ...this.listedTeams.filter((team) => team.type !== 'access').map((team) => team.id),
      ...this.defaultTeams,
    ];
  }

  get roleHoldingTeams(): string[] {
    return [...this.listedTeams.filter((team) => team.type !== 'access').map((team) => team.id), ...this.defaultTeams];
  }

  get accessTeams(): string[] {
    return this.listedTeams.filter((team) => team.type === 'access').map((team) => team.id);
  }

  /** Every user and team id (listed or named default team): profile members, field share recipients. */
  get principals(): string[] {
    return [...this.users, ...this.listedTeams.map((team) => team.id), ...this.defaultTeams];
  }

  /** Whether `id` is taken in the shared id space of users and teams (or reserved). */
  principalTaken(id: string): boolean {
    return id === ORGANIZATION || this.principals.includes(id);
  }

  get securedTables(): TableInput[] {
    return this.tables.filter((table) => (table.securedColumns ?? []).length > 0);
  }

  get profiles(): FieldSecurityProfileInput[] {
    return this.world.fieldSecurityProfiles ?? [];
  }

  /** Distinct field share keys. */
  fieldShareKeys(): FieldShareKey[] {
    const seen = new Map<string, FieldShareKey>();
    for (const { rights: _, ...key } of this.world.fieldShares ?? []) seen.set(JSON.stringify(key), key);
    return [...seen.values()];
  }

  /** Who may receive a share. */
  get recipients(): string[] {
    return [...this.users, ...this.listedTeams.map((team) => team.id), ...this.defaultTeams, ORGANIZATION];
  }

  recordsOf(ownership: 'user' | 'organization' | 'any'): RecordInput[] {
    const names = new Set(
      this.tables.filter((t) => ownership === 'any' || t.ownership === ownership).map((t) => t.name),
    );
    return (this.world.records ?? []).filter((record) => names.has(record.table));
  }

  hasRecord(table: string, id: string): boolean {
    return (this.world.records ?? []).some((record) => record.table === table && record.id === id);
  }

  /** Distinct (record, principal) pairs that have a share. */
  sharePairs(): { table: string; recordId: string; principalId: string }[] {
    const seen = new Map<string, { table: string; recordId: string; principalId: string }>();
    for (const share of this.world.shares ?? []) {
      const key = JSON.stringify([share.table, share.recordId, share.principalId]);
      if (!seen.has(key))
        seen.set(key, { table: share.table, recordId: share.recordId, principalId: share.principalId });
    }
    return [...seen.values()];
  }

  hasShare(table: string, recordId: string, principalId: string): boolean {
    return (this.world.shares ?? []).some((share) => sameShare(share, table, recordId, principalId));
  }

  isUser(id: string): boolean {
    return this.users.includes(id);
  }

  /** An id for a new record of `table`: often one of randomWorld's (so deleted ids come back). */
  freshRecordId(table: string, p: Pick): string {
    for (let i = 0; i < 8; i++) {
      const id = `${table}-r${p.int(0, 30)}`;
      if (!this.hasRecord(table, id)) return id;
    }
    for (let i = 0; ; i++) {
      const id = `${table}-new${i}`;
      if (!this.hasRecord(table, id)) return id;
    }
  }

  freshId(prefix: string, taken: (id: string) => boolean): string {
    for (let i = 0; ; i++) {
      const id = `${prefix}${i}`;
      if (!taken(id)) return id;
    }
  }
}

type Generator = (v: View, p: Pick) => UpdateOp | null;

/** A random privilege map: organization-owned tables get none/global only. */
function randomPrivileges(v: View, p: Pick, role: RoleInput | undefined): UpdateOp & { op: 'setRolePrivileges' } {
  const roleId = role?.id ?? 'role-0';
  const privileges: Record<string, Partial<Record<PrivilegeName, string>>> = {};
  const depthsFor = (table: TableInput): readonly DepthName[] =>
    table.ownership === 'organization' ? ORG_TABLE_DEPTHS : DEPTHS;
  if (role !== undefined && p.chance(0.4)) {
    // a small change: the old map with one (table, privilege) set to another depth or dropped
    for (const [table, byPrivilege] of Object.entries(role.privileges)) privileges[table] = { ...byPrivilege };
    const table = p.one(v.tables);
    const privilege = p.one(PRIVILEGES);
    if (table !== undefined && privilege !== undefined) {
      const depths = { ...(privileges[table.name] ?? {}) };
      if (p.chance(0.25)) delete depths[privilege];
      else depths[privilege] = p.one(depthsFor(table)) ?? 'none';
      privileges[table.name] = depths;
    }
  } else if (!p.chance(0.1)) {
    for (const table of v.tables) {
      if (!p.chance(0.8)) continue;
      const depths: Partial<Record<PrivilegeName, string>> = {};
      for (const privilege of PRIVILEGES) {
        if (p.chance(0.7)) depths[privilege] = p.one(depthsFor(table)) ?? 'none';
      }
      privileges[table.name] = depths;
    }
  }
  return { op: 'setRolePrivileges', roleId, privileges };
}

/** A random permission map over the secured columns. */
function randomColumnPermissions(v: View, p: Pick): Record<string, Record<string, ColumnPermission[]>> {
  const permissions: Record<string, Record<string, ColumnPermission[]>> = {};
  for (const table of v.securedTables) {
    if (!p.chance(0.7)) continue;
    const columns: Record<string, ColumnPermission[]> = {};
    for (const column of table.securedColumns ?? []) {
      if (p.chance(0.6)) columns[column] = (['read', 'create', 'update'] as const).filter(() => p.chance(0.5));
    }
    permissions[table.name] = columns;
  }
  return permissions;
}

const FIELD_RIGHTS: readonly FieldRight[] = ['read', 'update'];

const GENERATORS: Record<UpdateOp['op'], Generator> = {
  setAssignSettings(_v, p) {
    const op: UpdateOp & { op: 'setAssignSettings' } = { op: 'setAssignSettings' };
    if (p.chance(0.6)) op.shareToPreviousOwnerOnAssign = p.chance(0.5);
    if (p.chance(0.6)) op.alwaysMoveRecordToOwnerBusinessUnit = p.chance(0.5);
    return op;
  },
  createBusinessUnit(v, p) {
    const parentId = p.one(v.bus);
    if (parentId === undefined) return null;
    const op: UpdateOp & { op: 'createBusinessUnit' } = {
      op: 'createBusinessUnit',
      id: v.freshId('bu-new', (id) => v.bus.includes(id)),
      parentId,
    };
    if (p.chance(0.3)) op.name = `New ${op.id}`;
    if (p.chance(0.5)) op.defaultTeamId = v.freshId('dt-new', (id) => v.principalTaken(id));
    return op;
  },
  createPosition(v, p) {
    const positions = (v.world.positions ?? []).map((position) => position.id);
    const op: UpdateOp & { op: 'createPosition' } = {
      op: 'createPosition',
      id: v.freshId('pos-new', (id) => positions.includes(id)),
    };
    if (p.chance(0.7)) op.parentId = p.one(positions) ?? null;
    else if (p.chance(0.5)) op.parentId = null;
    return op;
  },
  createUser(v, p) {
    const businessUnitId = p.one(v.bus);
    if (businessUnitId === undefined) return null;
    const op: UpdateOp & { op: 'createUser' } = {
      op: 'createUser',
      id: v.freshId('u-new', (id) => v.principalTaken(id)),
      businessUnitId,
    };
    if (p.chance(0.6)) op.managerId = p.one(v.users) ?? null;
    const positions = (v.world.positions ?? []).map((position) => position.id);
    if (p.chance(0.4)) op.positionId = p.one(positions) ?? null;
    if (p.chance(0.1)) op.disabled = p.chance(0.5);
    return op;
  },
  createTeam(v, p) {
    const businessUnitId = p.one(v.bus);
    const type = p.one(['owner', 'access', 'group'] as const);
    if (businessUnitId === undefined || type === undefined) return null;
    const op: UpdateOp & { op: 'createTeam' } = {
      op: 'createTeam',
      id: v.freshId('team-new', (id) => v.principalTaken(id)),
      businessUnitId,
      type,
    };
    if (p.chance(0.8)) op.members = v.users.filter(() => p.chance(0.2));
    return op;
  },
  createRole(v, p) {
    const { privileges } = randomPrivileges(v, p, undefined);
    const op: UpdateOp & { op: 'createRole' } = {
      op: 'createRole',
      id: v.freshId('role-new', (id) => v.roles.some((role) => role.id === id)),
      privileges,
    };
    if (p.chance(0.3)) op.name = `New ${op.id}`;
    if (p.chance(0.5)) op.inheritance = p.chance(0.5) ? 'team' : 'direct';
    if (p.chance(0.1)) op.systemAdministrator = p.chance(0.3);
    return op;
  },
  createFieldSecurityProfile(v, p) {
    if (v.securedTables.length === 0) return null;
    const op: UpdateOp & { op: 'createFieldSecurityProfile' } = {
      op: 'createFieldSecurityProfile',
      id: v.freshId('fsp-new', (id) => v.profiles.some((profile) => profile.id === id)),
    };
    if (p.chance(0.8)) op.members = v.principals.filter(() => p.chance(0.15));
    if (p.chance(0.9)) op.permissions = randomColumnPermissions(v, p);
    return op;
  },
  setFieldSecurityPermissions(v, p) {
    const profile = p.one(v.profiles);
    if (profile === undefined) return null;
    return { op: 'setFieldSecurityPermissions', profileId: profile.id, permissions: randomColumnPermissions(v, p) };
  },
  addFieldSecurityProfileMember(v, p) {
    const profile = p.one(v.profiles);
    const principalId = p.one(v.principals);
    if (profile === undefined || principalId === undefined) return null;
    return { op: 'addFieldSecurityProfileMember', profileId: profile.id, principalId };
  },
  removeFieldSecurityProfileMember(v, p) {
    const profile = p.one(v.profiles.filter((candidate) => candidate.members.length > 0));
    const principalId = profile === undefined ? undefined : p.one(profile.members);
    if (profile === undefined || principalId === undefined) return null;
    return { op: 'removeFieldSecurityProfileMember', profileId: profile.id, principalId };
  },
  grantFieldShare(v, p) {
    const rights = p.nonEmptySubset(FIELD_RIGHTS, 0.5);
    const existing = p.chance(0.3) ? p.one(v.fieldShareKeys()) : undefined;
    if (existing !== undefined) return { op: 'grantFieldShare', ...existing, rights };
    const table = p.one(v.securedTables);
    const record = table === undefined ? undefined : p.one(v.recordsOf('any').filter((r) => r.table === table.name));
    const column = p.one(table?.securedColumns ?? []);
    const principalId = p.one(v.principals);
    if (table === undefined || record === undefined || column === undefined || principalId === undefined) return null;
    return { op: 'grantFieldShare', table: table.name, recordId: record.id, column, principalId, rights };
  },
  modifyFieldShare(v, p) {
    const key = p.one(v.fieldShareKeys());
    return key === undefined ? null : { op: 'modifyFieldShare', ...key, rights: p.nonEmptySubset(FIELD_RIGHTS, 0.5) };
  },
  revokeFieldShare(v, p) {
    const key = p.one(v.fieldShareKeys());
    return key === undefined ? null : { op: 'revokeFieldShare', ...key };
  },

  createRecord(v, p) {
    const table = p.one(v.tables);
    if (table === undefined) return null;
    const id = v.freshRecordId(table.name, p);
    if (table.ownership === 'organization') return { op: 'createRecord', table: table.name, id };
    const ownerId = p.one(v.owners);
    if (ownerId === undefined) return null;
    const op: UpdateOp = { op: 'createRecord', table: table.name, id, ownerId };
    if (p.chance(0.2)) op.owningBusinessUnitId = principalBusinessUnit(v.world, ownerId);
    else if (p.chance(0.3)) op.owningBusinessUnitId = p.one(v.bus) ?? principalBusinessUnit(v.world, ownerId);
    return op;
  },
  deleteRecord(v, p) {
    // records with shares are the interesting ones half of the time
    const shared = v
      .recordsOf('any')
      .filter((r) => v.sharePairs().some((s) => s.table === r.table && s.recordId === r.id));
    const record = p.chance(0.5) && shared.length > 0 ? p.one(shared) : p.one(v.recordsOf('any'));
    return record === undefined ? null : { op: 'deleteRecord', table: record.table, id: record.id };
  },
  assignRecord(v, p) {
    const record = p.one(v.recordsOf('user'));
    if (record === undefined) return null;
    // Now and then to its own owner: the record may still move BU, and shares with no one.
    const ownerId = p.chance(0.1) ? record.ownerId : p.one(v.owners.filter((owner) => owner !== record.ownerId));
    return ownerId === undefined ? null : { op: 'assignRecord', table: record.table, id: record.id, ownerId };
  },
  grantShare(v, p) {
    const pairs = v.sharePairs();
    const rights = p.nonEmptySubset(SHARE_RIGHTS, 0.35);
    const existing = p.chance(0.3) ? p.one(pairs) : undefined;
    if (existing !== undefined) return { op: 'grantShare', ...existing, rights };
    const record = p.one(v.recordsOf('user'));
    const principalId = p.one(v.recipients);
    if (record === undefined || principalId === undefined) return null;
    return { op: 'grantShare', table: record.table, recordId: record.id, principalId, rights };
  },
  modifyShare(v, p) {
    const pair = p.one(v.sharePairs());
    return pair === undefined ? null : { op: 'modifyShare', ...pair, rights: p.nonEmptySubset(SHARE_RIGHTS, 0.35) };
  },
  revokeShare(v, p) {
    const pair = p.one(v.sharePairs());
    return pair === undefined ? null : { op: 'revokeShare', ...pair };
  },
  addTeamMember(v, p) {
    const team = p.one(v.listedTeams.filter((t) => v.users.some((u) => !t.members.includes(u))));
    if (team === undefined) return null;
    const userId = p.one(v.users.filter((u) => !team.members.includes(u)));
    return userId === undefined ? null : { op: 'addTeamMember', teamId: team.id, userId };
  },
  removeTeamMember(v, p) {
    const team = p.one(v.listedTeams.filter((t) => t.members.length > 0));
    if (team === undefined) return null;
    const userId = p.one(team.members);
    return userId === undefined ? null : { op: 'removeTeamMember', teamId: team.id, userId };
  },
  addRoleAssignment(v, p) {
    const admin = (r: RoleInput): boolean => r.systemAdministrator === true;
    const pool = p.chance(0.05) ? v.roles.filter(admin) : v.roles.filter((r) => !admin(r));
    const role = p.one(pool);
    if (role === undefined) return null;
    const assignments = v.world.roleAssignments ?? [];
    if (p.chance(0.6)) {
      const userId = p.one(v.users);
      if (userId === undefined) return null;
      const op: UpdateOp = { op: 'addRoleAssignment', principalId: userId, roleId: role.id };
      // absent: the user's own BU (follows the user); explicitly the own BU (stays); matrix
      if (p.chance(0.2)) op.businessUnitId = principalBusinessUnit(v.world, userId);
      else if (p.chance(0.3)) op.businessUnitId = p.one(v.bus) ?? principalBusinessUnit(v.world, userId);
      if (assignments.some((a) => sameAssignment(a, userId, role.id, op.businessUnitId))) return null;
      return op;
    }
    const teamId = p.one(v.roleHoldingTeams);
    if (teamId === undefined) return null;
    // For a team the BU is always the team's: with or without it named, the same assignment.
    if (assignments.some((a) => a.principalId === teamId && a.roleId === role.id)) return null;
    const op: UpdateOp = { op: 'addRoleAssignment', principalId: teamId, roleId: role.id };
    if (p.chance(0.25)) op.businessUnitId = principalBusinessUnit(v.world, teamId);
    return op;
  },
  removeRoleAssignment(v, p) {
    const assignments = v.world.roleAssignments ?? [];
    const removable = assignments.filter(
      (a) =>
        v.isUser(a.principalId) ||
        // a team's with and without its BU named are one assignment: only remove unambiguous ones
        assignments
          .filter((b) => b.principalId === a.principalId && b.roleId === a.roleId)
          .every((b) => sameAssignment(b, a.principalId, a.roleId, a.businessUnitId)),
    );
    const a = p.one(removable);
    if (a === undefined) return null;
    const op: UpdateOp = { op: 'removeRoleAssignment', principalId: a.principalId, roleId: a.roleId };
    if (a.businessUnitId !== undefined) op.businessUnitId = a.businessUnitId;
    return op;
  },
  setRolePrivileges(v, p) {
    const role = p.one(v.roles);
    return role === undefined ? null : randomPrivileges(v, p, role);
  },
  moveUser(v, p) {
    const user = p.one(v.world.users ?? []);
    if (user === undefined) return null;
    // now and then to the BU it is in: its records still all go to that BU
    const businessUnitId = p.chance(0.05)
      ? user.businessUnitId
      : p.one(v.bus.filter((bu) => bu !== user.businessUnitId));
    if (businessUnitId === undefined) return null;
    const op: UpdateOp = { op: 'moveUser', userId: user.id, businessUnitId };
    if (p.chance(0.4)) op.doNotMoveRecords = true;
    else if (p.chance(0.3)) op.doNotMoveRecords = false;
    return op;
  },
  setUserDisabled(v, p) {
    const user = p.one(v.world.users ?? []);
    if (user === undefined) return null;
    const disabled = p.chance(0.85) ? user.disabled !== true : user.disabled === true;
    return { op: 'setUserDisabled', userId: user.id, disabled };
  },
  setManager(v, p) {
    const user = p.one(v.world.users ?? []);
    if (user === undefined) return null;
    // any user not below `user` (that would make a cycle), or none
    const below = new Set([user.id]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const u of v.world.users ?? []) {
        if (u.managerId != null && below.has(u.managerId) && !below.has(u.id)) {
          below.add(u.id);
          grew = true;
        }
      }
    }
    const managerId = p.chance(0.15) ? null : (p.one(v.users.filter((id) => !below.has(id))) ?? null);
    return { op: 'setManager', userId: user.id, managerId };
  },
  setPosition(v, p) {
    const user = p.one(v.world.users ?? []);
    const positions = (v.world.positions ?? []).map((position) => position.id);
    if (user === undefined || positions.length === 0) return null;
    return { op: 'setPosition', userId: user.id, positionId: p.chance(0.15) ? null : (p.one(positions) ?? null) };
  },
  setHierarchySettings(v, p) {
    const op: UpdateOp & { op: 'setHierarchySettings' } = { op: 'setHierarchySettings' };
    if (p.chance(0.5)) op.enabled = p.chance(0.7);
    if (p.chance(0.4)) op.model = (v.world.positions ?? []).length > 0 && p.chance(0.5) ? 'position' : 'manager';
    if (p.chance(0.4)) op.depth = p.int(1, 4);
    if (p.chance(0.3)) op.managersMustBeInSameOrParentBusinessUnit = p.chance(0.5);
    if (p.chance(0.2)) op.excludedTables = v.tables.filter(() => p.chance(0.3)).map((table) => table.name);
    return op;
  },
};

/** Relative frequencies: records and shares most often. */
const WEIGHTS: readonly [UpdateOp['op'], number][] = [
  ['createRecord', 14],
  ['deleteRecord', 7],
  ['assignRecord', 12],
  ['grantShare', 14],
  ['modifyShare', 6],
  ['revokeShare', 6],
  ['addTeamMember', 6],
  ['removeTeamMember', 5],
  ['addRoleAssignment', 7],
  ['removeRoleAssignment', 5],
  ['setRolePrivileges', 5],
  ['moveUser', 7],
  ['setUserDisabled', 4],
  ['setManager', 5],
  ['setPosition', 3],
  ['setHierarchySettings', 2],
  ['setAssignSettings', 2],
  ['createBusinessUnit', 1],
  ['createPosition', 1],
  ['createUser', 3],
  ['createTeam', 2],
  ['createRole', 2],
  ['createFieldSecurityProfile', 1],
  ['setFieldSecurityPermissions', 2],
  ['addFieldSecurityProfileMember', 2],
  ['removeFieldSecurityProfileMember', 2],
  ['grantFieldShare', 3],
  ['modifyFieldShare', 2],
  ['revokeFieldShare', 2],
];
const TOTAL_WEIGHT = WEIGHTS.reduce((sum, [, weight]) => sum + weight, 0);

/** One valid operation of the given kind against `world`, or null when the world has nothing for it. */
export function randomOpOfKind(world: WorldInput, random: () => number, kind: UpdateOp['op']): UpdateOp | null {
  return GENERATORS[kind](new View(world), new Pick(random));
}

/** One valid operation against `world` (kinds drawn by WEIGHTS; a kind the world cannot do is redrawn). */
export function randomOp(world: WorldInput, random: () => number): UpdateOp {
  const v = new View(world);
  const p = new Pick(random);
  for (let attempt = 0; attempt < 50; attempt++) {
    let x = random() * TOTAL_WEIGHT;
    let kind: UpdateOp['op'] = 'setUserDisabled';
    for (const [name, weight] of WEIGHTS) {
      x -= weight;
      if (x < 0) {
        kind = name;
        break;
      }
    }
    const op = GENERATORS[kind](v, p);
    if (op !== null) return op;
  }
  return GENERATORS.setUserDisabled(v, p) ?? fail('a world without users');
}

/** `count` valid operations, each valid against the world as the previous ones left it. */
export function randomOps(world: WorldInput, random: () => number, count: number): UpdateOp[] {
  const ops: UpdateOp[] = [];
  let current = world;
  for (let i = 0; i < count; i++) {
    const op = randomOp(current, random);
    ops.push(op);
    current = applyToWorld(current, op);
  }
  return ops;
}

/**
 * A short valid sequence that keeps changing the same few things, where undo logs and indexes
 * are most easily wrong: a record deleted and created again under its id, created and deleted
 * and created, a user moved back and forth around records it gets, a share granted, revoked and
 * granted again, a role and a membership changed and changed back.
 */
export function churnOps(world: WorldInput, random: () => number): UpdateOp[] {
  const p = new Pick(random);
  const ops: UpdateOp[] = [];
  let w = world;
  const push = (op: UpdateOp | null | undefined): void => {
    if (op === null || op === undefined) return;
    w = applyToWorld(w, op);
    ops.push(op);
  };
  const view = (): View => new View(w);
  switch (p.int(0, 4)) {
    case 0: {
      // delete a (shared) record, create it again under another owner, share and assign it
      const record = p.one(view().recordsOf('user'));
      if (record === undefined) break;
      push({ op: 'deleteRecord', table: record.table, id: record.id });
      const ownerId = p.one(view().owners.filter((o) => o !== record.ownerId)) ?? p.one(view().owners);
      if (ownerId === undefined) break;
      push({ op: 'createRecord', table: record.table, id: record.id, ownerId });
      const principalId = p.one(view().recipients);
      if (principalId !== undefined) {
        push({
          op: 'grantShare',
          table: record.table,
          recordId: record.id,
          principalId,
          rights: p.nonEmptySubset(SHARE_RIGHTS, 0.5),
        });
      }
      const next = p.one(view().owners.filter((o) => o !== ownerId));
      if (next !== undefined) push({ op: 'assignRecord', table: record.table, id: record.id, ownerId: next });
      break;
    }
    case 1: {
      // create, delete, create again
      const first = GENERATORS.createRecord(view(), p);
      if (first === null || first.op !== 'createRecord') break;
      push(first);
      push({ op: 'deleteRecord', table: first.table, id: first.id });
      const again: UpdateOp = { ...first };
      if (again.ownerId !== undefined) again.ownerId = p.one(view().owners) ?? again.ownerId;
      push(again);
      break;
    }
    case 2: {
      // a user moved around records it creates and receives
      const user = p.one(w.users ?? []);
      const home = user?.businessUnitId;
      if (user === undefined || home === undefined) break;
      const away = p.one(view().bus.filter((bu) => bu !== home));
      if (away === undefined) break;
      push({ op: 'moveUser', userId: user.id, businessUnitId: away });
      const table = p.one(view().tables.filter((t) => t.ownership === 'user'));
      if (table !== undefined) {
        push({ op: 'createRecord', table: table.name, id: view().freshRecordId(table.name, p), ownerId: user.id });
      }
      push({ op: 'moveUser', userId: user.id, businessUnitId: home, doNotMoveRecords: p.chance(0.5) });
      const record = p.one(
        view()
          .recordsOf('user')
          .filter((r) => r.ownerId !== user.id),
      );
      if (record !== undefined) push({ op: 'assignRecord', table: record.table, id: record.id, ownerId: user.id });
      push({ op: 'moveUser', userId: user.id, businessUnitId: away, doNotMoveRecords: p.chance(0.5) });
      break;
    }
    case 3: {
      // a share granted, revoked, granted again and modified
      const record = p.one(view().recordsOf('user'));
      const principalId = p.one(view().recipients);
      if (record === undefined || principalId === undefined) break;
      const target = { table: record.table, recordId: record.id, principalId };
      push({ op: 'grantShare', ...target, rights: p.nonEmptySubset(SHARE_RIGHTS, 0.4) });
      push({ op: 'revokeShare', ...target });
      push({ op: 'grantShare', ...target, rights: p.nonEmptySubset(SHARE_RIGHTS, 0.4) });
      push({ op: 'modifyShare', ...target, rights: p.nonEmptySubset(SHARE_RIGHTS, 0.4) });
      break;
    }
    default: {
      // a role's privileges, an assignment and a membership changed and changed back
      const role = p.one(w.roles ?? []);
      if (role !== undefined) {
        const before = role.privileges;
        push(randomPrivileges(view(), p, role));
        push(GENERATORS.addRoleAssignment(view(), p));
        push(GENERATORS.addTeamMember(view(), p));
        push(GENERATORS.removeRoleAssignment(view(), p));
        push({ op: 'setRolePrivileges', roleId: role.id, privileges: before });
      }
      push(GENERATORS.removeTeamMember(view(), p));
      break;
    }
  }
  return ops.length > 0 ? ops : randomOps(world, random, 2);
}

// ---------------------------------------------------------------------------------------------
// Invalid operations
// ---------------------------------------------------------------------------------------------

export interface InvalidOp {
  op: UpdateOp;
  /** The rule the engine must report (`UPDATE_RULES`). */
  rule: string;
  /** The op fields that may be named as at fault (`details.field`, up to its first `.` or `[`). */
  fields: string[];
}

type InvalidGenerator = (v: View, p: Pick) => InvalidOp | null;

/** Every kind of invalid operation, by a short name. */
export const INVALID_KINDS = {
  /** grantShare on a record that does not exist. */
  'unknown-record'(v, p) {
    const table = p.one(v.tables.filter((t) => t.ownership === 'user'));
    const principalId = p.one(v.recipients);
    if (table === undefined || principalId === undefined) return null;
    const recordId = v.freshId(`${table.name}-missing`, (id) => v.hasRecord(table.name, id));
    return {
      op: { op: 'grantShare', table: table.name, recordId, principalId, rights: ['read'] },
      rule: 'reference-resolves',
      fields: ['recordId', 'id'],
    };
  },
  'unknown-member'(v, p) {
    const team = p.one(v.listedTeams);
    if (team === undefined) return null;
    const userId = v.freshId('u-missing', (id) => v.isUser(id));
    return { op: { op: 'addTeamMember', teamId: team.id, userId }, rule: 'reference-resolves', fields: ['userId'] };
  },
  'unknown-role'(v, p) {
    const userId = p.one(v.users);
    if (userId === undefined) return null;
    const roleId = v.freshId('role-missing', (id) => v.roles.some((r) => r.id === id));
    return {
      op: { op: 'addRoleAssignment', principalId: userId, roleId },
      rule: 'reference-resolves',
      fields: ['roleId'],
    };
  },
  'unknown-business-unit'(v, p) {
    const userId = p.one(v.users);
    if (userId === undefined) return null;
    const businessUnitId = v.freshId('bu-missing', (id) => v.bus.includes(id));
    return {
      op: { op: 'moveUser', userId, businessUnitId },
      rule: 'reference-resolves',
      fields: ['businessUnitId'],
    };
  },
  'unknown-owner'(v, p) {
    const table = p.one(v.tables.filter((t) => t.ownership === 'user'));
    if (table === undefined) return null;
    const ownerId = v.freshId('u-missing', (id) => v.owners.includes(id) || v.accessTeams.includes(id));
    return {
      op: { op: 'createRecord', table: table.name, id: v.freshRecordId(table.name, p), ownerId },
      rule: 'reference-resolves',
      fields: ['ownerId'],
    };
  },
  'duplicate-record'(v, p) {
    const record = p.one(v.recordsOf('any'));
    if (record === undefined) return null;
    const table = tableOf(v.world, record.table);
    const op: UpdateOp = { op: 'createRecord', table: record.table, id: record.id };
    if (table.ownership === 'user') {
      const ownerId = p.one(v.owners);
      if (ownerId === undefined) return null;
      op.ownerId = ownerId;
    }
    return { op, rule: 'id-unique', fields: ['id'] };
  },
  'record-owner-required'(v, p) {
    const table = p.one(v.tables.filter((t) => t.ownership === 'user'));
    if (table === undefined) return null;
    return {
      op: { op: 'createRecord', table: table.name, id: v.freshRecordId(table.name, p) },
      rule: 'record-owner-required',
      fields: ['ownerId'],
    };
  },
  'access-team-creates'(v, p) {
    const table = p.one(v.tables.filter((t) => t.ownership === 'user'));
    const ownerId = p.one(v.accessTeams);
    if (table === undefined || ownerId === undefined) return null;
    return {
      op: { op: 'createRecord', table: table.name, id: v.freshRecordId(table.name, p), ownerId },
      rule: 'access-team-no-records',
      fields: ['ownerId'],
    };
  },
  'access-team-assigned'(v, p) {
    const record = p.one(v.recordsOf('user'));
    const ownerId = p.one(v.accessTeams);
    if (record === undefined || ownerId === undefined) return null;
    return {
      op: { op: 'assignRecord', table: record.table, id: record.id, ownerId },
      rule: 'access-team-no-records',
      fields: ['ownerId'],
    };
  },
  'org-record-owner'(v, p) {
    const table = p.one(v.tables.filter((t) => t.ownership === 'organization'));
    const ownerId = p.one(v.owners);
    if (table === undefined || ownerId === undefined) return null;
    return {
      op: { op: 'createRecord', table: table.name, id: v.freshRecordId(table.name, p), ownerId },
      rule: 'org-record-unowned',
      fields: ['ownerId'],
    };
  },
  'org-record-shared'(v, p) {
    const record = p.one(v.recordsOf('organization'));
    const principalId = p.one(v.recipients);
    if (record === undefined || principalId === undefined) return null;
    return {
      op: { op: 'grantShare', table: record.table, recordId: record.id, principalId, rights: ['read'] },
      rule: 'org-record-unowned',
      fields: ['recordId', 'table', 'principalId'],
    };
  },
  'revoke-missing-share'(v, p) {
    const candidates = v
      .recordsOf('user')
      .flatMap((r) =>
        v.recipients.filter((x) => !v.hasShare(r.table, r.id, x)).map((principalId) => ({ r, principalId })),
      );
    const pick = p.one(candidates);
    if (pick === undefined) return null;
    return {
      op: { op: 'revokeShare', table: pick.r.table, recordId: pick.r.id, principalId: pick.principalId },
      rule: 'not-found',
      fields: ['principalId', 'recordId'],
    };
  },
  'modify-missing-share'(v, p) {
    const candidates = v
      .recordsOf('user')
      .flatMap((r) =>
        v.recipients.filter((x) => !v.hasShare(r.table, r.id, x)).map((principalId) => ({ r, principalId })),
      );
    const pick = p.one(candidates);
    if (pick === undefined) return null;
    return {
      op: {
        op: 'modifyShare',
        table: pick.r.table,
        recordId: pick.r.id,
        principalId: pick.principalId,
        rights: p.nonEmptySubset(SHARE_RIGHTS, 0.4),
      },
      rule: 'not-found',
      fields: ['principalId', 'recordId'],
    };
  },
  'remove-missing-member'(v, p) {
    const candidates = v.listedTeams.flatMap((t) =>
      v.users.filter((u) => !t.members.includes(u)).map((userId) => ({ teamId: t.id, userId })),
    );
    const pick = p.one(candidates);
    if (pick === undefined) return null;
    return { op: { op: 'removeTeamMember', ...pick }, rule: 'not-found', fields: ['userId', 'teamId'] };
  },
  'remove-missing-assignment'(v, p) {
    const assignments = v.world.roleAssignments ?? [];
    const candidates = v.users.flatMap((u) =>
      v.roles
        .filter((r) => !assignments.some((a) => a.principalId === u && a.roleId === r.id))
        .map((r) => ({ principalId: u, roleId: r.id })),
    );
    const pick = p.one(candidates);
    if (pick === undefined) return null;
    return {
      op: { op: 'removeRoleAssignment', ...pick },
      rule: 'not-found',
      fields: ['roleId', 'principalId', 'businessUnitId'],
    };
  },
  'default-team-member'(v, p) {
    const teamId = p.one(v.defaultTeams);
    const userId = p.one(v.users);
    if (teamId === undefined || userId === undefined) return null;
    return {
      op: { op: 'addTeamMember', teamId, userId },
      rule: 'default-team-members',
      fields: ['teamId'],
    };
  },
  'create-share-right'(v, p) {
    const record = p.one(v.recordsOf('user'));
    const principalId = p.one(v.recipients);
    if (record === undefined || principalId === undefined) return null;
    const rights = ['read', 'create'] as unknown as ShareRight[];
    return {
      op: { op: 'grantShare', table: record.table, recordId: record.id, principalId, rights },
      rule: 'share-rights',
      fields: ['rights'],
    };
  },
  'access-team-role'(v, p) {
    const principalId = p.one(v.accessTeams);
    const role = p.one(v.roles);
    if (principalId === undefined || role === undefined) return null;
    return {
      op: { op: 'addRoleAssignment', principalId, roleId: role.id },
      rule: 'access-team-no-roles',
      fields: ['principalId'],
    };
  },
  'team-assignment-bu'(v, p) {
    const principalId = p.one(v.roleHoldingTeams);
    const role = p.one(v.roles);
    if (principalId === undefined || role === undefined) return null;
    const own = principalBusinessUnit(v.world, principalId);
    const businessUnitId = p.one(v.bus.filter((bu) => bu !== own));
    if (businessUnitId === undefined) return null;
    return {
      op: { op: 'addRoleAssignment', principalId, roleId: role.id, businessUnitId },
      rule: 'team-assignment-bu',
      fields: ['businessUnitId'],
    };
  },
  'org-table-depth'(v, p) {
    const table = p.one(v.tables.filter((t) => t.ownership === 'organization'));
    const role = p.one(v.roles);
    const depth = p.one(['basic', 'local', 'deep'] as const);
    const privilege = p.one(PRIVILEGES);
    if (table === undefined || role === undefined || depth === undefined || privilege === undefined) return null;
    const op = randomPrivileges(v, p, undefined);
    op.roleId = role.id;
    op.privileges[table.name] = { ...(op.privileges[table.name] ?? {}), [privilege]: depth };
    return { op, rule: 'org-table-depth', fields: ['privileges'] };
  },
  'unknown-depth'(v, p) {
    const table = p.one(v.tables.filter((t) => t.ownership === 'user'));
    const role = p.one(v.roles);
    const word = p.one(['Global', 'organization', 'user', 'parent', ' basic', '']);
    const privilege = p.one(PRIVILEGES);
    if (table === undefined || role === undefined || word === undefined || privilege === undefined) return null;
    const op = randomPrivileges(v, p, undefined);
    op.roleId = role.id;
    op.privileges[table.name] = { ...(op.privileges[table.name] ?? {}), [privilege]: word };
    return { op, rule: 'exact-word', fields: ['privileges'] };
  },
  'unknown-recipient'(v, p) {
    const record = p.one(v.recordsOf('user'));
    if (record === undefined) return null;
    const principalId = v.freshId('team-missing', (id) => v.recipients.includes(id));
    return {
      op: { op: 'grantShare', table: record.table, recordId: record.id, principalId, rights: ['read'] },
      rule: 'reference-resolves',
      fields: ['principalId'],
    };
  },
  'unknown-table'(v, p) {
    const ownerId = p.one(v.owners);
    if (ownerId === undefined) return null;
    const table = v.freshId('table-missing', (id) => v.tables.some((t) => t.name === id));
    return {
      op: { op: 'createRecord', table, id: 'r-1', ownerId },
      rule: 'reference-resolves',
      fields: ['table'],
    };
  },
  'unknown-table-in-role'(v, p) {
    const role = p.one(v.roles);
    if (role === undefined) return null;
    const table = v.freshId('table-missing', (id) => v.tables.some((t) => t.name === id));
    return {
      op: { op: 'setRolePrivileges', roleId: role.id, privileges: { [table]: { read: 'global' } } },
      rule: 'reference-resolves',
      fields: ['privileges'],
    };
  },
  'org-record-assigned'(v, p) {
    const record = p.one(v.recordsOf('organization'));
    const ownerId = p.one(v.owners);
    if (record === undefined || ownerId === undefined) return null;
    return {
      op: { op: 'assignRecord', table: record.table, id: record.id, ownerId },
      rule: 'org-record-unowned',
      fields: ['table', 'id', 'ownerId'],
    };
  },
  'org-record-bu'(v, p) {
    const table = p.one(v.tables.filter((t) => t.ownership === 'organization'));
    const businessUnitId = p.one(v.bus);
    if (table === undefined || businessUnitId === undefined) return null;
    return {
      op: {
        op: 'createRecord',
        table: table.name,
        id: v.freshRecordId(table.name, p),
        owningBusinessUnitId: businessUnitId,
      },
      rule: 'org-record-unowned',
      fields: ['owningBusinessUnitId'],
    };
  },
  'team-as-member'(v, p) {
    const team = p.one(v.listedTeams);
    const member = p.one(v.listedTeams);
    if (team === undefined || member === undefined) return null;
    return {
      op: { op: 'addTeamMember', teamId: team.id, userId: member.id },
      rule: 'team-members-are-users',
      fields: ['userId'],
    };
  },
  'modify-with-create'(v, p) {
    const pair = p.one(v.sharePairs());
    if (pair === undefined) return null;
    const rights = ['create'] as unknown as ShareRight[];
    return { op: { op: 'modifyShare', ...pair, rights }, rule: 'share-rights', fields: ['rights'] };
  },
  'duplicate-principal'(v, p) {
    const id = p.one(v.principals);
    const businessUnitId = p.one(v.bus);
    if (id === undefined || businessUnitId === undefined) return null;
    return p.chance(0.5)
      ? { op: { op: 'createUser', id, businessUnitId }, rule: 'id-unique', fields: ['id'] }
      : { op: { op: 'createTeam', id, businessUnitId, type: 'owner' }, rule: 'id-unique', fields: ['id'] };
  },
  'reserved-principal'(v, p) {
    const businessUnitId = p.one(v.bus);
    if (businessUnitId === undefined) return null;
    return { op: { op: 'createUser', id: ORGANIZATION, businessUnitId }, rule: 'id-reserved', fields: ['id'] };
  },
  'second-root'(v) {
    return {
      op: { op: 'createBusinessUnit', id: v.freshId('bu-new', (id) => v.bus.includes(id)), parentId: null } as never,
      rule: 'bu-single-tree',
      fields: ['parentId'],
    };
  },
  'duplicate-business-unit'(v, p) {
    const id = p.one(v.bus);
    const parentId = p.one(v.bus);
    if (id === undefined || parentId === undefined) return null;
    return { op: { op: 'createBusinessUnit', id, parentId }, rule: 'id-unique', fields: ['id'] };
  },
  'unknown-team-type'(v, p) {
    const businessUnitId = p.one(v.bus);
    if (businessUnitId === undefined) return null;
    const id = v.freshId('team-new', (candidate) => v.principalTaken(candidate));
    const type = 'Owner' as never;
    return { op: { op: 'createTeam', id, businessUnitId, type }, rule: 'exact-word', fields: ['type'] };
  },
  'team-of-teams'(v, p) {
    const businessUnitId = p.one(v.bus);
    const member = p.one(v.listedTeams);
    if (businessUnitId === undefined || member === undefined) return null;
    const id = v.freshId('team-new', (candidate) => v.principalTaken(candidate));
    return {
      op: { op: 'createTeam', id, businessUnitId, type: 'group', members: [member.id] },
      rule: 'team-members-are-users',
      fields: ['members'],
    };
  },
  'duplicate-role'(v, p) {
    const role = p.one(v.roles);
    if (role === undefined) return null;
    return { op: { op: 'createRole', id: role.id, privileges: {} }, rule: 'id-unique', fields: ['id'] };
  },
  'unsecured-column-permission'(v, p) {
    const profile = p.one(v.profiles);
    const table = p.one(v.tables);
    if (profile === undefined || table === undefined) return null;
    const column = v.freshId('col-missing', (id) => (table.securedColumns ?? []).includes(id));
    return {
      op: {
        op: 'setFieldSecurityPermissions',
        profileId: profile.id,
        permissions: { [table.name]: { [column]: ['read'] } },
      },
      rule: 'secured-column',
      fields: ['permissions'],
    };
  },
  'field-share-to-organization'(v, p) {
    const table = p.one(v.securedTables);
    const record = table === undefined ? undefined : p.one(v.recordsOf('any').filter((r) => r.table === table.name));
    const column = p.one(table?.securedColumns ?? []);
    if (table === undefined || record === undefined || column === undefined) return null;
    return {
      op: {
        op: 'grantFieldShare',
        table: table.name,
        recordId: record.id,
        column,
        principalId: ORGANIZATION,
        rights: ['read'],
      },
      rule: 'field-share-principal',
      fields: ['principalId'],
    };
  },
  'field-share-write-right'(v, p) {
    const key = p.one(v.fieldShareKeys());
    if (key === undefined) return null;
    const rights = ['write'] as unknown as FieldRight[];
    return { op: { op: 'modifyFieldShare', ...key, rights }, rule: 'field-share-rights', fields: ['rights'] };
  },
  'revoke-missing-field-share'(v, p) {
    const table = p.one(v.securedTables);
    const record = table === undefined ? undefined : p.one(v.recordsOf('any').filter((r) => r.table === table.name));
    const column = p.one(table?.securedColumns ?? []);
    const principalId = p.one(v.principals);
    if (table === undefined || record === undefined || column === undefined || principalId === undefined) return null;
    const key = { table: table.name, recordId: record.id, column, principalId };
    if (v.fieldShareKeys().some((k) => JSON.stringify(k) === JSON.stringify(key))) return null;
    return { op: { op: 'revokeFieldShare', ...key }, rule: 'not-found', fields: ['principalId'] };
  },
  'unknown-profile'(v, p) {
    const principalId = p.one(v.principals);
    if (principalId === undefined) return null;
    const profileId = v.freshId('fsp-missing', (id) => v.profiles.some((profile) => profile.id === id));
    return {
      op: { op: 'addFieldSecurityProfileMember', profileId, principalId },
      rule: 'reference-resolves',
      fields: ['profileId'],
    };
  },
} satisfies Record<string, InvalidGenerator>;

export type InvalidKind = keyof typeof INVALID_KINDS;

/** An invalid operation of `kind` against `world`, or null when the world has nothing to build one from. */
export function invalidOpOfKind(world: WorldInput, random: () => number, kind: InvalidKind): InvalidOp | null {
  const generate: InvalidGenerator = INVALID_KINDS[kind];
  return generate(new View(world), new Pick(random));
}

/** An operation that must fail against `world`, with the rule it breaks (a kind the world allows, at random). */
export function randomInvalidOp(world: WorldInput, random: () => number): InvalidOp {
  const kinds = Object.keys(INVALID_KINDS) as InvalidKind[];
  for (let attempt = 0; attempt < 100; attempt++) {
    const kind = kinds[Math.floor(random() * kinds.length)] ?? 'unknown-role';
    const invalid = invalidOpOfKind(world, random, kind);
    if (invalid !== null) return invalid;
  }
  return invalidOpOfKind(world, random, 'unknown-role') ?? fail('a world without users');
}
