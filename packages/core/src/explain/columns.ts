import { ColumnBit, type ColumnSecurity, permissionNames } from '../compile/columns.js';
import type { UserIdx } from '../ids.js';
import type { WorldModel } from '../model/world-model.js';
import type { ColumnPermission } from '../world/format.js';
import { idOf } from './describe.js';

/** What a user may do with one column of a record, and why (semantics §6). */
export interface ColumnExplanation {
  readonly user: string;
  readonly table: string;
  readonly record: string | null;
  readonly column: string;
  /** False for a column the table does not secure: it follows record access alone. */
  readonly secured: boolean;
  readonly read: boolean;
  readonly create: boolean;
  readonly update: boolean;
  /** The record privileges each column permission also needs: read, the create bit, write. */
  readonly recordAccess: { readonly read: boolean; readonly create: boolean; readonly update: boolean };
  /** What gives column permissions (empty for an unsecured column). */
  readonly paths: readonly ColumnPath[];
  readonly summary: string;
}

export type ColumnPath =
  | { readonly kind: 'system-administrator'; readonly text: string }
  | {
      readonly kind: 'profile';
      readonly profile: string;
      /** The member through which the user belongs: the user itself or one of its teams. */
      readonly member: string;
      readonly permissions: readonly ColumnPermission[];
      readonly text: string;
    }
  | {
      readonly kind: 'field-share';
      readonly principal: string;
      readonly permissions: readonly ColumnPermission[];
      readonly text: string;
    };

export interface ColumnQuestion {
  readonly user: UserIdx;
  readonly administrator: boolean;
  readonly table: number;
  readonly record: number;
  readonly recordId: string | null;
  readonly column: string;
  readonly recordAccess: { readonly read: boolean; readonly create: boolean; readonly update: boolean };
}

export function explainColumn(model: WorldModel, security: ColumnSecurity, q: ColumnQuestion): ColumnExplanation {
  const tableName = model.tables[q.table]?.name as string;
  const c = security.column(q.table, q.column);
  const paths: ColumnPath[] = [];
  const principals = new Set<number>([q.user, ...model.teamsOf(q.user)]);
  if (c !== -1) {
    if (q.administrator) {
      paths.push({ kind: 'system-administrator', text: 'a system administrator reaches every column' });
    } else {
      for (const profile of model.fieldSecurityProfiles) {
        const bits = profile.permissions.get(q.table as never)?.get(q.column) ?? 0;
        const member = [...profile.members].find((m) => principals.has(m));
        if (bits === 0 || member === undefined) continue;
        const permissions = permissionNames(bits);
        const via = member === q.user ? 'the user is a member' : `through team \`${idOf(model, member)}\``;
        paths.push({
          kind: 'profile',
          profile: profile.id,
          member: idOf(model, member),
          permissions,
          text: `field security profile \`${profile.id}\` allows ${permissions.join(', ')} (${via})`,
        });
      }
      for (const share of security.sharesOf(q.table, q.record)) {
        if (share.column !== c || !principals.has(share.principal)) continue;
        const permissions = permissionNames(share.bits);
        paths.push({
          kind: 'field-share',
          principal: idOf(model, share.principal),
          permissions,
          text: `field share to \`${idOf(model, share.principal)}\` allows ${permissions.join(', ')}`,
        });
      }
    }
  }
  // An unsecured column follows record access alone.
  const bits =
    c === -1
      ? ColumnBit.read | ColumnBit.create | ColumnBit.update
      : security.permissions(q.user, q.administrator, q.table, c, q.record);
  const allowed = (bit: number, recordAllowed: boolean) => recordAllowed && (bits & bit) !== 0;
  const read = allowed(ColumnBit.read, q.recordAccess.read);
  const create = allowed(ColumnBit.create, q.recordAccess.create);
  const update = allowed(ColumnBit.update, q.recordAccess.update);
  const granted = [read && 'read', create && 'create', update && 'update'].filter((x) => x !== false);
  const subject = `\`${idOf(model, q.user)}\` on ${tableName}.${q.column}`;
  const summary =
    c === -1
      ? `${subject}: not a secured column, it follows record access (${granted.join(', ') || 'none'})`
      : `${subject}: ${granted.length === 0 ? 'no access' : granted.join(', ')}${
          paths.length === 0 ? ' (no profile or field share grants this secured column)' : ''
        }`;
  return {
    user: idOf(model, q.user),
    table: tableName,
    record: q.recordId,
    column: q.column,
    secured: c !== -1,
    read,
    create,
    update,
    recordAccess: q.recordAccess,
    paths,
    summary,
  };
}
