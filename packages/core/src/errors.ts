/**
 * Every error the engine raises carries one of these stable codes. The list is mirrored in
 * docs/errors.md; a test keeps the two in step.
 */
export const ErrorCodes = {
  /** The world breaks a loading rule of world-format.md; `rule` names which. */
  WORLD_INVALID: 'PALISADE_WORLD_INVALID',
  /** The bytes given as a world are neither JSON nor MessagePack. */
  WORLD_MALFORMED: 'PALISADE_WORLD_MALFORMED',
  UNKNOWN_USER: 'PALISADE_UNKNOWN_USER',
  UNKNOWN_TABLE: 'PALISADE_UNKNOWN_TABLE',
  UNKNOWN_RECORD: 'PALISADE_UNKNOWN_RECORD',
  UNKNOWN_PRIVILEGE: 'PALISADE_UNKNOWN_PRIVILEGE',
  UNKNOWN_PRINCIPAL: 'PALISADE_UNKNOWN_PRINCIPAL',
  UNKNOWN_BUSINESS_UNIT: 'PALISADE_UNKNOWN_BUSINESS_UNIT',
  /** An owner that cannot own records: an access team, or `organization`. */
  INVALID_OWNER: 'PALISADE_INVALID_OWNER',
  /** A share right that is not one of the seven shareable privileges. */
  INVALID_SHARE_RIGHT: 'PALISADE_INVALID_SHARE_RIGHT',
  /** An update operation that cannot apply; `details` names its index, field and rule. Nothing of the batch is applied. */
  UPDATE_INVALID: 'PALISADE_UPDATE_INVALID',
  /**
   * A valid update failed while it was being compiled (out of memory, or a defect). `details.rolledBack`
   * says whether the engine is back as it was before the call; if not, it must be loaded again.
   */
  UPDATE_FAILED: 'PALISADE_UPDATE_FAILED',
  /** A malformed bulk request: columns of different lengths, a bad cursor, an unknown output form. */
  INVALID_ARGUMENT: 'PALISADE_INVALID_ARGUMENT',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** The loading rules of world-format.md, by their codes. */
export const WORLD_RULES = [
  'format-version',
  'shape',
  'id-format',
  'id-unique',
  'id-reserved',
  'reference-resolves',
  'bu-single-tree',
  'manager-chain-acyclic',
  'positions-acyclic',
  'exact-word',
  'org-table-depth',
  'org-record-unowned',
  'access-team-no-roles',
  'access-team-no-records',
  'team-assignment-bu',
  'team-members-are-users',
  'record-owner-required',
  'share-rights',
  'secured-column',
  'field-share-rights',
  'field-share-principal',
] as const;
export type WorldRule = (typeof WORLD_RULES)[number];

export interface WorldErrorDetail {
  /** The loading rule that the world breaks. */
  readonly rule: WorldRule;
  /** The kind of item at fault: `businessUnit`, `user`, `team`, `role`, `record`, … or `world`. */
  readonly kind: string;
  /** The item's id (a table's name, a record's id), when it has one. */
  readonly id: string | null;
  /** JSON path down to the offending field, e.g. `$.roles[0].privileges.currency.read`. */
  readonly path: string;
}

/**
 * Why an update operation cannot apply: a loading rule it would break, or
 * `not-found` (it removes or changes what does not exist) or `default-team-members` (default team
 * membership is computed from users' business units, never listed).
 */
export const UPDATE_RULES = [...WORLD_RULES, 'not-found', 'default-team-members'] as const;
export type UpdateRule = (typeof UPDATE_RULES)[number];

export interface UpdateErrorDetail {
  readonly rule: UpdateRule;
  /** Position of the failing operation in the batch. */
  readonly index: number;
  /** Its `op`. */
  readonly op: string;
  /** The field of the operation at fault. */
  readonly field: string;
}

export interface UpdateFailedDetail {
  /** The model and compiled state are as they were before the call (false: load the engine again). */
  readonly rolledBack: boolean;
}

export type ErrorDetail = WorldErrorDetail | UpdateErrorDetail | UpdateFailedDetail;

export class PalisadeError extends Error {
  readonly code: ErrorCode;
  /** Structured details for programs; the message says the same for people. */
  readonly details: ErrorDetail | null;

  constructor(code: ErrorCode, message: string, details: ErrorDetail | null = null, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PalisadeError';
    this.code = code;
    this.details = details;
  }
}

export function isPalisadeError(value: unknown): value is PalisadeError {
  return value instanceof PalisadeError;
}

// Message factories: every engine message is written here once, lowercase, naming the input.

export function invalidArgument(message: string): PalisadeError {
  return new PalisadeError(ErrorCodes.INVALID_ARGUMENT, message);
}

export function unknownUser(id: string): PalisadeError {
  return new PalisadeError(ErrorCodes.UNKNOWN_USER, `unknown user \`${id}\``);
}

export function unknownTable(name: string): PalisadeError {
  return new PalisadeError(ErrorCodes.UNKNOWN_TABLE, `unknown table \`${name}\``);
}

export function unknownRecord(table: string, id: string): PalisadeError {
  return new PalisadeError(ErrorCodes.UNKNOWN_RECORD, `unknown record \`${id}\` in table \`${table}\``);
}

export function unknownPrivilege(name: string): PalisadeError {
  return new PalisadeError(ErrorCodes.UNKNOWN_PRIVILEGE, `unknown privilege \`${name}\``);
}

export function unknownBusinessUnit(id: string): PalisadeError {
  return new PalisadeError(ErrorCodes.UNKNOWN_BUSINESS_UNIT, `unknown business unit \`${id}\``);
}

export function unknownPrincipal(id: string): PalisadeError {
  return new PalisadeError(ErrorCodes.UNKNOWN_PRINCIPAL, `unknown user or team \`${id}\``);
}

export function invalidOwner(message: string): PalisadeError {
  return new PalisadeError(ErrorCodes.INVALID_OWNER, message);
}

/** A valid update that failed while compiling; `cause` is what failed. */
export function updateFailed(rolledBack: boolean, cause: unknown): PalisadeError {
  const what = cause instanceof Error ? cause.message : String(cause);
  return new PalisadeError(
    ErrorCodes.UPDATE_FAILED,
    rolledBack
      ? `the update failed while compiling and was rolled back, nothing changed: ${what}`
      : `the update failed while compiling and could not be rolled back: load the engine again (${what})`,
    { rolledBack },
    { cause },
  );
}
