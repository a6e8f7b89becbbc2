import { NONE, type RoleIdx } from '../ids.js';
import type { Role } from '../model/world-model.js';
import { Depth, PRIVILEGE_COUNT } from '../privileges.js';
import { IntListInterner, IntScratch, sortUnique } from '../util/int-lists.js';
import type { BuCoverage, CoverageCache } from './coverage.js';
import { ASSIGNMENT_STRIDE, type ProfileInputs } from './grants.js';

/**
 * What a profile's grants of one (table, privilege) add up to. Coverage is a union over grants
 * (semantics §7.6), so this is all a check needs:
 * - `global`: some grant is global;
 * - `bus`: BUs covered by local and deep grants;
 * - `scopeAll`: some grant's scope is userScope(U): records owned by U or any of U's teams are
 *   covered, and shares to U, its teams or the organization are usable;
 * - `scopeTeams`: the teams whose ownership and shares the grants reach (all of U's teams when
 *   `scopeAll`), sorted.
 */
export class PrivilegeGrant {
  /** Dense per cache, in creation order. */
  readonly id: number;
  readonly global: boolean;
  readonly bus: BuCoverage | null;
  readonly scopeAll: boolean;
  readonly scopeTeams: Int32Array;
  /** Its row in the grant tables, NONE until they intern it: kept here, where a recompile already reads. */
  row: number;

  constructor(id: number, global: boolean, bus: BuCoverage | null, scopeAll: boolean, scopeTeams: Int32Array) {
    this.id = id;
    this.global = global;
    this.bus = bus;
    this.scopeAll = scopeAll;
    this.scopeTeams = scopeTeams;
    this.row = NONE;
  }
}

/** The compiled grants of every user with the same role assignments and teams. */
export class Profile {
  /** What the grants were compiled from; equal inputs give equal grants. */
  readonly inputs: ProfileInputs;
  /** Every role held, directly or through a team. */
  readonly roles: ReadonlySet<RoleIdx>;
  readonly systemAdministrator: boolean;
  /**
   * Per (table, privilege) at `table * PRIVILEGE_COUNT + privilege`: null when nothing grants it.
   * A role change rewrites its slots in place (the profile's inputs did not change).
   */
  readonly grants: (PrivilegeGrant | null)[];
  /** The inputs' teams, interned: a grant's `scopeTeams` when its scope is userScope(U). */
  readonly teams: TeamList;
  /** Every role the profile holds as rows of ASSIGNMENT_STRIDE (see `assignmentRows`): what its slots compile from. */
  readonly assignments: Int32Array;

  constructor(
    inputs: ProfileInputs,
    roles: ReadonlySet<RoleIdx>,
    systemAdministrator: boolean,
    grants: (PrivilegeGrant | null)[],
    teams: TeamList,
    assignments: Int32Array,
  ) {
    this.inputs = inputs;
    this.roles = roles;
    this.systemAdministrator = systemAdministrator;
    this.grants = grants;
    this.teams = teams;
    this.assignments = assignments;
  }
}

/** A sorted list of teams, interned: equal lists, one object. */
export class TeamList {
  readonly teams: Int32Array;
  /** The grants scoped to these teams, by `(coverage id + 1) * 4 + flags`: their intern table. */
  readonly grants: Map<number, PrivilegeGrant>;

  constructor(teams: Int32Array) {
    this.teams = teams;
    this.grants = new Map();
  }
}

/**
 * Interns `PrivilegeGrant`s across profiles: most profiles repeat a few shapes. A grant is keyed
 * by its interned scope-team list and, within it, by numbers (its coverage's id and two flags), so
 * a role change that recompiles a slot of 40,000 profiles builds no strings.
 */
export class GrantCache {
  private readonly coverages: CoverageCache;
  private readonly teamLists = new IntListInterner<TeamList>();
  private count = 0;
  // Scratch for one slot's reduction: reused, so recompiling allocates only what is new.
  private readonly local = new IntScratch();
  private readonly deep = new IntScratch();
  private readonly scopeTeams = new IntScratch();

  constructor(coverages: CoverageCache) {
    this.coverages = coverages;
  }

  /** After a new BU renumbered the tree (grants keep their coverages; those recompute their intervals). */
  reindexCoverages(): void {
    this.coverages.reindex();
  }

  /**
   * The profile of `inputs`, whose role assignments are `assignments` (`assignmentRows`): every
   * slot reduced from those rows and the roles' depths, as a role change later reduces one.
   */
  compileProfile(inputs: ProfileInputs, assignments: Int32Array, roles: readonly Role[], tableCount: number): Profile {
    const slots = tableCount * PRIVILEGE_COUNT;
    const held = new Set<RoleIdx>();
    let systemAdministrator = false;
    for (let row = 0; row < assignments.length; row += ASSIGNMENT_STRIDE) {
      const role = assignments[row] as RoleIdx;
      held.add(role);
      systemAdministrator ||= (roles[role] as Role).systemAdministrator;
    }
    const teams = this.teamList(Int32Array.from(inputs.teams), inputs.teams.length);
    const grants = new Array<PrivilegeGrant | null>(slots).fill(null);
    const profile = new Profile(inputs, held, systemAdministrator, grants, teams, assignments);
    for (let slot = 0; slot < slots; slot++) this.compileSlot(profile, slot, roles);
    return profile;
  }

  /**
   * Slot `slot` of `profile` from its assignment rows and the roles' depths now (semantics §2):
   * at compile, and for each profile holding a role whose privileges changed.
   */
  compileSlot(profile: Profile, slot: number, roles: readonly Role[]): void {
    const { local, deep, scopeTeams } = this;
    local.clear();
    deep.clear();
    scopeTeams.clear();
    const rows = profile.assignments;
    let granted = false;
    let global = false;
    let scopeAll = false;
    for (let row = 0; row < rows.length; row += ASSIGNMENT_STRIDE) {
      const role = roles[rows[row] as number] as Role;
      const depth = role.depths[slot] as Depth;
      if (depth === Depth.none) continue;
      granted = true;
      const anchor = rows[row + 1] as number;
      if (depth === Depth.global) global = true;
      else if (depth === Depth.deep) deep.push(anchor);
      else if (depth === Depth.local) local.push(anchor);
      const team = rows[row + 2] as number;
      if (team === -1) scopeAll = true;
      else {
        scopeTeams.push(team);
        // A `direct` team role also grants basic depth to userScope(U).
        if (role.inheritance === 'direct') scopeAll = true;
      }
    }
    profile.grants[slot] = granted ? this.intern(global, scopeAll, profile.teams) : null;
  }

  /** The grant of the reduction in the scratch lists; `profileTeams` is its scope when `scopeAll`. */
  private intern(global: boolean, scopeAll: boolean, profileTeams: TeamList): PrivilegeGrant {
    const scope = scopeAll
      ? profileTeams
      : this.teamList(this.scopeTeams.values, sortUnique(this.scopeTeams.values, this.scopeTeams.length));
    // Global covers every BU, so the BU set would never be read.
    const bus = global ? null : this.coverages.get(this.local, this.deep);
    const key = ((bus === null ? -1 : bus.id) + 1) * 4 + (global ? 1 : 0) + (scopeAll ? 2 : 0);
    let grant = scope.grants.get(key);
    if (grant === undefined) {
      grant = new PrivilegeGrant(this.count++, global, bus, scopeAll, scope.teams);
      scope.grants.set(key, grant);
    }
    return grant;
  }

  /** The interned list of the first `length` (sorted, repeat-free) teams. */
  private teamList(teams: Int32Array, length: number): TeamList {
    return this.teamLists.find(teams, length) ?? this.teamLists.add(teams, length, (list) => new TeamList(list));
  }

  get size(): number {
    return this.count;
  }

  get coverageCount(): number {
    return this.coverages.size;
  }
}
