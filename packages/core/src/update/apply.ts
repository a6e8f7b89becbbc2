import { type BuIdx, NONE, type PositionIdx, type PrincipalIdx, type TableIdx, type UserIdx } from '../ids.js';
import {
  addRecord,
  removeRecord,
  reviveRecord,
  setRecordOwner,
  setShare,
  sharesOf,
  tableIndex,
  unaddRecord,
} from '../model/mutations.js';
import { type BusinessUnit, PrincipalKind, type RoleAssignment, type WorldModel } from '../model/world-model.js';
import { SHAREABLE_MASK } from '../privileges.js';
import type { HierarchyModel } from '../world/format.js';
import { isPlainObject } from '../world/reader.js';
import { COLUMN_FIELDS, COLUMN_HANDLERS } from './column-ops.js';
import { OpReader } from './context.js';
import { CREATE_FIELDS, CREATE_HANDLERS } from './create.js';
import type { UpdateOp, UpdateOpName } from './ops.js';
import { fields, type Handler, noteHierarchyChange, ownerBu, readDepths, setMembership } from './shared.js';
import { Transaction } from './transaction.js';

/**
 * Applies `ops` to the model in order, as one transaction. Returns what the compiled grants must
 * catch up with; throws `PALISADE_UPDATE_INVALID` (after undoing every change) on the first
 * operation that cannot apply.
 */
export function applyOps(model: WorldModel, ops: readonly UpdateOp[]): Transaction {
  const tx: Transaction = new Transaction();
  try {
    ops.forEach((op, index) => {
      tx.index = index;
      tx.op = isPlainObject(op) && typeof op.op === 'string' ? op.op : '';
      if (!isPlainObject(op)) tx.fail('op', 'shape', 'an operation is an object');
      // Own properties only: `toString` or `constructor` must be unknown operations, not Object's.
      const handler = Object.hasOwn(HANDLERS, tx.op) ? HANDLERS[tx.op] : undefined;
      const fields = Object.hasOwn(FIELDS, tx.op) ? FIELDS[tx.op] : undefined;
      if (handler === undefined || fields === undefined) tx.fail('op', 'exact-word', `unknown operation \`${tx.op}\``);
      // As in world files, a misspelt field must never pass silently.
      for (const field in op)
        if (field !== 'op' && !fields.has(field)) tx.fail(field, 'shape', `unknown field \`${field}\``);
      handler(new OpReader(model, tx, op));
    });
  } catch (error) {
    tx.rollback();
    throw error;
  }
  return tx;
}

const SHARE_FIELDS = fields('table', 'recordId', 'principalId', 'rights');
const MEMBER_FIELDS = fields('teamId', 'userId');
const ASSIGNMENT_FIELDS = fields('principalId', 'roleId', 'businessUnitId');

/** The fields each operation may carry (besides `op`). */
const FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  createRecord: fields('table', 'id', 'ownerId', 'owningBusinessUnitId'),
  deleteRecord: fields('table', 'id'),
  assignRecord: fields('table', 'id', 'ownerId'),
  grantShare: SHARE_FIELDS,
  modifyShare: SHARE_FIELDS,
  revokeShare: fields('table', 'recordId', 'principalId'),
  addTeamMember: MEMBER_FIELDS,
  removeTeamMember: MEMBER_FIELDS,
  addRoleAssignment: ASSIGNMENT_FIELDS,
  removeRoleAssignment: ASSIGNMENT_FIELDS,
  setRolePrivileges: fields('roleId', 'privileges'),
  moveUser: fields('userId', 'businessUnitId', 'doNotMoveRecords'),
  setUserDisabled: fields('userId', 'disabled'),
  setManager: fields('userId', 'managerId'),
  setPosition: fields('userId', 'positionId'),
  setHierarchySettings: fields(
    'enabled',
    'model',
    'depth',
    'managersMustBeInSameOrParentBusinessUnit',
    'excludedTables',
  ),
  setAssignSettings: fields('shareToPreviousOwnerOnAssign', 'alwaysMoveRecordToOwnerBusinessUnit'),
  ...CREATE_FIELDS,
  ...COLUMN_FIELDS,
};

/** Every operation `Engine.apply` knows, by name. */
export const UPDATE_OPS = Object.freeze(Object.keys(FIELDS)) as readonly UpdateOpName[];

const HANDLERS: Readonly<Record<string, Handler>> = {
  createRecord(r) {
    const [, table] = r.table();
    const id = r.id('id');
    if (table.records.index.has(id))
      r.tx.fail('id', 'id-unique', `record \`${id}\` already exists in \`${table.name}\``);
    let owner: number = NONE;
    let bu: number = NONE;
    if (table.organizationOwned) {
      for (const field of ['ownerId', 'owningBusinessUnitId']) {
        if (r.optionalId(field) !== undefined) {
          r.tx.fail(field, 'org-record-unowned', `records of organization-owned table \`${table.name}\` have no owner`);
        }
      }
    } else {
      if (r.optionalId('ownerId') === undefined)
        r.tx.fail('ownerId', 'record-owner-required', 'a record needs an owner');
      owner = r.owner('ownerId');
      bu =
        r.optionalId('owningBusinessUnitId') === undefined
          ? ownerBu(r.model, owner)
          : r.businessUnit('owningBusinessUnitId');
    }
    const row = addRecord(table, id, owner, bu);
    r.tx.onUndo(() => unaddRecord(table, row));
  },

  deleteRecord(r) {
    const [t, table] = r.table();
    const row = r.record(table, 'id');
    const owner = table.records.ownerOf(row);
    const bu = table.records.buOf(row);
    const shares = sharesOf(table, row);
    for (const [principal] of shares) setShare(table, row, principal, 0);
    removeRecord(table, row);
    const fieldShares = r.model.fieldShares;
    const kept = fieldShares.filter((f) => !(f.table === t && f.record === row));
    const dropped = fieldShares.length - kept.length;
    const before = [...fieldShares];
    if (dropped > 0) {
      fieldShares.splice(0, fieldShares.length, ...kept);
      r.tx.fieldSharesChanged = true;
    }
    r.tx.onUndo(() => {
      reviveRecord(table, row, owner, bu);
      // Each share is re-linked at the head of the record's list: last first restores the order.
      for (const [principal, rights] of shares.toReversed()) setShare(table, row, principal, rights);
      if (dropped > 0) fieldShares.splice(0, fieldShares.length, ...before);
    });
  },

  assignRecord(r) {
    const [, table] = r.table();
    r.userOwnedTable(table);
    const row = r.record(table, 'id');
    const owner = r.owner('ownerId');
    const { settings } = r.model;
    const previousOwner = table.records.ownerOf(row);
    const previousBu = table.records.buOf(row);
    const bu = settings.alwaysMoveRecordToOwnerBusinessUnit ? ownerBu(r.model, owner) : previousBu;
    setRecordOwner(table, row, owner, bu);
    let shareBefore = NONE;
    if (settings.shareToPreviousOwnerOnAssign && previousOwner !== owner) {
      const principal = previousOwner as PrincipalIdx;
      shareBefore = setShare(table, row, principal, table.shares.rightsOf(row, principal) | SHAREABLE_MASK);
    }
    r.tx.onUndo(() => {
      if (shareBefore !== NONE) setShare(table, row, previousOwner as PrincipalIdx, shareBefore);
      setRecordOwner(table, row, previousOwner, previousBu);
    });
  },

  grantShare(r) {
    const [table, row, principal, rights] = shareTarget(r, true);
    const before = setShare(table, row, principal, table.shares.rightsOf(row, principal) | rights);
    r.tx.onUndo(() => setShare(table, row, principal, before));
  },

  modifyShare(r) {
    const [table, row, principal, rights] = shareTarget(r, true);
    if (table.shares.rightsOf(row, principal) === 0)
      r.tx.fail('principalId', 'not-found', 'there is no such share to modify');
    const before = setShare(table, row, principal, rights);
    r.tx.onUndo(() => setShare(table, row, principal, before));
  },

  revokeShare(r) {
    const [table, row, principal] = shareTarget(r, false);
    if (table.shares.rightsOf(row, principal) === 0)
      r.tx.fail('principalId', 'not-found', 'there is no such share to revoke');
    const before = setShare(table, row, principal, 0);
    r.tx.onUndo(() => setShare(table, row, principal, before));
  },

  addTeamMember(r) {
    changeMembership(r, true);
  },

  removeTeamMember(r) {
    changeMembership(r, false);
  },

  addRoleAssignment(r) {
    const [principal, assignment, list] = roleAssignment(r);
    if (list.some((a) => sameAssignment(a, assignment))) return;
    list.push(assignment);
    touchHolder(r, principal);
    r.tx.onUndo(() => list.splice(list.indexOf(assignment), 1));
  },

  removeRoleAssignment(r) {
    const [principal, assignment, list] = roleAssignment(r);
    const at = list.findIndex((a) => sameAssignment(a, assignment));
    if (at === -1) r.tx.fail('roleId', 'not-found', 'the principal holds no such role assignment');
    const [removed] = list.splice(at, 1);
    touchHolder(r, principal);
    r.tx.onUndo(() => list.splice(at, 0, removed as RoleAssignment));
  },

  setRolePrivileges(r) {
    const roleIdx = r.role('roleId');
    const role = r.model.roles[roleIdx];
    if (role === undefined) return;
    const depths = readDepths(r);
    const before = role.depths;
    role.depths = depths;
    let changed = false;
    for (let slot = 0; slot < depths.length; slot++) {
      if (depths[slot] === before[slot]) continue;
      r.tx.roleSlots.add(slot);
      changed = true;
    }
    // The same map again recompiles nothing (it would still walk every profile holding the role).
    if (changed) r.tx.roles.add(roleIdx);
    r.tx.onUndo(() => {
      role.depths = before;
    });
  },

  moveUser(r) {
    const user = r.user('userId');
    const target = r.businessUnit('businessUnitId');
    const moveRecords = !r.boolean('doNotMoveRecords', false);
    const { model } = r;
    const principal = model.principals[user] as { bu: BuIdx | -1 };
    const from = principal.bu as BuIdx;
    const implicit = (model.assignments.get(user) ?? []).filter((a) => !a.explicit);
    const moved = moveRecords ? ownedRecords(model, user) : [];
    noteHierarchyChange(r, user);
    setUserBu(model, user, from, target, implicit);
    for (const [table, row] of moved) setRecordOwner(table, row, user, target);
    r.tx.users.add(user);
    r.tx.onUndo(() => {
      for (const [table, row, bu] of moved) setRecordOwner(table, row, user, bu);
      setUserBu(model, user, target, from, implicit);
    });
  },

  setManager(r) {
    const user = r.user('userId');
    const manager = r.raw('managerId') === null ? NONE : r.user('managerId');
    const state = r.model.user(user);
    for (let above = manager; above !== NONE; above = r.model.user(above as UserIdx).manager) {
      if (above === user)
        r.tx.fail('managerId', 'manager-chain-acyclic', 'the user would be its own (indirect) manager');
    }
    const before = state.manager;
    noteHierarchyChange(r, user);
    state.manager = manager;
    r.tx.onUndo(() => {
      state.manager = before;
    });
  },

  setPosition(r) {
    const user = r.user('userId');
    let position: number = NONE;
    if (r.raw('positionId') !== null) {
      const id = r.id('positionId');
      position = r.model.positionIndex.get(id) ?? NONE;
      if (position === NONE) r.tx.fail('positionId', 'reference-resolves', `unknown position \`${id}\``);
    }
    const state = r.model.user(user);
    const before = state.position;
    noteHierarchyChange(r, user);
    state.position = position as PositionIdx | -1;
    r.tx.onUndo(() => {
      state.position = before;
    });
  },

  setHierarchySettings(r) {
    const { model } = r;
    const before = model.settings;
    const current = before.hierarchy;
    const depth: unknown = r.rawOr('depth', current.depth);
    if (typeof depth !== 'number' || !Number.isInteger(depth) || depth < 1) {
      r.tx.fail('depth', 'shape', `depth must be an integer of at least 1, got ${String(depth)}`);
    }
    const kind: unknown = r.rawOr('model', current.model);
    if (kind !== 'manager' && kind !== 'position') {
      r.tx.fail('model', 'exact-word', `unknown hierarchy model \`${String(kind)}\`: expected manager or position`);
    }
    let excludedTables = current.excludedTables;
    const excluded = r.raw('excludedTables');
    if (excluded !== undefined) {
      if (!Array.isArray(excluded)) r.tx.fail('excludedTables', 'shape', 'expected an array of table names');
      excludedTables = (excluded as unknown[]).map((name) => {
        const table = typeof name === 'string' ? model.tableIndex.get(name) : undefined;
        if (table === undefined) r.tx.fail('excludedTables', 'reference-resolves', `unknown table \`${String(name)}\``);
        return table as TableIdx;
      });
    }
    model.settings = {
      ...before,
      hierarchy: {
        enabled: r.boolean('enabled', current.enabled),
        model: kind as HierarchyModel,
        depth: depth as number,
        managersMustBeInSameOrParentBusinessUnit: r.boolean(
          'managersMustBeInSameOrParentBusinessUnit',
          current.managersMustBeInSameOrParentBusinessUnit,
        ),
        excludedTables,
      },
    };
    r.tx.hierarchySettingsChanged = true;
    r.tx.onUndo(() => {
      model.settings = before;
    });
  },

  setAssignSettings(r) {
    const { model } = r;
    const before = model.settings;
    model.settings = {
      ...before,
      shareToPreviousOwnerOnAssign: r.boolean('shareToPreviousOwnerOnAssign', before.shareToPreviousOwnerOnAssign),
      alwaysMoveRecordToOwnerBusinessUnit: r.boolean(
        'alwaysMoveRecordToOwnerBusinessUnit',
        before.alwaysMoveRecordToOwnerBusinessUnit,
      ),
    };
    r.tx.onUndo(() => {
      model.settings = before;
    });
  },

  setUserDisabled(r) {
    const user = r.user('userId');
    const disabled = r.boolean('disabled');
    const state = r.model.user(user);
    const before = state.disabled;
    state.disabled = disabled;
    r.tx.users.add(user);
    r.tx.onUndo(() => {
      state.disabled = before;
    });
  },

  ...CREATE_HANDLERS,
  ...COLUMN_HANDLERS,
};

/** (table, row, recipient, rights) of a share operation; rights only when `withRights`. */
function shareTarget(
  r: OpReader,
  withRights: boolean,
): [WorldModel['tables'][number], ReturnType<OpReader['record']>, PrincipalIdx, number] {
  const [, table] = r.table();
  const row = r.record(table, 'recordId');
  const principal = r.recipient('principalId');
  const rights = withRights ? r.shareRights() : 0;
  r.userOwnedTable(table);
  return [table, row, principal, rights];
}

/** (team, user, the team's listed members) for a membership change. */
function membership(r: OpReader): [PrincipalIdx, UserIdx, Set<UserIdx>] {
  const team = r.team('teamId');
  if (r.isKind(team, PrincipalKind.defaultTeam)) {
    r.tx.fail('teamId', 'default-team-members', "a default team's members are the users of its business unit");
  }
  const principal = r.principal('userId');
  if (!r.model.isUser(principal)) r.tx.fail('userId', 'team-members-are-users', 'team members are users');
  return [team, principal, r.model.teamMembers.get(team) as Set<UserIdx>];
}

/** Adds (`join`) or removes the user from the team's listed members; adding a member twice changes nothing. */
function changeMembership(r: OpReader, join: boolean): void {
  const [team, user, members] = membership(r);
  if (members.has(user) === join) {
    if (join) return;
    r.tx.fail('userId', 'not-found', 'the user is not a member of the team');
  }
  noteHierarchyChange(r, user);
  setMembership(r.model, team, user, join);
  r.tx.users.add(user);
  r.tx.onUndo(() => setMembership(r.model, team, user, !join));
}

/** (holder, the assignment as the operation names it, the holder's assignment list). */
function roleAssignment(r: OpReader): [PrincipalIdx, RoleAssignment, RoleAssignment[]] {
  const principal = r.principal('principalId');
  if (r.isKind(principal, PrincipalKind.accessTeam)) {
    r.tx.fail('principalId', 'access-team-no-roles', 'access teams cannot hold roles');
  }
  const role = r.role('roleId');
  const home = ownerBu(r.model, principal) as BuIdx;
  const named = r.optionalId('businessUnitId') === undefined ? undefined : r.businessUnit('businessUnitId');
  const isUser = r.model.isUser(principal);
  if (!isUser && named !== undefined && named !== home) {
    r.tx.fail('businessUnitId', 'team-assignment-bu', 'a team holds roles from its own business unit only');
  }
  let list = r.model.assignments.get(principal);
  if (list === undefined) {
    list = [];
    r.model.assignments.set(principal, list);
  }
  return [principal, { role, bu: named ?? home, explicit: isUser && named !== undefined }, list];
}

function sameAssignment(a: RoleAssignment, b: RoleAssignment): boolean {
  return a.role === b.role && a.bu === b.bu && a.explicit === b.explicit;
}

function touchHolder(r: OpReader, principal: PrincipalIdx): void {
  if (r.model.isUser(principal)) r.tx.users.add(principal);
  else r.tx.teams.add(principal);
}

/** Every live record the user owns, with its current owning BU (through the table indexes). */
function ownedRecords(model: WorldModel, user: UserIdx): [WorldModel['tables'][number], never, number][] {
  const owned: [WorldModel['tables'][number], never, number][] = [];
  for (const table of model.tables) {
    if (table.organizationOwned) continue;
    for (const row of tableIndex(table).byOwner.group(user).toUint32Array())
      owned.push([table, row as never, table.records.buOf(row)]);
  }
  return owned;
}

/** Moves the user's BU membership and the anchors of its implicit role assignments. */
function setUserBu(model: WorldModel, user: UserIdx, from: BuIdx, to: BuIdx, implicit: RoleAssignment[]): void {
  (model.principals[user] as { bu: BuIdx | -1 }).bu = to;
  (model.businessUnits[from] as BusinessUnit).users.delete(user);
  (model.businessUnits[to] as BusinessUnit).users.add(user);
  for (const assignment of implicit) assignment.bu = to;
}
