import { growInt32 } from '../util/growable.js';
import { ASSIGNMENT_STRIDE, type ProfileInputs } from './grants.js';

/**
 * What the compiler keeps of a profile (the grants of every user with the same role assignments
 * and teams) beyond its flat rows: what it was compiled from, for recompiling it whole. Its slots
 * live in `GrantTables.profileGrant`, its assignment rows and team list in `ProfileRows`.
 */
export class Profile {
  /** What the grants were compiled from; equal inputs give equal grants. */
  readonly inputs: ProfileInputs;
  /** Set when it is compiled (a team's role assignments may change it). */
  systemAdministrator: boolean;

  constructor(inputs: ProfileInputs) {
    this.inputs = inputs;
    this.systemAdministrator = false;
  }
}

/**
 * Every profile's role assignments (`assignmentRows`) in one flat pool, and its interned team
 * list: what a role change reads for each of tens of thousands of profiles. Objects per profile
 * cost a cache miss each (the profile, its role set, its rows, its grant array…); this is read in
 * profile order, so a change to a role most users hold walks memory front to back.
 *
 *   pool[range[2p] .. range[2p + 1])   profile p's rows of ASSIGNMENT_STRIDE: role, anchor BU, scope team or -1
 *   teamList[p]                        its teams' interned list (`GrantCache.teamList`)
 *
 * A profile compiled again (a team's roles changed) appends new rows; the old ones are garbage
 * until the pool is rewritten, once garbage is over half of it.
 */
export class ProfileRows {
  pool: Int32Array;
  range: Int32Array;
  teamList: Int32Array;
  private used: number;
  private garbage: number;
  private count: number;

  constructor() {
    this.pool = new Int32Array(1024);
    this.range = new Int32Array(256);
    this.teamList = new Int32Array(128);
    this.used = 0;
    this.garbage = 0;
    this.count = 0;
  }

  /** Sets profile `index`'s rows (an index past the last one adds it). */
  set(index: number, rows: Int32Array, teamList: number): void {
    if (index >= this.count) {
      this.count = index + 1;
      if (this.teamList.length < this.count) {
        this.range = growInt32(this.range, this.count * 2);
        this.teamList = growInt32(this.teamList, this.count);
      }
    } else {
      this.garbage += (this.range[2 * index + 1] as number) - (this.range[2 * index] as number);
    }
    this.pool = growInt32(this.pool, this.used + rows.length);
    this.pool.set(rows, this.used);
    this.range[2 * index] = this.used;
    this.used += rows.length;
    this.range[2 * index + 1] = this.used;
    this.teamList[index] = teamList;
    if (this.garbage * 2 > this.used) this.compact();
  }

  /** Where profile `index`'s rows start in `pool`. */
  start(index: number): number {
    return this.range[2 * index] as number;
  }

  /** Where profile `index`'s rows end in `pool` (exclusive). */
  end(index: number): number {
    return this.range[2 * index + 1] as number;
  }

  /** Profile `index`'s rows: a view, valid until the next `set`. */
  rows(index: number): Int32Array {
    return this.pool.subarray(this.range[2 * index], this.range[2 * index + 1]);
  }

  /** Whether profile `index` holds a role marked in `roles` (by role index). */
  holdsAny(index: number, roles: Uint8Array): boolean {
    const pool = this.pool;
    const end = this.range[2 * index + 1] as number;
    for (let row = this.range[2 * index] as number; row < end; row += ASSIGNMENT_STRIDE) {
      if (roles[pool[row] as number] === 1) return true;
    }
    return false;
  }

  /** Rewrites the pool with only the live rows, in profile order. */
  private compact(): void {
    const live = new Int32Array(Math.max(1024, (this.used - this.garbage) * 2));
    let used = 0;
    for (let p = 0; p < this.count; p++) {
      const start = this.range[2 * p] as number;
      const end = this.range[2 * p + 1] as number;
      live.set(this.pool.subarray(start, end), used);
      this.range[2 * p] = used;
      used += end - start;
      this.range[2 * p + 1] = used;
    }
    this.pool = live;
    this.used = used;
    this.garbage = 0;
  }
}
