/**
 * The reference evaluator: an independent, deliberately plain oracle for the access semantics of
 * shared/spec/semantics.md. Every question is answered from the raw `WorldInput` by walking arrays;
 * nothing is cached, indexed or precomputed. The compiled engine is tested against it.
 *
 * The world is assumed valid (it passed the loader). Bad arguments throw a plain `Error` whose
 * message starts with `unknown user`, `unknown table`, `unknown record`, `unknown principal`,
 * `unknown business unit`, `unknown privilege`, `invalid owner` or `invalid share right`.
 */
import type {
  BusinessUnitInput,
  ColumnPermission,
  DepthName,
  FieldRight,
  PrivilegeName,
  RoleInput,
  ShareInput,
  ShareRight,
  TableInput,
  TeamInput,
  UserInput,
  WorldInput,
} from '../../src/world/format.js';
import { ACCESS_RIGHT_BITS, ORGANIZATION, PRIVILEGES } from '../../src/world/format.js';

export type RefPath = 'system-administrator' | 'role' | 'share' | 'hierarchy';

export interface RefDecision {
  allowed: boolean;
  /** `system-administrator` | `role` | `share` | `hierarchy` | `disabled` | `no-access` | `missing-privilege` | … */
  reason: string;
  /** Every path that grants (docs/decisions.md); empty when denied. */
  paths: RefPath[];
  /** The first missing privilege when `reason` is `missing-privilege`, otherwise null. */
  missing: string | null;
}

/** A row the engine might not store. Shares are looked up by `id` when it is given. */
export interface InlineRecord {
  id?: string;
  ownerId?: string;
  owningBusinessUnitId?: string;
}

export type RecordRef = string | InlineRecord;

export interface ColumnAccess {
  read: boolean;
  create: boolean;
  update: boolean;
}

/** A grant of semantics.md §2: `(table, privilege, depth, anchorBU, scope)`. */
export interface Grant {
  table: string;
  privilege: PrivilegeName;
  /** Never `none`: depth `none` in a role means no grant. */
  depth: Exclude<DepthName, 'none'>;
  /** null for the `-` anchor of the `basic` grant that `direct` inheritance adds. */
  anchorBU: string | null;
  /** Principal ids (users, teams, `organization`). */
  scope: string[];
}

/** The seven share rights in the fixed order of docs/decisions.md (canShare step 6). */
export const SHARE_RIGHTS: readonly ShareRight[] = ['read', 'write', 'delete', 'append', 'appendTo', 'assign', 'share'];

/** What the rules need to know of a record (stored or inline). */
interface RecordView {
  table: TableInput;
  /** Used to find shares and field shares; null for an inline record without an id. */
  id: string | null;
  /** null on organization-owned tables. */
  ownerId: string | null;
  /** null on organization-owned tables. */
  owningBusinessUnitId: string | null;
}

interface Subordinate {
  user: UserInput;
  level: number;
}

/** §1: depths are ordered none < basic < local < deep < global. */
function depthRank(depth: DepthName): number {
  return ['none', 'basic', 'local', 'deep', 'global'].indexOf(depth);
}

function allow(paths: RefPath[]): RefDecision {
  const first = paths[0];
  if (first === undefined) throw new Error('allow() needs at least one path');
  return { allowed: true, reason: first, paths, missing: null };
}

function deny(reason: string, missing: string | null = null): RefDecision {
  return { allowed: false, reason, paths: [], missing };
}

export class ReferenceEvaluator {
  private readonly world: WorldInput;

  constructor(world: WorldInput) {
    this.world = world;
  }

  // ---------------------------------------------------------------------------------------------
  // Public API
  // ---------------------------------------------------------------------------------------------

  /** §3: may `userId` perform `privilege` on the record? */
  decide(userId: string, tableName: string, privilege: PrivilegeName, record: RecordRef): RefDecision {
    const user = this.requireUser(userId);
    const table = this.requireTable(tableName);
    this.requirePrivilege(privilege);
    const view = this.resolveRecord(table, record);
    return this.decideOn(user, view, privilege);
  }

  /** §3: the RetrievePrincipalAccess mask, with Dataverse's bit values. */
  accessRights(userId: string, tableName: string, record: RecordRef): number {
    const user = this.requireUser(userId);
    const table = this.requireTable(tableName);
    const view = this.resolveRecord(table, record);
    let mask = 0;
    for (const privilege of PRIVILEGES) {
      const held = privilege === 'create' ? this.createBit(user, view) : this.decideOn(user, view, privilege).allowed;
      if (held) mask |= ACCESS_RIGHT_BITS[privilege];
    }
    return mask;
  }

  /** §4 and docs/decisions.md: create a record owned by `ownerId` (default: the user) in `businessUnitId`. */
  canCreate(userId: string, tableName: string, ownerId?: string | null, businessUnitId?: string | null): RefDecision {
    // 1. bad input
    const user = this.requireUser(userId);
    const table = this.requireTable(tableName);
    let prospective: RecordView;
    if (table.ownership === 'organization') {
      // §4: on an organization-owned table any owner or BU given is ignored (not even validated).
      prospective = { table, id: null, ownerId: null, owningBusinessUnitId: null };
    } else {
      const owner = ownerId ?? user.id;
      this.requireOwner(owner);
      const bu = businessUnitId ?? this.principalBusinessUnit(owner);
      this.requireBusinessUnit(bu);
      prospective = { table, id: null, ownerId: owner, owningBusinessUnitId: bu };
    }
    // 2. disabled
    if (this.isDisabled(user)) return deny('disabled');
    // 5. system administrator
    if (this.isSystemAdministrator(user)) return allow(['system-administrator']);
    // 6. create, read: role path only, on the prospective record
    for (const privilege of ['create', 'read'] as const) {
      if (!this.rolePath(user, prospective, privilege)) return deny('missing-privilege', privilege);
    }
    return allow(['role']);
  }

  /** §4 and docs/decisions.md: assign the record to `newOwnerId` (optional: without it no recipient checks). */
  canAssign(userId: string, tableName: string, record: RecordRef, newOwnerId?: string): RefDecision {
    // 1. bad input
    const user = this.requireUser(userId);
    const table = this.requireTable(tableName);
    const view = this.resolveRecord(table, record);
    if (newOwnerId !== undefined) this.requireOwner(newOwnerId);
    // 2. disabled
    if (this.isDisabled(user)) return deny('disabled');
    // 3. organization-owned
    if (table.ownership === 'organization') return deny('organization-owned');
    // 4. recipient disabled
    if (newOwnerId !== undefined) {
      const recipient = this.findUser(newOwnerId);
      if (recipient !== undefined && this.isDisabled(recipient)) return deny('recipient-disabled');
    }
    // 5. system administrator
    if (this.isSystemAdministrator(user)) return allow(['system-administrator']);
    // 6. assign, write, read (every path)
    return this.requirePrivileges(user, view, ['assign', 'write', 'read']);
  }

  /** §4 and docs/decisions.md: share the record with `rights`. */
  canShare(userId: string, tableName: string, record: RecordRef, rights: string[]): RefDecision {
    // 1. bad input
    const user = this.requireUser(userId);
    const table = this.requireTable(tableName);
    const view = this.resolveRecord(table, record);
    for (const right of rights) {
      if (!(SHARE_RIGHTS as readonly string[]).includes(right)) throw new Error(`invalid share right: ${right}`);
    }
    // 2. disabled
    if (this.isDisabled(user)) return deny('disabled');
    // 3. organization-owned
    if (table.ownership === 'organization') return deny('organization-owned');
    // 5. system administrator
    if (this.isSystemAdministrator(user)) return allow(['system-administrator']);
    // 6. share, read, then each requested right in the fixed order (§7.2: a sharer must hold each right)
    const requested = SHARE_RIGHTS.filter((right) => rights.includes(right));
    return this.requirePrivileges(user, view, ['share', 'read', ...requested]);
  }

  /** §4 and docs/decisions.md: associate child record to parent record. */
  canAssociate(
    userId: string,
    childTableName: string,
    child: RecordRef,
    parentTableName: string,
    parent: RecordRef,
  ): RefDecision {
    // 1. bad input
    const user = this.requireUser(userId);
    const childView = this.resolveRecord(this.requireTable(childTableName), child);
    const parentView = this.resolveRecord(this.requireTable(parentTableName), parent);
    // 2. disabled
    if (this.isDisabled(user)) return deny('disabled');
    // 5. system administrator
    if (this.isSystemAdministrator(user)) return allow(['system-administrator']);
    // 6. append on the child, then appendTo on the parent; the reason is the first privilege's
    const onChild = this.decideOn(user, childView, 'append');
    if (!onChild.allowed) return deny('missing-privilege', 'append');
    const onParent = this.decideOn(user, parentView, 'appendTo');
    if (!onParent.allowed) return deny('missing-privilege', 'appendTo');
    return { ...onChild };
  }

  /** §6: may the user read / create / update `column` of the record? */
  columnAccess(userId: string, tableName: string, record: RecordRef, column: string): ColumnAccess {
    const user = this.requireUser(userId);
    const table = this.requireTable(tableName);
    const view = this.resolveRecord(table, record);
    // The matching record privileges: read → read, create → the create bit (§3), update → write.
    const recordAccess: ColumnAccess = {
      read: this.decideOn(user, view, 'read').allowed,
      create: this.createBit(user, view),
      update: this.decideOn(user, view, 'write').allowed,
    };
    // §6: unsecured columns follow record access.
    if (!(table.securedColumns ?? []).includes(column)) return recordAccess;
    return {
      read: recordAccess.read && this.columnPermitted(user, view, column, 'read'),
      create: recordAccess.create && this.columnPermitted(user, view, column, 'create'),
      update: recordAccess.update && this.columnPermitted(user, view, column, 'update'),
    };
  }

  /** §2: every grant of (table, privilege) the user holds (exposed for tests and debugging). */
  grants(userId: string, tableName: string, privilege: PrivilegeName): Grant[] {
    const user = this.requireUser(userId);
    this.requireTable(tableName);
    this.requirePrivilege(privilege);
    return this.grantsOf(user, tableName, privilege);
  }

  // ---------------------------------------------------------------------------------------------
  // §3: the decision
  // ---------------------------------------------------------------------------------------------

  private decideOn(user: UserInput, record: RecordView, privilege: PrivilegeName): RefDecision {
    // §3.1: a disabled user is denied everything, system administrators included.
    if (this.isDisabled(user)) return deny('disabled');
    // §3.2: a system administrator may do everything.
    if (this.isSystemAdministrator(user)) return allow(['system-administrator']);
    const paths: RefPath[] = [];
    if (record.table.ownership === 'organization') {
      // §3.3: organization-owned table: a global grant of (t, p).
      if (this.rolePath(user, record, privilege)) paths.push('role');
    } else {
      // §3.4: the union of role, share and hierarchy paths (in the order of docs/decisions.md).
      if (this.rolePath(user, record, privilege)) paths.push('role');
      if (this.sharePath(user, record, privilege)) paths.push('share');
      if (this.hierarchyPath(user, record, privilege)) paths.push('hierarchy');
    }
    return paths.length > 0 ? allow(paths) : deny('no-access');
  }

  /** §3.3 / §3.4 role path: some grant of (t, p) covers the record (org-owned: some grant is global). */
  private rolePath(user: UserInput, record: RecordView, privilege: PrivilegeName): boolean {
    const grants = this.grantsOf(user, record.table.name, privilege);
    if (record.table.ownership === 'organization') return grants.some((grant) => grant.depth === 'global');
    return grants.some((grant) => this.covers(grant, record));
  }

  /**
   * §3.4 share path: the record is shared, with right p, with a principal X ∈ userScope(U), and U
   * holds a grant of (t, p) whose scope contains X.
   */
  private sharePath(user: UserInput, record: RecordView, privilege: PrivilegeName): boolean {
    const scope = this.userScope(user);
    const grants = this.grantsOf(user, record.table.name, privilege);
    for (const share of this.sharesOf(record)) {
      if (!(share.rights as readonly string[]).includes(privilege)) continue;
      const recipient = share.principalId;
      if (!scope.includes(recipient)) continue;
      if (grants.some((grant) => grant.scope.includes(recipient))) return true;
    }
    return false;
  }

  /** §3: the create bit of the mask: role path only, on a record with this record's owner and BU. */
  private createBit(user: UserInput, record: RecordView): boolean {
    if (this.isDisabled(user)) return false;
    if (this.isSystemAdministrator(user)) return true;
    return this.rolePath(user, record, 'create');
  }

  /** Composite step 6: the first lacking privilege is `missing`; else the first privilege's decision. */
  private requirePrivileges(user: UserInput, record: RecordView, privileges: PrivilegeName[]): RefDecision {
    let first: RefDecision | undefined;
    for (const privilege of privileges) {
      const decision = this.decideOn(user, record, privilege);
      if (!decision.allowed) return deny('missing-privilege', privilege);
      if (first === undefined) first = decision;
    }
    if (first === undefined) throw new Error('requirePrivileges() needs at least one privilege');
    return { ...first };
  }

  // ---------------------------------------------------------------------------------------------
  // §2: grants and covers
  // ---------------------------------------------------------------------------------------------

  /**
   * §2: `userScope(U)` = { U } ∪ every team U is a member of (owner, group, default and access
   * teams) ∪ { organization }.
   */
  private userScope(user: UserInput): string[] {
    return [user.id, ...this.teamsOf(user), ORGANIZATION];
  }

  /**
   * Every team the user is a member of: listed teams naming the user, plus the named default team
   * of the user's BU (§1: default team members are exactly the users of that BU). Default teams
   * without a `defaultTeamId` are no principal: nothing can refer to them, so they are left out.
   */
  private teamsOf(user: UserInput): string[] {
    const teams: string[] = [];
    for (const team of this.world.teams ?? []) {
      if (team.members.includes(user.id)) teams.push(team.id);
    }
    const bu = this.findBusinessUnit(user.businessUnitId);
    if (bu?.defaultTeamId !== undefined) teams.push(bu.defaultTeamId);
    return teams;
  }

  /** §1: only users, owner teams (including default teams) and group teams hold roles. */
  private canHoldRoles(teamId: string): boolean {
    const team = this.findTeam(teamId);
    if (team !== undefined) return team.type === 'owner' || team.type === 'group';
    return this.findBusinessUnitByDefaultTeam(teamId) !== undefined;
  }

  /** §2's table: the grants of (table, privilege) the user holds through every role it holds. */
  private grantsOf(user: UserInput, tableName: string, privilege: PrivilegeName): Grant[] {
    const grants: Grant[] = [];
    const teams = this.teamsOf(user);
    for (const assignment of this.world.roleAssignments ?? []) {
      const role = this.findRole(assignment.roleId);
      if (role === undefined) continue;
      const depth = own(own(role.privileges, tableName), privilege) ?? 'none';
      if (depth === 'none') continue; // depth none: no grant
      if (assignment.principalId === user.id) {
        // role assigned to U (from BU b, default U's BU): (t, p, d, b, userScope(U))
        const anchorBU = assignment.businessUnitId ?? user.businessUnitId;
        grants.push({ table: tableName, privilege, depth, anchorBU, scope: this.userScope(user) });
      } else if (teams.includes(assignment.principalId) && this.canHoldRoles(assignment.principalId)) {
        // role on owner/group/default team T: (t, p, d, T.bu, {T}); the anchor is always the team's BU
        const teamId = assignment.principalId;
        grants.push({
          table: tableName,
          privilege,
          depth,
          anchorBU: this.principalBusinessUnit(teamId),
          scope: [teamId],
        });
        // inheritance `direct` (the default) adds (t, p, basic, -, userScope(U))
        if ((role.inheritance ?? 'direct') === 'direct') {
          grants.push({ table: tableName, privilege, depth: 'basic', anchorBU: null, scope: this.userScope(user) });
        }
      }
    }
    return grants;
  }

  /** §2: does grant g cover record r? */
  private covers(grant: Grant, record: RecordView): boolean {
    if (grant.depth === 'global') return true;
    const owningBU = record.owningBusinessUnitId;
    if (grant.depth === 'deep' && grant.anchorBU !== null && owningBU !== null) {
      if (this.isDescendantOrSelf(owningBU, grant.anchorBU)) return true;
    }
    if (grant.depth === 'local' && grant.anchorBU !== null && owningBU === grant.anchorBU) return true;
    // ownership ignores business units entirely
    if (depthRank(grant.depth) >= depthRank('basic') && record.ownerId !== null) {
      if (grant.scope.includes(record.ownerId)) return true;
    }
    return false;
  }

  /** Walks the BU tree by parentId: is `buId` the BU `ancestorId` or one of its descendants? */
  private isDescendantOrSelf(buId: string, ancestorId: string): boolean {
    let current: string | null = buId;
    let steps = 0;
    while (current !== null) {
      if (current === ancestorId) return true;
      current = this.findBusinessUnit(current)?.parentId ?? null;
      if (++steps > (this.world.businessUnits ?? []).length) break; // a valid world has no cycle
    }
    return false;
  }

  /** §3.2: a system administrator role held directly or through a team the user is a member of. */
  private isSystemAdministrator(user: UserInput): boolean {
    const holders = [user.id, ...this.teamsOf(user).filter((teamId) => this.canHoldRoles(teamId))];
    for (const assignment of this.world.roleAssignments ?? []) {
      if (!holders.includes(assignment.principalId)) continue;
      if (this.findRole(assignment.roleId)?.systemAdministrator === true) return true;
    }
    return false;
  }

  private isDisabled(user: UserInput): boolean {
    return user.disabled === true;
  }

  /** The share rows of the record (by table and id); several rows for one principal union (§7.3). */
  private sharesOf(record: RecordView): ShareInput[] {
    if (record.id === null) return [];
    const shares: ShareInput[] = [];
    for (const share of this.world.shares ?? []) {
      if (share.table === record.table.name && share.recordId === record.id) shares.push(share);
    }
    return shares;
  }

  // ---------------------------------------------------------------------------------------------
  // §5: hierarchy security
  // ---------------------------------------------------------------------------------------------

  private hierarchySettings(): {
    enabled: boolean;
    model: 'manager' | 'position';
    depth: number;
    managersMustBeInSameOrParentBusinessUnit: boolean;
    excludedTables: string[];
  } {
    const h = this.world.settings?.hierarchy ?? {};
    return {
      enabled: h.enabled ?? false,
      model: h.model ?? 'manager',
      depth: h.depth ?? 3,
      managersMustBeInSameOrParentBusinessUnit: h.managersMustBeInSameOrParentBusinessUnit ?? true,
      excludedTables: h.excludedTables ?? [],
    };
  }

  /** §5: the hierarchy path for privilege p on the record. */
  private hierarchyPath(manager: UserInput, record: RecordView, privilege: PrivilegeName): boolean {
    const settings = this.hierarchySettings();
    if (!settings.enabled) return false;
    // Tables in excludedTables and organization-owned tables are excluded.
    if (record.table.ownership === 'organization') return false;
    if (settings.excludedTables.includes(record.table.name)) return false;
    // Gate: M holds a grant of (t, read) and a grant of (t, p), each at any depth.
    if (this.grantsOf(manager, record.table.name, 'read').length === 0) return false;
    if (this.grantsOf(manager, record.table.name, privilege).length === 0) return false;
    return this.hierarchyRights(manager, record).includes(privilege);
  }

  /** §5: M's hierarchy rights on the record: the union over all its subordinates. */
  private hierarchyRights(manager: UserInput, record: RecordView): PrivilegeName[] {
    const rights: PrivilegeName[] = [];
    const add = (right: PrivilegeName): void => {
      if (!rights.includes(right)) rights.push(right);
    };
    for (const { user: subordinate, level } of this.subordinatesOf(manager)) {
      const levelRights: PrivilegeName[] = level === 1 ? ['read', 'write', 'append', 'appendTo'] : ['read'];
      // S or a team S belongs to (organization-wide shares do not count here)
      const principals = [subordinate.id, ...this.teamsOf(subordinate)];
      // records S (or a team of S) owns: the level's rights
      if (record.ownerId !== null && principals.includes(record.ownerId)) levelRights.forEach(add);
      // records shared with S (or a team of S): the level's rights capped by the shared rights
      for (const share of this.sharesOf(record)) {
        if (!principals.includes(share.principalId)) continue;
        for (const right of levelRights) {
          if ((share.rights as readonly string[]).includes(right)) add(right);
        }
      }
    }
    return rights;
  }

  /** §5: the subordinates of M at levels 1..depth, found by walking up from every user. */
  private subordinatesOf(manager: UserInput): Subordinate[] {
    const settings = this.hierarchySettings();
    const subordinates: Subordinate[] = [];
    for (const user of this.world.users ?? []) {
      if (user.id === manager.id) continue;
      const level =
        settings.model === 'manager'
          ? this.managerLevel(user, manager, settings.depth)
          : this.positionLevel(user, manager, settings.depth);
      if (level === null) continue;
      // Manager model BU rule: M's BU is S's BU or its immediate parent (§7.4), comparing M with S directly.
      if (settings.model === 'manager' && settings.managersMustBeInSameOrParentBusinessUnit) {
        const parentOfSubordinateBU = this.findBusinessUnit(user.businessUnitId)?.parentId ?? null;
        if (manager.businessUnitId !== user.businessUnitId && manager.businessUnitId !== parentOfSubordinateBU)
          continue;
      }
      subordinates.push({ user, level });
    }
    return subordinates;
  }

  /** Manager model: the level at which M appears in S's managerId chain (1 = direct manager), or null. */
  private managerLevel(subordinate: UserInput, manager: UserInput, depth: number): number | null {
    let current = subordinate;
    for (let level = 1; level <= depth; level++) {
      const managerId = current.managerId ?? null;
      if (managerId === null) return null;
      if (managerId === manager.id) return level;
      const next = this.findUser(managerId);
      if (next === undefined) return null;
      current = next;
    }
    return null;
  }

  /** Position model: the distance from S's position up to M's position (1 = parent position), or null. */
  private positionLevel(subordinate: UserInput, manager: UserInput, depth: number): number | null {
    const managerPosition = manager.positionId ?? null;
    let position = subordinate.positionId ?? null;
    if (managerPosition === null || position === null) return null;
    for (let level = 1; level <= depth; level++) {
      position = this.findPosition(position)?.parentId ?? null;
      if (position === null) return null;
      if (position === managerPosition) return level;
    }
    return null;
  }

  // ---------------------------------------------------------------------------------------------
  // §6: column security
  // ---------------------------------------------------------------------------------------------

  /**
   * §6: the column part of a secured column's check: the user is a system administrator, or a
   * field security profile with the user as member (directly or through any team) allows the
   * permission, or a field share on (r, c) to the user or one of its teams allows it (read/update).
   */
  private columnPermitted(user: UserInput, record: RecordView, column: string, permission: ColumnPermission): boolean {
    if (this.isSystemAdministrator(user)) return true;
    const principals = [user.id, ...this.teamsOf(user)];
    for (const profile of this.world.fieldSecurityProfiles ?? []) {
      if (!profile.members.some((member) => principals.includes(member))) continue;
      const allowed = own(own(profile.permissions, record.table.name), column) ?? [];
      if (allowed.includes(permission)) return true;
    }
    if (permission === 'create' || record.id === null) return false;
    const fieldRight: FieldRight = permission;
    for (const share of this.world.fieldShares ?? []) {
      if (share.table !== record.table.name || share.recordId !== record.id || share.column !== column) continue;
      if (principals.includes(share.principalId) && share.rights.includes(fieldRight)) return true;
    }
    return false;
  }

  // ---------------------------------------------------------------------------------------------
  // Lookups and argument checks (plain linear searches)
  // ---------------------------------------------------------------------------------------------

  private findUser(id: string): UserInput | undefined {
    return (this.world.users ?? []).find((user) => user.id === id);
  }

  private findTeam(id: string): TeamInput | undefined {
    return (this.world.teams ?? []).find((team) => team.id === id);
  }

  private findRole(id: string): RoleInput | undefined {
    return (this.world.roles ?? []).find((role) => role.id === id);
  }

  private findBusinessUnit(id: string): BusinessUnitInput | undefined {
    return (this.world.businessUnits ?? []).find((bu) => bu.id === id);
  }

  private findBusinessUnitByDefaultTeam(teamId: string): BusinessUnitInput | undefined {
    return (this.world.businessUnits ?? []).find((bu) => bu.defaultTeamId === teamId);
  }

  private findPosition(id: string): { id: string; parentId?: string | null } | undefined {
    return (this.world.positions ?? []).find((position) => position.id === id);
  }

  private requireUser(id: string): UserInput {
    const user = this.findUser(id);
    if (user === undefined) throw new Error(`unknown user: ${id}`);
    return user;
  }

  private requireTable(name: string): TableInput {
    const table = (this.world.tables ?? []).find((candidate) => candidate.name === name);
    if (table === undefined) throw new Error(`unknown table: ${name}`);
    return table;
  }

  private requirePrivilege(privilege: string): void {
    if (!(PRIVILEGES as readonly string[]).includes(privilege)) throw new Error(`unknown privilege: ${privilege}`);
  }

  private requireBusinessUnit(id: string): void {
    if (this.findBusinessUnit(id) === undefined) throw new Error(`unknown business unit: ${id}`);
  }

  /** The BU of a user, a listed team or a named default team. */
  private principalBusinessUnit(id: string): string {
    const user = this.findUser(id);
    if (user !== undefined) return user.businessUnitId;
    const team = this.findTeam(id);
    if (team !== undefined) return team.businessUnitId;
    const bu = this.findBusinessUnitByDefaultTeam(id);
    if (bu !== undefined) return bu.id;
    throw new Error(`unknown principal: ${id}`);
  }

  /** §1: owners are users, owner teams, group teams or named default teams (never access teams). */
  private requireOwner(id: string): void {
    if (id === ORGANIZATION) throw new Error(`invalid owner: ${id} cannot own records`);
    if (this.findUser(id) !== undefined) return;
    if (this.findBusinessUnitByDefaultTeam(id) !== undefined) return;
    const team = this.findTeam(id);
    if (team === undefined) throw new Error(`unknown principal: ${id}`);
    if (team.type === 'access') throw new Error(`invalid owner: access team ${id} cannot own records`);
  }

  /**
   * A stored record by id, or an inline row. §1: the owning BU defaults to the owner's BU. On an
   * organization-owned table owner and BU are ignored.
   */
  private resolveRecord(table: TableInput, record: RecordRef): RecordView {
    if (typeof record === 'string') {
      const stored = (this.world.records ?? []).find((row) => row.table === table.name && row.id === record);
      if (stored === undefined) throw new Error(`unknown record: ${table.name}/${record}`);
      if (table.ownership === 'organization')
        return { table, id: stored.id, ownerId: null, owningBusinessUnitId: null };
      if (stored.ownerId === undefined) throw new Error(`invalid owner: record ${table.name}/${record} has none`);
      const owningBusinessUnitId = stored.owningBusinessUnitId ?? this.principalBusinessUnit(stored.ownerId);
      return { table, id: stored.id, ownerId: stored.ownerId, owningBusinessUnitId };
    }
    const id = record.id ?? null;
    if (table.ownership === 'organization') return { table, id, ownerId: null, owningBusinessUnitId: null };
    if (record.ownerId === undefined)
      throw new Error('invalid owner: an inline record of a user-owned table needs an ownerId');
    this.requireOwner(record.ownerId);
    const owningBusinessUnitId = record.owningBusinessUnitId ?? this.principalBusinessUnit(record.ownerId);
    this.requireBusinessUnit(owningBusinessUnitId);
    return { table, id, ownerId: record.ownerId, owningBusinessUnitId };
  }
}

/**
 * `object[key]` when the object holds it itself. A world's names are data: a table or column
 * named `constructor` must not read a function from Object.prototype (the engine keeps names in maps).
 */
function own<T>(object: Readonly<Partial<Record<string, T>>> | undefined, key: string): T | undefined {
  return object !== undefined && Object.hasOwn(object, key) ? object[key] : undefined;
}
