import type { PalisadeError } from '../errors.js';
import { getOrCreate } from '../util/maps.js';
import type { PrivilegeName } from '../world/format.js';

export type AllowReason = 'system-administrator' | 'role' | 'share' | 'hierarchy';
export type DenyReason =
  | 'disabled'
  | 'no-access'
  | 'missing-privilege'
  | 'organization-owned'
  | 'recipient-disabled'
  | 'error';

/**
 * The answer to every yes/no question. All variants carry the same four fields so the hot path
 * sees one object shape; the fixed ones are frozen constants, so answering allocates nothing.
 * See docs/decisions.md.
 */
export type Decision =
  | { readonly allowed: true; readonly reason: AllowReason; readonly missing: null; readonly error: null }
  | {
      readonly allowed: false;
      readonly reason: Exclude<DenyReason, 'missing-privilege' | 'error'>;
      readonly missing: null;
      readonly error: null;
    }
  | {
      readonly allowed: false;
      readonly reason: 'missing-privilege';
      readonly missing: PrivilegeName;
      readonly error: null;
    }
  | { readonly allowed: false; readonly reason: 'error'; readonly missing: null; readonly error: PalisadeError };

function allow(reason: AllowReason): Decision {
  return Object.freeze({ allowed: true, reason, missing: null, error: null });
}

function deny(reason: Exclude<DenyReason, 'missing-privilege' | 'error'>): Decision {
  return Object.freeze({ allowed: false, reason, missing: null, error: null });
}

export const Decisions = {
  systemAdministrator: allow('system-administrator'),
  role: allow('role'),
  share: allow('share'),
  hierarchy: allow('hierarchy'),
  disabled: deny('disabled'),
  noAccess: deny('no-access'),
  organizationOwned: deny('organization-owned'),
  recipientDisabled: deny('recipient-disabled'),
} as const;

const missingByPrivilege = new Map<PrivilegeName, Decision>();

export function missingPrivilege(privilege: PrivilegeName): Decision {
  return getOrCreate(missingByPrivilege, privilege, () =>
    Object.freeze({ allowed: false, reason: 'missing-privilege', missing: privilege, error: null } as const),
  );
}

export function errorDecision(error: PalisadeError): Decision {
  return { allowed: false, reason: 'error', missing: null, error };
}
