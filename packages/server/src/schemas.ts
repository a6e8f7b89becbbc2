/**
 * JSON Schemas of every request and response: Fastify validates bodies with them (JSON and
 * MessagePack alike, after decoding), serializes JSON responses with them, and @fastify/swagger
 * turns them into the OpenAPI document. Shared ones are added once by `$id` (`Error#`, …).
 */
import { ACCESS_RIGHT_BITS, DEPTHS, PRIVILEGES, UPDATE_OPS } from '@palisade/core';

const stringList = { type: 'array', items: { type: 'string' } } as const;

/** A list of integers in a reply (MessagePack replies may carry it as `bin`, as the description says). */
function integerList(description?: string) {
  return { type: 'array', items: { type: 'integer' }, ...(description === undefined ? {} : { description }) } as const;
}

/** The request flag of `/v1/filter` and `/v1/lookup` that adds `hiddenColumns` to the reply. */
const hiddenColumnsFlag = {
  type: 'boolean',
  default: false,
  description: 'also answer, per returned record, the secured columns to null out (§6)',
} as const;

/** Limits that shape schemas (`maxItems`). */
export interface SchemaLimits {
  readonly maxBatchItems: number;
  readonly maxFilterRows: number;
  readonly maxPageSize: number;
}

/** Ids are non-empty strings; the cap keeps a hostile body from making huge messages. */
const MAX_ID_LENGTH = 1024;
export const idSchema = { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH } as const;
const nullableId = { type: ['string', 'null'], maxLength: MAX_ID_LENGTH } as const;

/**
 * A long list of ids (a column batch's `users`: thousands per request), validated by the
 * `x-id-list` keyword (server.ts) instead of `items: idSchema`: one plain loop that refuses the
 * first entry `idSchema` would, with the error ajv would give (`idListError`). Ajv's generated
 * check counted every id's characters twice (`minLength` and `maxLength`): 0.2–0.3 ms of a
 * 10,000-item batch's main-thread time, against ~0.02 ms for this loop. The OpenAPI document shows
 * `items: idSchema` (`documented`).
 */
const ID_LIST = 'x-id-list';

/** Ajv's view of a refused entry (the fields `validationError` reads), as its `items: idSchema` would report it. */
export interface IdListError {
  readonly index: number;
  readonly keyword: 'type' | 'minLength' | 'maxLength';
  readonly params: Readonly<Record<string, unknown>>;
  readonly message: string;
}

/** The first entry of `ids` that `idSchema` refuses, or null when every entry is an id. */
export function idListError(ids: readonly unknown[]): IdListError | null {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (typeof id !== 'string') {
      return { index: i, keyword: 'type', params: { type: 'string' }, message: 'must be string' };
    }
    if (id.length === 0) {
      return { index: i, keyword: 'minLength', params: { limit: 1 }, message: 'must NOT have fewer than 1 characters' };
    }
    // JSON Schema counts characters (code points); a string has no more of them than UTF-16 units.
    if (id.length > MAX_ID_LENGTH && codePoints(id) > MAX_ID_LENGTH) {
      return {
        index: i,
        keyword: 'maxLength',
        params: { limit: MAX_ID_LENGTH },
        message: `must NOT have more than ${MAX_ID_LENGTH} characters`,
      };
    }
  }
  return null;
}

/** Characters as JSON Schema's length keywords count them (ajv's `ucs2length`: a surrogate pair is one). */
function codePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    count++;
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
  }
  return count;
}

/**
 * The schema as the OpenAPI document shows it: each `x-id-list` array with `items: idSchema`, the
 * constraint the keyword checks. The schema itself (not a copy) when it has no such array.
 */
export function documented<S>(schema: S): S {
  if (schema === null || typeof schema !== 'object') return schema;
  if (Array.isArray(schema)) {
    const entries = schema.map((entry) => documented(entry));
    return (entries.some((entry, i) => entry !== schema[i]) ? entries : schema) as S;
  }
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === ID_LIST) {
      out.items = idSchema;
      changed = true;
      continue;
    }
    out[key] = documented(value);
    changed ||= out[key] !== value;
  }
  return changed ? (out as S) : schema;
}

export const privilegeSchema = {
  type: 'string',
  enum: [...PRIVILEGES],
  description: 'one of the eight Dataverse privileges',
} as const;

const REASONS = [
  'system-administrator',
  'role',
  'share',
  'hierarchy',
  'disabled',
  'no-access',
  'missing-privilege',
  'organization-owned',
  'recipient-disabled',
  'error',
] as const;

/** Schemas added with `app.addSchema`, referenced as `{ $ref: '<$id>#' }`. */
export const sharedSchemas = [
  {
    $id: 'Error',
    type: 'object',
    description: 'the one error body every route answers with',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', description: 'stable code, `PALISADE_…` (docs/errors.md)' },
          message: { type: 'string', description: 'for people; names the offending input' },
          details: { type: 'object', additionalProperties: true },
        },
      },
    },
  },
  {
    $id: 'ErrorInfo',
    type: ['object', 'null'],
    description: 'why a question could not be answered (null when it was)',
    required: ['code', 'message'],
    properties: { code: { type: 'string' }, message: { type: 'string' } },
  },
  {
    $id: 'InlineRecord',
    type: 'object',
    description:
      'a row the engine need not store: its owner and owning business unit (default: the owner’s); ' +
      'shares come from the stored record with the same `id`, if any',
    additionalProperties: false,
    properties: { id: idSchema, ownerId: idSchema, owningBusinessUnitId: idSchema },
  },
  {
    $id: 'Record',
    description: 'a record id, or an inline row',
    anyOf: [idSchema, { $ref: 'InlineRecord#' }],
  },
  {
    $id: 'Grant',
    type: 'object',
    description: 'a role grant: which role, at what depth, anchored where, and through which team',
    properties: {
      role: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } },
      depth: { type: 'string', enum: [...DEPTHS] },
      businessUnit: nullableId,
      scope: { type: 'string', enum: ['user', 'team'] },
      team: nullableId,
      inherited: { type: 'boolean' },
    },
  },
  {
    $id: 'ExplainPath',
    type: 'object',
    description:
      'one path that grants: `system-administrator` (role, team), `role` (grant, match), `share` ' +
      '(principal, rights, usableThrough) or `hierarchy` (subordinate, level, via, principal)',
    properties: {
      kind: { type: 'string', enum: ['system-administrator', 'role', 'share', 'hierarchy'] },
      subordinate: { type: 'string', description: 'hierarchy: the report through whom the manager reaches the record' },
      level: { type: 'integer', description: 'hierarchy: 1 for a direct report' },
      via: { type: 'string', enum: ['owner', 'share'], description: 'hierarchy: the report owns it, or holds a share' },
      text: { type: 'string' },
      role: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } },
      team: nullableId,
      grant: { $ref: 'Grant#' },
      match: { type: 'string', enum: ['global', 'business-unit', 'subtree', 'owner'] },
      principal: { type: 'string' },
      rights: stringList,
      usableThrough: { $ref: 'Grant#' },
    },
  },
] as const;

const errorRef = { $ref: 'Error#' } as const;

/** Error responses every authenticated route documents. */
export const errorResponses = {
  '4xx': errorRef,
  '5xx': errorRef,
} as const;

const questionProperties = {
  user: { ...idSchema, description: 'a user id' },
  table: { ...idSchema, description: 'a table name' },
  privilege: privilegeSchema,
} as const;

const recordRef = { $ref: 'Record#' } as const;

const decisionProperties = {
  allowed: { type: 'boolean' },
  reason: { type: 'string', enum: [...REASONS] },
  missing: { type: ['string', 'null'], description: 'composite actions: the first privilege lacking' },
  error: { $ref: 'ErrorInfo#' },
} as const;

export const checkSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['user', 'table', 'privilege', 'record'],
    properties: { ...questionProperties, record: recordRef },
  },
  response: {
    200: {
      type: 'object',
      description: 'a decision; bad input (an unknown id) denies with reason `error` and the error',
      properties: decisionProperties,
    },
  },
} as const;

export const noopSchema = {
  body: checkSchema.body,
  response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } },
} as const;

export function checksSchema(limits: SchemaLimits) {
  return {
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['items'],
      description: 'top-level `user`, `table` and `privilege` are defaults for items that omit them',
      properties: {
        ...questionProperties,
        items: {
          type: 'array',
          maxItems: limits.maxBatchItems,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'record'],
            properties: {
              id: { ...idSchema, description: 'the caller’s correlation id, unique in the batch' },
              ...questionProperties,
              record: recordRef,
            },
          },
        },
      },
    },
    response: {
      200: {
        type: 'object',
        description: 'one result per item, in input order',
        properties: {
          results: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                id: { type: 'string' },
                allowed: decisionProperties.allowed,
                reason: decisionProperties.reason,
                error: decisionProperties.error,
              },
            },
          },
        },
      },
    },
  } as const;
}

/** `/v1/checks/columns`: dictionaries of ids, and items as columns of positions in them. */
export function checkColumnsSchema(limits: SchemaLimits) {
  const dictionary = (description: string, items: object) =>
    ({ type: 'array', minItems: 1, maxItems: limits.maxBatchItems, items, description }) as const;
  const ids = (description: string) =>
    ({ type: 'array', minItems: 1, maxItems: limits.maxBatchItems, [ID_LIST]: true, description }) as const;
  const positions = (of: string) =>
    indexList(limits.maxBatchItems, `per item: a position in \`${of}\` (may be left out when \`${of}\` has one entry)`);
  return {
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['users', 'tables', 'privileges', 'items'],
      properties: {
        users: ids('the distinct user ids the items ask about'),
        tables: ids('the distinct tables'),
        privileges: dictionary('the distinct privileges', privilegeSchema),
        items: {
          type: 'object',
          additionalProperties: false,
          description: 'columns of equal length, one entry per item; the records as `record` or `recordId`',
          oneOf: [{ required: ['record'] }, { required: ['recordId'] }],
          properties: {
            user: positions('users'),
            table: positions('tables'),
            privilege: positions('privileges'),
            record: indexList(limits.maxBatchItems, "per item: the engine record index in the item's table"),
            recordId: {
              type: 'array',
              maxItems: limits.maxBatchItems,
              items: idSchema,
              description: 'per item: the record id',
            },
          },
        },
      },
    },
    response: {
      200: {
        type: 'object',
        properties: {
          count: { type: 'integer', description: 'items asked about' },
          allowed: { type: 'integer', description: 'items allowed' },
          codes: integerList(
            'one code per item, in input order (MessagePack: `bin`, one byte each): 0 no-access, 1 role, 2 share, ' +
              '3 hierarchy, 4 system-administrator, 5 disabled; 16 and up an error, named in `errors`',
          ),
          errors: {
            type: 'array',
            items: {
              type: 'object',
              properties: { index: { type: 'integer' }, code: { type: 'string' }, message: { type: 'string' } },
            },
          },
        },
      },
    },
  } as const;
}

/** A list of 32-bit indexes: numbers, or (MessagePack) `bin` of little-endian uint32s. */
function indexList(maxItems: number, description: string) {
  return {
    description,
    anyOf: [
      { type: 'array', maxItems, items: { type: 'integer', minimum: 0, maximum: 0xffffffff } },
      { 'x-index-bytes': true, description: 'MessagePack only: `bin`, 4 bytes per index, little-endian' },
    ],
  } as const;
}

export function filterSchema(limits: SchemaLimits) {
  const nullableIds = (description: string) =>
    ({ type: 'array', maxItems: limits.maxFilterRows, items: nullableId, description }) as const;
  return {
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['user', 'table', 'privilege'],
      description:
        'rows as one of: `ids` (record ids); `records` (engine record indexes, as a roaring lookup returns); ' +
        'or the columns `ownerIds` and `businessUnitIds` (with `ids` for shares). An id the world does not ' +
        'know matches nothing',
      properties: {
        ...questionProperties,
        output: { type: 'string', enum: ['indexes', 'bitmask'], default: 'indexes' },
        hiddenColumns: hiddenColumnsFlag,
        ids: nullableIds('record ids (or, with `ownerIds`, the rows’ ids for their shares)'),
        records: indexList(limits.maxFilterRows, 'a list of engine record indexes'),
        ownerIds: nullableIds('each row’s owner (user or team id)'),
        businessUnitIds: nullableIds('each row’s owning business unit id'),
      },
    },
    response: {
      200: {
        type: 'object',
        properties: {
          rows: { type: 'integer', description: 'rows asked about' },
          allowed: { type: 'integer', description: 'rows allowed' },
          indexes: integerList('allowed row positions, ascending (MessagePack: `bin`, little-endian uint32)'),
          bitmask: integerList(
            'bit i of word i >> 5 set when row i is allowed (MessagePack: `bin`, little-endian uint32)',
          ),
          hiddenColumns: hiddenColumnsResponse,
        },
      },
    },
  } as const;
}

export function lookupSchema(limits: SchemaLimits) {
  return {
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['user', 'table', 'privilege'],
      properties: {
        ...questionProperties,
        format: { type: 'string', enum: ['ids', 'page', 'roaring'], default: 'ids' },
        limit: { type: 'integer', minimum: 1, maximum: limits.maxPageSize, description: 'page size; caps `ids`' },
        cursor: { type: 'string', maxLength: 64, description: '`page`: the previous page’s cursor' },
        hiddenColumns: hiddenColumnsFlag,
      },
    },
    response: {
      200: {
        type: 'object',
        properties: {
          format: { type: 'string' },
          total: { type: 'integer', description: 'records the user may access in all' },
          ids: stringList,
          cursor: { type: ['string', 'null'], description: '`page`: pass back for the next page; null after the last' },
          roaring: {
            type: 'string',
            description: 'record indexes in roaring’s portable format: base64 (MessagePack: `bin`)',
          },
          hiddenColumns: hiddenColumnsResponse,
        },
      },
    },
  } as const;
}

export const filterSpecSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['user', 'table', 'privilege'],
    properties: {
      ...questionProperties,
      columns: {
        type: 'object',
        additionalProperties: false,
        description: 'column names in the SQL (quoted as identifiers; `schema.column` allowed)',
        properties: {
          owningBusinessUnit: { ...idSchema, maxLength: 256, description: 'default `owningbusinessunit`' },
          owner: { ...idSchema, maxLength: 256, description: 'default `ownerid`' },
          id: { ...idSchema, maxLength: 256, description: 'default `id`' },
        },
      },
      firstParameter: { type: 'integer', minimum: 1, maximum: 65535, default: 1 },
    },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            all: { type: 'boolean' },
            businessUnitIds: stringList,
            ownerIds: stringList,
            sharedRecordIds: stringList,
          },
        },
        sql: { type: 'string', description: 'a parameterized PostgreSQL boolean expression' },
        params: { type: 'array', items: stringList },
      },
    },
  },
} as const;

export const accessSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['user', 'table', 'record'],
    properties: { user: questionProperties.user, table: questionProperties.table, record: recordRef },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        mask: { type: 'integer', description: 'RetrievePrincipalAccess AccessRights, Dataverse bit values' },
        rights: {
          type: 'array',
          items: { type: 'string', enum: Object.keys(ACCESS_RIGHT_BITS) },
          description: 'the privileges whose bits are set, in privilege order',
        },
      },
    },
  },
} as const;

const columnQuestion = {
  type: 'object',
  additionalProperties: false,
  required: ['user', 'table', 'record', 'column'],
  properties: {
    user: questionProperties.user,
    table: questionProperties.table,
    record: recordRef,
    column: { ...idSchema, description: 'a column name; one the table does not secure follows record access' },
  },
} as const;

const columnAccessProperties = {
  read: { type: 'boolean' },
  create: { type: 'boolean' },
  update: { type: 'boolean' },
} as const;

export const columnAccessSchema = {
  body: columnQuestion,
  response: { 200: { type: 'object', properties: columnAccessProperties } },
} as const;

export const explainColumnSchema = {
  body: columnQuestion,
  response: {
    200: {
      type: 'object',
      properties: {
        user: { type: 'string' },
        table: { type: 'string' },
        record: nullableId,
        column: { type: 'string' },
        secured: { type: 'boolean' },
        ...columnAccessProperties,
        recordAccess: { type: 'object', properties: columnAccessProperties },
        paths: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              kind: { type: 'string', enum: ['system-administrator', 'profile', 'field-share'] },
              profile: { type: 'string' },
              member: { type: 'string' },
              principal: { type: 'string' },
              permissions: stringList,
              text: { type: 'string' },
            },
          },
        },
        summary: { type: 'string' },
      },
    },
  },
} as const;

/** Secured columns to null out per returned record (`hiddenColumns: true` on filter and lookup). */
export const hiddenColumnsResponse = {
  type: 'object',
  description:
    'per returned record, `words` 32-bit words (MessagePack: `bin` of little-endian uint32s); bit c set when ' +
    '`columns[c]` must be nulled out for the user',
  properties: {
    columns: stringList,
    words: { type: 'integer' },
    masks: integerList(),
  },
} as const;

export const explainSchema = {
  body: checkSchema.body,
  response: {
    200: {
      type: 'object',
      properties: {
        allowed: { type: 'boolean' },
        reason: decisionProperties.reason,
        user: { type: 'string' },
        table: { type: 'string' },
        privilege: { type: 'string' },
        record: nullableId,
        ownerId: nullableId,
        owningBusinessUnitId: nullableId,
        paths: { type: 'array', items: { $ref: 'ExplainPath#' } },
        missing: { type: 'array', items: { type: 'string' }, description: 'for a deny: what would grant' },
        summary: { type: 'string' },
      },
    },
  },
} as const;

export const privilegesSchema = {
  params: {
    type: 'object',
    required: ['id'],
    properties: { id: { ...idSchema, description: 'a user id' } },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        user: { type: 'string' },
        businessUnit: { type: 'string' },
        disabled: { type: 'boolean' },
        systemAdministrator: { type: 'boolean' },
        teams: stringList,
        privileges: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              table: { type: 'string' },
              privilege: { type: 'string' },
              grants: { type: 'array', items: { $ref: 'Grant#' } },
            },
          },
        },
      },
    },
  },
} as const;

export const whoCanAccessSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['table', 'record', 'privilege'],
    properties: { table: questionProperties.table, record: recordRef, privilege: privilegeSchema },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        users: {
          type: 'array',
          description: 'every enabled user who may, each with the paths that grant',
          items: {
            type: 'object',
            properties: {
              user: { type: 'string' },
              reason: decisionProperties.reason,
              paths: { type: 'array', items: { $ref: 'ExplainPath#' } },
            },
          },
        },
      },
    },
  },
} as const;

/** The operations `/v1/write` takes: core's `UpdateOp`s (docs in packages/core/src/update/ops.ts). */
export const WRITE_OPS = UPDATE_OPS;

export function writeSchema(limits: SchemaLimits) {
  return {
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['ops'],
      properties: {
        ops: {
          type: 'array',
          minItems: 1,
          maxItems: limits.maxBatchItems,
          description:
            'operations applied in order as one transaction: all or none. Each is `{ op, …fields }`, one of ' +
            `${WRITE_OPS.join(', ')}; the engine checks every field (422 PALISADE_UPDATE_INVALID names the ` +
            "operation's index, field and rule)",
          items: {
            type: 'object',
            required: ['op'],
            properties: { op: { type: 'string', minLength: 1, maxLength: 64 } },
          },
        },
        asUser: {
          ...idSchema,
          description:
            'make the write as this user: each operation must be allowed to the user (create, delete, assign, share; ' +
            'a system administrator for the others), else 403 PALISADE_WRITE_DENIED',
        },
      },
    },
    response: {
      200: {
        type: 'object',
        properties: {
          revision: { type: 'integer', description: 'the change-log revision the write committed as' },
          operations: { type: 'integer', description: 'operations applied' },
        },
      },
    },
  } as const;
}
