import { BatchCode, type Decision } from '@palisade/core';

const BY_REASON: Readonly<Record<string, number>> = {
  'no-access': BatchCode.noAccess,
  role: BatchCode.role,
  share: BatchCode.share,
  hierarchy: BatchCode.hierarchy,
  'system-administrator': BatchCode.systemAdministrator,
  disabled: BatchCode.disabled,
};

/** The batch code a decision should become, written out independently of the engine's own mapping. */
export function codeOfReason(decision: Decision): number {
  const code = BY_REASON[decision.reason];
  if (code === undefined) throw new Error(`no batch code for reason ${decision.reason}`);
  return code;
}
