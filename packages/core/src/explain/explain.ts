import { collectGrants, type Grant, profileInputs, type RoleSources } from '../compile/grants.js';
import { HierarchyTables } from '../compile/hierarchy.js';
import type { Decision } from '../evaluate/decision.js';
import { NONE, ORGANIZATION_PRINCIPAL, type TableIdx, type UserIdx } from '../ids.js';
import type { Table, WorldModel } from '../model/world-model.js';
import { Depth, PRIVILEGE_COUNT, Privilege, privilegeName } from '../privileges.js';
import type { PrivilegeName } from '../world/format.js';
import { buId, describeGrant, type GrantDescription, grantText, idOf, type RoleSummary } from './describe.js';

/** How a role grant reaches the record (semantics §2 `covers`). */
export type RoleMatch = 'global' | 'business-unit' | 'subtree' | 'owner';

export type ExplainPath =
  | {
      readonly kind: 'system-administrator';
      readonly role: RoleSummary;
      readonly team: string | null;
      readonly text: string;
    }
  | { readonly kind: 'role'; readonly grant: GrantDescription; readonly match: RoleMatch; readonly text: string }
  | {
      readonly kind: 'share';
      readonly principal: string;
      readonly rights: readonly PrivilegeName[];
      /** The grant of (table, privilege) whose scope holds the share's recipient, which makes the share usable. */
      readonly usableThrough: GrantDescription;
      readonly text: string;
    }
  | {
      readonly kind: 'hierarchy';
      /** The report through whom the manager reaches the record, and its level (1: direct). */
      readonly subordinate: string;
      readonly level: number;
      /** `owner`: the report or one of its teams owns the record; `share`: it is shared with one of them. */
      readonly via: 'owner' | 'share';
      readonly principal: string;
      readonly text: string;
    };

export interface Explanation {
  readonly allowed: boolean;
  readonly reason: Decision['reason'];
  readonly user: string;
  readonly table: string;
  readonly privilege: PrivilegeName;
  /** The record's id, or null for an inline row the engine does not store. */
  readonly record: string | null;
  readonly ownerId: string | null;
  readonly owningBusinessUnitId: string | null;
  /** Every path that grants: the system administrator roles alone when there are any. */
  readonly paths: readonly ExplainPath[];
  /** For a deny: what would grant, one alternative per entry. */
  readonly missing: readonly string[];
  readonly summary: string;
}

export interface ExplainQuestion {
  readonly user: UserIdx;
  /** §5: the user's subordinates that count, with their levels (empty when hierarchy security is off). */
  readonly subordinates: readonly (readonly [UserIdx, number])[];
  readonly table: number;
  readonly privilege: Privilege;
  readonly owner: number;
  readonly bu: number;
  readonly record: number;
}

/** Explains `decision` (already made by the evaluator) by walking the user's raw grants. */
export function explainDecision(
  model: WorldModel,
  decision: Decision,
  q: ExplainQuestion,
  sources: RoleSources = collectGrants(model, profileInputs(model, q.user)),
): Explanation {
  const table = model.tables[q.table] as Table;
  const privilege = privilegeName(q.privilege);
  const grants = sources.grants.filter((g) => g.table === q.table && g.privilege === q.privilege);
  const teams = new Set<number>(sources.teams);
  const disabled = model.user(q.user).disabled;

  const paths: ExplainPath[] = [];
  const administrator = disabled ? [] : administratorPaths(model, q.user, sources.teams);
  paths.push(...administrator);
  // An administrator is allowed by that alone; other grants would not change the answer.
  if (!disabled && administrator.length === 0) {
    for (const grant of grants) {
      const match = roleMatch(model, table, grant, q, teams);
      if (match === null) continue;
      const described = describeGrant(model, grant);
      paths.push({
        kind: 'role',
        grant: described,
        match,
        text: `${grantText(described)} covers it (${matchText(model, match, q)})`,
      });
    }
    if (!table.organizationOwned && q.record !== NONE) {
      table.shares.forEach(q.record as never, (principal, rights) => {
        if ((rights & (1 << q.privilege)) === 0) return;
        const through = grants.find((g) => inScope(g, principal, q.user, teams));
        if (through === undefined) return;
        const usableThrough = describeGrant(model, through);
        const who = principal === ORGANIZATION_PRINCIPAL ? 'the organization' : `\`${idOf(model, principal)}\``;
        paths.push({
          kind: 'share',
          principal: idOf(model, principal),
          rights: rightsList(rights),
          usableThrough,
          text: `shared with ${who} with ${privilege}, usable through ${grantText(usableThrough)}`,
        });
      });
    }
  }

  if (!disabled && administrator.length === 0) paths.push(...hierarchyPaths(model, table, sources, q));

  const missing = decision.allowed ? [] : missingPaths(model, table, privilege, grants, q, disabled);
  const recordId = q.record === NONE ? null : (table.records.ids[q.record] ?? null);
  const subject = `\`${idOf(model, q.user)}\` ${decision.allowed ? 'may' : 'may not'} ${privilege} ${table.name} ${
    recordId === null ? 'row' : `\`${recordId}\``
  }`;
  const first = paths[0];
  const summary = decision.allowed
    ? `${subject}: ${first === undefined ? decision.reason : first.text}`
    : `${subject}: ${decision.reason === 'disabled' ? 'the user is disabled' : `needs ${missing.join('; or ')}`}`;
  return {
    allowed: decision.allowed,
    reason: decision.reason,
    user: idOf(model, q.user),
    table: table.name,
    privilege,
    record: recordId,
    ownerId: q.owner === NONE ? null : idOf(model, q.owner),
    owningBusinessUnitId: q.bu === NONE ? null : buId(model, q.bu),
    paths,
    missing,
    summary,
  };
}

function administratorPaths(model: WorldModel, user: UserIdx, teams: readonly number[]): ExplainPath[] {
  const paths: ExplainPath[] = [];
  const holders = [user as number, ...teams.filter((t) => model.canHoldRoles(t as never))];
  for (const holder of holders) {
    for (const assignment of model.assignments.get(holder as never) ?? []) {
      const role = model.roles[assignment.role];
      if (role === undefined || !role.systemAdministrator) continue;
      const team = holder === user ? null : idOf(model, holder);
      const via = team === null ? 'assigned to the user' : `held by team \`${team}\``;
      paths.push({
        kind: 'system-administrator',
        role: { id: role.id, name: role.name },
        team,
        text: `system administrator role \`${role.name}\` ${via} allows everything`,
      });
    }
  }
  return paths;
}

function roleMatch(
  model: WorldModel,
  table: Table,
  g: Grant,
  q: ExplainQuestion,
  teams: Set<number>,
): RoleMatch | null {
  if (g.depth === Depth.global) return 'global';
  if (table.organizationOwned) return null;
  if (g.depth === Depth.deep && g.anchor !== -1 && q.bu !== NONE && model.isInSubtree(q.bu as never, g.anchor)) {
    return 'subtree';
  }
  if (g.depth === Depth.local && g.anchor === q.bu) return 'business-unit';
  if (q.owner !== NONE && inScope(g, q.owner, q.user, teams)) return 'owner';
  return null;
}

/** Whether `principal` is in the grant's scope: userScope(U) or {team} (§2). */
function inScope(g: Grant, principal: number, user: number, teams: Set<number>): boolean {
  if (g.scopeTeam !== -1) return principal === g.scopeTeam;
  return principal === user || principal === ORGANIZATION_PRINCIPAL || teams.has(principal);
}

function matchText(model: WorldModel, match: RoleMatch, q: ExplainQuestion): string {
  switch (match) {
    case 'global':
      return 'global reaches every record';
    case 'business-unit':
      return `the record is in business unit \`${buId(model, q.bu)}\``;
    case 'subtree':
      return `the record's business unit \`${buId(model, q.bu)}\` is in the anchor's subtree`;
    case 'owner':
      return `the record is owned by \`${idOf(model, q.owner)}\``;
  }
}

/** §5: one path per (report, owner or share) through which the user reaches the record at a level carrying the privilege. */
function hierarchyPaths(model: WorldModel, table: Table, sources: RoleSources, q: ExplainQuestion): ExplainPath[] {
  const { hierarchy } = model.settings;
  const t = q.table as TableIdx;
  if (!hierarchy.enabled || table.organizationOwned || hierarchy.excludedTables.includes(t)) return [];
  if (!HierarchyTables.carries(q.privilege)) return [];
  // The gate: grants of (t, read) and (t, p) at any depth.
  const holds = (p: number) => sources.grants.some((g) => g.table === q.table && g.privilege === p);
  if (!holds(Privilege.read) || !holds(q.privilege)) return [];
  const paths: ExplainPath[] = [];
  const privilege = privilegeName(q.privilege);
  for (const [subordinate, level] of q.subordinates) {
    if (level > 1 && q.privilege !== Privilege.read) continue;
    const principals = new Set<number>([subordinate, ...model.teamsOf(subordinate)]);
    const report = `via report \`${idOf(model, subordinate)}\`, level ${level}`;
    const path = (via: 'owner' | 'share', principal: number, text: string): ExplainPath => ({
      kind: 'hierarchy',
      subordinate: idOf(model, subordinate),
      level,
      via,
      principal: idOf(model, principal),
      text: `${report}: ${text}`,
    });
    if (q.owner !== NONE && principals.has(q.owner)) {
      const who = q.owner === subordinate ? 'who owns it' : `a member of owner \`${idOf(model, q.owner)}\``;
      paths.push(path('owner', q.owner, who));
    }
    if (q.record === NONE) continue;
    table.shares.forEach(q.record as never, (principal, rights) => {
      if ((rights & (1 << q.privilege)) === 0 || !principals.has(principal)) return;
      paths.push(path('share', principal, `shared with \`${idOf(model, principal)}\` with ${privilege}`));
    });
  }
  return paths;
}

function missingPaths(
  model: WorldModel,
  table: Table,
  privilege: PrivilegeName,
  grants: readonly Grant[],
  q: ExplainQuestion,
  disabled: boolean,
): string[] {
  const on = `\`${privilege}\` on \`${table.name}\``;
  if (disabled) return ['an enabled user (disabled users are denied everything)'];
  if (grants.length === 0) {
    return [`a role granting ${on} (the user holds none, and without one shares are unusable too)`];
  }
  if (table.organizationOwned) return [`${on} at global (organization-owned tables are covered only by global grants)`];

  const alternatives: string[] = [];
  const ancestors: string[] = [];
  for (let at = model.businessUnits[q.bu]?.parent ?? -1; at !== -1; at = model.businessUnits[at]?.parent ?? -1) {
    ancestors.push(`\`${buId(model, at)}\``);
  }
  const recordBu = `\`${buId(model, q.bu)}\``;
  const deepFrom = ancestors.length === 0 ? recordBu : `${recordBu} or an ancestor (${ancestors.join(', ')})`;
  alternatives.push(`${on} at local from business unit ${recordBu}, at deep from ${deepFrom}, or at global`);

  const userScoped = grants.some((g) => g.scopeTeam === -1);
  const scopeTeams = [
    ...new Set(grants.filter((g) => g.scopeTeam !== -1).map((g) => `\`${idOf(model, g.scopeTeam)}\``)),
  ];
  const owners = userScoped ? 'the user or one of its teams' : `team ${scopeTeams.join(' or ')}`;
  alternatives.push(`the record owned by ${owners} (it is owned by \`${idOf(model, q.owner)}\`)`);

  const recipients = userScoped ? 'the user, one of its teams or the organization' : `team ${scopeTeams.join(' or ')}`;
  alternatives.push(
    q.record === NONE
      ? `a share with ${privilege} (an inline row the engine does not store has no shares)`
      : `a share with ${privilege} to ${recipients}`,
  );
  return alternatives;
}

function rightsList(mask: number): PrivilegeName[] {
  const names: PrivilegeName[] = [];
  for (let p = 0; p < PRIVILEGE_COUNT; p++) if ((mask & (1 << p)) !== 0) names.push(privilegeName(p as Privilege));
  return names;
}
