/**
 * A validated world as the rows of the store's tables (migrations/001-world.ts), each table's rows
 * as COPY text lines produced on demand, so records and shares stream. What the world format
 * leaves implicit or allows twice is resolved the way the loader does: a record's owning BU
 * defaults to its owner's; duplicate team members, profile members, secured columns and excluded
 * tables count once; several shares of a record to one principal are one share with the rights
 * ORed (field shares likewise); a team's role assignment is always in the team's BU (stored NULL);
 * settings are stored with their defaults filled in.
 */
import {
  type FieldShareInput,
  ORGANIZATION,
  PRIVILEGES,
  type RecordInput,
  type ShareInput,
  type WorldInput,
} from '@palisade/core';
import { cell, wordArray } from './copy.js';
import type { WorldTable } from './names.js';

export interface TableRows {
  readonly table: WorldTable;
  /** The columns the lines fill, comma-separated, in line order. */
  readonly columns: string;
  readonly lines: () => Iterable<string>;
}

const SHARE_RIGHT_ORDER = PRIVILEGES.filter((p) => p !== 'create');
const FIELD_RIGHT_ORDER = ['read', 'update'] as const;
const COLUMN_PERMISSION_ORDER = ['read', 'create', 'update'] as const;

const line = (...cells: string[]): string => `${cells.join('\t')}\n`;
const bool = (value: boolean): string => (value ? 't' : 'f');

/** `words` deduplicated, in `order`'s order (the canonical form the store keeps). */
function canonical(words: readonly string[], order: readonly string[]): string[] {
  const present = new Set(words);
  return order.filter((w) => present.has(w));
}

/**
 * The rows of `world`, parents before children (the order COPY must follow for foreign keys).
 * `world` must have passed `loadWorld`: nothing is checked again here.
 */
export function worldRows(world: WorldInput): TableRows[] {
  const tables = world.tables ?? [];
  const businessUnits = world.businessUnits ?? [];
  const users = world.users ?? [];
  const teams = world.teams ?? [];
  const roles = world.roles ?? [];
  const profiles = world.fieldSecurityProfiles ?? [];
  const hierarchy = world.settings?.hierarchy ?? {};

  const ownership = new Map(tables.map((t) => [t.name, t.ownership]));
  // Every principal's kind and business unit: what records and assignments need to resolve.
  const kind = new Map<string, string>();
  const principalBu = new Map<string, string>();
  for (const bu of businessUnits) {
    if (bu.defaultTeamId === undefined) continue;
    kind.set(bu.defaultTeamId, 'default');
    principalBu.set(bu.defaultTeamId, bu.id);
  }
  for (const user of users) {
    kind.set(user.id, 'user');
    principalBu.set(user.id, user.businessUnitId);
  }
  for (const team of teams) {
    kind.set(team.id, team.type);
    principalBu.set(team.id, team.businessUnitId);
  }

  return [
    {
      table: 'settings',
      columns:
        'hierarchy_enabled, hierarchy_model, hierarchy_depth, managers_must_be_in_same_or_parent_business_unit, ' +
        'share_to_previous_owner_on_assign, always_move_record_to_owner_business_unit',
      lines: () => [
        line(
          bool(hierarchy.enabled ?? false),
          hierarchy.model ?? 'manager',
          String(hierarchy.depth ?? 3),
          bool(hierarchy.managersMustBeInSameOrParentBusinessUnit ?? true),
          bool(world.settings?.shareToPreviousOwnerOnAssign ?? false),
          bool(world.settings?.alwaysMoveRecordToOwnerBusinessUnit ?? true),
        ),
      ],
    },
    {
      table: 'tables',
      columns: 'name, ownership, ordinal',
      lines: () => tables.map((t, i) => line(cell(t.name), t.ownership, String(i))),
    },
    {
      table: 'secured_columns',
      columns: 'table_name, column_name, ordinal',
      lines: () =>
        tables.flatMap((t) =>
          [...new Set(t.securedColumns ?? [])].map((c, i) => line(cell(t.name), cell(c), String(i))),
        ),
    },
    {
      table: 'hierarchy_excluded_tables',
      columns: 'table_name, ordinal',
      lines: () => [...new Set(hierarchy.excludedTables ?? [])].map((t, i) => line(cell(t), String(i))),
    },
    {
      table: 'business_units',
      columns: 'id, name, parent_id, ordinal',
      lines: () => businessUnits.map((bu, i) => line(cell(bu.id), cell(bu.name), cell(bu.parentId), String(i))),
    },
    {
      table: 'positions',
      columns: 'id, parent_id, ordinal',
      lines: () => (world.positions ?? []).map((p, i) => line(cell(p.id), cell(p.parentId), String(i))),
    },
    {
      table: 'principals',
      columns: 'id, kind, business_unit_id, ordinal',
      lines: function* () {
        yield line(ORGANIZATION, 'organization', '\\N', '0');
        for (const [i, bu] of businessUnits.entries())
          if (bu.defaultTeamId !== undefined) yield line(cell(bu.defaultTeamId), 'default', cell(bu.id), String(i));
        for (const [i, user] of users.entries())
          yield line(cell(user.id), 'user', cell(user.businessUnitId), String(i));
        for (const [i, team] of teams.entries())
          yield line(cell(team.id), team.type, cell(team.businessUnitId), String(i));
      },
    },
    {
      table: 'users',
      columns: 'id, manager_id, position_id, disabled',
      lines: () => users.map((u) => line(cell(u.id), cell(u.managerId), cell(u.positionId), bool(u.disabled ?? false))),
    },
    {
      table: 'team_members',
      columns: 'team_id, team_kind, user_id, ordinal',
      lines: () =>
        teams.flatMap((team) =>
          [...new Set(team.members)].map((member, i) => line(cell(team.id), team.type, cell(member), String(i))),
        ),
    },
    {
      table: 'roles',
      columns: 'id, name, inheritance, system_administrator, ordinal',
      lines: () =>
        roles.map((role, i) =>
          line(
            cell(role.id),
            cell(role.name),
            role.inheritance ?? 'direct',
            bool(role.systemAdministrator ?? false),
            String(i),
          ),
        ),
    },
    {
      table: 'role_privileges',
      columns: 'role_id, table_name, table_ownership, privilege, depth',
      lines: function* () {
        for (const role of roles)
          for (const [table, privileges] of Object.entries(role.privileges))
            for (const [privilege, depth] of Object.entries(privileges))
              yield line(cell(role.id), cell(table), ownership.get(table) ?? 'user', privilege, String(depth));
      },
    },
    {
      table: 'role_assignments',
      columns: 'principal_id, principal_kind, role_id, business_unit_id, ordinal',
      lines: function* () {
        const seen = new Set<string>();
        let ordinal = 0;
        for (const a of world.roleAssignments ?? []) {
          const principalKind = kind.get(a.principalId) ?? 'user';
          const bu = principalKind === 'user' ? (a.businessUnitId ?? null) : null;
          const key = `${a.principalId}\u0000${a.roleId}\u0000${bu ?? ''}`;
          if (seen.has(key)) continue;
          seen.add(key);
          yield line(cell(a.principalId), principalKind, cell(a.roleId), cell(bu), String(ordinal++));
        }
      },
    },
    {
      table: 'records',
      columns: 'table_name, id, ordinal, owner_id, owner_kind, owning_business_unit_id, table_ownership',
      lines: () => recordLines(world.records ?? [], ownership, kind, principalBu),
    },
    {
      table: 'shares',
      columns: 'table_name, record_id, principal_id, rights, ordinal',
      lines: () => shareLines(world.shares ?? []),
    },
    {
      table: 'field_security_profiles',
      columns: 'id, ordinal',
      lines: () => profiles.map((p, i) => line(cell(p.id), String(i))),
    },
    {
      table: 'field_security_profile_members',
      columns: 'profile_id, principal_id, ordinal',
      lines: () => profiles.flatMap((p) => [...new Set(p.members)].map((m, i) => line(cell(p.id), cell(m), String(i)))),
    },
    {
      table: 'field_permissions',
      columns: 'profile_id, table_name, column_name, permissions, ordinal',
      lines: function* () {
        for (const p of profiles) {
          let ordinal = 0;
          for (const [table, columns] of Object.entries(p.permissions))
            for (const [column, permissions] of Object.entries(columns))
              yield line(
                cell(p.id),
                cell(table),
                cell(column),
                wordArray(canonical(permissions, COLUMN_PERMISSION_ORDER)),
                String(ordinal++),
              );
        }
      },
    },
    {
      table: 'field_shares',
      columns: 'table_name, record_id, column_name, principal_id, rights, ordinal',
      lines: () => fieldShareLines(world.fieldShares ?? []),
    },
  ];
}

function* recordLines(
  records: readonly RecordInput[],
  ownership: ReadonlyMap<string, string>,
  kind: ReadonlyMap<string, string>,
  principalBu: ReadonlyMap<string, string>,
): Generator<string> {
  const next = new Map<string, number>();
  for (const r of records) {
    const ordinal = next.get(r.table) ?? 0;
    next.set(r.table, ordinal + 1);
    const table = cell(r.table);
    if (ownership.get(r.table) === 'organization') {
      yield `${table}\t${cell(r.id)}\t${ordinal}\t\\N\t\\N\t\\N\torganization\n`;
      continue;
    }
    const owner = r.ownerId as string;
    const bu = r.owningBusinessUnitId ?? principalBu.get(owner) ?? null;
    yield `${table}\t${cell(r.id)}\t${ordinal}\t${cell(owner)}\t${kind.get(owner) ?? 'user'}\t${cell(bu)}\tuser\n`;
  }
}

/** Shares merged per (table, record, principal), rights ORed, in order of first appearance. */
function* shareLines(shares: readonly ShareInput[]): Generator<string> {
  const merged = new Map<string, { share: ShareInput; rights: Set<string> }>();
  for (const share of shares) {
    const key = `${share.table}\u0000${share.recordId}\u0000${share.principalId}`;
    const found = merged.get(key);
    if (found === undefined) merged.set(key, { share, rights: new Set(share.rights) });
    else for (const right of share.rights) found.rights.add(right);
  }
  let ordinal = 0;
  for (const { share, rights } of merged.values()) {
    yield `${cell(share.table)}\t${cell(share.recordId)}\t${cell(share.principalId)}\t${wordArray(
      SHARE_RIGHT_ORDER.filter((r) => rights.has(r)),
    )}\t${ordinal++}\n`;
  }
}

/** Field shares merged per (table, record, column, principal), rights united. */
function* fieldShareLines(shares: readonly FieldShareInput[]): Generator<string> {
  const merged = new Map<string, { share: FieldShareInput; rights: string[] }>();
  for (const share of shares) {
    const key = `${share.table}\u0000${share.recordId}\u0000${share.column}\u0000${share.principalId}`;
    const found = merged.get(key);
    if (found === undefined) merged.set(key, { share, rights: [...share.rights] });
    else found.rights.push(...share.rights);
  }
  let ordinal = 0;
  for (const { share, rights } of merged.values()) {
    yield line(
      cell(share.table),
      cell(share.recordId),
      cell(share.column),
      cell(share.principalId),
      wordArray(canonical(rights, FIELD_RIGHT_ORDER)),
      String(ordinal++),
    );
  }
}
