import { NONE, type PrincipalIdx, type RoleIdx, type UserIdx } from '../ids.js';
import type { Role, WorldModel } from '../model/world-model.js';
import { PRIVILEGE_COUNT } from '../privileges.js';
import { growUint8 } from '../util/growable.js';
import { ColumnSecurity } from './columns.js';
import { CoverageCache } from './coverage.js';
import { GrantCache } from './grant-cache.js';
import { GrantTables, UserFlag } from './grant-tables.js';
import { ASSIGNMENT_STRIDE, assignmentRows, type ProfileInputs, profileInputs, profileKey } from './grants.js';
import { HierarchyTables } from './hierarchy.js';
import { Profile, ProfileRows } from './profile.js';

/**
 * The compiled world: a profile per distinct (role assignments, teams), flattened into
 * `GrantTables`, kept in step with the model by the `refresh…`/`recompile…` calls that
 * incremental updates make. Profiles are never removed: one that no user has any more is
 * unused, and left stale by later recompiles (the churn of a long-lived world leaves many) until a
 * user takes it again.
 */
export class CompiledWorld {
  readonly model: WorldModel;
  readonly profiles: Profile[];
  readonly tables: GrantTables;
  /** §5: per manager, the principals hierarchy security reaches through its subordinates. */
  readonly hierarchy: HierarchyTables;
  /** §6: per user and secured column the profiles' permissions; field shares per record. */
  readonly columns: ColumnSecurity;
  private readonly byKey: Map<string, number>;
  private readonly grants: GrantCache;
  private readonly rows: ProfileRows;
  /** Per profile, how many users have it: recompiles skip a profile nobody has. */
  private readonly holders: number[];
  /** Per profile, 1 when a recompile skipped it for having no users: compiled again when a user takes it. */
  private stale: Uint8Array;

  constructor(model: WorldModel) {
    this.model = model;
    this.profiles = [];
    this.tables = new GrantTables(model.tables.length * PRIVILEGE_COUNT, model.principals.length);
    this.byKey = new Map();
    this.grants = new GrantCache(new CoverageCache(model), this.tables);
    this.rows = new ProfileRows();
    this.holders = [];
    this.stale = new Uint8Array(1024);
    this.grants.useRoles(model.roles, this.tables.slots);
    for (let principal = 0; principal < model.principals.length; principal++) {
      if (model.isUser(principal)) this.refresh(principal, true);
    }
    this.hierarchy = new HierarchyTables(model);
    this.columns = new ColumnSecurity(model);
  }

  /** Re-derives a user's profile and flags from the model: after its teams, roles, BU or state change. */
  refreshUser(user: UserIdx): void {
    this.refresh(user, false);
  }

  /** `refreshUser`; `rolesRead` when the roles' depths are known to be read already (`GrantCache.useRoles`). */
  private refresh(user: UserIdx, rolesRead: boolean): void {
    const inputs = profileInputs(this.model, user);
    const key = profileKey(inputs);
    let index = this.byKey.get(key);
    if (index === undefined) {
      index = this.profiles.length;
      this.profiles.push(new Profile(copyInputs(inputs)));
      this.holders.push(0);
      this.stale = growUint8(this.stale, index + 1);
      if (!rolesRead) this.grants.useRoles(this.model.roles, this.tables.slots);
      this.compileProfile(index);
      this.byKey.set(key, index);
    } else if (this.stale[index] === 1) {
      this.stale[index] = 0;
      if (!rolesRead) this.grants.useRoles(this.model.roles, this.tables.slots);
      this.compileProfile(index);
    }
    const previous = this.tables.userProfile[user] ?? NONE;
    if (previous !== NONE) this.holders[previous] = (this.holders[previous] as number) - 1;
    this.holders[index] = (this.holders[index] as number) + 1;
    this.tables.setUser(user, index, this.flags(user, this.profiles[index] as Profile));
  }

  /**
   * Recompiles the profiles that hold a changed team or role: their inputs are unchanged but what
   * those inputs grant changed. A team's role assignments can change anything, so those profiles
   * are compiled whole; a role's privileges change only `roleSlots`, so profiles that reach the
   * role only through it recompile just those slots.
   */
  recompileProfiles(reach: {
    teams: ReadonlySet<PrincipalIdx>;
    roles: ReadonlySet<RoleIdx>;
    roleSlots: ReadonlySet<number>;
  }): void {
    const { model, rows, grants } = this;
    const changedTeams = reach.teams.size > 0 ? marks(model.principals.length, reach.teams) : null;
    const changedRoles = marks(model.roles.length, reach.roles);
    const roleSlots = Int32Array.from(reach.roleSlots);
    const slots = this.tables.slots;
    grants.useRoles(model.roles, slots);
    let administratorsChanged = false;
    for (let index = 0; index < this.profiles.length; index++) {
      // Stale profiles have no holders either (taking one compiles it afresh).
      if (this.holders[index] === 0) {
        this.stale[index] = 1;
        continue;
      }
      if (changedTeams !== null && grants.teamLists.hasMarked(rows.teamList[index] as number, changedTeams)) {
        const profile = this.profiles[index] as Profile;
        const wasAdministrator = profile.systemAdministrator;
        this.compileProfile(index);
        administratorsChanged ||= profile.systemAdministrator !== wasAdministrator;
      } else if (reach.roles.size > 0 && rows.holdsAny(index, changedRoles)) {
        // Only depths changed: the profile's assignments, roles and administrator flag stand.
        const start = rows.start(index);
        const end = rows.end(index);
        const teams = rows.teamList[index] as number;
        for (let i = 0; i < roleSlots.length; i++) {
          const slot = roleSlots[i] as number;
          // Before reading `profileGrant`: an assignment reads its target first, and a compile
          // that grew the array would then write to the old one.
          const grant = grants.compileSlot(rows.pool, start, end, teams, slot);
          this.tables.profileGrant[index * slots + slot] = grant;
        }
      }
    }
    if (!administratorsChanged) return;
    for (let user = 0; user < this.tables.userProfile.length; user++) {
      const index = this.tables.userProfile[user] as number;
      if (index !== NONE) this.tables.userFlags[user] = this.flags(user as UserIdx, this.profiles[index] as Profile);
    }
  }

  /**
   * After a new BU: the tree's preorder positions moved, so every coverage's intervals and every
   * grant's BU fields are recomputed from their anchors. Nothing else depends on positions, and a
   * new BU has no users, teams or records yet, so no profile changes.
   */
  reindexBusinessUnits(): void {
    this.grants.reindexCoverages();
    this.tables.reindexCoverages();
  }

  /**
   * Compiles profile `index` whole from its inputs: its rows, team list, administrator flag and
   * every slot. The roles' depths must have been read (`GrantCache.useRoles`).
   */
  private compileProfile(index: number): void {
    const { model, rows, grants } = this;
    const profile = this.profiles[index] as Profile;
    const assignments = assignmentRows(model, profile.inputs);
    const teamList = Int32Array.from(profile.inputs.teams);
    const teams = grants.teamList(teamList, teamList.length);
    rows.set(index, assignments, teams);
    let systemAdministrator = false;
    for (let row = 0; row < assignments.length; row += ASSIGNMENT_STRIDE) {
      systemAdministrator ||= (model.roles[assignments[row] as number] as Role).systemAdministrator;
    }
    profile.systemAdministrator = systemAdministrator;
    this.tables.reserveProfile(index);
    const start = rows.start(index);
    const end = rows.end(index);
    const slots = this.tables.slots;
    for (let slot = 0; slot < slots; slot++) {
      const grant = grants.compileSlot(rows.pool, start, end, teams, slot);
      this.tables.profileGrant[index * slots + slot] = grant;
    }
  }

  private flags(user: UserIdx, profile: Profile): number {
    return (
      (this.model.user(user).disabled ? UserFlag.disabled : 0) |
      (profile.systemAdministrator ? UserFlag.systemAdministrator : 0)
    );
  }
}

/** A byte per index, 1 for those in `set`. */
function marks(length: number, set: ReadonlySet<number>): Uint8Array {
  const marked = new Uint8Array(length);
  for (const index of set) marked[index] = 1;
  return marked;
}

/** Profiles keep their own copy: the model's assignment lists change under later updates. */
function copyInputs(inputs: ProfileInputs): ProfileInputs {
  return { assignments: inputs.assignments.map((a) => ({ ...a })), teams: [...inputs.teams] };
}
