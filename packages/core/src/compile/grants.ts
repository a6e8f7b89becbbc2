import type { BuIdx, PrincipalIdx, RoleIdx, TableIdx, UserIdx } from '../ids.js';
import type { RoleAssignment, WorldModel } from '../model/world-model.js';
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

/**
 * All a user's grants depend on, apart from the user itself: its own role assignments (with their
 * anchors) and every team it belongs to. Users with equal inputs share one compiled profile.
 */
export interface ProfileInputs {
  readonly assignments: readonly RoleAssignment[];
  /** Listed teams plus the BU's named default team, sorted. */
  readonly teams: readonly PrincipalIdx[];
}

export function profileInputs(model: WorldModel, user: UserIdx): ProfileInputs {
  return { assignments: model.assignments.get(user) ?? [], teams: model.teamsOf(user) };
}

/** The profile key: equal keys, equal grants. */
export function profileKey(inputs: ProfileInputs): string {
  const anchors = [...new Set(inputs.assignments.map((a) => `${a.role}@${a.bu}`))].sort();
  return `${anchors.join(',')}|${inputs.teams.join(',')}`;
}

/** Where a user's roles come from: the input of both the compiler and explain. */
export interface RoleSources {
  readonly systemAdministrator: boolean;
  readonly teams: readonly PrincipalIdx[];
  /** Every role held, directly or through a team: what a change to a role's privileges reaches. */
  readonly roles: ReadonlySet<RoleIdx>;
  readonly grants: readonly Grant[];
}

/** Every grant the holder of `inputs` has, by the table of semantics.md §2. */
export function collectGrants(model: WorldModel, inputs: ProfileInputs): RoleSources {
  const grants: Grant[] = [];
  const roles = new Set<RoleIdx>();
  let systemAdministrator = false;
  const teams = inputs.teams;
  const tableCount = model.tables.length;

  for (const assignment of inputs.assignments) {
    const role = model.roles[assignment.role];
    if (role === undefined) continue;
    roles.add(assignment.role);
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
      roles.add(assignment.role);
      systemAdministrator ||= role.systemAdministrator;
      const inherits = role.inheritance === 'direct';
      forEachDepth(role.depths, tableCount, (table, privilege, depth) => {
        grants.push({
          table,
          privilege,
          depth,
          anchor: assignment.bu,
          scopeTeam: team,
          role: assignment.role,
          viaTeam: team,
        });
        if (inherits) {
          grants.push({
            table,
            privilege,
            depth: Depth.basic,
            anchor: -1,
            scopeTeam: -1,
            role: assignment.role,
            viaTeam: team,
          });
        }
      });
    }
  }
  return { systemAdministrator, teams, roles, grants };
}

function forEachDepth(
  depths: Uint8Array,
  tableCount: number,
  visit: (table: TableIdx, privilege: Privilege, depth: Depth) => void,
): void {
  for (let slot = 0; slot < tableCount * PRIVILEGE_COUNT; slot++) {
    const depth = depths[slot] as Depth;
    if (depth !== Depth.none)
      visit(Math.floor(slot / PRIVILEGE_COUNT) as TableIdx, (slot % PRIVILEGE_COUNT) as Privilege, depth);
  }
}

/** `assignmentRows`' row: [role, anchor BU, scope team or -1 for userScope(U)]. */
export const ASSIGNMENT_STRIDE = 3;

/**
 * The role assignments behind `collectGrants`, as flat rows (ASSIGNMENT_STRIDE): the user's own,
 * then its teams' (teams that cannot hold roles left out). A profile compiles every slot from
 * these rows and the roles' depths (`GrantCache.compileSlot`), and a change to a role's
 * privileges compiles just its slots again from them; a change to the assignments themselves
 * makes a new profile. `collectGrants` walks the same assignments for explanations.
 */
export function assignmentRows(model: WorldModel, inputs: ProfileInputs): Int32Array {
  const rows: number[] = [];
  for (const assignment of inputs.assignments) {
    if (model.roles[assignment.role] !== undefined) rows.push(assignment.role, assignment.bu, -1);
  }
  for (const team of inputs.teams) {
    if (!model.canHoldRoles(team)) continue;
    for (const assignment of model.assignments.get(team) ?? []) {
      if (model.roles[assignment.role] !== undefined) rows.push(assignment.role, assignment.bu, team);
    }
  }
  return Int32Array.from(rows);
}
