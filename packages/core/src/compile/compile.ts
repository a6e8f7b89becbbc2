import { NONE, type ProfileIdx, type UserIdx } from '../ids.js';
import type { WorldModel } from '../model/world-model.js';
import { getOrCreate } from '../util/maps.js';
import { CoverageCache } from './coverage.js';
import { collectGrants } from './grants.js';
import { GrantCache, type Profile } from './profile.js';

/**
 * The compiled form the evaluator reads: a profile per distinct (BU, role assignments, teams),
 * and per principal its profile and whether it is disabled.
 */
export class CompiledWorld {
  readonly model: WorldModel;
  readonly profiles: Profile[];
  /** Profile per principal index; NONE for teams and the organization. */
  readonly userProfile: Int32Array;
  /** 1 for a disabled user, per principal index. */
  readonly disabled: Uint8Array;
  readonly coverageCount: number;
  readonly grantCount: number;

  constructor(
    model: WorldModel,
    profiles: Profile[],
    userProfile: Int32Array,
    disabled: Uint8Array,
    coverageCount: number,
    grantCount: number,
  ) {
    this.model = model;
    this.profiles = profiles;
    this.userProfile = userProfile;
    this.disabled = disabled;
    this.coverageCount = coverageCount;
    this.grantCount = grantCount;
  }
}

export function compileWorld(model: WorldModel): CompiledWorld {
  const principalCount = model.principals.length;
  const userProfile = new Int32Array(principalCount).fill(NONE);
  const disabled = new Uint8Array(principalCount);
  const profiles: Profile[] = [];
  const byKey = new Map<string, ProfileIdx>();
  const grants = new GrantCache(new CoverageCache(model));

  for (let principal = 0; principal < principalCount; principal++) {
    if (!model.isUser(principal)) continue;
    const user = principal as UserIdx;
    const profile = getOrCreate(byKey, profileKey(model, user), () => {
      profiles.push(grants.compileProfile(collectGrants(model, user), model.tables.length));
      return (profiles.length - 1) as ProfileIdx;
    });
    (profiles[profile] as Profile).userCount++;
    userProfile[user] = profile;
    disabled[user] = model.user(user).disabled ? 1 : 0;
  }
  return new CompiledWorld(model, profiles, userProfile, disabled, grants.coverageCount, grants.size);
}

/** Everything a user's grants depend on, except the user itself (userScope's "self" is checked apart). */
function profileKey(model: WorldModel, user: UserIdx): string {
  const assignments = (model.assignments.get(user) ?? []).map((a) => `${a.role}@${a.bu}`).sort();
  return `${model.principals[user]?.bu}|${assignments.join(',')}|${model.teamsOf(user).join(',')}`;
}
