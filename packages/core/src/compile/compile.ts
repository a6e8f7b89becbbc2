import { NONE, type PrincipalIdx, type RoleIdx, type UserIdx } from '../ids.js';
import type { WorldModel } from '../model/world-model.js';
import { PRIVILEGE_COUNT } from '../privileges.js';
import { ColumnSecurity } from './columns.js';
import { CoverageCache } from './coverage.js';
import { GrantTables, UserFlag } from './grant-tables.js';
import { assignmentRows, type ProfileInputs, profileInputs, profileKey } from './grants.js';
import { HierarchyTables } from './hierarchy.js';
import { GrantCache, type Profile } from './profile.js';

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
  /** Per profile, how many users have it: recompiles skip a profile nobody has. */
  private readonly holders: number[];
  /** Unused profiles a recompile skipped: compiled again when a user takes one. */
  private readonly stale: Set<number>;

  constructor(model: WorldModel) {
    this.model = model;
    this.profiles = [];
    this.tables = new GrantTables(model.tables.length * PRIVILEGE_COUNT, model.principals.length);
    this.byKey = new Map();
    this.grants = new GrantCache(new CoverageCache(model));
    this.holders = [];
    this.stale = new Set();
    for (let principal = 0; principal < model.principals.length; principal++) {
      if (model.isUser(principal)) this.refreshUser(principal);
    }
    this.hierarchy = new HierarchyTables(model);
    this.columns = new ColumnSecurity(model);
  }

  /** Re-derives a user's profile and flags from the model: after its teams, roles, BU or state change. */
  refreshUser(user: UserIdx): void {
    const inputs = profileInputs(this.model, user);
    const key = profileKey(inputs);
    let index = this.byKey.get(key);
    if (index === undefined) {
      index = this.profiles.length;
      this.profiles.push(this.compile(copyInputs(inputs)));
      this.holders.push(0);
      this.tables.setProfile(index, this.profiles[index] as Profile);
      this.byKey.set(key, index);
    } else if (this.stale.delete(index)) {
      const profile = this.profiles[index] as Profile;
      this.profiles[index] = this.compile(profile.inputs);
      this.tables.setProfile(index, this.profiles[index] as Profile);
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
    let administratorsChanged = false;
    const roleSlots = [...reach.roleSlots];
    const roles = this.model.roles;
    const profiles = this.profiles;
    for (let index = 0; index < profiles.length; index++) {
      const profile = profiles[index] as Profile;
      // Stale profiles have no holders either (taking one compiles it afresh).
      if (this.holders[index] === 0) {
        this.stale.add(index);
        continue;
      }
      if (reach.teams.size > 0 && profile.inputs.teams.some((t) => reach.teams.has(t))) {
        const next = this.compile(profile.inputs);
        administratorsChanged ||= next.systemAdministrator !== profile.systemAdministrator;
        profiles[index] = next;
        this.tables.setProfile(index, next);
      } else if (holdsAny(profile.roles, reach.roles)) {
        // Only depths changed: the profile's assignments, roles and administrator flag stand.
        for (const slot of roleSlots) this.grants.compileSlot(profile, slot, roles);
        this.tables.setProfile(index, profile, roleSlots);
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

  private compile(inputs: ProfileInputs): Profile {
    const { model } = this;
    return this.grants.compileProfile(inputs, assignmentRows(model, inputs), model.roles, model.tables.length);
  }

  private flags(user: UserIdx, profile: Profile): number {
    return (
      (this.model.user(user).disabled ? UserFlag.disabled : 0) |
      (profile.systemAdministrator ? UserFlag.systemAdministrator : 0)
    );
  }
}

function holdsAny(roles: ReadonlySet<RoleIdx>, changed: ReadonlySet<RoleIdx>): boolean {
  // `changed` is small (usually the one role whose privileges changed).
  for (const role of changed) if (roles.has(role)) return true;
  return false;
}

/** Profiles keep their own copy: the model's assignment lists change under later updates. */
function copyInputs(inputs: ProfileInputs): ProfileInputs {
  return { assignments: inputs.assignments.map((a) => ({ ...a })), teams: [...inputs.teams] };
}
