import roaring from 'roaring';
import { GrantFlag, UserFlag } from '../compile/grant-tables.js';
import { HierarchyTables } from '../compile/hierarchy.js';
import type { Evaluator } from '../evaluate/evaluator.js';
import { NONE, ORGANIZATION_PRINCIPAL } from '../ids.js';
import { tableIndex } from '../model/mutations.js';
import type { RoaringBitmap32 } from '../model/table-index.js';
import type { Table } from '../model/world-model.js';
import { Privilege } from '../privileges.js';

const { RoaringBitmap32: Bitmap } = roaring;
const EMPTY = new Int32Array(0);

/** What a list question's answer depends on, resolved once per call. */
export interface FilterPlan {
  /** `all`: every row (administrator, global grant); `none`: no row; `rows`: decide per row. */
  readonly kind: 'all' | 'none' | 'rows';
  readonly user: number;
  readonly grant: number;
  readonly table: number;
  readonly privilege: number;
}

/** Resolves user, table and privilege to a plan: what follows reads only the grant. */
export function planFilter(evaluator: Evaluator, user: number, table: number, privilege: number): FilterPlan {
  const flags = evaluator.userFlags[user] as number;
  const plan = (kind: FilterPlan['kind'], grant: number): FilterPlan => ({ kind, user, grant, table, privilege });
  if ((flags & UserFlag.disabled) !== 0) return plan('none', NONE);
  if ((flags & UserFlag.systemAdministrator) !== 0) return plan('all', NONE);
  const grant = evaluator.grantOf(user, table, privilege);
  // No grant of (t, p): no role or share path, and the hierarchy gate fails too.
  if (grant === NONE) return plan('none', grant);
  if ((evaluator.grantFlags(grant) & GrantFlag.global) !== 0) return plan('all', grant);
  if (evaluator.organizationOwned[table] === 1) return plan('none', grant);
  return plan('rows', grant);
}

/** The BUs a grant's local and deep anchors cover (its intervals of preorder positions, unrolled). */
export function coveredBus(evaluator: Evaluator, grant: number): number[] {
  const intervals = evaluator.grantBuIntervals(grant);
  const bus: number[] = [];
  for (let i = 0; i < intervals.length; i += 2) {
    for (let position = intervals[i] as number; position < (intervals[i + 1] as number); position++) {
      bus.push(evaluator.buAtPosition[position] as number);
    }
  }
  return bus;
}

/** The principals whose ownership a plan's grant reaches, and those whose shares it makes usable. */
export interface PlanScope {
  /** The grant's scope teams, in the grant's order. */
  readonly teams: Int32Array;
  /** True when the scope is userScope(U): the user itself (and, for shares, the organization) too. */
  readonly scopeAll: boolean;
  /** §5: the principals hierarchy security reaches for this privilege (empty when it does not apply). */
  readonly hierarchy: Int32Array;
  readonly owners: number[];
  readonly shareRecipients: number[];
}

export function planScope(evaluator: Evaluator, plan: FilterPlan): PlanScope {
  const { grant, user } = plan;
  const teams = evaluator.grantTeams(grant);
  const scopeAll = (evaluator.grantFlags(grant) & GrantFlag.scopeAll) !== 0;
  const hierarchy = hierarchyReach(evaluator, plan);
  return {
    teams,
    scopeAll,
    hierarchy,
    owners: [...new Set([...(scopeAll ? [user] : []), ...teams, ...hierarchy])],
    // Hierarchy principals take shares with the privilege too (never organization-wide ones: they hold none).
    shareRecipients: [...new Set([...(scopeAll ? [user, ORGANIZATION_PRINCIPAL] : []), ...teams, ...hierarchy])],
  };
}

/** §5: the principals through which the plan's user reaches rows by hierarchy for the plan's privilege. */
function hierarchyReach(evaluator: Evaluator, plan: FilterPlan): Int32Array {
  const { user, table, privilege } = plan;
  const start = evaluator.hierarchyStart[user] as number;
  if (evaluator.hierarchyApplies[table] !== 1 || start === NONE || !HierarchyTables.carries(privilege)) {
    return EMPTY;
  }
  // The gate: a grant of (t, read) besides the plan's own grant of (t, p).
  if (evaluator.grantOf(user, table, Privilege.read) === NONE) return EMPTY;
  const end = (privilege === Privilege.read ? evaluator.hierarchyEnd : evaluator.hierarchyMid)[user] as number;
  return evaluator.hierarchyPool.subarray(start, end);
}

/**
 * The stored records whose shares the plan's grant makes usable for `privilege`, or null when none.
 * May be the table index's own bitmap: read it, never change it.
 */
export function usableShares(scope: PlanScope, table: Table, privilege: number): RoaringBitmap32 | null {
  const index = tableIndex(table);
  const shared: RoaringBitmap32[] = [];
  for (const recipient of scope.shareRecipients) {
    const rows = index.sharedWith(recipient, privilege);
    if (rows !== null) shared.push(rows);
  }
  if (shared.length === 0) return null;
  return shared.length === 1 ? (shared[0] as RoaringBitmap32) : Bitmap.orMany(shared);
}
