import type { BuIdx, PrincipalIdx, RoleIdx } from '../ids.js';
import { Depth, PRIVILEGE_COUNT } from '../privileges.js';
import { getOrCreate } from '../util/maps.js';
import type { BuCoverage, CoverageCache } from './coverage.js';
import type { Grant, ProfileInputs, RoleSources } from './grants.js';

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
  readonly global: boolean;
  readonly bus: BuCoverage | null;
  readonly scopeAll: boolean;
  readonly scopeTeams: Int32Array;

  constructor(global: boolean, bus: BuCoverage | null, scopeAll: boolean, scopeTeams: Int32Array) {
    this.global = global;
    this.bus = bus;
    this.scopeAll = scopeAll;
    this.scopeTeams = scopeTeams;
  }
}

/** The compiled grants of every user with the same role assignments and teams. */
export class Profile {
  /** What the grants were compiled from; equal inputs give equal grants. */
  readonly inputs: ProfileInputs;
  /** Every role held, directly or through a team. */
  readonly roles: ReadonlySet<RoleIdx>;
  readonly systemAdministrator: boolean;
  /** Per (table, privilege) at `table * PRIVILEGE_COUNT + privilege`: null when nothing grants it. */
  readonly grants: (PrivilegeGrant | null)[];
  /** The inputs' teams as a grant's `scopeTeams` and as part of its key: made once, shared by recompiles. */
  readonly teams: Int32Array;
  readonly teamsKey: string;

  constructor(
    inputs: ProfileInputs,
    roles: ReadonlySet<RoleIdx>,
    systemAdministrator: boolean,
    grants: (PrivilegeGrant | null)[],
    teams: { readonly teams: Int32Array; readonly teamsKey: string } = teamsOf(inputs),
  ) {
    this.inputs = inputs;
    this.roles = roles;
    this.systemAdministrator = systemAdministrator;
    this.grants = grants;
    this.teams = teams.teams;
    this.teamsKey = teams.teamsKey;
  }
}

function teamsOf(inputs: ProfileInputs): { teams: Int32Array; teamsKey: string } {
  return { teams: Int32Array.from(inputs.teams), teamsKey: inputs.teams.join(',') };
}

/** Interns `PrivilegeGrant`s across profiles: most profiles repeat a few shapes. */
export class GrantCache {
  private readonly byKey = new Map<string, PrivilegeGrant>();
  private readonly coverages: CoverageCache;

  constructor(coverages: CoverageCache) {
    this.coverages = coverages;
  }

  /** After a new BU renumbered the tree (grants keep their coverages; those recompute their intervals). */
  reindexCoverages(): void {
    this.coverages.reindex();
  }

  compileProfile(inputs: ProfileInputs, sources: RoleSources, tableCount: number): Profile {
    const grants = new Array<PrivilegeGrant | null>(tableCount * PRIVILEGE_COUNT).fill(null);
    const teams = teamsOf(inputs);
    this.compileSlots(grants, teams.teams, teams.teamsKey, sources, null);
    return new Profile(inputs, sources.roles, sources.systemAdministrator, grants, teams);
  }

  /** `profile` with the grants of `slots` compiled again from `sources` (collected for those slots only). */
  recompileSlots(profile: Profile, sources: RoleSources, slots: readonly number[]): Profile {
    const grants = profile.grants.slice();
    this.compileSlots(grants, profile.teams, profile.teamsKey, sources, slots);
    return new Profile(profile.inputs, profile.roles, profile.systemAdministrator, grants, profile);
  }

  /** Compiles `sources` into `grants`: every slot they hold, or exactly `slots` (null where nothing grants). */
  private compileSlots(
    grants: (PrivilegeGrant | null)[],
    teams: Int32Array,
    teamsKey: string,
    sources: RoleSources,
    slots: readonly number[] | null,
  ): void {
    if (slots !== null && slots.length === 1) {
      // A role change usually touches one slot: every collected grant is of it.
      const [slot] = slots as [number];
      grants[slot] = sources.grants.length === 0 ? null : this.reduce(sources.grants, teams, teamsKey);
      return;
    }
    const perSlot = new Map<number, Grant[]>();
    for (const grant of sources.grants) {
      getOrCreate(perSlot, grant.table * PRIVILEGE_COUNT + grant.privilege, () => []).push(grant);
    }
    for (const slot of slots ?? perSlot.keys()) {
      const list = perSlot.get(slot);
      grants[slot] = list === undefined ? null : this.reduce(list, teams, teamsKey);
    }
  }

  private reduce(list: readonly Grant[], userTeams: Int32Array, userTeamsKey: string): PrivilegeGrant {
    let global = false;
    let scopeAll = false;
    const local: BuIdx[] = [];
    const deep: BuIdx[] = [];
    const teams = new Set<PrincipalIdx>();
    for (const grant of list) {
      if (grant.depth === Depth.global) global = true;
      else if (grant.depth === Depth.deep && grant.anchor !== -1) deep.push(grant.anchor);
      else if (grant.depth === Depth.local && grant.anchor !== -1) local.push(grant.anchor);
      if (grant.scopeTeam === -1) scopeAll = true;
      else teams.add(grant.scopeTeam);
    }
    const scopeTeams = scopeAll ? userTeams : Int32Array.from([...teams].sort((a, b) => a - b));
    // Global covers every BU, so the BU set would never be read.
    const bus = global ? null : this.coverages.get(local, deep);
    const teamsKey = scopeAll ? userTeamsKey : scopeTeams.join(',');
    const key = `${global ? 1 : 0}|${bus === null ? '' : bus.id}|${scopeAll ? 1 : 0}|${teamsKey}`;
    return getOrCreate(this.byKey, key, () => new PrivilegeGrant(global, bus, scopeAll, scopeTeams));
  }

  get size(): number {
    return this.byKey.size;
  }

  get coverageCount(): number {
    return this.coverages.size;
  }
}
