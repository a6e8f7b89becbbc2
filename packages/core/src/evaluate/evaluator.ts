import { GRANT_STRIDE, GrantField, GrantFlag, UserFlag } from '../compile/grant-tables.js';
import { HierarchyTables } from '../compile/hierarchy.js';
import { NONE, ORGANIZATION_PRINCIPAL } from '../ids.js';
import { ROW_STRIDE, RowField } from '../model/records.js';
import { ACCESS_RIGHT_BY_PRIVILEGE, PRIVILEGE_COUNT, Privilege } from '../privileges.js';
import { type Decision, Decisions } from './decision.js';
import type { EvaluatorState, TableState } from './state.js';

/** Which path grants: the evaluator's internal answer, mapped to a `Decision` at the edge. */
export const Path = { none: 0, role: 1, share: 2, hierarchy: 3 } as const;
export type Path = (typeof Path)[keyof typeof Path];

const ALL_RIGHTS = ACCESS_RIGHT_BY_PRIVILEGE.reduce((mask, bit) => mask | bit, 0);

/**
 * The check loop over compiled state. Every argument is a dense index already known to be valid
 * (the engine resolves and checks ids at its edge), so nothing here allocates, looks up a string
 * or throws. A row is (owner, owning BU, record index or NONE for a row the engine does not store).
 * All state is flat typed arrays (`GrantTables`): a check is a handful of array reads. The arrays
 * are public for the bulk loops in `bulk/`, which read them directly; nothing writes through them.
 */
export class Evaluator {
  readonly slots: number;
  readonly userProfile: Int32Array;
  readonly userFlags: Uint8Array;
  readonly profileGrant: Int32Array;
  /** One row of GRANT_STRIDE per grant (see `GrantField`). */
  readonly grants: Int32Array;
  readonly buPool: Int32Array;
  /** Preorder position per BU: coverage intervals are over positions. */
  readonly buPosition: Int32Array;
  readonly buAtPosition: Int32Array;
  readonly teamPool: Int32Array;
  readonly organizationOwned: Uint8Array;
  readonly tables: readonly TableState[];
  readonly buCount: number;
  /** §5, see `HierarchyTables`: 1 per table where the hierarchy path applies; per manager two runs of principals. */
  readonly hierarchyApplies: Uint8Array;
  readonly hierarchyStart: Int32Array;
  readonly hierarchyMid: Int32Array;
  readonly hierarchyEnd: Int32Array;
  readonly hierarchyPool: Int32Array;

  constructor(state: EvaluatorState) {
    this.slots = state.slots;
    this.userProfile = state.userProfile;
    this.userFlags = state.userFlags;
    this.profileGrant = state.profileGrant;
    this.grants = state.grants;
    this.buPool = state.buPool;
    this.teamPool = state.teamPool;
    this.buPosition = state.buPosition;
    this.buAtPosition = state.buAtPosition;
    this.organizationOwned = Uint8Array.from(state.tables, (table) => (table.organizationOwned ? 1 : 0));
    this.tables = state.tables;
    this.buCount = state.buCount;
    this.hierarchyApplies = state.hierarchy.applies;
    this.hierarchyStart = state.hierarchy.start;
    this.hierarchyMid = state.hierarchy.mid;
    this.hierarchyEnd = state.hierarchy.end;
    this.hierarchyPool = state.hierarchy.pool;
  }

  /** Whether `principal` is a user's index: only users have a profile. */
  isUser(principal: number): boolean {
    return principal >= 0 && principal < this.userProfile.length && (this.userProfile[principal] as number) !== NONE;
  }

  isDisabled(user: number): boolean {
    return ((this.userFlags[user] as number) & UserFlag.disabled) !== 0;
  }

  isSystemAdministrator(user: number): boolean {
    return ((this.userFlags[user] as number) & UserFlag.systemAdministrator) !== 0;
  }

  decide(user: number, table: number, privilege: number, owner: number, bu: number, record: number): Decision {
    const flags = this.userFlags[user] as number;
    if ((flags & UserFlag.disabled) !== 0) return Decisions.disabled;
    if ((flags & UserFlag.systemAdministrator) !== 0) return Decisions.systemAdministrator;
    const path = this.path(user, table, privilege, owner, bu, record);
    return path === Path.none ? Decisions.noAccess : (DECISION_OF_PATH[path] as Decision);
  }

  /** The grant of (table, privilege) for the user's profile, or NONE. */
  grantOf(user: number, table: number, privilege: number): number {
    return this.profileGrant[
      (this.userProfile[user] as number) * this.slots + table * PRIVILEGE_COUNT + privilege
    ] as number;
  }

  /** The first path (role, then share) that grants `privilege` on the row; disabled users and administrators are the caller's. */
  path(user: number, table: number, privilege: number, owner: number, bu: number, record: number): Path {
    const grant = this.grantOf(user, table, privilege);
    // No grant of (t, p): the role path fails, and so does the share path, which needs one (§3).
    if (grant === NONE) return Path.none;
    if ((this.grantFlags(grant) & GrantFlag.global) !== 0) return Path.role;
    if (this.organizationOwned[table] === 1) return Path.none;
    if (this.covers(grant, user, owner, bu)) return Path.role;
    if (record !== NONE && this.shareGrants(grant, user, table, privilege, record)) return Path.share;
    if (this.hierarchyApplies[table] === 1 && this.hierarchyGrants(user, table, privilege, owner, record)) {
      return Path.hierarchy;
    }
    return Path.none;
  }

  /** Role path only, for the create bit and `canCreate` (§3, §4). */
  roleCovers(user: number, table: number, privilege: number, owner: number, bu: number): boolean {
    const grant = this.grantOf(user, table, privilege);
    if (grant === NONE) return false;
    if ((this.grantFlags(grant) & GrantFlag.global) !== 0) return true;
    return this.organizationOwned[table] === 0 && this.covers(grant, user, owner, bu);
  }

  /** RetrievePrincipalAccess: the rights mask of all eight privileges, Dataverse bit values. */
  accessRights(user: number, table: number, owner: number, bu: number, record: number): number {
    const flags = this.userFlags[user] as number;
    if ((flags & UserFlag.disabled) !== 0) return 0;
    if ((flags & UserFlag.systemAdministrator) !== 0) return ALL_RIGHTS;
    let mask = 0;
    for (let privilege = 0; privilege < PRIVILEGE_COUNT; privilege++) {
      const granted =
        privilege === Privilege.create
          ? this.roleCovers(user, table, privilege, owner, bu)
          : this.path(user, table, privilege, owner, bu, record) !== Path.none;
      if (granted) mask |= ACCESS_RIGHT_BY_PRIVILEGE[privilege] as number;
    }
    return mask;
  }

  /** §2 covers: by BU (local/deep, compiled to intervals of preorder positions) or by ownership within the grant's scope. */
  private covers(grant: number, user: number, owner: number, bu: number): boolean {
    if (bu !== NONE && this.coversBu(grant, bu)) return true;
    return owner !== NONE && this.inScope(grant, owner, user, NONE);
  }

  grantFlags(grant: number): number {
    return this.grants[grant * GRANT_STRIDE + GrantField.flags] as number;
  }

  /** The grant's scope teams (a view into the pool, no copy). */
  grantTeams(grant: number): Int32Array {
    const row = grant * GRANT_STRIDE;
    return this.teamPool.subarray(
      this.grants[row + GrantField.teamStart] as number,
      this.grants[row + GrantField.teamEnd] as number,
    );
  }

  /** The grant's BU intervals as [lo, hi) pairs of preorder positions (a view into the pool). */
  grantBuIntervals(grant: number): Int32Array {
    const row = grant * GRANT_STRIDE;
    return this.buPool.subarray(
      this.grants[row + GrantField.buStart] as number,
      this.grants[row + GrantField.buEnd] as number,
    );
  }

  /** Whether the grant's local and deep anchors reach `bu`. */
  coversBu(grant: number, bu: number): boolean {
    const { grants, buPool } = this;
    const row = grant * GRANT_STRIDE;
    const position = this.buPosition[bu] as number;
    // The first interval sits in the grant's row: most grants have only that one.
    if (
      position >= (grants[row + GrantField.firstBuLo] as number) &&
      position < (grants[row + GrantField.firstBuHi] as number)
    ) {
      return true;
    }
    const end = grants[row + GrantField.buEnd] as number;
    for (let i = (grants[row + GrantField.buStart] as number) + 2; i < end; i += 2) {
      if (position >= (buPool[i] as number) && position < (buPool[i + 1] as number)) return true;
    }
    return false;
  }

  /** Whether `principal` is in the scope of the grant: userScope(U) (with `organization` for shares), or its teams. */
  inScope(grant: number, principal: number, user: number, organization: number): boolean {
    const { grants, teamPool } = this;
    const row = grant * GRANT_STRIDE;
    if (
      ((grants[row + GrantField.flags] as number) & GrantFlag.scopeAll) !== 0 &&
      (principal === user || principal === organization)
    ) {
      return true;
    }
    if (grants[row + GrantField.firstTeam] === principal) return true;
    const end = grants[row + GrantField.teamEnd] as number;
    for (let i = (grants[row + GrantField.teamStart] as number) + 1; i < end; i++)
      if (teamPool[i] === principal) return true;
    return false;
  }

  /**
   * §5 hierarchy path, on a table where it applies: the gate (grants of (t, read) and (t, p) at
   * any depth), then the owner, or a recipient of a share carrying p (not the organization), among
   * the principals the manager reaches at a level whose rights include p.
   */
  hierarchyGrants(manager: number, table: number, privilege: number, owner: number, record: number): boolean {
    if (!this.hierarchyGate(manager, table, privilege)) return false;
    if (owner !== NONE && this.inHierarchy(manager, privilege, owner)) return true;
    if (record === NONE) return false;
    const { rows, shareNext, sharePrincipal, shareRights } = this.tables[table] as TableState;
    const bit = 1 << privilege;
    let entry = rows[record * ROW_STRIDE + RowField.shareHead] as number;
    for (; entry !== NONE; entry = shareNext[entry] as number) {
      const principal = sharePrincipal[entry] as number;
      if (
        ((shareRights[entry] as number) & bit) !== 0 &&
        principal !== ORGANIZATION_PRINCIPAL &&
        this.inHierarchy(manager, privilege, principal)
      ) {
        return true;
      }
    }
    return false;
  }

  /** §5 gate: the manager reaches anyone, p is a hierarchy right, and it holds grants of (t, read) and (t, p). */
  hierarchyGate(manager: number, table: number, privilege: number): boolean {
    return (
      this.hierarchyStart[manager] !== NONE &&
      HierarchyTables.carries(privilege) &&
      this.grantOf(manager, table, Privilege.read) !== NONE &&
      this.grantOf(manager, table, privilege) !== NONE
    );
  }

  /** Whether the manager reaches `principal` at a level whose rights include `privilege`. */
  inHierarchy(manager: number, privilege: number, principal: number): boolean {
    const start = this.hierarchyStart[manager] as number;
    const mid = this.hierarchyMid[manager] as number;
    const pool = this.hierarchyPool;
    if (sortedHas(pool, start, mid, principal)) return true;
    // Principals reached only below level 1 carry read alone.
    return privilege === Privilege.read && sortedHas(pool, mid, this.hierarchyEnd[manager] as number, principal);
  }

  /** §3 share path: a share carrying `privilege` to a principal within the scope of the grant of (t, p). */
  shareGrants(grant: number, user: number, table: number, privilege: number, record: number): boolean {
    const { rows, shareNext, sharePrincipal, shareRights } = this.tables[table] as TableState;
    const bit = 1 << privilege;
    for (
      let entry = rows[record * ROW_STRIDE + RowField.shareHead] as number;
      entry !== NONE;
      entry = shareNext[entry] as number
    ) {
      if (
        ((shareRights[entry] as number) & bit) !== 0 &&
        this.inScope(grant, sharePrincipal[entry] as number, user, ORGANIZATION_PRINCIPAL)
      ) {
        return true;
      }
    }
    return false;
  }
}

/** Binary search of the sorted range [from, to) of `values`. */
function sortedHas(values: Int32Array, from: number, to: number, value: number): boolean {
  let low = from;
  let high = to;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const at = values[middle] as number;
    if (at === value) return true;
    if (at < value) low = middle + 1;
    else high = middle;
  }
  return false;
}

const DECISION_OF_PATH: readonly Decision[] = [
  Decisions.noAccess,
  Decisions.role,
  Decisions.share,
  Decisions.hierarchy,
];
