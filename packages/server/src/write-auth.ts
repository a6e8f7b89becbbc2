/**
 * Writes made "as user X" (`asUser` on `/v1/write`): the composite-action rules of semantics §4 that
 * Dataverse enforces on the caller, checked with the engine's own decisions before anything applies.
 *
 * - `createRecord`: `canCreate` for the owner and owning BU the operation names;
 * - `deleteRecord`: the delete privilege on the record;
 * - `assignRecord`: `canAssign` to the new owner (assign, write and read);
 * - `grantShare`, `modifyShare`: `canShare` with the rights given (share, read, and every right);
 * - `revokeShare`: `canShare` without rights (share and read);
 * - every other operation (business units, users, teams, roles, column security, field shares,
 *   settings) changes the organization's security itself: only a system administrator may make
 *   it. Field shares are stricter than Dataverse, which lets a user with share rights on the record
 *   share a secured column it may read; here they count as administration (docs/semantics-notes.md).
 *
 * Every operation of a request is checked against the world as it was before the request (the
 * operations apply only if all pass), so an operation cannot rely on an earlier one of the same
 * request as a user: send it in a request of its own.
 */
import {
  type Decision,
  type Engine,
  isPalisadeError,
  type PalisadeError,
  UPDATE_OPS,
  type UpdateOp,
} from '@palisade/core';
import { fromEngineError, ServerError, ServerErrorCodes, serverError } from './errors.js';

/** Throws 403 `PALISADE_WRITE_DENIED` for the first operation `asUser` may not perform. */
export function authorizeWrite(engine: Engine, ops: readonly UpdateOp[], asUser: string): void {
  try {
    engine.user(asUser);
  } catch (error) {
    if (!isPalisadeError(error)) throw error;
    const server = fromEngineError(error);
    throw new ServerError(server.code, server.message, 422, { ...server.details, field: 'asUser' });
  }
  let privileges: { administrator: boolean; disabled: boolean } | null = null;
  const administrator = (): Decision | AdminDecision => {
    privileges ??= (() => {
      const p = engine.userPrivileges(asUser);
      return { administrator: p.systemAdministrator, disabled: p.disabled };
    })();
    if (privileges.disabled) return { allowed: false, reason: 'disabled', missing: null, error: null };
    return privileges.administrator
      ? { allowed: true, reason: 'system-administrator', missing: null, error: null }
      : { allowed: false, reason: 'system-administrator-required', missing: null, error: null };
  };

  ops.forEach((op, index) => {
    const decision = decide(engine, op, asUser, administrator);
    if (decision === null || decision.allowed) return;
    const name = String((op as { op?: unknown }).op);
    if (decision.reason === 'error' && decision.error !== null) {
      // The question names what the world (before this request) does not hold.
      const error = decision.error as PalisadeError;
      throw new ServerError(
        error.code,
        `operation ${index} (${name}) as user \`${asUser}\`: ${error.message} (each operation made as a user ` +
          'is checked against the world before the request)',
        422,
        { ...(error.details ?? {}), index, op: name, asUser },
      );
    }
    throw serverError(
      ServerErrorCodes.WRITE_DENIED,
      `operation ${index} (${name}): user \`${asUser}\` may not ${ACTIONS[name] ?? 'make this change'}: ${why(decision)}`,
      { index, op: name, asUser, reason: decision.reason, missing: decision.missing },
    );
  });
}

interface AdminDecision {
  readonly allowed: boolean;
  readonly reason: 'disabled' | 'system-administrator' | 'system-administrator-required';
  readonly missing: null;
  readonly error: null;
}

const ACTIONS: Readonly<Record<string, string>> = {
  createRecord: 'create this record',
  deleteRecord: 'delete this record',
  assignRecord: 'assign this record',
  grantShare: 'share this record',
  modifyShare: 'share this record',
  revokeShare: 'revoke a share of this record',
};

function why(decision: Decision | AdminDecision): string {
  if (decision.reason === 'disabled') return 'the user is disabled';
  if (decision.reason === 'system-administrator-required') return 'only a system administrator may';
  if (decision.missing !== null) return `the \`${decision.missing}\` privilege is missing`;
  return `denied (${decision.reason})`;
}

/** The decision an operation needs, or null when it needs none (or is malformed: the engine refuses it). */
function decide(
  engine: Engine,
  op: UpdateOp,
  asUser: string,
  administrator: () => Decision | AdminDecision,
): Decision | AdminDecision | null {
  const o = op as unknown as Record<string, unknown>;
  const text = (field: string): string | undefined => (typeof o[field] === 'string' ? (o[field] as string) : undefined);
  const optional = (field: string): string | null | false => {
    const value = o[field];
    if (value === undefined || value === null) return null;
    return typeof value === 'string' ? value : false;
  };
  const table = text('table');
  switch (o.op) {
    case 'createRecord': {
      const owner = optional('ownerId');
      const bu = optional('owningBusinessUnitId');
      if (table === undefined || owner === false || bu === false) return null;
      return engine.canCreate(asUser, table, owner, bu);
    }
    case 'deleteRecord': {
      const id = text('id');
      return table === undefined || id === undefined ? null : engine.check(asUser, table, 'delete', id);
    }
    case 'assignRecord': {
      const id = text('id');
      const owner = text('ownerId');
      if (table === undefined || id === undefined || owner === undefined) return null;
      return engine.canAssign(asUser, table, id, owner);
    }
    case 'grantShare':
    case 'modifyShare':
    case 'revokeShare': {
      const record = text('recordId');
      const rights = o.op === 'revokeShare' ? [] : o.rights;
      if (table === undefined || record === undefined) return null;
      if (!Array.isArray(rights) || rights.some((r) => typeof r !== 'string')) return null;
      return engine.canShare(asUser, table, record, rights as string[]);
    }
    default:
      // An operation the engine does not know is refused by the engine (422), not here.
      return KNOWN_ADMIN_OPS.has(String(o.op)) ? administrator() : null;
  }
}

/** Every other operation the engine knows changes the organization's security itself. */
const KNOWN_ADMIN_OPS: ReadonlySet<string> = new Set(UPDATE_OPS.filter((name) => !(name in ACTIONS)));
