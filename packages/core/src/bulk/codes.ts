import { type ErrorCode, ErrorCodes } from '../errors.js';
import type { Decision } from '../evaluate/decision.js';

/**
 * One byte per answer in bulk results: allowed (with how), denied (with why), or the item's own
 * error. `code >= BatchCode.role && code <= BatchCode.systemAdministrator` means allowed.
 */
export const BatchCode = {
  noAccess: 0,
  role: 1,
  share: 2,
  hierarchy: 3,
  systemAdministrator: 4,
  disabled: 5,
  unknownUser: 16,
  unknownTable: 17,
  unknownRecord: 18,
  unknownPrivilege: 19,
  unknownPrincipal: 20,
  unknownBusinessUnit: 21,
  invalidOwner: 22,
} as const;
export type BatchCode = (typeof BatchCode)[keyof typeof BatchCode];

export function isAllowedCode(code: number): boolean {
  return code >= BatchCode.role && code <= BatchCode.systemAdministrator;
}

const ERROR_OF_CODE: ReadonlyMap<number, ErrorCode> = new Map<number, ErrorCode>([
  [BatchCode.unknownUser, ErrorCodes.UNKNOWN_USER],
  [BatchCode.unknownTable, ErrorCodes.UNKNOWN_TABLE],
  [BatchCode.unknownRecord, ErrorCodes.UNKNOWN_RECORD],
  [BatchCode.unknownPrivilege, ErrorCodes.UNKNOWN_PRIVILEGE],
  [BatchCode.unknownPrincipal, ErrorCodes.UNKNOWN_PRINCIPAL],
  [BatchCode.unknownBusinessUnit, ErrorCodes.UNKNOWN_BUSINESS_UNIT],
  [BatchCode.invalidOwner, ErrorCodes.INVALID_OWNER],
]);

/** The error code a batch slot carries, or null for an answer. */
export function errorOfCode(code: number): ErrorCode | null {
  return ERROR_OF_CODE.get(code) ?? null;
}

const CODE_OF_ERROR = new Map([...ERROR_OF_CODE].map(([code, error]) => [error, code]));

/** The batch code of a decision (what the single-question API would have answered). */
export function codeOfDecision(decision: Decision): number {
  switch (decision.reason) {
    case 'role':
      return BatchCode.role;
    case 'share':
      return BatchCode.share;
    case 'hierarchy':
      return BatchCode.hierarchy;
    case 'system-administrator':
      return BatchCode.systemAdministrator;
    case 'disabled':
      return BatchCode.disabled;
    case 'error':
      return CODE_OF_ERROR.get(decision.error.code) ?? BatchCode.noAccess;
    default:
      return BatchCode.noAccess;
  }
}
