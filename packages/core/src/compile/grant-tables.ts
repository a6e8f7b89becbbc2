import { NONE } from '../ids.js';
import type { BuCoverage } from './coverage.js';
import type { PrivilegeGrant, Profile } from './profile.js';

export const UserFlag = { disabled: 1, systemAdministrator: 2 } as const;
export const GrantFlag = { global: 1, scopeAll: 2 } as const;

/**
 * The compiled grants as flat typed arrays: what every check and bulk loop reads. Each lookup is
 * an index into an array, never a pointer chase through objects, and every array can live in a
 * SharedArrayBuffer for worker threads.
 *
 *   userProfile[u]                      profile of user u (NONE for non-users)
 *   userFlags[u]                        UserFlag bits
 *   profileGrant[profile * slots + s]   grant of slot s = table * 8 + privilege, or NONE
 *   grantFlags[g]                       GrantFlag bits
 *   grantBus[g]                         word offset of g's BU bitset in busPool, or NONE
 *   grantTeamStart[g] .. grantTeamEnd[g] g's scope teams in teamPool
 */
export class GrantTables {
  readonly slots: number;
  readonly buWords: number;
  readonly userProfile: Int32Array;
  readonly userFlags: Uint8Array;
  readonly profileGrant: Int32Array;
  readonly grantFlags: Uint8Array;
  readonly grantBus: Int32Array;
  readonly grantTeamStart: Int32Array;
  readonly grantTeamEnd: Int32Array;
  readonly busPool: Uint32Array;
  readonly teamPool: Int32Array;
  /** The roaring form of each grant's BU set (null when none): for set algebra and export, not checks. */
  readonly grantBuSets: readonly (BuCoverage | null)[];

  constructor(
    slots: number,
    buCount: number,
    profiles: readonly Profile[],
    userProfile: Int32Array,
    disabled: (user: number) => boolean,
  ) {
    this.slots = slots;
    this.buWords = (buCount + 31) >>> 5;
    this.userProfile = userProfile;
    this.userFlags = new Uint8Array(userProfile.length);
    for (let u = 0; u < userProfile.length; u++) {
      const profile = userProfile[u] as number;
      if (profile === NONE) continue;
      this.userFlags[u] =
        (disabled(u) ? UserFlag.disabled : 0) |
        ((profiles[profile] as Profile).systemAdministrator ? UserFlag.systemAdministrator : 0);
    }

    // Number the distinct grant objects (already interned across profiles) and their BU sets.
    const grantIndex = new Map<PrivilegeGrant, number>();
    const coverageOffset = new Map<BuCoverage, number>();
    const grants: PrivilegeGrant[] = [];
    const coverages: BuCoverage[] = [];
    this.profileGrant = new Int32Array(profiles.length * slots).fill(NONE);
    profiles.forEach((profile, p) => {
      profile.grants.forEach((grant, slot) => {
        if (grant === null) return;
        let g = grantIndex.get(grant);
        if (g === undefined) {
          g = grants.length;
          grants.push(grant);
          grantIndex.set(grant, g);
          if (grant.bus !== null && !coverageOffset.has(grant.bus)) {
            coverageOffset.set(grant.bus, coverages.length * this.buWords);
            coverages.push(grant.bus);
          }
        }
        this.profileGrant[p * slots + slot] = g;
      });
    });

    this.grantFlags = new Uint8Array(grants.length);
    this.grantBus = new Int32Array(grants.length).fill(NONE);
    this.grantTeamStart = new Int32Array(grants.length);
    this.grantTeamEnd = new Int32Array(grants.length);
    this.busPool = new Uint32Array(coverages.length * this.buWords);
    coverages.forEach((coverage, i) => {
      this.busPool.set(coverage.bits, i * this.buWords);
    });
    this.teamPool = new Int32Array(grants.reduce((n, g) => n + g.scopeTeams.length, 0));
    let teamAt = 0;
    grants.forEach((grant, g) => {
      this.grantFlags[g] = (grant.global ? GrantFlag.global : 0) | (grant.scopeAll ? GrantFlag.scopeAll : 0);
      if (grant.bus !== null) this.grantBus[g] = coverageOffset.get(grant.bus) as number;
      this.grantTeamStart[g] = teamAt;
      this.teamPool.set(grant.scopeTeams, teamAt);
      teamAt += grant.scopeTeams.length;
      this.grantTeamEnd[g] = teamAt;
    });
    this.grantBuSets = grants.map((g) => g.bus);
  }

  get grantCount(): number {
    return this.grantFlags.length;
  }

  get coverageCount(): number {
    return this.buWords === 0 ? 0 : this.busPool.length / this.buWords;
  }
}
