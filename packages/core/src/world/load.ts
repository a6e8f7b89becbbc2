import {
  type BuIdx,
  NONE,
  ORGANIZATION_PRINCIPAL,
  type PositionIdx,
  type PrincipalIdx,
  type RecordIdx,
  type RoleIdx,
  type TableIdx,
  type UserIdx,
} from '../ids.js';
import { RecordStore } from '../model/records.js';
import { ShareStore } from '../model/shares.js';
import {
  type BusinessUnit,
  COLUMN_PERMISSION_BITS,
  type FieldSecurityProfile,
  type FieldShare,
  type Position,
  type Principal,
  PrincipalKind,
  type Role,
  type RoleAssignment,
  type Settings,
  type Table,
  TEAM_KIND_BY_TYPE,
  type UserState,
  WorldModel,
} from '../model/world-model.js';
import {
  Depth,
  depthFromName,
  PRIVILEGE_COUNT,
  type Privilege,
  privilegeBit,
  privilegeFromName,
} from '../privileges.js';
import { getOrCreate } from '../util/maps.js';
import { decodeWorld } from './decode.js';
import { DEPTHS, ORGANIZATION, PRIVILEGES } from './format.js';
import { field, item, WorldReader } from './reader.js';

const keys = (...names: string[]): ReadonlySet<string> => new Set(names);

const WORLD_KEYS = keys(
  'formatVersion',
  'settings',
  'businessUnits',
  'positions',
  'users',
  'teams',
  'tables',
  'roles',
  'roleAssignments',
  'records',
  'shares',
  'fieldSecurityProfiles',
  'fieldShares',
);
const SETTINGS_KEYS = keys('hierarchy', 'shareToPreviousOwnerOnAssign', 'alwaysMoveRecordToOwnerBusinessUnit');
const HIERARCHY_KEYS = keys('enabled', 'model', 'depth', 'managersMustBeInSameOrParentBusinessUnit', 'excludedTables');
const BU_KEYS = keys('id', 'name', 'parentId', 'defaultTeamId');
const POSITION_KEYS = keys('id', 'parentId');
const USER_KEYS = keys('id', 'businessUnitId', 'managerId', 'positionId', 'disabled');
const TEAM_KEYS = keys('id', 'businessUnitId', 'type', 'members');
const TABLE_KEYS = keys('name', 'ownership', 'securedColumns');
const ROLE_KEYS = keys('id', 'name', 'inheritance', 'systemAdministrator', 'privileges');
const ASSIGNMENT_KEYS = keys('principalId', 'roleId', 'businessUnitId');
const RECORD_KEYS = keys('table', 'id', 'ownerId', 'owningBusinessUnitId');
const SHARE_KEYS = keys('table', 'recordId', 'principalId', 'rights');
const PROFILE_KEYS = keys('id', 'members', 'permissions');
const FIELD_SHARE_KEYS = keys('table', 'recordId', 'column', 'principalId', 'rights');

/** A path relative to the item being read: the item itself (see WorldReader.begin). */
const ITEM = '';

const SHARE_RIGHTS: readonly string[] = PRIVILEGES.filter((p) => p !== 'create');
const COLUMN_PERMISSIONS = ['read', 'create', 'update'] as const;
const FIELD_SHARE_RIGHTS: readonly string[] = ['read', 'update'];

/**
 * Validates a world against every loading rule of world-format.md and interns it into a
 * `WorldModel`. The world is rejected as a whole with a `PALISADE_WORLD_INVALID` error naming the
 * rule, the item and its path; nothing is returned half-built.
 */
export function loadWorld(input: unknown): WorldModel {
  return new WorldLoader(decodeWorld(input)).load();
}

class WorldLoader {
  private readonly r: WorldReader = new WorldReader();
  private readonly raw: Record<string, unknown>;

  private readonly tables: Table[] = [];
  private readonly tableIndex = new Map<string, TableIdx>();
  private readonly businessUnits: BusinessUnit[] = [];
  private readonly buIndex = new Map<string, BuIdx>();
  private readonly positions: Position[] = [];
  private readonly positionIndex = new Map<string, PositionIdx>();
  private readonly principals: Principal[] = [{ id: ORGANIZATION, kind: PrincipalKind.organization, bu: NONE }];
  private readonly principalIndex = new Map<string, PrincipalIdx>();
  /** Where each principal id was first declared, to report a clash at the second. */
  private readonly users: (UserState | undefined)[] = [undefined];
  private readonly teamMembers = new Map<PrincipalIdx, Set<UserIdx>>();
  private readonly roles: Role[] = [];
  private readonly roleIndex = new Map<string, RoleIdx>();
  private readonly assignments = new Map<PrincipalIdx, RoleAssignment[]>();

  constructor(raw: unknown) {
    this.raw = this.r.object(raw, '$', WORLD_KEYS);
  }

  load(): WorldModel {
    const r: WorldReader = this.r;
    const raw = this.raw;
    r.at('world', null);
    if (raw.formatVersion !== undefined && raw.formatVersion !== 1) {
      r.fail('format-version', '$.formatVersion', `unsupported format version ${JSON.stringify(raw.formatVersion)}`);
    }
    const section = (name: string): unknown[] => {
      r.at('world', null);
      return r.optionalArray(raw[name], `$.${name}`);
    };
    const tables = section('tables');
    const businessUnits = section('businessUnits');
    const positions = section('positions');
    const users = section('users');
    const teams = section('teams');
    const roles = section('roles');
    const assignments = section('roleAssignments');
    const records = section('records');
    const shares = section('shares');
    const profiles = section('fieldSecurityProfiles');
    const fieldShares = section('fieldShares');

    this.readTables(tables);
    const settings = this.readSettings();
    const root = this.readBusinessUnits(businessUnits);
    this.readPositions(positions);
    this.readUsers(users);
    this.readTeams(teams);
    this.checkManagers(users);
    this.readRoles(roles);
    this.readAssignments(assignments);
    this.readRecords(records);
    this.readShares(shares);
    const fieldSecurityProfiles = this.readProfiles(profiles);
    const fieldShareList = this.readFieldShares(fieldShares);

    return new WorldModel({
      settings,
      businessUnits: this.businessUnits,
      buIndex: this.buIndex,
      root,
      positions: this.positions,
      positionIndex: this.positionIndex,
      principals: this.principals,
      principalIndex: this.principalIndex,
      users: this.users,
      teamMembers: this.teamMembers,
      tables: this.tables,
      tableIndex: this.tableIndex,
      roles: this.roles,
      roleIndex: this.roleIndex,
      assignments: this.assignments,
      fieldSecurityProfiles,
      fieldShares: fieldShareList,
    });
  }

  private readTables(items: unknown[]): void {
    const r: WorldReader = this.r;
    items.forEach((value, i) => {
      r.begin('table', value, 'name', '$.tables', i);
      const raw = r.object(value, ITEM, TABLE_KEYS, ['name', 'ownership']);
      const name = r.id(raw.name, '.name');
      const ownership = r.word(raw.ownership, '.ownership', ['user', 'organization'], 'table ownership');
      const securedColumns = r.optionalArray(raw.securedColumns, '.securedColumns');
      const columns = securedColumns.map((column, c) => r.id(column, item('.securedColumns', c)));
      if (this.tableIndex.has(name)) r.fail('id-unique', '.name', `table \`${name}\` is declared twice`);
      this.tableIndex.set(name, this.tables.length as TableIdx);
      this.tables.push({
        name,
        organizationOwned: ownership === 'organization',
        securedColumns: [...new Set(columns)],
        ...emptyRows(),
        index: null,
      });
    });
  }

  private readSettings(): Settings {
    const r: WorldReader = this.r;
    r.at('settings', null);
    const raw = r.object(this.raw.settings ?? {}, '$.settings', SETTINGS_KEYS);
    const hierarchy = r.object(raw.hierarchy ?? {}, '$.settings.hierarchy', HIERARCHY_KEYS);
    const depth = hierarchy.depth ?? 3;
    if (typeof depth !== 'number' || !Number.isInteger(depth) || depth < 1) {
      r.fail('shape', '$.settings.hierarchy.depth', `depth must be an integer of at least 1, got ${String(depth)}`);
    }
    const model =
      hierarchy.model === undefined
        ? 'manager'
        : r.word(hierarchy.model, '$.settings.hierarchy.model', ['manager', 'position'], 'hierarchy model');
    const excludedPath = '$.settings.hierarchy.excludedTables';
    const excludedTables = r.optionalArray(hierarchy.excludedTables, excludedPath).map((name, i) => {
      const path = item(excludedPath, i);
      return this.tableRef(r.id(name, path), path);
    });
    return {
      hierarchy: {
        enabled: r.boolean(hierarchy.enabled, '$.settings.hierarchy.enabled', false),
        model,
        depth,
        managersMustBeInSameOrParentBusinessUnit: r.boolean(
          hierarchy.managersMustBeInSameOrParentBusinessUnit,
          '$.settings.hierarchy.managersMustBeInSameOrParentBusinessUnit',
          true,
        ),
        excludedTables,
      },
      shareToPreviousOwnerOnAssign: r.boolean(
        raw.shareToPreviousOwnerOnAssign,
        '$.settings.shareToPreviousOwnerOnAssign',
        false,
      ),
      alwaysMoveRecordToOwnerBusinessUnit: r.boolean(
        raw.alwaysMoveRecordToOwnerBusinessUnit,
        '$.settings.alwaysMoveRecordToOwnerBusinessUnit',
        true,
      ),
    };
  }

  private readBusinessUnits(items: unknown[]): BuIdx {
    const r: WorldReader = this.r;
    const parents: (string | null)[] = [];
    items.forEach((value, i) => {
      r.begin('businessUnit', value, 'id', '$.businessUnits', i);
      const raw = r.object(value, ITEM, BU_KEYS, ['id']);
      const id = r.id(raw.id, '.id');
      if (!('parentId' in raw)) r.fail('shape', '.parentId', 'missing required field `parentId`');
      parents.push(r.nullableId(raw.parentId, '.parentId'));
      const name = r.optionalString(raw.name, '.name') ?? id;
      if (this.buIndex.has(id)) r.fail('id-unique', '.id', `business unit \`${id}\` is declared twice`);
      const bu = this.businessUnits.length as BuIdx;
      this.buIndex.set(id, bu);
      this.businessUnits.push({ id, name, parent: NONE, children: [], defaultTeam: NONE, users: new Set() });
      if (raw.defaultTeamId !== undefined) {
        const teamId = r.id(raw.defaultTeamId, '.defaultTeamId');
        const team = this.declarePrincipal(teamId, PrincipalKind.defaultTeam, bu, '.defaultTeamId');
        (this.businessUnits[bu] as BusinessUnit).defaultTeam = team;
      }
    });

    let root: BuIdx | undefined;
    parents.forEach((parentId, i) => {
      const bu = this.businessUnits[i] as BusinessUnit;
      const path = field(item('$.businessUnits', i), 'parentId');
      r.at('businessUnit', bu.id);
      if (parentId === null) {
        if (root !== undefined)
          r.fail('bu-single-tree', path, 'a second root business unit (only one may have no parent)');
        root = i as BuIdx;
        return;
      }
      const parent = this.buIndex.get(parentId);
      if (parent === undefined) r.fail('reference-resolves', path, `unknown parent business unit \`${parentId}\``);
      bu.parent = parent;
      (this.businessUnits[parent] as BusinessUnit).children.push(i as BuIdx);
    });
    if (items.length === 0) return NONE as BuIdx;
    if (root === undefined) {
      r.at('businessUnit', this.businessUnits[0]?.id ?? null);
      r.fail('bu-single-tree', field(item('$.businessUnits', 0), 'parentId'), 'no root business unit (a cycle)');
    }
    // Every BU reachable from the root means one tree; an unreachable one sits on a cycle.
    const reached = new Uint8Array(this.businessUnits.length);
    const stack: BuIdx[] = [root];
    for (let bu = stack.pop(); bu !== undefined; bu = stack.pop()) {
      reached[bu] = 1;
      for (const child of this.businessUnits[bu]?.children ?? []) stack.push(child);
    }
    const stray = reached.indexOf(0);
    if (stray !== -1) {
      r.at('businessUnit', this.businessUnits[stray]?.id ?? null);
      r.fail('bu-single-tree', field(item('$.businessUnits', stray), 'parentId'), 'business units form a cycle');
    }
    return root;
  }

  private readPositions(items: unknown[]): void {
    const r: WorldReader = this.r;
    const parents: (string | null)[] = [];
    items.forEach((value, i) => {
      r.begin('position', value, 'id', '$.positions', i);
      const raw = r.object(value, ITEM, POSITION_KEYS, ['id']);
      const id = r.id(raw.id, '.id');
      parents.push(r.nullableId(raw.parentId, '.parentId'));
      if (this.positionIndex.has(id)) r.fail('id-unique', '.id', `position \`${id}\` is declared twice`);
      this.positionIndex.set(id, this.positions.length as PositionIdx);
      this.positions.push({ id, parent: NONE });
    });
    parents.forEach((parentId, i) => {
      if (parentId === null) return;
      const position = this.positions[i] as Position;
      r.at('position', position.id);
      const parent = this.positionIndex.get(parentId);
      const path = field(item('$.positions', i), 'parentId');
      if (parent === undefined) r.fail('reference-resolves', path, `unknown parent position \`${parentId}\``);
      position.parent = parent;
    });
    const onCycle = findCycle(this.positions.length, (p) => this.positions[p]?.parent ?? NONE);
    if (onCycle !== NONE) {
      r.at('position', this.positions[onCycle]?.id ?? null);
      r.fail('positions-acyclic', field(item('$.positions', onCycle), 'parentId'), 'position is its own ancestor');
    }
  }

  private readUsers(items: unknown[]): void {
    const r: WorldReader = this.r;
    items.forEach((value, i) => {
      r.begin('user', value, 'id', '$.users', i);
      const raw = r.object(value, ITEM, USER_KEYS, ['id', 'businessUnitId']);
      const id = r.id(raw.id, '.id');
      const bu = this.buRef(r.id(raw.businessUnitId, '.businessUnitId'), '.businessUnitId');
      const positionId = r.nullableId(raw.positionId, '.positionId');
      r.nullableId(raw.managerId, '.managerId');
      const disabled = r.boolean(raw.disabled, '.disabled', false);
      let position: PositionIdx | typeof NONE = NONE;
      if (positionId !== null) {
        const found = this.positionIndex.get(positionId);
        if (found === undefined) {
          r.fail('reference-resolves', '.positionId', `unknown position \`${positionId}\``);
        }
        position = found;
      }
      const user = this.declarePrincipal(id, PrincipalKind.user, bu, '.id') as UserIdx;
      this.users[user] = { disabled, manager: NONE, position, teams: new Set() };
      (this.businessUnits[bu] as BusinessUnit).users.add(user);
    });
  }

  private checkManagers(items: unknown[]): void {
    const r: WorldReader = this.r;
    items.forEach((value, i) => {
      const raw = value as Record<string, unknown>;
      const user = this.principalIndex.get(raw.id as string) as UserIdx;
      const managerId = raw.managerId;
      if (typeof managerId !== 'string') return;
      const path = field(item('$.users', i), 'managerId');
      r.at('user', raw.id as string);
      const manager = this.principalIndex.get(managerId);
      if (manager === undefined || this.principals[manager]?.kind !== PrincipalKind.user) {
        r.fail('reference-resolves', path, `manager \`${managerId}\` is not a known user`);
      }
      (this.users[user] as UserState).manager = manager as UserIdx;
    });
    const onCycle = findCycle(this.principals.length, (u) => this.users[u]?.manager ?? NONE);
    if (onCycle !== NONE) {
      const i = items.findIndex((value) => (value as { id: string }).id === this.principals[onCycle]?.id);
      r.at('user', this.principals[onCycle]?.id ?? null);
      r.fail('manager-chain-acyclic', field(item('$.users', i), 'managerId'), 'user is their own (indirect) manager');
    }
  }

  private readTeams(items: unknown[]): void {
    const r: WorldReader = this.r;
    // Declare every team before reading members: a member may name a team declared later.
    const declared = items.map((value, i) => {
      r.begin('team', value, 'id', '$.teams', i);
      const raw = r.object(value, ITEM, TEAM_KEYS, ['id', 'businessUnitId', 'type', 'members']);
      const id = r.id(raw.id, '.id');
      const bu = this.buRef(r.id(raw.businessUnitId, '.businessUnitId'), '.businessUnitId');
      const type = r.word(raw.type, '.type', ['owner', 'access', 'group'], 'team type');
      const memberIds = r.array(raw.members, '.members');
      return { id, memberIds, team: this.declarePrincipal(id, TEAM_KIND_BY_TYPE[type], bu, '.id') };
    });
    declared.forEach(({ id, memberIds, team }, i) => {
      r.at('team', id);
      const members = new Set<UserIdx>();
      memberIds.forEach((memberValue, m) => {
        const memberPath = item(field(item('$.teams', i), 'members'), m);
        const memberId = r.id(memberValue, memberPath);
        const member = this.principalIndex.get(memberId);
        if (member === undefined || member === ORGANIZATION_PRINCIPAL) {
          r.fail('reference-resolves', memberPath, `unknown team member \`${memberId}\``);
        }
        if (this.principals[member]?.kind !== PrincipalKind.user) {
          r.fail('team-members-are-users', memberPath, `member \`${memberId}\` is a team, not a user`);
        }
        members.add(member as UserIdx);
        (this.users[member] as UserState).teams.add(team);
      });
      this.teamMembers.set(team, members);
    });
  }

  private readRoles(items: unknown[]): void {
    const r: WorldReader = this.r;
    const tableCount = this.tables.length;
    items.forEach((value, i) => {
      r.begin('role', value, 'id', '$.roles', i);
      const raw = r.object(value, ITEM, ROLE_KEYS, ['id', 'privileges']);
      const id = r.id(raw.id, '.id');
      const name = r.optionalString(raw.name, '.name') ?? id;
      const inheritance =
        raw.inheritance === undefined
          ? 'direct'
          : r.word(raw.inheritance, '.inheritance', ['direct', 'team'], 'role inheritance mode');
      const systemAdministrator = r.boolean(raw.systemAdministrator, '.systemAdministrator', false);
      const depths = new Uint8Array(tableCount * PRIVILEGE_COUNT);
      const privilegesPath = '.privileges';
      for (const [tableName, perTable] of Object.entries(r.map(raw.privileges, privilegesPath))) {
        const tablePath = field(privilegesPath, tableName);
        const table = this.tableRef(tableName, tablePath);
        const organizationOwned = (this.tables[table] as Table).organizationOwned;
        for (const [privilegeName, depthValue] of Object.entries(r.map(perTable, tablePath))) {
          const privilegePath = field(tablePath, privilegeName);
          const privilege = privilegeFromName(privilegeName);
          if (privilege === undefined) {
            r.fail(
              'exact-word',
              privilegePath,
              `\`${privilegeName}\` is not a privilege (expected one of ${PRIVILEGES.join(', ')})`,
            );
          }
          const depth = depthFromName(r.word(depthValue, privilegePath, DEPTHS, 'depth')) as Depth;
          if (organizationOwned && depth !== Depth.none && depth !== Depth.global) {
            r.fail(
              'org-table-depth',
              privilegePath,
              `depth \`${String(depthValue)}\` on organization-owned table \`${tableName}\` (only none or global)`,
            );
          }
          depths[table * PRIVILEGE_COUNT + privilege] = depth;
        }
      }
      if (this.roleIndex.has(id)) r.fail('id-unique', '.id', `role \`${id}\` is declared twice`);
      this.roleIndex.set(id, this.roles.length as RoleIdx);
      this.roles.push({ id, name, inheritance, systemAdministrator, depths });
    });
  }

  private readAssignments(items: unknown[]): void {
    const r: WorldReader = this.r;
    items.forEach((value, i) => {
      r.begin('roleAssignment', value, null, '$.roleAssignments', i);
      const raw = r.object(value, ITEM, ASSIGNMENT_KEYS, ['principalId', 'roleId']);
      const principalId = r.id(raw.principalId, '.principalId');
      const roleId = r.id(raw.roleId, '.roleId');
      const buId = raw.businessUnitId === undefined ? undefined : r.id(raw.businessUnitId, '.businessUnitId');
      const principal = this.principalRef(principalId, '.principalId');
      const role = this.roleIndex.get(roleId);
      if (role === undefined) r.fail('reference-resolves', '.roleId', `unknown role \`${roleId}\``);
      const { kind, bu: home } = this.principals[principal] as Principal;
      if (kind === PrincipalKind.accessTeam) {
        r.fail('access-team-no-roles', '.principalId', `access team \`${principalId}\` cannot hold roles`);
      }
      const bu = buId === undefined ? (home as BuIdx) : this.buRef(buId, '.businessUnitId');
      if (kind !== PrincipalKind.user && bu !== home) {
        r.fail(
          'team-assignment-bu',
          '.businessUnitId',
          `team \`${principalId}\` can only hold roles from its own business unit, not \`${buId}\``,
        );
      }
      const list = getOrCreate(this.assignments, principal, () => []);
      const explicit = buId !== undefined && kind === PrincipalKind.user;
      if (!list.some((a) => a.role === role && a.bu === bu && a.explicit === explicit))
        list.push({ role, bu, explicit });
    });
  }

  private readRecords(items: unknown[]): void {
    const r: WorldReader = this.r;
    // Size each table's columns once, so the load loop never reallocates.
    const counts = new Int32Array(this.tables.length);
    for (const value of items) {
      const table = this.tableIndex.get((value as { table?: unknown } | null)?.table as string);
      if (table !== undefined) counts[table] = (counts[table] as number) + 1;
    }
    this.tables.forEach((table, t) => {
      const records = new RecordStore(counts[t] as number);
      (table as { records: RecordStore }).records = records;
      (table as { shares: ShareStore }).shares = new ShareStore(records);
    });
    items.forEach((value, i) => {
      r.begin('record', value, 'id', '$.records', i);
      const raw = r.object(value, ITEM, RECORD_KEYS, ['table', 'id']);
      const id = r.id(raw.id, '.id');
      const tableName = r.id(raw.table, '.table');
      const table = this.tables[this.tableRef(tableName, '.table')] as Table;
      const ownerId = raw.ownerId === undefined ? undefined : r.id(raw.ownerId, '.ownerId');
      const buId =
        raw.owningBusinessUnitId === undefined ? undefined : r.id(raw.owningBusinessUnitId, '.owningBusinessUnitId');
      if (table.records.index.has(id)) {
        r.fail('id-unique', '.id', `record \`${id}\` is declared twice in table \`${tableName}\``);
      }
      if (table.organizationOwned) {
        if (ownerId !== undefined || buId !== undefined) {
          const at = ownerId !== undefined ? 'ownerId' : 'owningBusinessUnitId';
          r.fail('org-record-unowned', `.${at}`, `records of organization-owned table \`${tableName}\` have no owner`);
        }
        table.records.add(id, NONE, NONE);
        return;
      }
      if (ownerId === undefined) {
        r.fail('record-owner-required', '.ownerId', `records of table \`${tableName}\` need an owner`);
      }
      const owner = this.principalRef(ownerId, '.ownerId');
      const { kind, bu: ownerBu } = this.principals[owner] as Principal;
      if (kind === PrincipalKind.accessTeam) {
        r.fail('access-team-no-records', '.ownerId', `access team \`${ownerId}\` cannot own records`);
      }
      const bu = buId === undefined ? (ownerBu as BuIdx) : this.buRef(buId, '.owningBusinessUnitId');
      table.records.add(id, owner, bu);
    });
  }

  private readShares(items: unknown[]): void {
    const r: WorldReader = this.r;
    items.forEach((value, i) => {
      r.begin('share', value, null, '$.shares', i);
      const raw = r.object(value, ITEM, SHARE_KEYS, ['table', 'recordId', 'principalId', 'rights']);
      const tableName = r.id(raw.table, '.table');
      const recordId = r.id(raw.recordId, '.recordId');
      const principalId = r.id(raw.principalId, '.principalId');
      const rightsPath = '.rights';
      let rights = 0;
      r.array(raw.rights, rightsPath).forEach((right, k) => {
        const name = r.string(right, item(rightsPath, k));
        if (!SHARE_RIGHTS.includes(name)) {
          r.fail('share-rights', item(rightsPath, k), `\`${name}\` cannot be shared (only ${SHARE_RIGHTS.join(', ')})`);
        }
        rights |= privilegeBit(privilegeFromName(name) as Privilege);
      });
      const table = this.tables[this.tableRef(tableName, '.table')] as Table;
      const record = this.recordRef(table, recordId, '.recordId');
      const principal =
        principalId === ORGANIZATION ? ORGANIZATION_PRINCIPAL : this.principalRef(principalId, '.principalId');
      if (table.organizationOwned) {
        r.fail('org-record-unowned', ITEM, `records of organization-owned table \`${tableName}\` cannot be shared`);
      }
      table.shares.grant(record, principal, rights);
    });
  }

  private readProfiles(items: unknown[]): FieldSecurityProfile[] {
    const r: WorldReader = this.r;
    const seen = new Set<string>();
    return items.map((value, i) => {
      r.begin('fieldSecurityProfile', value, 'id', '$.fieldSecurityProfiles', i);
      const raw = r.object(value, ITEM, PROFILE_KEYS, ['id', 'members', 'permissions']);
      const id = r.id(raw.id, '.id');
      if (seen.has(id)) r.fail('id-unique', '.id', `field security profile \`${id}\` is declared twice`);
      seen.add(id);
      const members = new Set<PrincipalIdx>();
      r.array(raw.members, '.members').forEach((member, m) => {
        const memberPath = item('.members', m);
        members.add(this.principalRef(r.id(member, memberPath), memberPath));
      });
      const permissions = new Map<TableIdx, Map<string, number>>();
      const permissionsPath = '.permissions';
      for (const [tableName, perTable] of Object.entries(r.map(raw.permissions, permissionsPath))) {
        const tablePath = field(permissionsPath, tableName);
        const tableIdx = this.tableRef(tableName, tablePath);
        const columns = new Map<string, number>();
        for (const [column, list] of Object.entries(r.map(perTable, tablePath))) {
          const columnPath = field(tablePath, column);
          this.securedColumn(this.tables[tableIdx] as Table, column, columnPath);
          let mask = 0;
          r.array(list, columnPath).forEach((word, w) => {
            mask |= COLUMN_PERMISSION_BITS[r.word(word, item(columnPath, w), COLUMN_PERMISSIONS, 'column permission')];
          });
          columns.set(column, mask);
        }
        permissions.set(tableIdx, columns);
      }
      return { id, members, permissions };
    });
  }

  private readFieldShares(items: unknown[]): FieldShare[] {
    const r: WorldReader = this.r;
    return items.map((value, i) => {
      r.begin('fieldShare', value, null, '$.fieldShares', i);
      const raw = r.object(value, ITEM, FIELD_SHARE_KEYS, ['table', 'recordId', 'column', 'principalId', 'rights']);
      const tableName = r.id(raw.table, '.table');
      const recordId = r.id(raw.recordId, '.recordId');
      const column = r.id(raw.column, '.column');
      const principalId = r.id(raw.principalId, '.principalId');
      const rightsPath = '.rights';
      const rights = r.array(raw.rights, rightsPath).map((right, k) => {
        const name = r.string(right, item(rightsPath, k));
        if (!FIELD_SHARE_RIGHTS.includes(name)) {
          r.fail('field-share-rights', item(rightsPath, k), `field shares carry read or update, not \`${name}\``);
        }
        return name as 'read' | 'update';
      });
      const tableIdx = this.tableRef(tableName, '.table');
      const table = this.tables[tableIdx] as Table;
      const record = this.recordRef(table, recordId, '.recordId');
      this.securedColumn(table, column, '.column');
      if (principalId === ORGANIZATION) {
        r.fail('field-share-principal', '.principalId', 'field shares go to a user or a team, not the organization');
      }
      const principal = this.principalRef(principalId, '.principalId');
      return { table: tableIdx, record, column, principal, rights: [...new Set(rights)] };
    });
  }

  private declarePrincipal(id: string, kind: PrincipalKind, bu: BuIdx, path: string): PrincipalIdx {
    const r: WorldReader = this.r;
    if (id === ORGANIZATION) r.fail('id-reserved', path, '`organization` is reserved for organization-wide shares');
    if (this.principalIndex.has(id)) r.fail('id-unique', path, `id \`${id}\` is already used by a user or team`);
    const principal = this.principals.length as PrincipalIdx;
    this.principals.push({ id, kind, bu });
    this.users.push(undefined);
    this.principalIndex.set(id, principal);
    return principal;
  }

  private buRef(id: string, path: string): BuIdx {
    const bu = this.buIndex.get(id);
    if (bu === undefined) this.r.fail('reference-resolves', path, `unknown business unit \`${id}\``);
    return bu;
  }

  private tableRef(name: string, path: string): TableIdx {
    const table = this.tableIndex.get(name);
    if (table === undefined) this.r.fail('reference-resolves', path, `unknown table \`${name}\``);
    return table;
  }

  private principalRef(id: string, path: string): PrincipalIdx {
    const principal = this.principalIndex.get(id);
    if (principal === undefined) this.r.fail('reference-resolves', path, `unknown user or team \`${id}\``);
    return principal;
  }

  private recordRef(table: Table, id: string, path: string): RecordIdx {
    const record = table.records.index.get(id);
    if (record === undefined)
      this.r.fail('reference-resolves', path, `unknown record \`${id}\` in table \`${table.name}\``);
    return record;
  }

  private securedColumn(table: Table, column: string, path: string): void {
    if (!table.securedColumns.includes(column)) {
      this.r.fail('secured-column', path, `column \`${column}\` is not a secured column of table \`${table.name}\``);
    }
  }
}

/**
 * A node that lies on a cycle of the `parentOf` forest over `count` nodes, or NONE. Linear time:
 * each walk stops at a node an earlier walk finished.
 */
function findCycle(count: number, parentOf: (node: number) => number): number {
  const OPEN = 1;
  const DONE = 2;
  const state = new Uint8Array(count);
  for (let start = 0; start < count; start++) {
    let at = start;
    while (at !== NONE && state[at] === 0) {
      state[at] = OPEN;
      at = parentOf(at);
    }
    if (at !== NONE && state[at] === OPEN) return at;
    for (let close = start; close !== at && close !== NONE; close = parentOf(close)) state[close] = DONE;
  }
  return NONE;
}

function emptyRows(): { records: RecordStore; shares: ShareStore } {
  const records = new RecordStore(0);
  return { records, shares: new ShareStore(records) };
}
