import { NONE } from '../ids.js';
import { ensureInt32, ensureUint8, growInt32, sharedInt32, sharedUint8 } from '../util/growable.js';
import type { BuCoverage } from './coverage.js';

export const UserFlag = { disabled: 1, systemAdministrator: 2 } as const;
export const GrantFlag = { global: 1, scopeAll: 2 } as const;

/**
 * A compiled grant is one row of GRANT_STRIDE int32s in `GrantTables.grants`: 32 bytes, so a check
 * that reaches a grant reads one cache line (separate columns cost a miss each on large worlds).
 * The first BU interval and the first scope team are copied into the row because most grants have
 * one of each (a deep anchor; the user's one team): a check then reads no pool, which on a large
 * world is another miss. The pool ranges still list all of them.
 */
export const GRANT_STRIDE = 8;
export const GrantField = {
  /** GrantFlag bits. */
  flags: 0,
  /** First BU interval [lo, hi) of preorder positions; lo === hi when the grant covers no BU. */
  firstBuLo: 1,
  firstBuHi: 2,
  /** All BU intervals: buPool[buStart .. buEnd), pairs [lo, hi). */
  buStart: 3,
  buEnd: 4,
  /** Scope teams: teamPool[teamStart .. teamEnd). */
  teamStart: 5,
  teamEnd: 6,
  /** teamPool[teamStart], or NONE when the scope has no team. */
  firstTeam: 7,
} as const;

/**
 * The compiled grants as flat typed arrays: what every check and bulk loop reads. Each lookup is
 * an index into an array, never a pointer chase through objects, and every array can live in a
 * SharedArrayBuffer for worker threads.
 *
 *   userProfile[u]                       profile of user u (NONE for non-users)
 *   userFlags[u]                         UserFlag bits
 *   profileGrant[profile * slots + s]    grant of slot s = table * 8 + privilege, or NONE
 *   grants[g * GRANT_STRIDE + field]     grant g's row (see GrantField): flags, BU intervals, scope teams
 *   buPool                               [start, end) pairs of preorder positions
 *   teamPool                             scope teams
 *
 * Incremental updates append profiles and grants and rewrite profile rows (`GrantCache.compileSlot`);
 * arrays grow by doubling, so readers must re-read the fields after an update (the engine rebinds
 * its evaluator).
 */
export class GrantTables {
  readonly slots: number;
  userProfile: Int32Array;
  userFlags: Uint8Array;
  profileGrant: Int32Array;
  grants: Int32Array;
  buPool: Int32Array;
  teamPool: Int32Array;
  /** The roaring form of each grant's BU set (null when none): for set algebra and export, not checks. */
  readonly grantBuSets: (BuCoverage | null)[];
  grantCount: number;
  private busUsed: number;
  private teamsUsed: number;
  /** Per grant, its coverage's id, or NONE. */
  private grantCoverage: Int32Array;
  /**
   * Per coverage id, PLACED ints: where its intervals sit in `buPool` (NONE before its first
   * grant), how many ints they take, and its first interval.
   */
  private placed: Int32Array;
  private coveragesPlaced: number;

  constructor(slots: number, principalCount: number) {
    this.slots = slots;
    this.userProfile = sharedInt32(principalCount, NONE);
    this.userFlags = sharedUint8(principalCount);
    this.profileGrant = sharedInt32(0);
    this.grants = sharedInt32(0);
    this.buPool = sharedInt32(0);
    this.teamPool = sharedInt32(0);
    this.grantBuSets = [];
    this.grantCount = 0;
    this.busUsed = 0;
    this.teamsUsed = 0;
    this.grantCoverage = new Int32Array(0);
    this.placed = new Int32Array(0);
    this.coveragesPlaced = 0;
  }

  setUser(user: number, profile: number, flags: number): void {
    this.userProfile = ensureInt32(this.userProfile, user + 1);
    this.userFlags = ensureUint8(this.userFlags, user + 1);
    this.userProfile[user] = profile;
    this.userFlags[user] = flags;
  }

  /** Makes room for profile row `index` (every slot NONE until compiled). */
  reserveProfile(index: number): void {
    this.profileGrant = ensureInt32(this.profileGrant, (index + 1) * this.slots, NONE);
  }

  get coverageCount(): number {
    return this.coveragesPlaced;
  }

  /** Appends a grant row; `scopeTeams` is sorted. Interning (equal grants, one row) is the caller's. */
  addGrant(global: boolean, scopeAll: boolean, coverage: BuCoverage | null, scopeTeams: Int32Array): number {
    const g = this.grantCount++;
    const row = g * GRANT_STRIDE;
    this.grants = ensureInt32(this.grants, row + GRANT_STRIDE, 0);
    const grants = this.grants;
    grants[row + GrantField.flags] = (global ? GrantFlag.global : 0) | (scopeAll ? GrantFlag.scopeAll : 0);
    this.writeCoverage(g, coverage);
    this.teamPool = ensureInt32(this.teamPool, this.teamsUsed + scopeTeams.length);
    this.teamPool.set(scopeTeams, this.teamsUsed);
    grants[row + GrantField.teamStart] = this.teamsUsed;
    this.teamsUsed += scopeTeams.length;
    grants[row + GrantField.teamEnd] = this.teamsUsed;
    grants[row + GrantField.firstTeam] = scopeTeams[0] ?? NONE;
    this.grantBuSets[g] = coverage;
    return g;
  }

  /**
   * After a new BU renumbered the tree (and the coverages recomputed their intervals): `buPool`
   * and every grant's BU fields written again. A coverage's interval count may change, so the
   * pool is laid out afresh rather than patched. Each grant's coverage is found by its id in flat
   * arrays and each coverage object read once: a new BU does this for every grant, where
   * following each grant's coverage object cost a few cache misses per grant.
   */
  reindexCoverages(): void {
    // About as many intervals as before: one allocation instead of a doubling chain.
    this.buPool = sharedInt32(Math.max(16, this.busUsed));
    this.busUsed = 0;
    this.placed.fill(NONE);
    this.coveragesPlaced = 0;
    for (let g = 0; g < this.grantCount; g++) {
      const id = this.grantCoverage[g] as number;
      if (id === NONE) this.writeCoverage(g, null);
      else if (this.placed[id * PLACED] === NONE) this.writeCoverage(g, this.grantBuSets[g] ?? null);
      else this.writePlaced(g, id);
    }
  }

  /** The grant row's BU fields: its first interval inline, all of them in `buPool`; empty without coverage. */
  private writeCoverage(g: number, coverage: BuCoverage | null): void {
    this.grantCoverage = growInt32(this.grantCoverage, g + 1);
    if (coverage === null || coverage.intervals.length === 0) {
      this.grantCoverage[g] = NONE;
      const row = g * GRANT_STRIDE;
      this.grants[row + GrantField.firstBuLo] = 0;
      this.grants[row + GrantField.firstBuHi] = 0;
      this.grants[row + GrantField.buStart] = 0;
      this.grants[row + GrantField.buEnd] = 0;
      return;
    }
    this.grantCoverage[g] = coverage.id;
    this.place(coverage);
    this.writePlaced(g, coverage.id);
  }

  /** Grant `g`'s BU fields from coverage `id`'s placement. */
  private writePlaced(g: number, id: number): void {
    const row = g * GRANT_STRIDE;
    const at = id * PLACED;
    const start = this.placed[at] as number;
    this.grants[row + GrantField.firstBuLo] = this.placed[at + 2] as number;
    this.grants[row + GrantField.firstBuHi] = this.placed[at + 3] as number;
    this.grants[row + GrantField.buStart] = start;
    this.grants[row + GrantField.buEnd] = start + (this.placed[at + 1] as number);
  }

  /** Appends a coverage's intervals to `buPool` on first sight, and notes where (`placed`). */
  private place(coverage: BuCoverage): void {
    const at = coverage.id * PLACED;
    this.placed = growInt32(this.placed, at + PLACED, NONE);
    if (this.placed[at] !== NONE) return;
    const intervals = coverage.intervals;
    const offset = this.busUsed;
    this.buPool = ensureInt32(this.buPool, offset + intervals.length);
    this.buPool.set(intervals, offset);
    this.busUsed += intervals.length;
    this.placed[at] = offset;
    this.placed[at + 1] = intervals.length;
    this.placed[at + 2] = intervals[0] as number;
    this.placed[at + 3] = intervals[1] as number;
    this.coveragesPlaced++;
  }
}

/** `GrantTables.placed`: per coverage id, [offset in buPool, interval ints, first start, first end]. */
const PLACED = 4;
