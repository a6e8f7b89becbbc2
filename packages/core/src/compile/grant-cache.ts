import { NONE } from '../ids.js';
import type { Role } from '../model/world-model.js';
import { Depth } from '../privileges.js';
import { growInt32 } from '../util/growable.js';
import { IntListTable, IntScratch, sortUnique } from '../util/int-lists.js';
import { DensePairMap } from '../util/int-pair-map.js';
import type { CoverageCache } from './coverage.js';
import type { GrantTables } from './grant-tables.js';
import { ASSIGNMENT_STRIDE } from './grants.js';

const DEPTH_MASK = 0x0f;
const DIRECT = 0x10;

/**
 * Reduces a profile's assignment rows to the grant of one (table, privilege) slot, and interns
 * grants so that equal ones share a row of `GrantTables`. Coverage is a union over grants
 * (semantics §7.6), so a slot's grant is all a check needs:
 * - global: some grant is global;
 * - BUs: those covered by local and deep grants, as an interned `BuCoverage`;
 * - scopeAll: some grant's scope is userScope(U) (records owned by U or any of U's teams are
 *   covered, and shares to U, its teams or the organization are usable);
 * - scope teams: the teams whose ownership and shares the grants reach, an interned sorted list
 *   (the profile's own teams when scopeAll).
 *
 * Everything is keyed by numbers, without objects per grant or per profile: a change to a role
 * that most users hold reduces a slot of tens of thousands of profiles, and what that costs is
 * the memory it touches.
 */
export class GrantCache {
  private readonly coverages: CoverageCache;
  private readonly tables: GrantTables;
  /** Interned team lists, by id. */
  readonly teamLists = new IntListTable();
  /** Per team, the id of the list of just that team, or NONE: the scope of most team grants. */
  private singleTeamLists: Int32Array = new Int32Array(0);
  /** (team list id, coverage key) → grant row; the coverage key is `(coverage id + 1) * 4 + GrantFlag bits`. */
  private readonly grantRows = new DensePairMap(4096);
  // Scratch for a slot with more than one anchor or scope team: reused, so a slot allocates nothing.
  private readonly codes = new IntScratch();
  private readonly scopeTeams = new IntScratch();
  /** Per slot and role (`slot * roleCount + role`): the role's depth, plus DIRECT for `direct` inheritance. */
  private slotRoles = new Uint8Array(0);
  private roleCount = 0;
  /** The roles' depth arrays `slotRoles` was read from. */
  private readonly depthsRead: Uint8Array[] = [];

  constructor(coverages: CoverageCache, tables: GrantTables) {
    this.coverages = coverages;
    this.tables = tables;
  }

  /** The id of the interned list of the first `length` (sorted, repeat-free) teams. */
  teamList(teams: Int32Array, length: number): number {
    const known = this.teamLists.find(teams, length);
    return known !== -1 ? known : this.teamLists.add(teams, length);
  }

  /**
   * Reads the roles' depths into a table by slot, unless they are the ones last read: before
   * compiling slots. Reading them here once, rather than through each role object for each of
   * tens of thousands of profiles, keeps a role change's loop on flat arrays. Updates replace a
   * role's depths (never change them in place), so comparing the arrays tells which roles moved:
   * only those are read again, unless roles were added.
   */
  useRoles(roles: readonly Role[], slots: number): void {
    const read = this.depthsRead;
    if (read.length !== roles.length || this.slotRoles.length !== slots * roles.length) {
      this.slotRoles = new Uint8Array(slots * roles.length);
      this.roleCount = roles.length;
      read.length = roles.length;
      for (let role = 0; role < roles.length; role++) this.readRole(roles, role, slots);
      return;
    }
    for (let role = 0; role < roles.length; role++) {
      if (read[role] !== (roles[role] as Role).depths) this.readRole(roles, role, slots);
    }
  }

  private readRole(roles: readonly Role[], role: number, slots: number): void {
    const { depths, inheritance } = roles[role] as Role;
    this.depthsRead[role] = depths;
    const direct = inheritance === 'direct' ? DIRECT : 0;
    for (let slot = 0; slot < slots; slot++)
      this.slotRoles[slot * roles.length + role] = (depths[slot] as number) | direct;
  }

  /**
   * The grant row of slot `slot` for a profile whose assignment rows are `pool[start .. end)` and
   * whose teams are list `profileTeams`, from the roles' depths (`useRoles`; semantics §2), or
   * NONE when nothing grants it: at compile, and for each profile holding a role whose
   * privileges changed.
   */
  compileSlot(pool: Int32Array, start: number, end: number, profileTeams: number, slot: number): number {
    const slotRoles = this.slotRoles;
    const base = slot * this.roleCount;
    let granted = false;
    let global = false;
    let scopeAll = false;
    // One or two anchors and one scope team are the common case: kept in locals, the scratch
    // lists only start past them.
    let anchors = 0;
    let firstCode = 0;
    let secondCode = 0;
    let teams = 0;
    let firstTeam = NONE;
    for (let row = start; row < end; row += ASSIGNMENT_STRIDE) {
      const role = slotRoles[base + (pool[row] as number)] as number;
      const depth = (role & DEPTH_MASK) as Depth;
      if (depth === Depth.none) continue;
      granted = true;
      if (depth === Depth.global) global = true;
      else if (depth === Depth.deep || depth === Depth.local) {
        const code = (pool[row + 1] as number) * 2 + (depth === Depth.deep ? 1 : 0);
        if (anchors === 0) firstCode = code;
        else if (anchors === 1) secondCode = code;
        else {
          if (anchors === 2) {
            this.codes.clear();
            this.codes.push(firstCode);
            this.codes.push(secondCode);
          }
          this.codes.push(code);
        }
        anchors++;
      }
      const team = pool[row + 2] as number;
      if (team === NONE) scopeAll = true;
      else {
        if (teams === 0) firstTeam = team;
        else {
          if (teams === 1) {
            this.scopeTeams.clear();
            this.scopeTeams.push(firstTeam);
          }
          this.scopeTeams.push(team);
        }
        teams++;
        // A `direct` team role also grants basic depth to userScope(U).
        if ((role & DIRECT) !== 0) scopeAll = true;
      }
    }
    if (!granted) return NONE;
    const scope = scopeAll ? profileTeams : this.scopeOf(teams, firstTeam);
    // Global covers every BU, so the BU set would never be read.
    const coverage = global
      ? NONE
      : anchors === 0
        ? NONE
        : anchors === 1
          ? this.coverages.idOfCode(firstCode)
          : anchors === 2
            ? this.coverages.idOfPair(firstCode, secondCode)
            : this.coverages.idOfCodes(this.codes);
    const key = (coverage + 1) * 4 + (global ? 1 : 0) + (scopeAll ? 2 : 0);
    const known = this.grantRows.get(scope, key);
    return known !== -1 ? known : this.addGrant(scope, key, global, scopeAll, coverage);
  }

  /** The list of the scope teams reduced (`teams` of them; the first in `first`, all in the scratch when more). */
  private scopeOf(teams: number, first: number): number {
    if (teams > 1) return this.teamList(this.scopeTeams.values, sortUnique(this.scopeTeams.values, teams));
    // Not reached today (a granted slot without a scope team has scopeAll), but an empty list is
    // the right answer, and the single-team cache below must not be read at NONE.
    if (teams === 0) return this.teamList(this.scopeTeams.values, 0);
    this.singleTeamLists = growInt32(this.singleTeamLists, first + 1, NONE);
    let list = this.singleTeamLists[first] as number;
    if (list === NONE) {
      this.scopeTeams.clear();
      this.scopeTeams.push(first);
      list = this.teamList(this.scopeTeams.values, 1);
      this.singleTeamLists[first] = list;
    }
    return list;
  }

  private addGrant(scope: number, key: number, global: boolean, scopeAll: boolean, coverage: number): number {
    const bus = coverage === NONE ? null : this.coverages.byId(coverage);
    const row = this.tables.addGrant(global, scopeAll, bus, this.teamLists.list(scope));
    this.grantRows.add(scope, key, row);
    return row;
  }

  /** After a new BU renumbered the tree (grants keep their coverages; those recompute their intervals). */
  reindexCoverages(): void {
    this.coverages.reindex();
  }

  get coverageCount(): number {
    return this.coverages.size;
  }
}
