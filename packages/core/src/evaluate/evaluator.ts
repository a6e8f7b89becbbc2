import type { CompiledWorld } from '../compile/compile.js';
import type { PrivilegeGrant, Profile } from '../compile/profile.js';
import { NONE, ORGANIZATION_PRINCIPAL } from '../ids.js';
import type { ShareStore } from '../model/shares.js';
import { ACCESS_RIGHT_BY_PRIVILEGE, PRIVILEGE_COUNT, Privilege } from '../privileges.js';
import { bitsetHas } from '../util/bitset.js';
import { type Decision, Decisions } from './decision.js';

/** Which path grants: the evaluator's internal answer, mapped to a `Decision` at the edge. */
export const Path = { none: 0, role: 1, share: 2 } as const;
export type Path = (typeof Path)[keyof typeof Path];

const ALL_RIGHTS = ACCESS_RIGHT_BY_PRIVILEGE.reduce((mask, bit) => mask | bit, 0);

/**
 * The check loop over compiled state. Every argument is a dense index already known to be valid
 * (the engine resolves and checks ids at its edge), so nothing here allocates, looks up a string
 * or throws. A row is (owner, owning BU, record index or NONE for a row the engine does not store).
 */
export class Evaluator {
  private readonly profiles: Profile[];
  private readonly userProfile: Int32Array;
  private readonly disabled: Uint8Array;
  private readonly organizationOwned: Uint8Array;
  private readonly shares: ShareStore[];

  constructor(compiled: CompiledWorld) {
    this.profiles = compiled.profiles;
    this.userProfile = compiled.userProfile;
    this.disabled = compiled.disabled;
    this.organizationOwned = Uint8Array.from(compiled.model.tables, (t) => (t.organizationOwned ? 1 : 0));
    this.shares = compiled.model.tables.map((t) => t.shares);
  }

  profileOf(user: number): Profile {
    return this.profiles[this.userProfile[user] as number] as Profile;
  }

  /** Whether `principal` is a user's index: only users have a profile. */
  isUser(principal: number): boolean {
    return principal >= 0 && principal < this.userProfile.length && (this.userProfile[principal] as number) !== NONE;
  }

  isDisabled(user: number): boolean {
    return this.disabled[user] === 1;
  }

  decide(user: number, table: number, privilege: number, owner: number, bu: number, record: number): Decision {
    if (this.disabled[user] === 1) return Decisions.disabled;
    const profile = this.profileOf(user);
    if (profile.systemAdministrator) return Decisions.systemAdministrator;
    const path = this.path(profile, user, table, privilege, owner, bu, record);
    return path === Path.role ? Decisions.role : path === Path.share ? Decisions.share : Decisions.noAccess;
  }

  /** The first path (role, then share) that grants `privilege` on the row; system administrators and disabled users are the caller's. */
  path(
    profile: Profile,
    user: number,
    table: number,
    privilege: number,
    owner: number,
    bu: number,
    record: number,
  ): Path {
    const grant = profile.grants[table * PRIVILEGE_COUNT + privilege] as PrivilegeGrant | null;
    // No grant of (t, p): the role path fails, and so does the share path, which needs one (§3).
    if (grant === null) return Path.none;
    if (grant.global) return Path.role;
    if (this.organizationOwned[table] === 1) return Path.none;
    if (roleCovers(grant, user, owner, bu)) return Path.role;
    if (record !== NONE && this.shareGrants(grant, user, table, privilege, record)) return Path.share;
    return Path.none;
  }

  /** Role path only, for the create bit and `canCreate` (§3, §4). */
  roleCovers(profile: Profile, user: number, table: number, privilege: number, owner: number, bu: number): boolean {
    const grant = profile.grants[table * PRIVILEGE_COUNT + privilege] as PrivilegeGrant | null;
    if (grant === null) return false;
    if (grant.global) return true;
    return this.organizationOwned[table] === 0 && roleCovers(grant, user, owner, bu);
  }

  /** RetrievePrincipalAccess: the rights mask of all eight privileges, Dataverse bit values. */
  accessRights(user: number, table: number, owner: number, bu: number, record: number): number {
    if (this.disabled[user] === 1) return 0;
    const profile = this.profileOf(user);
    if (profile.systemAdministrator) return ALL_RIGHTS;
    let mask = 0;
    for (let privilege = 0; privilege < PRIVILEGE_COUNT; privilege++) {
      const granted =
        privilege === Privilege.create
          ? this.roleCovers(profile, user, table, privilege, owner, bu)
          : this.path(profile, user, table, privilege, owner, bu, record) !== Path.none;
      if (granted) mask |= ACCESS_RIGHT_BY_PRIVILEGE[privilege] as number;
    }
    return mask;
  }

  /** §3 share path: a share carrying `privilege` to a principal within the scope of some grant of (t, p). */
  private shareGrants(grant: PrivilegeGrant, user: number, table: number, privilege: number, record: number): boolean {
    const shares = this.shares[table] as ShareStore;
    if (record >= shares.head.length) return false;
    const bit = 1 << privilege;
    for (let entry = shares.head[record] as number; entry !== NONE; entry = shares.next[entry] as number) {
      if (
        ((shares.rights[entry] as number) & bit) !== 0 &&
        grant.inScope(shares.principal[entry] as number, user, ORGANIZATION_PRINCIPAL)
      ) {
        return true;
      }
    }
    return false;
  }
}

/** §2 covers: by BU (local/deep, precompiled into `buBits`) or by ownership within the grant's scope. */
function roleCovers(grant: PrivilegeGrant, user: number, owner: number, bu: number): boolean {
  const bits = grant.buBits;
  if (bits !== null && bu !== NONE && bitsetHas(bits, bu)) return true;
  return owner !== NONE && grant.inScope(owner, user, NONE);
}
