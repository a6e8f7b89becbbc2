/**
 * Palisade's own API, `/v1/…`. Every handler validates nothing by hand that a schema can say,
 * asks the `Evaluator` (never the engine), and shapes the answer for the negotiated encoding.
 *
 * Status rules: a decision (`check`, `checks`) is always 200 — bad input denies with reason
 * `error` and the error, as the engine does. A data route whose body names an unknown user,
 * table or record answers 422 with the engine's code; 404 when the unknown id is in the URL.
 */
import {
  ACCESS_RIGHT_BITS,
  BatchCode,
  type CheckItem,
  type Decision,
  errorOfCode,
  type FilterRows,
  type HiddenColumns,
  isAllowedCode,
  PRIVILEGES,
  type PrivilegeName,
  type SqlColumns,
} from '@palisade/core';
import type { FastifyInstance } from 'fastify';
import { rethrowEngineError, ServerErrorCodes, serverError } from '../errors.js';
import type { ErrorInfo, Evaluator, LookupFormat, Question, RecordInput } from '../evaluator.js';
import {
  accessSchema,
  checkColumnsSchema,
  checkSchema,
  checksSchema,
  columnAccessSchema,
  explainColumnSchema,
  explainSchema,
  filterSchema,
  filterSpecSchema,
  lookupSchema,
  noopSchema,
  privilegesSchema,
  whoCanAccessSchema,
} from '../schemas.js';
import { bytesOut, indexesIn, indexesOut, type Wire } from '../wire.js';
import { apiRoute, type ServerLimits } from './options.js';

export interface V1Options {
  readonly evaluator: Evaluator;
  readonly limits: ServerLimits;
}

interface QuestionBody {
  readonly user: string;
  readonly table: string;
  readonly privilege: PrivilegeName;
}

interface CheckBody extends QuestionBody {
  readonly record: RecordInput;
}

interface ColumnsBody {
  readonly users: readonly string[];
  readonly tables: readonly string[];
  readonly privileges: readonly string[];
  readonly items: {
    readonly user?: IndexInput;
    readonly table?: IndexInput;
    readonly privilege?: IndexInput;
    readonly record?: IndexInput;
    readonly recordId?: readonly string[];
  };
}

interface ChecksBody {
  readonly user?: string;
  readonly table?: string;
  readonly privilege?: PrivilegeName;
  readonly items: readonly {
    readonly id: string;
    readonly user?: string;
    readonly table?: string;
    readonly privilege?: PrivilegeName;
    readonly record: RecordInput;
  }[];
}

type IndexInput = readonly number[] | Uint8Array | Uint32Array | Int32Array;

interface FilterBody extends QuestionBody {
  readonly output: 'indexes' | 'bitmask';
  readonly hiddenColumns: boolean;
  readonly ids?: readonly (string | null)[];
  readonly records?: IndexInput;
  readonly ownerIds?: readonly (string | null)[];
  readonly businessUnitIds?: readonly (string | null)[];
}

interface LookupBody extends QuestionBody {
  readonly format: LookupFormat;
  readonly limit?: number;
  readonly cursor?: string;
  readonly hiddenColumns: boolean;
}

interface ColumnBody {
  readonly user: string;
  readonly table: string;
  readonly record: RecordInput;
  readonly column: string;
}

interface FilterSpecBody extends QuestionBody {
  readonly columns?: SqlColumns;
  readonly firstParameter: number;
}

interface AccessBody {
  readonly user: string;
  readonly table: string;
  readonly record: RecordInput;
}

interface WhoCanAccessBody {
  readonly table: string;
  readonly record: RecordInput;
  readonly privilege: PrivilegeName;
}

/** The decision reason a batch code stands for. */
export const REASON_OF_CODE: ReadonlyMap<number, Decision['reason']> = new Map<number, Decision['reason']>([
  [BatchCode.noAccess, 'no-access'],
  [BatchCode.role, 'role'],
  [BatchCode.share, 'share'],
  [BatchCode.hierarchy, 'hierarchy'],
  [BatchCode.systemAdministrator, 'system-administrator'],
  [BatchCode.disabled, 'disabled'],
]);

/** The error a batch slot carries: the evaluator's message, or (never expected) the code alone. */
export function batchError(code: number, errors: ReadonlyMap<number, ErrorInfo>, i: number): ErrorInfo | null {
  const errorCode = errorOfCode(code);
  if (errorCode === null) return null;
  return errors.get(i) ?? { code: errorCode, message: 'the question could not be answered' };
}

function question(body: QuestionBody): Question {
  return { user: body.user, table: body.table, privilege: body.privilege };
}

const NOOP_ANSWER = Object.freeze({ ok: true });

function invalid(field: string, message: string) {
  return serverError(ServerErrorCodes.INVALID_REQUEST, message, { field });
}

export async function v1Routes(app: FastifyInstance, options: V1Options): Promise<void> {
  const { evaluator, limits } = options;

  app.post<{ Body: CheckBody }>(
    '/v1/check',
    apiRoute('check', 'decisions', 'May the user exercise the privilege on the record?', checkSchema),
    async (request) => evaluator.check(request.body),
  );

  // The floor for load tests: the check route's parsing, auth, validation and encoding, no decision.
  app.post<{ Body: CheckBody }>(
    '/v1/noop',
    apiRoute('check', 'operations', 'The check route without the decision: the floor for load tests', noopSchema),
    async () => NOOP_ANSWER,
  );

  app.post<{ Body: ChecksBody }>(
    '/v1/checks',
    apiRoute('check', 'decisions', 'Many checks in one request, each with a correlation id', checksSchema(limits)),
    async (request) => {
      const body = request.body;
      const { items } = body;
      const questions: CheckItem[] = new Array(items.length);
      const seen = new Map<string, number>();
      for (let i = 0; i < items.length; i++) {
        const item = items[i] as ChecksBody['items'][number];
        const first = seen.get(item.id);
        if (first !== undefined) {
          throw invalid(`items[${i}].id`, `\`items[${i}].id\` repeats \`items[${first}].id\` (\`${item.id}\`)`);
        }
        seen.set(item.id, i);
        const user = item.user ?? body.user;
        const table = item.table ?? body.table;
        const privilege = item.privilege ?? body.privilege;
        if (user === undefined)
          throw invalid(`items[${i}].user`, `\`items[${i}].user\` is required (no default \`user\`)`);
        if (table === undefined) {
          throw invalid(`items[${i}].table`, `\`items[${i}].table\` is required (no default \`table\`)`);
        }
        if (privilege === undefined) {
          throw invalid(`items[${i}].privilege`, `\`items[${i}].privilege\` is required (no default \`privilege\`)`);
        }
        questions[i] = { user, table, privilege, record: item.record };
      }
      const { codes, errors } = await evaluator.checkBatch(questions);
      const results = new Array(items.length);
      for (let i = 0; i < items.length; i++) {
        const code = codes[i] as number;
        results[i] = {
          id: (items[i] as ChecksBody['items'][number]).id,
          allowed: isAllowedCode(code),
          reason: REASON_OF_CODE.get(code) ?? 'error',
          error: batchError(code, errors, i),
        };
      }
      return { results };
    },
  );

  app.post<{ Body: ColumnsBody }>(
    '/v1/checks/columns',
    apiRoute(
      'check',
      'decisions',
      'A batch as columns over dictionaries of ids: the fast form',
      checkColumnsSchema(limits),
    ),
    async (request) => {
      const { users, tables, privileges, items } = request.body;
      const column = (field: string, value: IndexInput | undefined) =>
        value === undefined ? null : boundedIndexes(`items.${field}`, value, limits.maxBatchItems);
      const { codes, errors } = await evaluator.checkColumns({
        users,
        tables,
        privileges,
        user: column('user', items.user),
        table: column('table', items.table),
        privilege: column('privilege', items.privilege),
        record: column('record', items.record),
        recordId: items.recordId ?? null,
      });
      return {
        count: codes.length,
        allowed: countAllowed(codes),
        codes: request.wire === 'json' ? Array.from(codes) : bytesOut(request.wire, codes),
        errors: Array.from(errors, ([index, error]) => ({ index, ...error })),
      };
    },
  );

  app.post<{ Body: FilterBody }>(
    '/v1/filter',
    apiRoute('check', 'lists', 'Which of these rows may the user access?', filterSchema(limits)),
    async (request) => {
      const body = request.body;
      const rows = filterRows(body, limits);
      if (body.hiddenColumns && body.output === 'bitmask') {
        throw invalid('hiddenColumns', '`hiddenColumns` comes per allowed row: use output `indexes`');
      }
      const answer = await evaluator.filter(question(body), rows, body.output);
      const total = rowCount(rows);
      if (body.output === 'bitmask') {
        return { rows: total, allowed: popcount(answer), bitmask: indexesOut(request.wire, answer) };
      }
      const hiddenColumns = body.hiddenColumns
        ? hiddenOut(request.wire, await evaluator.hiddenColumns(body.user, body.table, allowedRecords(rows, answer)))
        : undefined;
      return {
        rows: total,
        allowed: answer.length,
        indexes: indexesOut(request.wire, answer),
        ...only({ hiddenColumns }),
      };
    },
  );

  app.post<{ Body: LookupBody }>(
    '/v1/lookup',
    apiRoute('check', 'lists', 'Every record of the table the user may access', lookupSchema(limits)),
    async (request) => {
      const body = request.body;
      if (body.cursor !== undefined && body.format !== 'page') {
        throw invalid('cursor', '`cursor` applies only to format `page`');
      }
      const answer = await evaluator.lookup(question(body), {
        format: body.format,
        limit: body.limit ?? null,
        cursor: body.cursor ?? null,
        maxIds: limits.maxLookupIds,
      });
      if (body.hiddenColumns && body.format === 'roaring') {
        throw invalid('hiddenColumns', '`hiddenColumns` comes per returned id: use format `ids` or `page`');
      }
      const hiddenColumns =
        body.hiddenColumns && answer.ids !== null
          ? hiddenOut(request.wire, await evaluator.hiddenColumns(body.user, body.table, answer.ids))
          : undefined;
      switch (body.format) {
        case 'page':
          return {
            format: body.format,
            total: answer.total,
            ids: answer.ids,
            cursor: answer.cursor,
            ...only({ hiddenColumns }),
          };
        case 'roaring':
          return {
            format: body.format,
            total: answer.total,
            roaring: bytesOut(request.wire, answer.roaring ?? new Uint8Array(0)),
          };
        default:
          if (answer.ids === null) {
            throw serverError(
              ServerErrorCodes.RESULT_TOO_LARGE,
              `the user may access ${answer.total} records, more than the ${limits.maxLookupIds} that format \`ids\` ` +
                'returns: use format `page` or `roaring`, or a `limit`',
              { total: answer.total, limit: limits.maxLookupIds },
            );
          }
          return { format: body.format, total: answer.total, ids: answer.ids, ...only({ hiddenColumns }) };
      }
    },
  );

  app.post<{ Body: FilterSpecBody }>(
    '/v1/filter-spec',
    apiRoute('check', 'lists', 'The decision as data and as a PostgreSQL WHERE fragment', filterSpecSchema),
    async (request) => {
      const body = request.body;
      return evaluator.filterSpec(question(body), body.columns ?? {}, body.firstParameter);
    },
  );

  app.post<{ Body: ColumnBody }>(
    '/v1/column-access',
    apiRoute(
      'check',
      'decisions',
      'May the user read, create, update this column of the record? (§6)',
      columnAccessSchema,
    ),
    async (request) => evaluator.columnAccess(request.body),
  );

  app.post<{ Body: ColumnBody }>(
    '/v1/explain/column',
    apiRoute('check', 'decisions', 'Column access with the profiles and field shares behind it', explainColumnSchema),
    async (request) => evaluator.explainColumn(request.body),
  );

  app.post<{ Body: AccessBody }>(
    '/v1/access',
    apiRoute('check', 'decisions', 'The access rights mask (RetrievePrincipalAccess)', accessSchema),
    async (request) => {
      const { user, table, record } = request.body;
      const mask = await evaluator.accessRights(user, table, record);
      return { mask, rights: PRIVILEGES.filter((p) => (mask & ACCESS_RIGHT_BITS[p]) !== 0) };
    },
  );

  app.post<{ Body: CheckBody }>(
    '/v1/explain',
    apiRoute('check', 'explanations', 'Every path that grants, or what is missing', explainSchema),
    async (request) => evaluator.explain(request.body),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/users/:id/privileges',
    apiRoute('admin', 'explanations', 'Each (table, privilege) the user holds, with its grants', privilegesSchema),
    async (request) => {
      try {
        return await evaluator.userPrivileges(request.params.id);
      } catch (error) {
        rethrowEngineError(error, 404);
      }
    },
  );

  app.post<{ Body: WhoCanAccessBody }>(
    '/v1/who-can-access',
    apiRoute('admin', 'explanations', 'Every user who may, each with the paths that grant', whoCanAccessSchema),
    async (request) => {
      const { table, record, privilege } = request.body;
      return { users: await evaluator.whoCanAccess(table, record, privilege) };
    },
  );
}

/** The body's rows in the engine's form; exactly one form must be given. */
function filterRows(body: FilterBody, limits: ServerLimits): FilterRows {
  const { ids, records, ownerIds, businessUnitIds } = body;
  if (ownerIds !== undefined || businessUnitIds !== undefined) {
    if (ownerIds === undefined) throw invalid('ownerIds', '`ownerIds` is required with `businessUnitIds`');
    if (businessUnitIds === undefined)
      throw invalid('businessUnitIds', '`businessUnitIds` is required with `ownerIds`');
    if (records !== undefined) throw invalid('records', '`records` cannot be combined with `ownerIds`');
    return ids === undefined ? { ownerIds, businessUnitIds } : { ownerIds, businessUnitIds, ids };
  }
  if (records !== undefined) {
    if (ids !== undefined) throw invalid('ids', 'give one of `ids` and `records`, not both');
    return { records: boundedIndexes('records', records, limits.maxFilterRows) };
  }
  // Null ids match nothing, as unknown ids do (the engine treats both as no row).
  if (ids !== undefined) return { ids: ids as readonly string[] };
  throw invalid('body', 'give the rows: `ids`, `records`, or `ownerIds` with `businessUnitIds`');
}

/** The records of the allowed rows, for their hidden columns: an index, or an id ('' when not stored: all hidden). */
function allowedRecords(rows: FilterRows, positions: Uint32Array): Uint32Array | string[] {
  if ('records' in rows && rows.records !== undefined) {
    const records = rows.records;
    return Uint32Array.from(positions, (i) => records[i] as number);
  }
  const ids = 'ids' in rows ? rows.ids : undefined;
  return Array.from(positions, (i) => (ids?.[i] ?? '') as string);
}

function hiddenOut(wire: Wire, hidden: HiddenColumns) {
  return { columns: hidden.columns, words: hidden.words, masks: indexesOut(wire, hidden.masks) };
}

/** A list of indexes within a limit: a binary (`bin`) list escapes the schema's maxItems, so it is counted here. */
function boundedIndexes(field: string, value: IndexInput, limit: number): Uint32Array {
  const indexes = indexesIn(value);
  if (indexes.length > limit) {
    throw serverError(
      ServerErrorCodes.BATCH_TOO_LARGE,
      `\`${field}\` has more than ${limit} entries, the configured limit`,
      { field, rule: 'maxItems', limit },
    );
  }
  return indexes;
}

/** How many of a batch's codes allow. */
function countAllowed(codes: Uint8Array): number {
  let allowed = 0;
  for (let i = 0; i < codes.length; i++) allowed += isAllowedCode(codes[i] as number) ? 1 : 0;
  return allowed;
}

function rowCount(rows: FilterRows): number {
  if ('ownerIds' in rows) return rows.ownerIds.length;
  if ('records' in rows) return rows.records.length;
  if ('ids' in rows) return rows.ids.length;
  return rows.owners.length;
}

function popcount(words: Uint32Array): number {
  let count = 0;
  for (let i = 0; i < words.length; i++) {
    let v = words[i] as number;
    v -= (v >>> 1) & 0x55555555;
    v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
    count += (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
  }
  return count;
}

/**
 * The fields that have a value. JSON drops an undefined field, but MessagePack would send it as
 * msgpackr's `undefined` extension, which other MessagePack libraries cannot read.
 */
function only<T extends object>(fields: T): Partial<T> {
  const present: Partial<T> = {};
  for (const key in fields) if (fields[key] !== undefined) present[key] = fields[key];
  return present;
}
