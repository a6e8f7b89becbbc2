import roaring from 'roaring';
import { GrantFlag, UserFlag } from '../compile/grant-tables.js';
import type { Evaluator } from '../evaluate/evaluator.js';
import { NONE, ORGANIZATION_PRINCIPAL } from '../ids.js';
import { tableIndex } from '../model/mutations.js';
import type { RoaringBitmap32 } from '../model/table-index.js';
import type { Table } from '../model/world-model.js';

const { RoaringBitmap32: Bitmap } = roaring;

/** What a list question's answer depends on, resolved once per call. */
export interface FilterPlan {
  /** `all`: every row (administrator, global grant); `none`: no row; `rows`: decide per row. */
  readonly kind: 'all' | 'none' | 'rows';
  readonly user: number;
  readonly grant: number;
}

/** Resolves user, table and privilege to a plan: what follows reads only the grant. */
export function planFilter(evaluator: Evaluator, user: number, table: number, privilege: number): FilterPlan {
  const flags = evaluator.userFlags[user] as number;
  if ((flags & UserFlag.disabled) !== 0) return { kind: 'none', user, grant: NONE };
  if ((flags & UserFlag.systemAdministrator) !== 0) return { kind: 'all', user, grant: NONE };
  const grant = evaluator.grantOf(user, table, privilege);
  if (grant === NONE) return { kind: 'none', user, grant };
  if ((evaluator.grantFlags(grant) & GrantFlag.global) !== 0) return { kind: 'all', user, grant };
  if (evaluator.organizationOwned[table] === 1) return { kind: 'none', user, grant };
  return { kind: 'rows', user, grant };
}

/** The principals whose ownership a plan's grant reaches, and those whose shares it makes usable. */
export interface PlanScope {
  /** The grant's scope teams, in the grant's order. */
  readonly teams: Int32Array;
  /** True when the scope is userScope(U): the user itself (and, for shares, the organization) too. */
  readonly scopeAll: boolean;
  readonly owners: number[];
  readonly shareRecipients: number[];
}

export function planScope(evaluator: Evaluator, plan: FilterPlan): PlanScope {
  const { grant, user } = plan;
  const teams = evaluator.grantTeams(grant);
  const scopeAll = (evaluator.grantFlags(grant) & GrantFlag.scopeAll) !== 0;
  return {
    teams,
    scopeAll,
    owners: scopeAll ? [user, ...teams] : [...teams],
    shareRecipients: scopeAll ? [user, ORGANIZATION_PRINCIPAL, ...teams] : [...teams],
  };
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
