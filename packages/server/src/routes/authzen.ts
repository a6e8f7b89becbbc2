/**
 * OpenID AuthZEN Authorization API 1.0 (https://openid.net/specs/authorization-api-1_0.html):
 * access evaluation (§6), access evaluations with defaults and `options.evaluations_semantic`
 * (§7), resource search with `page.token` / `page.next_token` (§8.5, paginated requests and
 * responses), and the PDP metadata document at `/.well-known/authzen-configuration` (§9; fields
 * `policy_decision_point`, `access_evaluation_endpoint`, `access_evaluations_endpoint`,
 * `search_resource_endpoint`). Shapes checked against the spec's source in the openid/authzen
 * repository (api/authorization-api-1_0.md, api/schemas/paginated-{request,response}.json).
 *
 * Mapping onto Palisade (docs in README "Server"):
 * - subject `{ type: 'user', id }` → the user; another type is an error;
 * - action `{ name }` → the privilege: `read`, `can_read`, `appendTo`, `append_to`, `can_append_to`, …;
 * - resource `{ type, id }` → table and record id; `properties.ownerId` (and
 *   `properties.owningBusinessUnitId`) make it an inline row, `id` then only finds its shares;
 * - `resource.properties.column` makes it a column question (§6): action `read`, `create` or
 *   `update` (`write`, `can_…` too) → `columnAccess`; the context carries `reason:
 *   'column-security'` and the column's `access` (read, create, update);
 * - `context` is accepted and ignored: Palisade's decisions do not depend on it.
 *
 * A decision is `{ decision, context: { reason, error? } }`; a question that cannot be answered
 * (an unknown user, table, record or action) is `decision: false` with `reason: 'error'` and the
 * error's code, in the evaluation and in each evaluation of a batch alike (§7.3 per-item errors).
 */
import {
  type CheckItem,
  ErrorCodes,
  isAllowedCode,
  isPalisadeError,
  PRIVILEGES,
  type PrivilegeName,
} from '@palisade/core';
import type { FastifyInstance } from 'fastify';
import { ServerError, ServerErrorCodes, serverError } from '../errors.js';
import {
  DEFAULT_PAGE_SIZE,
  type DecisionAnswer,
  type ErrorInfo,
  type Evaluator,
  type RecordInput,
} from '../evaluator.js';
import { API_MEDIA_TYPES } from '../plugins/openapi.js';
import { errorResponses } from '../schemas.js';
import { apiRoute, httpOrigin, type ServerLimits } from './options.js';
import { batchError, REASON_OF_CODE } from './v1.js';

export interface AuthzenOptions {
  readonly evaluator: Evaluator;
  readonly limits: ServerLimits;
  /** The PDP's base URL for the metadata document; null: the listen address (`listen`). */
  readonly publicUrl: string | null;
  /** Where the server listens (`--host`, `--port`): the metadata's base URL without `publicUrl`. */
  readonly listen: { readonly host: string; readonly port: number };
}

interface Subject {
  readonly type: string;
  readonly id: string;
  readonly properties?: Readonly<Record<string, unknown>>;
}

interface Action {
  readonly name: string;
  readonly properties?: Readonly<Record<string, unknown>>;
}

interface Resource {
  readonly type: string;
  readonly id?: string;
  readonly properties?: {
    readonly ownerId?: string;
    readonly owningBusinessUnitId?: string;
    readonly column?: unknown;
  };
}

interface EvaluationBody {
  readonly subject: Subject;
  readonly action: Action;
  readonly resource: Resource;
  readonly context?: unknown;
}

interface PartialEvaluation {
  readonly subject?: Subject;
  readonly action?: Action;
  readonly resource?: Resource;
  readonly context?: unknown;
}

type Semantic = 'execute_all' | 'deny_on_first_deny' | 'permit_on_first_permit';

interface EvaluationsBody extends PartialEvaluation {
  readonly options?: { readonly evaluations_semantic?: Semantic };
  readonly evaluations?: readonly PartialEvaluation[];
}

interface SearchBody {
  readonly subject: Subject;
  readonly action: Action;
  readonly resource: { readonly type: string };
  readonly context?: unknown;
  readonly page?: { readonly token?: string; readonly limit?: number };
}

/** AuthZEN's answer; `context.error` only when the question could not be answered. */
interface AuthzenDecision {
  readonly decision: boolean;
  readonly context: {
    readonly reason: string;
    readonly missing?: string;
    readonly error?: ErrorInfo;
    /** Column questions: what the user may do with the column. */
    readonly access?: { readonly read: boolean; readonly create: boolean; readonly update: boolean };
  };
}

// ---- schemas (objects stay open: AuthZEN lets callers send properties a PDP ignores) ----

const stringField = { type: 'string', maxLength: 1024 } as const;
const propertiesField = { type: 'object', additionalProperties: true } as const;

const subjectSchema = {
  type: 'object',
  required: ['type', 'id'],
  description: '`type` must be `user`; `id` a user id',
  properties: { type: stringField, id: stringField, properties: propertiesField },
} as const;

const actionSchema = {
  type: 'object',
  required: ['name'],
  description: 'a privilege: `read`, `can_read`, `append_to`, `can_append_to`, …',
  properties: { name: stringField, properties: propertiesField },
} as const;

const resourceSchema = {
  type: 'object',
  required: ['type'],
  description:
    '`type`: a table name; `id`: a record id; or `properties.ownerId` (and `owningBusinessUnitId`) for a row given inline',
  properties: {
    type: stringField,
    id: stringField,
    properties: {
      type: 'object',
      additionalProperties: true,
      properties: {
        ownerId: stringField,
        owningBusinessUnitId: stringField,
        // Checked here: a column that is not a name must not turn the question into a record's.
        column: { type: 'string', minLength: 1, maxLength: 1024, description: 'a column question (§6)' },
      },
    },
  },
} as const;

const contextSchema = { type: 'object', additionalProperties: true } as const;

const decisionSchema = {
  type: 'object',
  properties: {
    decision: { type: 'boolean' },
    context: {
      type: 'object',
      properties: {
        reason: { type: 'string' },
        missing: { type: 'string' },
        error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
        access: {
          type: 'object',
          description: 'column questions (`resource.properties.column`): the column’s read, create and update',
          properties: { read: { type: 'boolean' }, create: { type: 'boolean' }, update: { type: 'boolean' } },
        },
      },
    },
  },
} as const;

const SEMANTICS: readonly Semantic[] = ['execute_all', 'deny_on_first_deny', 'permit_on_first_permit'];

/**
 * Action names → privileges: the privilege itself, `can_` + it, and snake_case (`append_to`); and
 * `update` / `can_update` for `write`, as column questions take them (Dataverse's Write privilege
 * is what an update needs).
 */
export const PRIVILEGE_OF_ACTION: ReadonlyMap<string, PrivilegeName> = new Map([
  ...PRIVILEGES.flatMap((p) => {
    const snake = p.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    return [...new Set([p, snake, `can_${p}`, `can_${snake}`])].map((name) => [name, p] as const);
  }),
  ['update', 'write'],
  ['can_update', 'write'],
]);

/** Column actions (§6): the record privilege each column permission goes with. */
const COLUMN_PERMISSION_OF_ACTION: ReadonlyMap<string, 'read' | 'create' | 'update'> = new Map([
  ['read', 'read'],
  ['create', 'create'],
  ['write', 'update'],
  ['update', 'update'],
  ['can_update', 'update'],
] as const);

/** The question an AuthZEN request asks, or the reason it cannot be asked. */
type Mapped = { readonly item: CheckItem; readonly error: null } | { readonly item: null; readonly error: ErrorInfo };

function mapQuestion(subject: Subject, action: Action, resource: Resource): Mapped {
  if (subject.type !== 'user') {
    return fail(ServerErrorCodes.INVALID_REQUEST, `subject type \`${subject.type}\` is not supported (only \`user\`)`);
  }
  const privilege = PRIVILEGE_OF_ACTION.get(action.name);
  if (privilege === undefined) {
    return fail(ErrorCodes.UNKNOWN_PRIVILEGE, unknownAction(action.name));
  }
  const record = resourceRecord(resource);
  if (record === null) {
    return fail(ServerErrorCodes.INVALID_REQUEST, '`resource.id` is required (or `resource.properties.ownerId`)');
  }
  return { item: { user: subject.id, table: resource.type, privilege, record }, error: null };
}

function unknownAction(name: string): string {
  return `unknown action \`${name}\` (a privilege such as \`read\` or \`can_read\`)`;
}

function fail(code: string, message: string): Mapped {
  return { item: null, error: { code, message } };
}

function resourceRecord(resource: Resource): RecordInput | null {
  const props = resource.properties;
  if (props !== undefined && (props.ownerId !== undefined || props.owningBusinessUnitId !== undefined)) {
    return {
      ...(resource.id === undefined ? {} : { id: resource.id }),
      ...(props.ownerId === undefined ? {} : { ownerId: props.ownerId }),
      ...(props.owningBusinessUnitId === undefined ? {} : { owningBusinessUnitId: props.owningBusinessUnitId }),
    };
  }
  return resource.id ?? null;
}

function decisionOf(answer: DecisionAnswer): AuthzenDecision {
  if (answer.error !== null) return { decision: false, context: { reason: 'error', error: answer.error } };
  if (answer.missing !== null) return { decision: false, context: { reason: answer.reason, missing: answer.missing } };
  return { decision: answer.allowed, context: { reason: answer.reason } };
}

function errorDecision(error: ErrorInfo): AuthzenDecision {
  return { decision: false, context: { reason: 'error', error } };
}

export async function authzenRoutes(app: FastifyInstance, options: AuthzenOptions): Promise<void> {
  const { evaluator, limits, publicUrl, listen } = options;

  /** §6: a column question, or null when the resource names no column. */
  async function evaluateColumn(subject: Subject, action: Action, resource: Resource): Promise<AuthzenDecision | null> {
    const column = resource.properties?.column;
    if (typeof column !== 'string') return null;
    if (subject.type !== 'user') {
      return errorDecision({
        code: ServerErrorCodes.INVALID_REQUEST,
        message: `subject type \`${subject.type}\` is not supported (only \`user\`)`,
      });
    }
    const permission = COLUMN_PERMISSION_OF_ACTION.get(PRIVILEGE_OF_ACTION.get(action.name) ?? action.name);
    if (permission === undefined) {
      return errorDecision({
        code: ErrorCodes.UNKNOWN_PRIVILEGE,
        message: `unknown column action \`${action.name}\` (read, create or update)`,
      });
    }
    const record = resourceRecord(resource);
    if (record === null) {
      return errorDecision({
        code: ServerErrorCodes.INVALID_REQUEST,
        message: '`resource.id` is required (or `resource.properties.ownerId`)',
      });
    }
    try {
      const access = await evaluator.columnAccess({ user: subject.id, table: resource.type, record, column });
      return { decision: access[permission], context: { reason: 'column-security', access } };
    } catch (error) {
      // An unknown id denies, as a record question's does; anything else (a busy pool) is no decision.
      if (isPalisadeError(error)) return errorDecision({ code: error.code, message: error.message });
      throw error;
    }
  }

  async function evaluate(body: EvaluationBody): Promise<AuthzenDecision> {
    const column = await evaluateColumn(body.subject, body.action, body.resource);
    if (column !== null) return column;
    const mapped = mapQuestion(body.subject, body.action, body.resource);
    if (mapped.item === null) return errorDecision(mapped.error);
    const { user, table, privilege, record } = mapped.item;
    return decisionOf(await evaluator.check({ user, table, privilege: privilege as PrivilegeName, record }));
  }

  app.post<{ Body: EvaluationBody }>(
    '/access/v1/evaluation',
    apiRoute('check', 'authzen', 'Access evaluation (AuthZEN §6)', {
      body: {
        type: 'object',
        required: ['subject', 'action', 'resource'],
        properties: { subject: subjectSchema, action: actionSchema, resource: resourceSchema, context: contextSchema },
      },
      response: { 200: decisionSchema },
    }),
    async (request) => evaluate(request.body),
  );

  app.post<{ Body: EvaluationsBody }>(
    '/access/v1/evaluations',
    apiRoute('check', 'authzen', 'Access evaluations (AuthZEN §7)', {
      body: {
        type: 'object',
        description:
          'top-level `subject`, `action`, `resource` and `context` are defaults for each evaluation; ' +
          'without `evaluations` the request is a single evaluation',
        properties: {
          subject: subjectSchema,
          action: actionSchema,
          resource: resourceSchema,
          context: contextSchema,
          options: {
            type: 'object',
            additionalProperties: true,
            properties: { evaluations_semantic: { type: 'string', enum: [...SEMANTICS], default: 'execute_all' } },
          },
          evaluations: {
            type: 'array',
            maxItems: limits.maxBatchItems,
            items: {
              type: 'object',
              properties: {
                subject: subjectSchema,
                action: actionSchema,
                resource: resourceSchema,
                context: contextSchema,
              },
            },
          },
        },
      },
      response: {
        200: {
          type: 'object',
          description: '`evaluations` in request order (cut short by the deny/permit-on-first semantics)',
          properties: {
            ...decisionSchema.properties,
            evaluations: { type: 'array', items: decisionSchema },
          },
        },
      },
    }),
    async (request) => {
      const body = request.body;
      if (body.evaluations === undefined || body.evaluations.length === 0) {
        // §7.1: without an `evaluations` array the request is a single evaluation.
        return evaluate(single(body));
      }
      const evaluations = body.evaluations;
      const semantic = body.options?.evaluations_semantic ?? 'execute_all';
      const mapped: Mapped[] = new Array(evaluations.length);
      // Column questions are answered one by one; the rest go in one batch.
      const columnDecisions = new Map<number, AuthzenDecision>();
      const items: CheckItem[] = [];
      const slots: number[] = [];
      for (let i = 0; i < evaluations.length; i++) {
        const e = evaluations[i] as PartialEvaluation;
        const subject = e.subject ?? body.subject;
        const action = e.action ?? body.action;
        const resource = e.resource ?? body.resource;
        if (subject === undefined) throw missingField(i, 'subject');
        if (action === undefined) throw missingField(i, 'action');
        if (resource === undefined) throw missingField(i, 'resource');
        const column = await evaluateColumn(subject, action, resource);
        if (column !== null) {
          columnDecisions.set(i, column);
          mapped[i] = { item: null, error: { code: '', message: '' } };
          continue;
        }
        const m = mapQuestion(subject, action, resource);
        mapped[i] = m;
        if (m.item !== null) {
          slots.push(i);
          items.push(m.item);
        }
      }
      // Every answerable item in one batch; the short-circuit semantics then cut the list. The
      // answers are the same as evaluating one by one, and a batch is far cheaper than N checks.
      const { codes, errors } = await evaluator.checkBatch(items);
      const decisions: AuthzenDecision[] = new Array(evaluations.length);
      for (let i = 0; i < evaluations.length; i++) {
        const m = mapped[i] as Mapped;
        const column = columnDecisions.get(i);
        if (column !== undefined) decisions[i] = column;
        else if (m.item === null) decisions[i] = errorDecision(m.error);
      }
      for (let k = 0; k < slots.length; k++) {
        const code = codes[k] as number;
        const error = batchError(code, errors, k);
        decisions[slots[k] as number] =
          error !== null
            ? errorDecision(error)
            : { decision: isAllowedCode(code), context: { reason: REASON_OF_CODE.get(code) ?? 'error' } };
      }
      return { evaluations: cut(decisions, semantic) };
    },
  );

  app.post<{ Body: SearchBody }>(
    '/access/v1/search/resource',
    apiRoute('check', 'authzen', 'Resource search: the records the subject may act on (AuthZEN §8)', {
      body: {
        type: 'object',
        required: ['subject', 'action', 'resource'],
        properties: {
          subject: subjectSchema,
          action: actionSchema,
          resource: { type: 'object', required: ['type'], properties: { type: stringField } },
          context: contextSchema,
          page: {
            type: 'object',
            additionalProperties: true,
            properties: {
              token: { type: 'string', maxLength: 64, description: 'a previous response’s `page.next_token`' },
              limit: { type: 'integer', minimum: 0, description: `page size (default ${DEFAULT_PAGE_SIZE})` },
            },
          },
        },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            results: {
              type: 'array',
              items: { type: 'object', properties: { type: { type: 'string' }, id: { type: 'string' } } },
            },
            page: {
              type: 'object',
              properties: {
                next_token: { type: 'string', description: 'empty after the last page' },
                count: { type: 'integer' },
                total: { type: 'integer' },
              },
            },
          },
        },
      },
    }),
    async (request) => {
      const { subject, action, resource, page } = request.body;
      if (subject.type !== 'user') {
        throw serverError(
          ServerErrorCodes.INVALID_REQUEST,
          `subject type \`${subject.type}\` is not supported (only \`user\`)`,
          { field: 'subject.type' },
        );
      }
      const privilege = PRIVILEGE_OF_ACTION.get(action.name);
      if (privilege === undefined) {
        throw new ServerError(ErrorCodes.UNKNOWN_PRIVILEGE, unknownAction(action.name), 422, { field: 'action.name' });
      }
      // Page size is the PDP's to choose (§8): a limit of 0 or none takes the default, and one
      // above the configured maximum is cut to it.
      const limit = Math.min(page?.limit || DEFAULT_PAGE_SIZE, limits.maxPageSize);
      const token = page?.token === undefined || page.token === '' ? null : page.token;
      const answer = await evaluator.lookup(
        { user: subject.id, table: resource.type, privilege },
        { format: 'page', limit, cursor: token, maxIds: limits.maxPageSize },
      );
      const ids = answer.ids ?? [];
      return {
        results: ids.map((id) => ({ type: resource.type, id })),
        page: { next_token: answer.cursor ?? '', count: ids.length, total: answer.total },
      };
    },
  );

  app.get(
    '/.well-known/authzen-configuration',
    {
      schema: {
        tags: ['authzen'],
        summary: 'Policy decision point metadata (AuthZEN §9)',
        produces: [API_MEDIA_TYPES.produces[0] as string],
        response: {
          200: {
            type: 'object',
            properties: {
              policy_decision_point: { type: 'string' },
              access_evaluation_endpoint: { type: 'string' },
              access_evaluations_endpoint: { type: 'string' },
              search_resource_endpoint: { type: 'string' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async () => {
      // Never from the request's Host header (or X-Forwarded-*): anyone could then have this
      // document, and any cache in front of it, advertise their own host as the PDP.
      const base = publicUrl ?? listenUrl(app, listen);
      return {
        policy_decision_point: base,
        access_evaluation_endpoint: `${base}/access/v1/evaluation`,
        access_evaluations_endpoint: `${base}/access/v1/evaluations`,
        search_resource_endpoint: `${base}/access/v1/search/resource`,
      };
    },
  );
}

/** The configured listen host with the port actually bound (it differs when the configured one is 0). */
function listenUrl(app: FastifyInstance, listen: AuthzenOptions['listen']): string {
  const address = app.server.address();
  return httpOrigin(listen.host, typeof address === 'object' && address !== null ? address.port : listen.port);
}

function single(body: EvaluationsBody): EvaluationBody {
  const { subject, action, resource } = body;
  if (subject === undefined) throw missingTop('subject');
  if (action === undefined) throw missingTop('action');
  if (resource === undefined) throw missingTop('resource');
  return { subject, action, resource };
}

function missingTop(field: string) {
  return serverError(ServerErrorCodes.INVALID_REQUEST, `\`${field}\` is required without \`evaluations\``, { field });
}

function missingField(i: number, field: string) {
  const name = `evaluations[${i}].${field}`;
  return serverError(ServerErrorCodes.INVALID_REQUEST, `\`${name}\` is required (no default \`${field}\`)`, {
    field: name,
  });
}

/** §7.2: `deny_on_first_deny` stops after the first deny (an error is one), `permit_on_first_permit` after the first permit. */
function cut(decisions: AuthzenDecision[], semantic: Semantic): AuthzenDecision[] {
  if (semantic === 'execute_all') return decisions;
  const stopOn = semantic === 'permit_on_first_permit';
  const at = decisions.findIndex((d) => d.decision === stopOn);
  return at === -1 ? decisions : decisions.slice(0, at + 1);
}
