/**
 * Reads the store back as a world: one query per table, in one read-only snapshot, with every
 * table locked against an import first (TRUNCATE is not MVCC-safe: without the lock a read that
 * overlaps an import could see an emptied table). Records and shares come through COPY and are
 * parsed chunk by chunk; every list comes back in its stored order (`ordinal`), so the engine
 * compiles the same dense indexes it had when the world was imported.
 */
import type {
  BusinessUnitInput,
  ColumnPermission,
  DepthName,
  FieldRight,
  FieldSecurityProfileInput,
  FieldShareInput,
  HierarchyModel,
  PositionInput,
  PrivilegeName,
  RecordInput,
  RoleAssignmentInput,
  RoleInheritance,
  RoleInput,
  ShareInput,
  ShareRight,
  TableInput,
  TableOwnership,
  TeamInput,
  TeamType,
  UserInput,
  WorldInput,
} from '@palisade/core';
import type pg from 'pg';
import { type Change, lastImportRevision, readChanges } from './changes.js';
import { copyOut } from './copy.js';
import { CHANGES_TABLE, DEFAULT_SCHEMA, qualified, type WORLD_TABLES, worldTableList } from './names.js';
import { inTransaction } from './transaction.js';

export interface StoredWorld {
  /** The world, ready for `Engine.fromWorld`. Repeated strings and rights lists are shared: treat it as read-only. */
  readonly world: WorldInput;
  /** The change-log revision the world is at (0: nothing was ever written). */
  readonly revision: number;
}

/** Reads the whole world and its revision from `schema` in one consistent snapshot. */
export async function loadStore(client: pg.ClientBase, schema: string = DEFAULT_SCHEMA): Promise<StoredWorld> {
  return inTransaction(
    client,
    async () => {
      // Before the snapshot is taken (at the first query): an import in progress is waited for.
      await client.query(`LOCK TABLE ${worldTableList(schema)} IN ACCESS SHARE MODE`);
      const world = await readWorld(client, schema);
      return { world, revision: await readRevision(client, schema) };
    },
    'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
  );
}

/** What a server starts from: the snapshot of the last import, and every change after it. */
export interface ServingWorld {
  /** The world as of the last import (an empty world when nothing was imported). */
  readonly world: WorldInput;
  /** The revision of that import (0: none). */
  readonly snapshotRevision: number;
  /** Every change after the snapshot, in revision order: apply them with `engine.apply`. */
  readonly changes: readonly Change[];
}

/**
 * The snapshot and the change log after it, from one consistent snapshot of the database (the
 * world tables locked against an import first, as `loadStore` does).
 */
export async function loadServing(client: pg.ClientBase, schema: string = DEFAULT_SCHEMA): Promise<ServingWorld> {
  return inTransaction(
    client,
    async () => {
      await client.query(`LOCK TABLE ${worldTableList(schema)} IN ACCESS SHARE MODE`);
      const world = await readWorld(client, schema);
      const snapshotRevision = await lastImportRevision(client, schema);
      const changes: Change[] = [];
      for (;;) {
        const page = await readChanges(client, schema, changes.at(-1)?.revision ?? snapshotRevision);
        if (page.length === 0) break;
        changes.push(...page);
      }
      return { world, snapshotRevision, changes };
    },
    'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
  );
}

/** The store's current revision: the last change-log entry, 0 when there is none. */
export async function readRevision(client: pg.ClientBase, schema: string = DEFAULT_SCHEMA): Promise<number> {
  const result = await client.query<{ revision: string }>(
    `SELECT coalesce(max(revision), 0) AS revision FROM ${qualified(schema, CHANGES_TABLE)}`,
  );
  return Number(result.rows[0]?.revision ?? 0);
}

async function readWorld(client: pg.ClientBase, schema: string): Promise<WorldInput> {
  const t = (table: (typeof WORLD_TABLES)[number]) => qualified(schema, table);
  const rows = async <R extends pg.QueryResultRow>(sql: string) => (await client.query<R>(sql)).rows;

  const settingsRow = (
    await rows<{
      hierarchy_enabled: boolean;
      hierarchy_model: HierarchyModel;
      hierarchy_depth: number;
      managers_must_be_in_same_or_parent_business_unit: boolean;
      share_to_previous_owner_on_assign: boolean;
      always_move_record_to_owner_business_unit: boolean;
    }>(`SELECT * FROM ${t('settings')}`)
  )[0];
  const excluded = await rows<{ table_name: string }>(
    `SELECT table_name FROM ${t('hierarchy_excluded_tables')} ORDER BY ordinal`,
  );

  const secured = groupBy(
    await rows<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM ${t('secured_columns')} ORDER BY table_name, ordinal`,
    ),
    (r) => r.table_name,
  );
  const tables: TableInput[] = (
    await rows<{ name: string; ownership: TableOwnership }>(
      `SELECT name, ownership FROM ${t('tables')} ORDER BY ordinal`,
    )
  ).map(({ name, ownership }) => {
    const columns = secured.get(name);
    return columns === undefined
      ? { name, ownership }
      : { name, ownership, securedColumns: columns.map((c) => c.column_name) };
  });

  const defaultTeams = new Map(
    (
      await rows<{ id: string; business_unit_id: string }>(
        `SELECT id, business_unit_id FROM ${t('principals')} WHERE kind = 'default'`,
      )
    ).map((r) => [r.business_unit_id, r.id]),
  );
  const businessUnits: BusinessUnitInput[] = (
    await rows<{ id: string; name: string | null; parent_id: string | null }>(
      `SELECT id, name, parent_id FROM ${t('business_units')} ORDER BY ordinal`,
    )
  ).map((r) => {
    const bu: BusinessUnitInput = { id: r.id, parentId: r.parent_id };
    if (r.name !== null) bu.name = r.name;
    const team = defaultTeams.get(r.id);
    if (team !== undefined) bu.defaultTeamId = team;
    return bu;
  });

  const positions: PositionInput[] = (
    await rows<{ id: string; parent_id: string | null }>(`SELECT id, parent_id FROM ${t('positions')} ORDER BY ordinal`)
  ).map((r) => ({ id: r.id, parentId: r.parent_id }));

  const users: UserInput[] = (
    await rows<{
      id: string;
      business_unit_id: string;
      manager_id: string | null;
      position_id: string | null;
      disabled: boolean;
    }>(
      `SELECT u.id, p.business_unit_id, u.manager_id, u.position_id, u.disabled
         FROM ${t('users')} u JOIN ${t('principals')} p ON p.id = u.id ORDER BY p.ordinal`,
    )
  ).map((r) => {
    const user: UserInput = { id: r.id, businessUnitId: r.business_unit_id };
    if (r.manager_id !== null) user.managerId = r.manager_id;
    if (r.position_id !== null) user.positionId = r.position_id;
    if (r.disabled) user.disabled = true;
    return user;
  });

  const members = groupBy(
    await rows<{ team_id: string; user_id: string }>(
      `SELECT team_id, user_id FROM ${t('team_members')} ORDER BY team_id, ordinal`,
    ),
    (r) => r.team_id,
  );
  const teams: TeamInput[] = (
    await rows<{ id: string; kind: TeamType; business_unit_id: string }>(
      `SELECT id, kind, business_unit_id FROM ${t('principals')}
        WHERE kind IN ('owner', 'access', 'group') ORDER BY ordinal`,
    )
  ).map((r) => ({
    id: r.id,
    businessUnitId: r.business_unit_id,
    type: r.kind,
    members: (members.get(r.id) ?? []).map((m) => m.user_id),
  }));

  const privileges = groupBy(
    await rows<{ role_id: string; table_name: string; privilege: PrivilegeName; depth: DepthName }>(
      `SELECT role_id, table_name, privilege, depth FROM ${t('role_privileges')}`,
    ),
    (r) => r.role_id,
  );
  const roles: RoleInput[] = (
    await rows<{ id: string; name: string | null; inheritance: RoleInheritance; system_administrator: boolean }>(
      `SELECT id, name, inheritance, system_administrator FROM ${t('roles')} ORDER BY ordinal`,
    )
  ).map((r) => {
    const map: RoleInput['privileges'] = {};
    for (const p of privileges.get(r.id) ?? []) setOwn(ownObject(map, p.table_name), p.privilege, p.depth);
    const role: RoleInput = { id: r.id, inheritance: r.inheritance, privileges: map };
    if (r.name !== null) role.name = r.name;
    if (r.system_administrator) role.systemAdministrator = true;
    return role;
  });

  const roleAssignments: RoleAssignmentInput[] = (
    await rows<{ principal_id: string; role_id: string; business_unit_id: string | null }>(
      `SELECT principal_id, role_id, business_unit_id FROM ${t('role_assignments')} ORDER BY ordinal`,
    )
  ).map((r) =>
    r.business_unit_id === null
      ? { principalId: r.principal_id, roleId: r.role_id }
      : { principalId: r.principal_id, roleId: r.role_id, businessUnitId: r.business_unit_id },
  );

  const records = await readRecords(client, schema, tables);
  const shares = await readShares(client, schema);

  const profileMembers = groupBy(
    await rows<{ profile_id: string; principal_id: string }>(
      `SELECT profile_id, principal_id FROM ${t('field_security_profile_members')} ORDER BY profile_id, ordinal`,
    ),
    (r) => r.profile_id,
  );
  const permissions = groupBy(
    await rows<{ profile_id: string; table_name: string; column_name: string; permissions: ColumnPermission[] }>(
      `SELECT profile_id, table_name, column_name, permissions FROM ${t('field_permissions')} ORDER BY profile_id, ordinal`,
    ),
    (r) => r.profile_id,
  );
  const fieldSecurityProfiles: FieldSecurityProfileInput[] = (
    await rows<{ id: string }>(`SELECT id FROM ${t('field_security_profiles')} ORDER BY ordinal`)
  ).map((r) => {
    const map: FieldSecurityProfileInput['permissions'] = {};
    for (const p of permissions.get(r.id) ?? []) setOwn(ownObject(map, p.table_name), p.column_name, p.permissions);
    return { id: r.id, members: (profileMembers.get(r.id) ?? []).map((m) => m.principal_id), permissions: map };
  });

  const fieldShares: FieldShareInput[] = (
    await rows<{
      table_name: string;
      record_id: string;
      column_name: string;
      principal_id: string;
      rights: FieldRight[];
    }>(`SELECT table_name, record_id, column_name, principal_id, rights FROM ${t('field_shares')} ORDER BY ordinal`)
  ).map((r) => ({
    table: r.table_name,
    recordId: r.record_id,
    column: r.column_name,
    principalId: r.principal_id,
    rights: r.rights,
  }));

  return {
    formatVersion: 1,
    settings: {
      hierarchy: {
        enabled: settingsRow?.hierarchy_enabled ?? false,
        model: settingsRow?.hierarchy_model ?? 'manager',
        depth: settingsRow?.hierarchy_depth ?? 3,
        managersMustBeInSameOrParentBusinessUnit: settingsRow?.managers_must_be_in_same_or_parent_business_unit ?? true,
        excludedTables: excluded.map((r) => r.table_name),
      },
      shareToPreviousOwnerOnAssign: settingsRow?.share_to_previous_owner_on_assign ?? false,
      alwaysMoveRecordToOwnerBusinessUnit: settingsRow?.always_move_record_to_owner_business_unit ?? true,
    },
    businessUnits,
    positions,
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
}

/**
 * Every record, table by table in table order, each table's in ordinal order (the engine's record
 * index). Rows arrive in storage order, which after an import is ordinal order; they are sorted
 * only when they are not.
 */
async function readRecords(
  client: pg.ClientBase,
  schema: string,
  tables: readonly TableInput[],
): Promise<RecordInput[]> {
  interface Column {
    records: RecordInput[];
    ordinals: number[];
    sorted: boolean;
  }
  const byTable = new Map<string, Column>(tables.map((t) => [t.name, { records: [], ordinals: [], sorted: true }]));
  const intern = interner();
  await copyOut(
    client,
    `SELECT table_name, ordinal, id, owner_id, owning_business_unit_id FROM ${qualified(schema, 'records')}`,
    (cells) => {
      const [tableName, ordinalText, id, owner, bu] = cells as [string, string, string, string | null, string | null];
      const column = byTable.get(tableName);
      if (column === undefined) throw new Error(`record ${id} names table ${tableName}, which the store does not hold`);
      const ordinal = Number(ordinalText);
      const last = column.ordinals[column.ordinals.length - 1];
      if (last !== undefined && ordinal < last) column.sorted = false;
      column.ordinals.push(ordinal);
      const table = intern(tableName);
      column.records.push(
        owner === null
          ? { table, id }
          : { table, id, ownerId: intern(owner), owningBusinessUnitId: intern(bu as string) },
      );
    },
  );
  const out: RecordInput[] = [];
  for (const { records, ordinals, sorted } of byTable.values()) {
    if (sorted) {
      for (const record of records) out.push(record);
      continue;
    }
    const order = Array.from(records.keys()).sort((a, b) => (ordinals[a] as number) - (ordinals[b] as number));
    for (const i of order) out.push(records[i] as RecordInput);
  }
  return out;
}

async function readShares(client: pg.ClientBase, schema: string): Promise<ShareInput[]> {
  const shares: ShareInput[] = [];
  const ordinals: number[] = [];
  let sorted = true;
  const intern = interner();
  // Equal rights lists are one array: millions of shares carry a few dozen distinct ones.
  const rightsLists = new Map<string, ShareRight[]>();
  const rightsOf = (text: string): ShareRight[] => {
    let rights = rightsLists.get(text);
    if (rights === undefined) {
      rights = text === '{}' ? [] : (text.slice(1, -1).split(',') as ShareRight[]);
      rightsLists.set(text, rights);
    }
    return rights;
  };
  await copyOut(
    client,
    `SELECT table_name, record_id, principal_id, rights, ordinal FROM ${qualified(schema, 'shares')}`,
    (cells) => {
      const [table, recordId, principalId, rights, ordinalText] = cells as [string, string, string, string, string];
      const ordinal = Number(ordinalText);
      const last = ordinals[ordinals.length - 1];
      if (last !== undefined && ordinal < last) sorted = false;
      ordinals.push(ordinal);
      shares.push({ table: intern(table), recordId, principalId: intern(principalId), rights: rightsOf(rights) });
    },
  );
  if (sorted) return shares;
  return Array.from(shares.keys())
    .sort((a, b) => (ordinals[a] as number) - (ordinals[b] as number))
    .map((i) => shares[i] as ShareInput);
}

/**
 * Sets an own property, as JSON.parse would: plain assignment of a key such as `__proto__` (a valid
 * table or column name) would change the object's prototype instead.
 */
function setOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** `target[key]` as an object, created (as an own property) when missing. */
function ownObject(target: Record<string, object>, key: string): Record<string, unknown> {
  if (!Object.hasOwn(target, key)) setOwn(target, key, {});
  return target[key] as Record<string, unknown>;
}

/** Returns one string per distinct value: owners and BUs repeat across millions of rows. */
function interner(): (value: string) => string {
  const seen = new Map<string, string>();
  return (value) => {
    const found = seen.get(value);
    if (found !== undefined) return found;
    seen.set(value, value);
    return value;
  };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [item]);
    else group.push(item);
  }
  return groups;
}
