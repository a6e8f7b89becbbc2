import type { PrivilegeName, RoleInput, WorldInput } from '@palisade/core';

interface Row {
  owner: string;
  bu: string;
}

interface Holder {
  role: RoleInput;
  anchor: string;
  /** null: the user's own assignment (scope userScope); else the team (scope {team}). */
  team: string | null;
}

const DEPTH = { none: 0, basic: 1, local: 2, deep: 3, global: 4 } as const;

/**
 * The baseline: what a careful developer writes by hand without a compiler. Everything is indexed
 * in Maps by string id up front; each question then walks the user's roles, teams and the BU
 * parent chain. It answers semantics §3 (role and share paths, administrators, disabled users).
 */
export class MapEvaluator {
  private readonly users = new Map<string, { bu: string; disabled: boolean }>();
  private readonly teamsOf = new Map<string, string[]>();
  private readonly holders = new Map<string, Holder[]>();
  private readonly admins = new Set<string>();
  private readonly parent = new Map<string, string | null>();
  private readonly organizationTables = new Set<string>();
  private readonly rows = new Map<string, Map<string, Row>>();
  private readonly shares = new Map<string, Map<string, { principal: string; rights: Set<string> }[]>>();

  constructor(world: WorldInput) {
    const roles = new Map((world.roles ?? []).map((r) => [r.id, r]));
    const principalBu = new Map<string, string>();
    const canHoldRoles = new Set<string>();
    for (const bu of world.businessUnits ?? []) {
      this.parent.set(bu.id, bu.parentId);
      if (bu.defaultTeamId !== undefined) {
        principalBu.set(bu.defaultTeamId, bu.id);
        canHoldRoles.add(bu.defaultTeamId);
      }
    }
    const defaultTeamOf = new Map(
      (world.businessUnits ?? []).flatMap((b) => (b.defaultTeamId ? [[b.id, b.defaultTeamId]] : [])),
    );
    for (const user of world.users ?? []) {
      this.users.set(user.id, { bu: user.businessUnitId, disabled: user.disabled === true });
      principalBu.set(user.id, user.businessUnitId);
      const own = defaultTeamOf.get(user.businessUnitId);
      this.teamsOf.set(user.id, own === undefined ? [] : [own]);
    }
    for (const team of world.teams ?? []) {
      principalBu.set(team.id, team.businessUnitId);
      if (team.type !== 'access') canHoldRoles.add(team.id);
      for (const member of new Set(team.members)) this.teamsOf.get(member)?.push(team.id);
    }
    const assigned = new Map<string, { role: RoleInput; bu: string }[]>();
    for (const a of world.roleAssignments ?? []) {
      const role = roles.get(a.roleId);
      if (role === undefined) continue;
      const list = assigned.get(a.principalId) ?? [];
      list.push({ role, bu: a.businessUnitId ?? (principalBu.get(a.principalId) as string) });
      assigned.set(a.principalId, list);
    }
    for (const [user, teams] of this.teamsOf) {
      const holders: Holder[] = (assigned.get(user) ?? []).map((a) => ({ role: a.role, anchor: a.bu, team: null }));
      for (const team of teams) {
        if (!canHoldRoles.has(team)) continue;
        for (const a of assigned.get(team) ?? []) holders.push({ role: a.role, anchor: a.bu, team });
      }
      this.holders.set(user, holders);
      if (holders.some((h) => h.role.systemAdministrator === true)) this.admins.add(user);
    }
    for (const table of world.tables ?? []) {
      if (table.ownership === 'organization') this.organizationTables.add(table.name);
      this.rows.set(table.name, new Map());
      this.shares.set(table.name, new Map());
    }
    for (const r of world.records ?? []) {
      const owner = r.ownerId ?? '';
      this.rows.get(r.table)?.set(r.id, { owner, bu: r.owningBusinessUnitId ?? principalBu.get(owner) ?? '' });
    }
    for (const s of world.shares ?? []) {
      const byRecord = this.shares.get(s.table) as Map<string, { principal: string; rights: Set<string> }[]>;
      const list = byRecord.get(s.recordId) ?? [];
      list.push({ principal: s.principalId, rights: new Set(s.rights) });
      byRecord.set(s.recordId, list);
    }
  }

  check(userId: string, table: string, privilege: PrivilegeName, recordId: string): boolean {
    const user = this.users.get(userId);
    const row = this.rows.get(table)?.get(recordId);
    if (user === undefined || row === undefined)
      throw new Error(`unknown user or record: ${userId} ${table}/${recordId}`);
    if (user.disabled) return false;
    if (this.admins.has(userId)) return true;
    const teams = this.teamsOf.get(userId) as string[];
    const holders = this.holders.get(userId) as Holder[];
    const organizationOwned = this.organizationTables.has(table);
    let held = false;
    for (const h of holders) {
      const depth = DEPTH[h.role.privileges[table]?.[privilege] ?? 'none'];
      if (depth === 0) continue;
      held = true;
      if (depth === DEPTH.global) return true;
      if (organizationOwned) continue;
      if (depth === DEPTH.local && row.bu === h.anchor) return true;
      if (depth === DEPTH.deep && this.isUnder(row.bu, h.anchor)) return true;
      if (h.team === null ? row.owner === userId || teams.includes(row.owner) : row.owner === h.team) return true;
      // A `direct` team role also gives its members basic access in their own right.
      if (h.team !== null && h.role.inheritance !== 'team' && (row.owner === userId || teams.includes(row.owner)))
        return true;
    }
    if (!held || organizationOwned) return false;
    for (const share of this.shares.get(table)?.get(recordId) ?? []) {
      if (!share.rights.has(privilege)) continue;
      for (const h of holders) {
        if (DEPTH[h.role.privileges[table]?.[privilege] ?? 'none'] === 0) continue;
        const userScoped = h.team === null || h.role.inheritance !== 'team';
        if (
          userScoped &&
          (share.principal === userId || share.principal === 'organization' || teams.includes(share.principal))
        ) {
          return true;
        }
        if (share.principal === h.team) return true;
      }
    }
    return false;
  }

  private isUnder(bu: string, anchor: string): boolean {
    for (let at: string | null | undefined = bu; at != null; at = this.parent.get(at)) if (at === anchor) return true;
    return false;
  }
}
