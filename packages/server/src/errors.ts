import { type ErrorCode, ErrorCodes, isPalisadeError, type PalisadeError } from '@palisade/core';

/**
 * Every error the server answers with (beyond the engine's own codes, which pass through) carries
 * one of these stable codes. The list is mirrored in docs/errors.md under `## @palisade/server`; a
 * test keeps the two in step.
 */
export const ServerErrorCodes = {
  /** The embedded PostgreSQL could not start (postgres/embedded.ts). */
  DATABASE_UNAVAILABLE: 'PALISADE_DATABASE_UNAVAILABLE',
  /** No bearer token, or one that matches no configured API key (401). */
  UNAUTHENTICATED: 'PALISADE_UNAUTHENTICATED',
  /** The API key lacks the scope the route needs (403). */
  FORBIDDEN: 'PALISADE_FORBIDDEN',
  /** The body is not valid JSON or MessagePack, or is empty (400). */
  MALFORMED_BODY: 'PALISADE_MALFORMED_BODY',
  /** The body, path or query breaks the route's schema: a missing field, a wrong type, an unknown field (400). */
  INVALID_REQUEST: 'PALISADE_INVALID_REQUEST',
  /** The Content-Type is neither JSON nor MessagePack (415). */
  UNSUPPORTED_MEDIA_TYPE: 'PALISADE_UNSUPPORTED_MEDIA_TYPE',
  /** The body is larger than the configured body limit (413). */
  BODY_TOO_LARGE: 'PALISADE_BODY_TOO_LARGE',
  /** A batch, a row list or a page is longer than its configured limit (413). */
  BATCH_TOO_LARGE: 'PALISADE_BATCH_TOO_LARGE',
  /** The answer would be longer than the configured limit; ask for pages instead (422). */
  RESULT_TOO_LARGE: 'PALISADE_RESULT_TOO_LARGE',
  /** No route has this method and path (404). */
  NOT_FOUND: 'PALISADE_NOT_FOUND',
  /** The server is not ready (no world loaded) or is shutting down (503). */
  UNAVAILABLE: 'PALISADE_UNAVAILABLE',
  /** An unexpected failure; the log has the details (500). */
  INTERNAL: 'PALISADE_INTERNAL',
  /** A command-line flag, environment variable or keys file is invalid (the server does not start). */
  INVALID_CONFIG: 'PALISADE_INVALID_CONFIG',
  /** The database refused a world the engine accepted; the import was rolled back (store/import.ts). */
  STORE_REJECTED: 'PALISADE_STORE_REJECTED',
  /** The store's schema was migrated by a newer Palisade than this one (store/migrate.ts). */
  STORE_SCHEMA_TOO_NEW: 'PALISADE_STORE_SCHEMA_TOO_NEW',
  /** A write made `asUser` names an operation that user may not perform (403). */
  WRITE_DENIED: 'PALISADE_WRITE_DENIED',
  /** `atLeastRevision` names a revision this server has not applied within the wait (503). */
  REVISION_NOT_READY: 'PALISADE_REVISION_NOT_READY',
  /** A write reached a server that serves a world file without the PostgreSQL store (409). */
  STORE_REQUIRED: 'PALISADE_STORE_REQUIRED',
} as const;

export type ServerErrorCode = (typeof ServerErrorCodes)[keyof typeof ServerErrorCodes];

/** The HTTP status each server code is answered with. */
export const STATUS_OF_CODE: Readonly<Record<ServerErrorCode, number>> = {
  PALISADE_DATABASE_UNAVAILABLE: 503,
  PALISADE_UNAUTHENTICATED: 401,
  PALISADE_FORBIDDEN: 403,
  PALISADE_MALFORMED_BODY: 400,
  PALISADE_INVALID_REQUEST: 400,
  PALISADE_UNSUPPORTED_MEDIA_TYPE: 415,
  PALISADE_BODY_TOO_LARGE: 413,
  PALISADE_BATCH_TOO_LARGE: 413,
  PALISADE_RESULT_TOO_LARGE: 422,
  PALISADE_NOT_FOUND: 404,
  PALISADE_UNAVAILABLE: 503,
  PALISADE_INTERNAL: 500,
  PALISADE_INVALID_CONFIG: 500,
  PALISADE_STORE_REJECTED: 422,
  PALISADE_STORE_SCHEMA_TOO_NEW: 500,
  PALISADE_WRITE_DENIED: 403,
  PALISADE_REVISION_NOT_READY: 503,
  PALISADE_STORE_REQUIRED: 409,
};

/**
 * What failed behind a 5xx answer, as `details.cause`: one of a few fixed words. The raw error
 * (a PostgreSQL message, a connection string, a worker's stack) can name hosts, users, tables or
 * internals, so it goes only to the log, as the answer's `cause` (errors plugin). Listed in
 * docs/errors.md; a test keeps the two in step.
 */
export const FailureCauses = {
  /** The database could not be reached: refused, reset or dropped connections, a server shutting down. */
  DATABASE_UNREACHABLE: 'database-unreachable',
  /** The database answered with an error (`details.sqlState` names it). */
  DATABASE_ERROR: 'database-error',
  /** A worker thread failed while answering (it is replaced). */
  WORKER_FAILED: 'worker-failed',
  /** A worker thread did not answer within the task deadline (it is terminated and replaced). */
  WORKER_TIMEOUT: 'worker-timeout',
  /** Anything else: a failure the log explains. */
  INTERNAL: 'internal',
} as const;

export type FailureCause = (typeof FailureCauses)[keyof typeof FailureCauses];

/** Structured details for programs; the message says the same for people. */
export type ErrorDetails = Readonly<Record<string, unknown>>;

/** The one error body every route answers with. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details?: ErrorDetails };
}

/**
 * An error with its HTTP status and stable code; the errors plugin renders it as an `ErrorBody`.
 * `cause` (the standard `Error.cause`) is never sent: the errors plugin logs it with the answer.
 */
export class ServerError extends Error {
  readonly statusCode: number;
  readonly code: ServerErrorCode | ErrorCode;
  readonly details: ErrorDetails | null;

  constructor(
    code: ServerErrorCode | ErrorCode,
    message: string,
    statusCode: number,
    details: ErrorDetails | null,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ServerError';
    this.statusCode = statusCode;
    this.code = code;
    this.details = details;
  }
}

/** A server error with the status its code is documented with; `cause` goes to the log only. */
export function serverError(
  code: ServerErrorCode,
  message: string,
  details: ErrorDetails | null = null,
  cause?: unknown,
): ServerError {
  return new ServerError(code, message, STATUS_OF_CODE[code], details, cause);
}

/**
 * An engine error as an HTTP error: 422 when the request body names what does not exist (the
 * request is well-formed, the world just has no such user, table or record), 404 when the URL does.
 */
export function fromEngineError(error: PalisadeError, status: 404 | 422 = 422): ServerError {
  const rolledBack = updateRolledBack(error);
  if (rolledBack !== null) {
    // Not the request's fault, and its message carries the raw failure: that goes to the log.
    return new ServerError(
      error.code,
      rolledBack
        ? 'the engine failed while applying the write and undid it: nothing was written'
        : 'the engine failed while applying the write: nothing was written; this server reloads from the store',
      500,
      { rolledBack, cause: FailureCauses.INTERNAL },
      error,
    );
  }
  return new ServerError(error.code, error.message, status, error.details === null ? null : { ...error.details });
}

/**
 * For the engine's `PALISADE_UPDATE_FAILED`: whether it undid the update (false: the engine must
 * be loaded again). Null for any other error.
 */
export function updateRolledBack(error: unknown): boolean | null {
  if (!isPalisadeError(error) || error.code !== ErrorCodes.UPDATE_FAILED) return null;
  return error.details !== null && 'rolledBack' in error.details && error.details.rolledBack;
}

export function isServerError(value: unknown): value is ServerError {
  return value instanceof ServerError;
}

/** Rethrows an engine error as its HTTP form; anything else as it is. */
export function rethrowEngineError(error: unknown, status: 404 | 422 = 422): never {
  throw isPalisadeError(error) ? fromEngineError(error, status) : error;
}
