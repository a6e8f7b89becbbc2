/**
 * §6 operations: field security profiles (their members and permission maps) and field shares.
 * They change no record access; the engine recompiles the column bits of the users they reach.
 */
import type { PrincipalIdx, TableIdx } from '../ids.js';
import {
  COLUMN_PERMISSION_BITS,
  type FieldSecurityProfile,
  type FieldShare,
  type Table,
} from '../model/world-model.js';
import { type ColumnPermission, type FieldRight, ORGANIZATION } from '../world/format.js';
import { isPlainObject } from '../world/reader.js';
import type { OpReader } from './context.js';
import { fields, type Handler } from './shared.js';
import type { Transaction } from './transaction.js';

const FIELD_SHARE_FIELDS = fields('table', 'recordId', 'column', 'principalId', 'rights');
const MEMBER_FIELDS = fields('profileId', 'principalId');

export const COLUMN_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  createFieldSecurityProfile: fields('id', 'members', 'permissions'),
  setFieldSecurityPermissions: fields('profileId', 'permissions'),
  addFieldSecurityProfileMember: MEMBER_FIELDS,
  removeFieldSecurityProfileMember: MEMBER_FIELDS,
  grantFieldShare: FIELD_SHARE_FIELDS,
  modifyFieldShare: FIELD_SHARE_FIELDS,
  revokeFieldShare: fields('table', 'recordId', 'column', 'principalId'),
};

const FIELD_RIGHTS: readonly FieldRight[] = ['read', 'update'];

export const COLUMN_HANDLERS: Readonly<Record<string, Handler>> = {
  createFieldSecurityProfile(r: OpReader) {
    const { model } = r;
    const id = r.id('id');
    if (model.fieldSecurityProfiles.some((profile) => profile.id === id)) {
      r.tx.fail('id', 'id-unique', `field security profile \`${id}\` already exists`);
    }
    const rawMembers = r.rawOr('members', []);
    if (!Array.isArray(rawMembers)) r.tx.fail('members', 'shape', 'expected an array of user or team ids');
    const members = new Set(rawMembers.map((member) => memberOf(r, 'members', member)));
    const permissions = r.raw('permissions') === undefined ? new Map() : readPermissions(r);
    const profile: FieldSecurityProfile = { id, members, permissions };
    model.fieldSecurityProfiles.push(profile);
    r.tx.onUndo(() => model.fieldSecurityProfiles.pop());
    for (const member of members) r.tx.columnPrincipals.add(member);
  },

  setFieldSecurityPermissions(r: OpReader) {
    const profile = profileOf(r);
    const before = new Map(profile.permissions);
    const next = readPermissions(r);
    replaceMap(profile.permissions, next);
    r.tx.onUndo(() => replaceMap(profile.permissions, before));
    for (const member of profile.members) r.tx.columnPrincipals.add(member);
  },

  addFieldSecurityProfileMember(r: OpReader) {
    const profile = profileOf(r);
    const member = memberOf(r, 'principalId', r.raw('principalId'));
    if (profile.members.has(member)) return;
    profile.members.add(member);
    r.tx.onUndo(() => profile.members.delete(member));
    r.tx.columnPrincipals.add(member);
  },

  removeFieldSecurityProfileMember(r: OpReader) {
    const profile = profileOf(r);
    const member = memberOf(r, 'principalId', r.raw('principalId'));
    if (!profile.members.has(member))
      r.tx.fail('principalId', 'not-found', 'the principal is not a member of the profile');
    profile.members.delete(member);
    r.tx.onUndo(() => profile.members.add(member));
    r.tx.columnPrincipals.add(member);
  },

  grantFieldShare(r: OpReader) {
    const target = fieldShareTarget(r);
    const rights = readFieldRights(r);
    const held = heldRights(r, target);
    putFieldShare(
      r,
      target,
      FIELD_RIGHTS.filter((right) => held.includes(right) || rights.includes(right)),
    );
  },

  modifyFieldShare(r: OpReader) {
    const target = fieldShareTarget(r);
    const rights = readFieldRights(r);
    if (heldRights(r, target).length === 0)
      r.tx.fail('principalId', 'not-found', 'there is no such field share to modify');
    putFieldShare(
      r,
      target,
      FIELD_RIGHTS.filter((right) => rights.includes(right)),
    );
  },

  revokeFieldShare(r: OpReader) {
    const target = fieldShareTarget(r);
    if (heldRights(r, target).length === 0)
      r.tx.fail('principalId', 'not-found', 'there is no such field share to revoke');
    putFieldShare(r, target, []);
  },
};

function profileOf(r: OpReader): FieldSecurityProfile {
  const id = r.id('profileId');
  const profile = r.model.fieldSecurityProfiles.find((candidate) => candidate.id === id);
  if (profile === undefined) r.tx.fail('profileId', 'reference-resolves', `unknown field security profile \`${id}\``);
  return profile;
}

/** A profile member: a user or a team (listed or named default team). */
function memberOf(r: OpReader, field: string, value: unknown): PrincipalIdx {
  if (typeof value !== 'string' || value.length === 0) r.tx.fail(field, 'shape', 'members are user or team ids');
  const member = value === ORGANIZATION ? undefined : r.model.principalIndex.get(value);
  if (member === undefined) r.tx.fail(field, 'reference-resolves', `unknown user or team \`${value}\``);
  return member;
}

/** table → secured column → permission bits, validated as the loader validates profiles. */
function readPermissions(r: OpReader): Map<TableIdx, Map<string, number>> {
  const { model } = r;
  const tx: Transaction = r.tx;
  const raw = r.raw('permissions');
  if (!isPlainObject(raw)) tx.fail('permissions', 'shape', 'expected an object of table → column → permissions');
  const permissions = new Map<TableIdx, Map<string, number>>();
  for (const [tableName, perTable] of Object.entries(raw)) {
    const t = model.tableIndex.get(tableName);
    if (t === undefined) tx.fail('permissions', 'reference-resolves', `unknown table \`${tableName}\``);
    if (!isPlainObject(perTable)) tx.fail('permissions', 'shape', `expected an object for table \`${tableName}\``);
    const columns = new Map<string, number>();
    for (const [column, list] of Object.entries(perTable)) {
      securedColumn(r, model.tables[t] as Table, column, 'permissions');
      if (!Array.isArray(list)) tx.fail('permissions', 'shape', `expected an array of permissions for \`${column}\``);
      let mask = 0;
      for (const word of list) {
        const bit = typeof word === 'string' ? COLUMN_PERMISSION_BITS[word as ColumnPermission] : undefined;
        if (bit === undefined) tx.fail('permissions', 'exact-word', `\`${String(word)}\` is not a column permission`);
        mask |= bit;
      }
      columns.set(column, mask);
    }
    permissions.set(t, columns);
  }
  return permissions;
}

function replaceMap<K, V>(target: Map<K, V>, source: ReadonlyMap<K, V>): void {
  target.clear();
  for (const [key, value] of source) target.set(key, value);
}

interface FieldShareTarget {
  readonly table: TableIdx;
  readonly record: number;
  readonly column: string;
  readonly principal: PrincipalIdx;
}

function fieldShareTarget(r: OpReader): FieldShareTarget {
  const [t, table] = r.table();
  const record = r.record(table, 'recordId');
  const column = r.id('column');
  securedColumn(r, table, column, 'column');
  if (r.raw('principalId') === ORGANIZATION) {
    r.tx.fail('principalId', 'field-share-principal', 'field shares go to a user or a team, not the organization');
  }
  return { table: t, record, column, principal: r.principal('principalId') };
}

function readFieldRights(r: OpReader): FieldRight[] {
  const raw = r.raw('rights');
  if (!Array.isArray(raw)) r.tx.fail('rights', 'shape', 'expected an array of rights');
  for (const right of raw) {
    if (!FIELD_RIGHTS.includes(right as FieldRight)) {
      r.tx.fail('rights', 'field-share-rights', `field shares carry read or update, not \`${String(right)}\``);
    }
  }
  return raw as FieldRight[];
}

function same(share: FieldShare, target: FieldShareTarget): boolean {
  return (
    share.table === target.table &&
    share.record === target.record &&
    share.column === target.column &&
    share.principal === target.principal
  );
}

/** The rights the field shares of the target carry together (a world may list one several times). */
function heldRights(r: OpReader, target: FieldShareTarget): FieldRight[] {
  const held = new Set<FieldRight>();
  for (const share of r.model.fieldShares) if (same(share, target)) for (const right of share.rights) held.add(right);
  return FIELD_RIGHTS.filter((right) => held.has(right));
}

/** Replaces every field share of the target by one with `rights` (none: removed), at the first one's place. */
function putFieldShare(r: OpReader, target: FieldShareTarget, rights: FieldRight[]): void {
  const shares = r.model.fieldShares;
  const before = [...shares];
  const at = shares.findIndex((share) => same(share, target));
  const kept = shares.filter((share) => !same(share, target));
  if (rights.length > 0) {
    const share: FieldShare = { ...target, rights };
    if (at < 0) kept.push(share);
    else kept.splice(at, 0, share);
  }
  replaceAll(shares, kept);
  r.tx.fieldSharesChanged = true;
  r.tx.onUndo(() => replaceAll(shares, before));
}

/** In place and without spreading (a world may hold more field shares than a call has arguments). */
function replaceAll<T>(target: T[], items: readonly T[]): void {
  target.length = 0;
  for (const item of items) target.push(item);
}

function securedColumn(r: OpReader, table: Table, column: string, field: string): void {
  if (!table.securedColumns.includes(column)) {
    r.tx.fail(field, 'secured-column', `column \`${column}\` is not a secured column of table \`${table.name}\``);
  }
}
