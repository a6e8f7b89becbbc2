import { NONE, type ProfileIdx, type UserIdx } from '../ids.js';
import type { WorldModel } from '../model/world-model.js';
import { PRIVILEGE_COUNT } from '../privileges.js';
import { getOrCreate } from '../util/maps.js';
import { CoverageCache } from './coverage.js';
import { GrantTables } from './grant-tables.js';
import { collectGrants } from './grants.js';
import { GrantCache, type Profile } from './profile.js';

/**
 * The compiled form the evaluator reads: a profile per distinct (BU, role assignments, teams),
 * flattened into `GrantTables`.
 */
export class CompiledWorld {
  readonly model: WorldModel;
  readonly profiles: readonly Profile[];
  readonly tables: GrantTables;

  constructor(model: WorldModel, profiles: readonly Profile[], tables: GrantTables) {
    this.model = model;
    this.profiles = profiles;
    this.tables = tables;
  }
}

export function compileWorld(model: WorldModel): CompiledWorld {
  const principalCount = model.principals.length;
  const userProfile = new Int32Array(principalCount).fill(NONE);
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
    userProfile[user] = profile;
  }
  const slots = model.tables.length * PRIVILEGE_COUNT;
  const tables = new GrantTables(
    slots,
    model.businessUnits.length,
    profiles,
    userProfile,
    (u) => model.user(u as UserIdx).disabled,
  );
  return new CompiledWorld(model, profiles, tables);
}

/** Everything a user's grants depend on, except the user itself (userScope's "self" is checked apart). */
function profileKey(model: WorldModel, user: UserIdx): string {
  const assignments = (model.assignments.get(user) ?? []).map((a) => `${a.role}@${a.bu}`).sort();
  return `${model.principals[user]?.bu}|${assignments.join(',')}|${model.teamsOf(user).join(',')}`;
}
