/**
 * Telling a failure of the database apart from everything else. Only the first is answered 503
 * `PALISADE_DATABASE_UNAVAILABLE` (retry later: the store may be back); anything else that
 * escapes the store path is a bug, and takes the path of every unexpected error (500, logged).
 */
import pg from 'pg';
import { FailureCauses } from '../errors.js';
import { DatabaseUnavailableError } from '../postgres/embedded.js';

export interface DatabaseFailure {
  readonly cause: typeof FailureCauses.DATABASE_UNREACHABLE | typeof FailureCauses.DATABASE_ERROR;
  /** PostgreSQL's SQLSTATE, when the database answered with an error. */
  readonly sqlState?: string;
}

/** Node's codes for a connection that could not be made or was lost. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * pg's own errors for a connection that broke or never answered (pg/lib/client.js, pg-pool): they
 * carry no code, so their words are all there is to go by.
 */
const PG_CONNECTION_MESSAGE =
  /^(Connection terminated|Client has encountered a connection error|Client was closed and is not queryable|Query read timeout|timeout expired|timeout exceeded when trying to connect|Received unexpected \w+ message from backend)/;

/**
 * SQLSTATEs that mean the server cannot serve this connection rather than refusing the statement:
 * class 08 (connection exception), 53300 (too many connections) and 57P01–57P05 (the server
 * shutting down, crashing or not accepting connections yet).
 */
const UNREACHABLE_SQLSTATE = /^(08|53300|57P0)/;

/** What kind of database failure `error` is, or null when it is not one. */
export function databaseFailure(error: unknown): DatabaseFailure | null {
  if (error instanceof DatabaseUnavailableError) return { cause: FailureCauses.DATABASE_UNREACHABLE };
  if (error instanceof pg.DatabaseError) {
    const sqlState = error.code;
    if (sqlState === undefined) return { cause: FailureCauses.DATABASE_ERROR };
    return UNREACHABLE_SQLSTATE.test(sqlState)
      ? { cause: FailureCauses.DATABASE_UNREACHABLE, sqlState }
      : { cause: FailureCauses.DATABASE_ERROR, sqlState };
  }
  if (!(error instanceof Error)) return null;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return { cause: FailureCauses.DATABASE_UNREACHABLE };
  if (PG_CONNECTION_MESSAGE.test(error.message)) return { cause: FailureCauses.DATABASE_UNREACHABLE };
  return null;
}

/** The `details` of an answer about `failure`: its cause, and the SQLSTATE when there is one. */
export function failureDetails(failure: DatabaseFailure): Record<string, unknown> {
  return failure.sqlState === undefined
    ? { cause: failure.cause }
    : { cause: failure.cause, sqlState: failure.sqlState };
}
