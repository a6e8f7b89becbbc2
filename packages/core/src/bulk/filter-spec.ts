import type { GrantTables } from '../compile/grant-tables.js';
import type { Evaluator } from '../evaluate/evaluator.js';
import type { Table, WorldModel } from '../model/world-model.js';
import { type FilterPlan, planScope, usableShares } from './plan.js';

/**
 * An access decision for one (user, table, privilege) as data, to push into a database query:
 * a row is allowed iff `all`, or its owning BU is in `businessUnitIds`, or its owner is in
 * `ownerIds`, or its id is in `sharedRecordIds`. Ids are the world's string ids.
 */
export interface FilterSpec {
  /** Every row of the table is allowed (a global grant, or a system administrator). */
  readonly all: boolean;
  readonly businessUnitIds: readonly string[];
  readonly ownerIds: readonly string[];
  readonly sharedRecordIds: readonly string[];
}

/** Column names of the table the SQL fragment filters. */
export interface SqlColumns {
  /** default `owningbusinessunit` */
  readonly owningBusinessUnit?: string;
  /** default `ownerid` */
  readonly owner?: string;
  /** default `id` */
  readonly id?: string;
}

/** A parameterized PostgreSQL boolean expression and its parameters ($first, $first+1, …). */
export interface SqlFilter {
  readonly sql: string;
  readonly params: string[][];
}

/** Quotes an identifier for PostgreSQL, schema-qualified names included (`a.b` → `"a"."b"`). */
function quoteIdentifier(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join('.');
}

/**
 * Renders `spec` as a parameterized PostgreSQL `WHERE` fragment, e.g.
 * `("owningbusinessunit" = ANY($1::text[]) OR "ownerid" = ANY($2::text[]))`. Empty lists are left
 * out; nothing allowed renders `FALSE`, everything `TRUE`. Values travel only as parameters.
 */
export function toSqlWhere(spec: FilterSpec, columns: SqlColumns = {}, firstParameter = 1): SqlFilter {
  if (spec.all) return { sql: 'TRUE', params: [] };
  const parts: string[] = [];
  const params: string[][] = [];
  const add = (column: string, values: readonly string[]) => {
    if (values.length === 0) return;
    params.push([...values]);
    parts.push(`${quoteIdentifier(column)} = ANY($${firstParameter + params.length - 1}::text[])`);
  };
  add(columns.owningBusinessUnit ?? 'owningbusinessunit', spec.businessUnitIds);
  add(columns.owner ?? 'ownerid', spec.ownerIds);
  add(columns.id ?? 'id', spec.sharedRecordIds);
  if (parts.length === 0) return { sql: 'FALSE', params: [] };
  return { sql: parts.length === 1 ? (parts[0] as string) : `(${parts.join(' OR ')})`, params };
}

/** The spec of a plan: the same three sets `filter` tests, as the world's ids. */
export function buildFilterSpec(
  evaluator: Evaluator,
  tables: GrantTables,
  model: WorldModel,
  plan: FilterPlan,
  table: Table,
  privilege: number,
): FilterSpec {
  if (plan.kind !== 'rows') return { all: plan.kind === 'all', businessUnitIds: [], ownerIds: [], sharedRecordIds: [] };
  const coverage = tables.grantBuSets[plan.grant];
  const businessUnitIds =
    coverage == null ? [] : Array.from(coverage.set, (bu) => model.businessUnits[bu]?.id as string);
  const scope = planScope(evaluator, plan);
  const ownerIds = scope.owners.map((owner) => model.principals[owner]?.id as string);
  const rows = usableShares(scope, table, privilege)?.toUint32Array() ?? [];
  const sharedRecordIds = Array.from(rows, (row) => table.records.ids[row] as string);
  return { all: false, businessUnitIds, ownerIds, sharedRecordIds };
}
