import { GrantFlag, UserFlag } from '../compile/grant-tables.js';
import type { Evaluator } from '../evaluate/evaluator.js';
import { NONE, ORGANIZATION_PRINCIPAL } from '../ids.js';
import { PRIVILEGE_COUNT } from '../privileges.js';
import { BatchCode } from './codes.js';

/** The question "who may exercise `privilege` on this row?", with the row's owner, BU, and shares. */
export interface ReverseQuestion {
  readonly table: number;
  readonly privilege: number;
  readonly owner: number;
  readonly bu: number;
  /** (principal, rights) of the record's shares. */
  readonly shares: readonly (readonly [number, number])[];
}

/**
 * Every enabled user who may, with the `BatchCode` of the first path that grants: computed per
 * compiled profile (one BU-bit test, the owner against the grant's teams, the shares against its
 * scope), so the cost is O(profiles + users answered), not a check per user; hierarchy security
 * (per manager, not per profile) adds a pass over the managers.
 */
export function whoCanAccess(evaluator: Evaluator, profileCount: number, q: ReverseQuestion): [number, number][] {
  const usersOf = usersByProfile(evaluator.userProfile, profileCount);
  const slot = q.table * PRIVILEGE_COUNT + q.privilege;
  const bit = 1 << q.privilege;
  const answers: [number, number][] = [];
  const enabled = (user: number) => ((evaluator.userFlags[user] as number) & UserFlag.disabled) === 0;
  const everyone = (users: readonly number[], code: number) => {
    for (const user of users) if (enabled(user)) answers.push([user, code]);
  };

  for (let profile = 0; profile < profileCount; profile++) {
    const users = usersOf[profile];
    if (users === undefined) continue;
    const first = users[0] as number;
    if (((evaluator.userFlags[first] as number) & UserFlag.systemAdministrator) !== 0) {
      everyone(users, BatchCode.systemAdministrator);
      continue;
    }
    const grant = evaluator.profileGrant[profile * evaluator.slots + slot] as number;
    if (grant === NONE) continue;
    const flags = evaluator.grantFlags(grant);
    if ((flags & GrantFlag.global) !== 0) {
      everyone(users, BatchCode.role);
      continue;
    }
    if (evaluator.organizationOwned[q.table] === 1) continue;
    if ((q.bu !== NONE && evaluator.coversBu(grant, q.bu)) || inTeams(evaluator, grant, q.owner)) {
      everyone(users, BatchCode.role);
      continue;
    }
    const scopeAll = (flags & GrantFlag.scopeAll) !== 0;
    // A share to one of the grant's teams, or (userScope) to the organization, reaches every user of the profile.
    const sharedToAll = q.shares.some(
      ([principal, rights]) =>
        (rights & bit) !== 0 &&
        ((scopeAll && principal === ORGANIZATION_PRINCIPAL) || inTeams(evaluator, grant, principal)),
    );
    for (const user of users) {
      if (!enabled(user)) continue;
      if (scopeAll && q.owner === user) answers.push([user, BatchCode.role]);
      else if (sharedToAll || (scopeAll && q.shares.some(([p, rights]) => p === user && (rights & bit) !== 0))) {
        answers.push([user, BatchCode.share]);
      }
    }
  }
  // §5: managers whose subordinates own the row or hold a share of it, among those not yet answered.
  if (evaluator.hierarchyApplies[q.table] === 1) {
    const answered = new Set(answers.map(([user]) => user));
    for (let manager = 0; manager < evaluator.hierarchyStart.length; manager++) {
      if (evaluator.hierarchyStart[manager] === NONE || answered.has(manager) || !enabled(manager)) continue;
      if (!evaluator.hierarchyGate(manager, q.table, q.privilege)) continue;
      const reached =
        (q.owner !== NONE && evaluator.inHierarchy(manager, q.privilege, q.owner)) ||
        q.shares.some(
          ([principal, rights]) =>
            (rights & bit) !== 0 &&
            principal !== ORGANIZATION_PRINCIPAL &&
            evaluator.inHierarchy(manager, q.privilege, principal),
        );
      if (reached) answers.push([manager, BatchCode.hierarchy]);
    }
  }
  return answers.sort((a, b) => a[0] - b[0]);
}

function inTeams(evaluator: Evaluator, grant: number, principal: number): boolean {
  return evaluator.grantTeams(grant).includes(principal);
}

/** Users grouped by profile, in one pass over the user→profile column. */
function usersByProfile(userProfile: Int32Array, profileCount: number): (number[] | undefined)[] {
  const groups: (number[] | undefined)[] = new Array(profileCount);
  for (let user = 0; user < userProfile.length; user++) {
    const profile = userProfile[user] as number;
    if (profile === NONE) continue;
    let list = groups[profile];
    if (list === undefined) {
      list = [];
      groups[profile] = list;
    }
    list.push(user);
  }
  return groups;
}
