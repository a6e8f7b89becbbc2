/**
 * Errors: every failure becomes `{ error: { code, message, details? } }` with its HTTP status —
 * validation, body parsing, size limits, engine errors, unknown routes and the unexpected.
 */
import { isPalisadeError } from '@palisade/core';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  type ErrorBody,
  fromEngineError,
  isServerError,
  type ServerError,
  ServerErrorCodes,
  serverError,
} from '../errors.js';
import { MSGPACK_TYPE } from '../wire.js';

/** Ajv's error object, as much of it as the messages use. */
interface SchemaError {
  readonly keyword: string;
  readonly instancePath: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly message?: string;
  readonly parentSchema?: { readonly description?: string };
}

/** `/items/3/record` → `items[3].record`; the root is `body` (or `params`, …). */
export function fieldName(instancePath: string, context: string): string {
  if (instancePath === '') return context;
  let name = '';
  for (const part of instancePath.slice(1).split('/')) {
    const segment = part.replaceAll('~1', '/').replaceAll('~0', '~');
    name += /^\d+$/.test(segment) ? `[${segment}]` : name === '' ? segment : `.${segment}`;
  }
  return name;
}

function child(parent: string, key: string, context: string): string {
  return parent === context ? key : `${parent}.${key}`;
}

/** A schema violation as a `ServerError` whose message names the field. */
export function validationError(errors: readonly SchemaError[], context: string): ServerError {
  const error = reportedError(errors);
  if (error === undefined) return serverError(ServerErrorCodes.INVALID_REQUEST, `the ${context} is invalid`);
  const field = fieldName(error.instancePath, context);
  const p = error.params;
  const details = { field, rule: error.keyword };
  switch (error.keyword) {
    case 'required': {
      const missing = child(field, String(p.missingProperty), context);
      return serverError(ServerErrorCodes.INVALID_REQUEST, `\`${missing}\` is required`, {
        ...details,
        field: missing,
      });
    }
    case 'additionalProperties': {
      const extra = child(field, String(p.additionalProperty), context);
      return serverError(ServerErrorCodes.INVALID_REQUEST, `\`${extra}\` is not a known field`, {
        ...details,
        field: extra,
      });
    }
    case 'maxItems':
      return serverError(
        ServerErrorCodes.BATCH_TOO_LARGE,
        `\`${field}\` has more than ${String(p.limit)} entries, the configured limit`,
        { ...details, limit: p.limit },
      );
    case 'type':
      return serverError(ServerErrorCodes.INVALID_REQUEST, `\`${field}\` must be ${typeName(p.type)}`, details);
    case 'enum':
      return serverError(
        ServerErrorCodes.INVALID_REQUEST,
        `\`${field}\` must be one of ${(p.allowedValues as unknown[]).map((v) => `\`${String(v)}\``).join(', ')}`,
        details,
      );
    case 'minLength':
      return serverError(
        ServerErrorCodes.INVALID_REQUEST,
        p.limit === 1
          ? `\`${field}\` must not be empty`
          : `\`${field}\` must be at least ${String(p.limit)} characters`,
        details,
      );
    case 'anyOf':
    case 'oneOf': {
      const expected = error.parentSchema?.description;
      const message = expected === undefined ? 'does not match any accepted form' : `must be ${expected}`;
      return serverError(ServerErrorCodes.INVALID_REQUEST, `\`${field}\` ${message}`, details);
    }
    default:
      return serverError(ServerErrorCodes.INVALID_REQUEST, `\`${field}\` ${error.message ?? 'is invalid'}`, details);
  }
}

/**
 * Ajv stops at the first error (allErrors: false), but an anyOf reports its branches' errors
 * before its own. The useful one is a branch's error inside the value (`record.ownerId` must be a
 * string) or from the branch whose type matched (`record.colour` is not a known field); failing
 * that, the anyOf's own, which says what forms the field accepts.
 */
function reportedError(errors: readonly SchemaError[]): SchemaError | undefined {
  const union = errors.findIndex((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  if (union === -1) return errors[0];
  const anyOf = errors[union] as SchemaError;
  const at = anyOf.instancePath;
  const branches = errors.slice(0, union).filter((e) => e.instancePath === at || e.instancePath.startsWith(`${at}/`));
  return (
    branches.find((e) => e.instancePath !== at) ??
    branches.find((e) => e.keyword !== 'type' && !e.keyword.startsWith('x-')) ??
    anyOf
  );
}

function typeName(type: unknown): string {
  const names = Array.isArray(type) ? type : [type];
  return names.map((t) => (/^[aeiou]/.test(String(t)) ? `an ${String(t)}` : `a ${String(t)}`)).join(' or ');
}

/** Fastify's own errors (body parsing and limits) by their codes. */
function frameworkError(error: FastifyError): ServerError | null {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return serverError(ServerErrorCodes.BODY_TOO_LARGE, 'the body is larger than the configured body limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return serverError(
        ServerErrorCodes.UNSUPPORTED_MEDIA_TYPE,
        'the body must be `application/json` or `application/msgpack` (content-type)',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return serverError(ServerErrorCodes.MALFORMED_BODY, 'the body is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return serverError(ServerErrorCodes.MALFORMED_BODY, 'the body is not valid JSON');
    case 'FST_ERR_BAD_URL':
      return serverError(ServerErrorCodes.INVALID_REQUEST, 'the URL is not valid');
    default:
      break;
  }
  // The JSON parser's own syntax errors (and prototype poisoning) carry only a 400 status.
  if (error instanceof SyntaxError && error.statusCode === 400) {
    return serverError(ServerErrorCodes.MALFORMED_BODY, `the body is not valid JSON: ${lowerFirst(error.message)}`);
  }
  return null;
}

function lowerFirst(text: string): string {
  return text.length === 0 ? text : text[0]?.toLowerCase() + text.slice(1);
}

/** Any error as the `ServerError` to answer with. */
export function toServerError(error: unknown): ServerError {
  if (isServerError(error)) return error;
  if (isPalisadeError(error)) return fromEngineError(error);
  const fastifyError = error as FastifyError;
  if (Array.isArray(fastifyError.validation)) {
    return validationError(fastifyError.validation as readonly SchemaError[], fastifyError.validationContext ?? 'body');
  }
  const known = frameworkError(fastifyError);
  if (known !== null) return known;
  const status = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500;
  if (status >= 400 && status < 500) {
    return serverError(ServerErrorCodes.INVALID_REQUEST, lowerFirst(fastifyError.message || 'bad request'));
  }
  return serverError(ServerErrorCodes.INTERNAL, 'internal error');
}

export function errorBody(error: ServerError): ErrorBody {
  return error.details === null
    ? { error: { code: error.code, message: error.message } }
    : { error: { code: error.code, message: error.message, details: error.details } };
}

function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const answer = toServerError(error);
  // Every 5xx is logged with its error, whose `cause` (the raw failure, which the answer only names
  // a kind of) pino writes out too. A revision not reached in time is the client's wait running
  // out, not a failure of the server: a warning, as is a 4xx with a raw cause (a write the database
  // refused), which the log is then the only place to find.
  if (answer.code === ServerErrorCodes.REVISION_NOT_READY || (answer.statusCode < 500 && answer.cause !== undefined)) {
    request.log.warn(
      answer.cause === undefined ? { code: answer.code } : { code: answer.code, err: answer.cause },
      answer.message,
    );
  } else if (answer.statusCode >= 500) request.log.error({ err: error }, 'request failed');
  if (answer.statusCode === 401) reply.header('www-authenticate', 'Bearer');
  // A busy pool or a restarting worker is brief: say when to come back.
  if (answer.statusCode === 503) reply.header('retry-after', '1');
  // Fastify clears the content type when an error replaces a reply; the serializer stays.
  if (request.wire === 'msgpack') reply.type(MSGPACK_TYPE);
  return reply.code(answer.statusCode).send(errorBody(answer));
}

async function errorsPlugin(app: FastifyInstance): Promise<void> {
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler((request, reply) => {
    const url = request.url.length > 200 ? `${request.url.slice(0, 200)}…` : request.url;
    return sendError(serverError(ServerErrorCodes.NOT_FOUND, `no route \`${request.method} ${url}\``), request, reply);
  });
}

/** Renders Fastify's framework errors (bad URL, …) raised before routing in the same error shape. */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  sendError(error, request, reply);
}

export default fp(errorsPlugin, { name: 'palisade-errors', fastify: '5.x' });
