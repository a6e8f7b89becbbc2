import { permissionNames } from '../compile/columns.js';
import { type BuIdx, NONE, ORGANIZATION_PRINCIPAL, type PrincipalIdx } from '../ids.js';
import { PrincipalKind, type WorldModel } from '../model/world-model.js';
import { PRIVILEGE_COUNT } from '../privileges.js';
import {
  DEPTHS,
  type DepthName,
  ORGANIZATION,
  PRIVILEGES,
  type PrivilegeName,
  type RecordInput,
  type RoleAssignmentInput,
  type ShareInput,
  type ShareRight,
  type TeamType,
  type UserInput,
  type WorldInput,
} from './format.js';

const TEAM_TYPE: Readonly<Partial<Record<PrincipalKind, TeamType>>> = {
  [PrincipalKind.ownerTeam]: 'owner',
  [PrincipalKind.accessTeam]: 'access',
  [PrincipalKind.groupTeam]: 'group',
};

/**
 * The model as a world file that loads to the same answers: what the store compacts its change log
 * into, and what `export` writes after writes. Everything is written out in normal form (settings
 * in full, every record's owning BU, one share row per (record, principal)). Records the model
 * deleted are left out, so a world loaded from it numbers its records afresh: engine record indexes
 * are stable within one engine's life, not across an export.
 */
export function worldFromModel(model: WorldModel): WorldInput {
  const buId = (bu: number): string => model.businessUnits[bu]?.id as string;
  const principalId = (principal: number): string =>
    principal === ORGANIZATION_PRINCIPAL ? ORGANIZATION : (model.principals[principal]?.id as string);
  const tableName = (table: number): string => model.tables[table]?.name as string;
  const { hierarchy } = model.settings;

  const users: UserInput[] = [];
  const teams: WorldInput['teams'] = [];
  model.principals.forEach((principal, p) => {
    if (principal.kind === PrincipalKind.user) {
      const state = model.user(p as never);
      users.push({
        id: principal.id,
        businessUnitId: buId(principal.bu),
        managerId: state.manager === NONE ? null : principalId(state.manager),
        positionId: state.position === NONE ? null : (model.positions[state.position]?.id as string),
        disabled: state.disabled,
      });
      return;
    }
    const type = TEAM_TYPE[principal.kind];
    if (type === undefined) return;
    const members = [...(model.teamMembers.get(p as PrincipalIdx) ?? [])].map(principalId);
    teams.push({ id: principal.id, businessUnitId: buId(principal.bu), type, members });
  });

  const roleAssignments: RoleAssignmentInput[] = [];
  for (const [principal, list] of model.assignments) {
    for (const assignment of list) {
      const row: RoleAssignmentInput = {
        principalId: principalId(principal),
        roleId: model.roles[assignment.role]?.id as string,
      };
      // Without a named BU the anchor follows a user who moves: keep it unnamed.
      if (assignment.explicit) row.businessUnitId = buId(assignment.bu);
      roleAssignments.push(row);
    }
  }

  const records: RecordInput[] = [];
  const shares: ShareInput[] = [];
  model.tables.forEach((table) => {
    const store = table.records;
    for (let row = 0; row < store.count; row++) {
      if (!store.has(row)) continue;
      const id = store.ids[row] as string;
      const record: RecordInput = { table: table.name, id };
      if (!table.organizationOwned) {
        record.ownerId = principalId(store.ownerOf(row));
        record.owningBusinessUnitId = buId(store.buOf(row) as BuIdx);
      }
      records.push(record);
      const { next, principal, rights } = table.shares;
      for (let entry = table.shares.head(row as never); entry !== NONE; entry = next[entry] as number) {
        const bits = rights[entry] as number;
        if (bits === 0) continue;
        const named = PRIVILEGES.filter((_, privilege) => (bits & (1 << privilege)) !== 0) as ShareRight[];
        shares.push({
          table: table.name,
          recordId: id,
          principalId: principalId(principal[entry] as number),
          rights: named,
        });
      }
    }
  });

  return {
    formatVersion: 1,
    settings: {
      hierarchy: {
        enabled: hierarchy.enabled,
        model: hierarchy.model,
        depth: hierarchy.depth,
        managersMustBeInSameOrParentBusinessUnit: hierarchy.managersMustBeInSameOrParentBusinessUnit,
        excludedTables: hierarchy.excludedTables.map(tableName),
      },
      shareToPreviousOwnerOnAssign: model.settings.shareToPreviousOwnerOnAssign,
      alwaysMoveRecordToOwnerBusinessUnit: model.settings.alwaysMoveRecordToOwnerBusinessUnit,
    },
    businessUnits: model.businessUnits.map((bu) => {
      const row: NonNullable<WorldInput['businessUnits']>[number] = {
        id: bu.id,
        name: bu.name,
        parentId: bu.parent === NONE ? null : buId(bu.parent),
      };
      if (bu.defaultTeam !== NONE) row.defaultTeamId = principalId(bu.defaultTeam);
      return row;
    }),
    positions: model.positions.map((position) => ({
      id: position.id,
      parentId: position.parent === NONE ? null : (model.positions[position.parent]?.id as string),
    })),
    users,
    teams,
    tables: model.tables.map((table) => ({
      name: table.name,
      ownership: table.organizationOwned ? 'organization' : 'user',
      securedColumns: [...table.securedColumns],
    })),
    roles: model.roles.map((role) => {
      const privileges: Record<string, Partial<Record<PrivilegeName, DepthName>>> = {};
      model.tables.forEach((table, t) => {
        const depths: Partial<Record<PrivilegeName, DepthName>> = {};
        for (let privilege = 0; privilege < PRIVILEGE_COUNT; privilege++) {
          const depth = role.depths[t * PRIVILEGE_COUNT + privilege] as number;
          if (depth !== 0) depths[PRIVILEGES[privilege] as PrivilegeName] = DEPTHS[depth] as DepthName;
        }
        if (Object.keys(depths).length > 0) privileges[table.name] = depths;
      });
      return {
        id: role.id,
        name: role.name,
        inheritance: role.inheritance,
        systemAdministrator: role.systemAdministrator,
        privileges,
      };
    }),
    roleAssignments,
    records,
    shares,
    fieldSecurityProfiles: model.fieldSecurityProfiles.map((profile) => {
      const permissions: Record<string, Record<string, ReturnType<typeof permissionNames>>> = {};
      for (const [table, columns] of profile.permissions) {
        permissions[tableName(table)] = Object.fromEntries(
          [...columns].map(([column, bits]) => [column, permissionNames(bits)]),
        );
      }
      return { id: profile.id, members: [...profile.members].map(principalId), permissions };
    }),
    fieldShares: model.fieldShares.map((share) => ({
      table: tableName(share.table),
      recordId: model.tables[share.table]?.records.ids[share.record] as string,
      column: share.column,
      principalId: principalId(share.principal),
      rights: [...share.rights],
    })),
  };
}
