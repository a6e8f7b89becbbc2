/**
 * Operations that add to the organization: business units, positions, users, teams and roles.
 * Each appends to the model's dense arrays (indexes already handed out never change) and undoes by
 * popping what it appended, which is safe because a rollback runs in reverse order.
 */
import { type BuIdx, NONE, type PositionIdx, type PrincipalIdx, type RoleIdx, type UserIdx } from '../ids.js';
import {
  type BusinessUnit,
  PrincipalKind as Kind,
  type PrincipalKind,
  TEAM_KIND_BY_TYPE,
  type WorldModel,
} from '../model/world-model.js';
import { ORGANIZATION, type TeamType } from '../world/format.js';
import type { OpReader } from './context.js';
import { fields, type Handler, noteHierarchyChange, readDepths, setMembership } from './shared.js';

export const CREATE_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  createBusinessUnit: fields('id', 'parentId', 'name', 'defaultTeamId'),
  createPosition: fields('id', 'parentId'),
  createUser: fields('id', 'businessUnitId', 'managerId', 'positionId', 'disabled'),
  createTeam: fields('id', 'businessUnitId', 'type', 'members'),
  createRole: fields('id', 'name', 'inheritance', 'systemAdministrator', 'privileges'),
};

const TEAM_TYPES: readonly TeamType[] = ['owner', 'access', 'group'];

export const CREATE_HANDLERS: Readonly<Record<string, Handler>> = {
  createBusinessUnit(r: OpReader) {
    const { model } = r;
    const id = r.id('id');
    if (model.buIndex.has(id)) r.tx.fail('id', 'id-unique', `business unit \`${id}\` already exists`);
    // One root only: a new BU always hangs under an existing one.
    if (r.raw('parentId') === null) r.tx.fail('parentId', 'bu-single-tree', 'the business units already have a root');
    const parent = r.businessUnit('parentId');
    const name = optionalString(r, 'name') ?? id;
    const bu = model.businessUnits.length as BuIdx;
    model.buIndex.set(id, bu);
    model.businessUnits.push({ id, name, parent, children: [], defaultTeam: NONE, users: new Set() });
    (model.businessUnits[parent] as BusinessUnit).children.push(bu);
    r.tx.onUndo(() => {
      (model.businessUnits[parent] as BusinessUnit).children.pop();
      model.businessUnits.pop();
      model.buIndex.delete(id);
      model.indexTree();
    });
    if (r.optionalId('defaultTeamId') !== undefined) {
      const team = declarePrincipal(r, 'defaultTeamId', Kind.defaultTeam, bu);
      (model.businessUnits[bu] as BusinessUnit).defaultTeam = team;
    }
    model.indexTree();
    r.tx.structureChanged = true;
  },

  createPosition(r: OpReader) {
    const { model } = r;
    const id = r.id('id');
    if (model.positionIndex.has(id)) r.tx.fail('id', 'id-unique', `position \`${id}\` already exists`);
    let parent: number = NONE;
    if (r.raw('parentId') !== undefined && r.raw('parentId') !== null) {
      const parentId = r.id('parentId');
      parent = model.positionIndex.get(parentId) ?? NONE;
      if (parent === NONE) r.tx.fail('parentId', 'reference-resolves', `unknown position \`${parentId}\``);
    }
    model.positionIndex.set(id, model.positions.length as PositionIdx);
    model.positions.push({ id, parent: parent as PositionIdx | -1 });
    r.tx.onUndo(() => {
      model.positions.pop();
      model.positionIndex.delete(id);
    });
  },

  createUser(r: OpReader) {
    const { model } = r;
    const bu = r.businessUnit('businessUnitId');
    const disabled = r.boolean('disabled', false);
    const manager = nullableReference(r, 'managerId', () => r.user('managerId'));
    const position = nullableReference(r, 'positionId', () => {
      const id = r.id('positionId');
      return model.positionIndex.get(id) ?? r.tx.fail('positionId', 'reference-resolves', `unknown position \`${id}\``);
    });
    const user = declarePrincipal(r, 'id', Kind.user, bu) as UserIdx;
    model.users[user] = {
      disabled,
      manager: manager as UserIdx | -1,
      position: position as PositionIdx | -1,
      teams: new Set(),
    };
    const members = (model.businessUnits[bu] as BusinessUnit).users;
    members.add(user);
    r.tx.onUndo(() => members.delete(user));
    // Its managers now reach it (and its BU's default team): they are recompiled.
    noteHierarchyChange(r, user);
    r.tx.users.add(user);
  },

  createTeam(r: OpReader) {
    const { model } = r;
    const bu = r.businessUnit('businessUnitId');
    const type = r.raw('type');
    if (typeof type !== 'string' || !TEAM_TYPES.includes(type as TeamType)) {
      r.tx.fail('type', 'exact-word', `unknown team type \`${String(type)}\`: expected owner, access or group`);
    }
    const memberIds = r.rawOr('members', []);
    if (!Array.isArray(memberIds)) r.tx.fail('members', 'shape', 'expected an array of user ids');
    const members = memberIds.map((memberId): UserIdx => {
      if (typeof memberId !== 'string' || memberId.length === 0) r.tx.fail('members', 'shape', 'members are user ids');
      const member = memberId === ORGANIZATION ? undefined : model.principalIndex.get(memberId);
      if (member === undefined) r.tx.fail('members', 'reference-resolves', `unknown team member \`${memberId}\``);
      if (!model.isUser(member)) r.tx.fail('members', 'team-members-are-users', `member \`${memberId}\` is a team`);
      return member;
    });
    const team = declarePrincipal(r, 'id', TEAM_KIND_BY_TYPE[type as TeamType], bu);
    model.teamMembers.set(team, new Set());
    r.tx.onUndo(() => model.teamMembers.delete(team));
    for (const member of new Set(members)) {
      noteHierarchyChange(r, member);
      setMembership(model, team, member, true);
      r.tx.users.add(member);
      r.tx.onUndo(() => setMembership(model, team, member, false));
    }
  },

  createRole(r: OpReader) {
    const { model } = r;
    const id = r.id('id');
    if (model.roleIndex.has(id)) r.tx.fail('id', 'id-unique', `role \`${id}\` already exists`);
    const name = optionalString(r, 'name') ?? id;
    const inheritance = r.rawOr('inheritance', 'direct');
    if (inheritance !== 'direct' && inheritance !== 'team') {
      r.tx.fail('inheritance', 'exact-word', `unknown role inheritance mode \`${String(inheritance)}\``);
    }
    const systemAdministrator = r.boolean('systemAdministrator', false);
    const depths = readDepths(r);
    model.roleIndex.set(id, model.roles.length as RoleIdx);
    model.roles.push({ id, name, inheritance, systemAdministrator, depths });
    r.tx.onUndo(() => {
      model.roles.pop();
      model.roleIndex.delete(id);
    });
  },
};

/** A new user or team id in the shared principal id space, appended to the model. */
function declarePrincipal(r: OpReader, field: string, kind: PrincipalKind, bu: BuIdx): PrincipalIdx {
  const model: WorldModel = r.model;
  const id = r.id(field);
  if (id === ORGANIZATION) r.tx.fail(field, 'id-reserved', '`organization` is reserved for organization-wide shares');
  if (model.principalIndex.has(id)) r.tx.fail(field, 'id-unique', `id \`${id}\` is already used by a user or team`);
  const principal = model.principals.length as PrincipalIdx;
  model.principals.push({ id, kind, bu });
  model.users.push(undefined);
  model.principalIndex.set(id, principal);
  r.tx.onUndo(() => {
    model.principals.pop();
    model.users.pop();
    model.principalIndex.delete(id);
  });
  return principal;
}

function optionalString(r: OpReader, field: string): string | undefined {
  const value = r.raw(field);
  if (value !== undefined && typeof value !== 'string')
    r.tx.fail(field, 'shape', `expected a string, got ${typeof value}`);
  return value;
}

/** A reference that may be absent or null (NONE), else resolved by `resolve`. */
function nullableReference(r: OpReader, field: string, resolve: () => number): number {
  const value = r.raw(field);
  return value === undefined || value === null ? NONE : resolve();
}
