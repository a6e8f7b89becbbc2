/**
 * `/v1/checks/columns`: a batch as columns. Each distinct user, table and privilege is named once
 * (a dictionary), and items are columns of positions in those dictionaries plus engine record
 * indexes (or record ids). In MessagePack every column is one `bin`, so a 10,000-item batch is a
 * few hundred kilobytes decoded without a per-item object, and the answer is one byte per item.
 */
import { BatchCode, type CheckColumns, type Engine, errorOfCode } from '@palisade/core';
import { ServerErrorCodes, serverError } from './errors.js';
import type { BatchAnswer, ErrorInfo } from './evaluator.js';

export interface ColumnBatchRequest {
  readonly users: readonly string[];
  readonly tables: readonly string[];
  readonly privileges: readonly string[];
  /** Per item: a position in `users`, `tables` and `privileges` (a column may be null when its dictionary has one entry). */
  readonly user: Uint32Array | null;
  readonly table: Uint32Array | null;
  readonly privilege: Uint32Array | null;
  /** Per item: the record, as an engine record index of the item's table, or as its id. */
  readonly record: Uint32Array | null;
  readonly recordId: readonly string[] | null;
}

/** The request as the engine's dense columns, and how to word an item's error. */
export interface ResolvedColumnBatch {
  readonly columns: CheckColumns;
  errorOf(item: number, code: number): ErrorInfo;
}

/** Outside every privilege: the column loop answers `unknownPrivilege`. */
const NO_PRIVILEGE = 255;

export function resolveColumnBatch(engine: Engine, request: ColumnBatchRequest): ResolvedColumnBatch {
  const length = request.record?.length ?? request.recordId?.length ?? 0;
  const privilegeIndex = Int32Array.from(request.privileges, (name) => {
    try {
      return engine.privilege(name);
    } catch {
      return NO_PRIVILEGE;
    }
  });
  const users = gather('user', request.user, engine.userIndexes(request.users), length);
  const tables = gather('table', request.table, engine.tableIndexes(request.tables), length);
  const privileges = Uint8Array.from(gather('privilege', request.privilege, privilegeIndex, length));
  const records =
    request.record !== null
      ? new Int32Array(request.record.buffer, request.record.byteOffset, length)
      : engine.recordIndexes(tables, request.recordId as readonly string[]);
  const columns = { users, tables, privileges, records };
  return {
    columns,
    errorOf(item, code) {
      const table = request.tables[(request.table?.[item] ?? 0) as number] as string;
      const record = request.recordId?.[item] ?? null;
      const message =
        code === BatchCode.unknownUser
          ? `unknown user \`${request.users[(request.user?.[item] ?? 0) as number]}\``
          : code === BatchCode.unknownTable
            ? `unknown table \`${table}\``
            : code === BatchCode.unknownPrivilege
              ? `unknown privilege \`${request.privileges[(request.privilege?.[item] ?? 0) as number]}\``
              : record !== null
                ? `unknown record \`${record}\` in table \`${table}\``
                : `no record at index ${records[item]} in table \`${table}\``;
      return { code: errorOfCode(code) ?? 'PALISADE_INVALID_ARGUMENT', message };
    },
  };
}

/** The dictionary entry of each item; a position past the dictionary is the request's fault. */
function gather(field: string, positions: Uint32Array | null, dictionary: Int32Array, length: number): Int32Array {
  const out = new Int32Array(length);
  if (positions === null) {
    if (dictionary.length !== 1) {
      throw invalid(`items.${field}`, `\`items.${field}\` is required unless the dictionary names exactly one`);
    }
    return out.fill(dictionary[0] as number);
  }
  if (positions.length !== length) {
    throw invalid(`items.${field}`, `\`items.${field}\` has ${positions.length} entries for ${length} items`);
  }
  for (let i = 0; i < length; i++) {
    const at = positions[i] as number;
    if (at >= dictionary.length) {
      throw invalid(`items.${field}`, `\`items.${field}[${i}]\` is ${at}, past the ${dictionary.length} names given`);
    }
    out[i] = dictionary[at] as number;
  }
  return out;
}

function invalid(field: string, message: string) {
  return serverError(ServerErrorCodes.INVALID_REQUEST, message, { field });
}

/** The answer: codes as they are, and the wording of each item that failed. */
export function columnBatchAnswer(resolved: ResolvedColumnBatch, codes: Uint8Array): BatchAnswer {
  const errors = new Map<number, ErrorInfo>();
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i] as number;
    if (errorOfCode(code) !== null) errors.set(i, resolved.errorOf(i, code));
  }
  return { codes, errors };
}
