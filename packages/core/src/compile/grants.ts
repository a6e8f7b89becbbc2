import type { BuIdx, PrincipalIdx, RoleIdx, TableIdx, UserIdx } from '../ids.js';
import type { WorldModel } from '../model/world-model.js';
import { Depth, PRIVILEGE_COUNT, type Privilege } from '../privileges.js';

/**
 * One grant of semantics.md §2: (table, privilege, depth, anchor BU, scope), with where it came from.
 * `team` is NONE when the scope is userScope(U) (the user's own role, or the basic grant a
 * `direct`-inheritance team role adds); otherwise the scope is {team}.
 */
export interface Grant {
  readonly table: TableIdx;
  readonly privilege: Privilege;
  readonly depth: Depth;
  /** Anchor BU; -1 for the anchorless basic grant of a `direct` team role. */
  readonly anchor: BuIdx | -1;
  /** Scope {team}, or -1 for userScope(U). */
  readonly scopeTeam: PrincipalIdx | -1;
  readonly role: RoleIdx;
  /** The team whose role this is, or -1 for a role assigned to the user. */
  readonly viaTeam: PrincipalIdx | -1;
}

/** Where a user's roles come from: the input of both the compiler and explain. */
export interface RoleSources {
  readonly systemAdministrator: boolean;
  readonly teams: readonly PrincipalIdx[];
  readonly grants: readonly Grant[];
}

/** Every grant user `user` holds, by the table of semantics.md §2. */
export function collectGrants(model: WorldModel, user: UserIdx): RoleSources {
  const grants: Grant[] = [];
  let systemAdministrator = false;
  const teams = model.teamsOf(user);
  const tableCount = model.tables.length;

  for (const assignment of model.assignments.get(user) ?? []) {
    const role = model.roles[assignment.role];
    if (role === undefined) continue;
    systemAdministrator ||= role.systemAdministrator;
    forEachDepth(role.depths, tableCount, (table, privilege, depth) => {
      grants.push({
        table,
        privilege,
        depth,
        anchor: assignment.bu,
        scopeTeam: -1,
        role: assignment.role,
        viaTeam: -1,
      });
    });
  }

  for (const team of teams) {
    if (!model.canHoldRoles(team)) continue;
    for (const assignment of model.assignments.get(team) ?? []) {
      const role = model.roles[assignment.role];
      if (role === undefined) continue;
      systemAdministrator ||= role.systemAdministrator;
      const inherits = role.inheritance === 'direct';
      forEachDepth(role.depths, tableCount, (table, privilege, depth) => {
        const via = { table, privilege, role: assignment.role, viaTeam: team };
        grants.push({ ...via, depth, anchor: assignment.bu, scopeTeam: team });
        if (inherits) grants.push({ ...via, depth: Depth.basic, anchor: -1, scopeTeam: -1 });
      });
    }
  }
  return { systemAdministrator, teams, grants };
}

function forEachDepth(
  depths: Uint8Array,
  tableCount: number,
  visit: (table: TableIdx, privilege: Privilege, depth: Depth) => void,
): void {
  for (let table = 0; table < tableCount; table++) {
    for (let privilege = 0; privilege < PRIVILEGE_COUNT; privilege++) {
      const depth = depths[table * PRIVILEGE_COUNT + privilege] as Depth;
      if (depth !== Depth.none) visit(table as TableIdx, privilege as Privilege, depth);
    }
  }
}
