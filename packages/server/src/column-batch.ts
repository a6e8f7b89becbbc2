/**
 * `/v1/checks/columns`: a batch as columns. Each distinct user, table and privilege is named once
 * (a dictionary), and items are columns of positions in those dictionaries plus engine record
 * indexes (or record ids). In MessagePack every column is one `bin`, so a 10,000-item batch is a
 * few hundred kilobytes decoded without a per-item object, and the answer is one byte per item.
 */
import { BatchCode, type CheckColumns, type Engine, errorOfCode, PRIVILEGES } from '@palisade/core';
import { ServerErrorCodes, serverError } from './errors.js';
import type { BatchAnswer, ErrorInfo } from './evaluator.js';
import { SharedLayout } from './pool/shared-scratch.js';

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

/**
 * Where the resolved columns are written: ordinary typed arrays, or shared memory for a worker
 * pool (written there directly, not copied after).
 */
export interface ColumnStorage {
  int32(length: number): Int32Array;
  uint8(length: number): Uint8Array;
}

/** Ordinary typed arrays. */
export const HEAP_STORAGE: ColumnStorage = {
  int32: (length) => new Int32Array(length),
  uint8: (length) => new Uint8Array(length),
};

/** How many items the batch has: its record column's length. */
export function columnBatchLength(request: ColumnBatchRequest): number {
  return request.record?.length ?? request.recordId?.length ?? 0;
}

/**
 * Bytes of shared storage `resolveColumnBatch` takes for `length` items, with room for an answer
 * byte per item: three int32 columns and the privilege bytes it writes, plus the answers.
 */
export function columnBatchBytes(length: number): number {
  return SharedLayout.bytes([
    { length, elementBytes: 4 }, // users
    { length, elementBytes: 4 }, // tables
    { length, elementBytes: 1 }, // privileges
    { length, elementBytes: 4 }, // records
    { length, elementBytes: 1 }, // answers
  ]);
}

/** Outside every privilege: the column loop answers `unknownPrivilege`. */
const NO_PRIVILEGE = 255;

export function resolveColumnBatch(
  engine: Engine,
  request: ColumnBatchRequest,
  storage: ColumnStorage = HEAP_STORAGE,
): ResolvedColumnBatch {
  const length = columnBatchLength(request);
  // The engine numbers privileges in the order of PRIVILEGES (the schema admits only those names;
  // a direct caller may pass others).
  const privilegeIndex = Int32Array.from(request.privileges, (name) => {
    const privilege = (PRIVILEGES as readonly string[]).indexOf(name);
    return privilege === -1 ? NO_PRIVILEGE : privilege;
  });
  const users = gather('user', request.user, engine.userIndexes(request.users), storage.int32(length));
  const tables = gather('table', request.table, engine.tableIndexes(request.tables), storage.int32(length));
  const privileges = gather('privilege', request.privilege, privilegeIndex, storage.uint8(length));
  const given =
    request.record !== null
      ? new Int32Array(request.record.buffer, request.record.byteOffset, length)
      : engine.recordIndexes(tables, request.recordId as readonly string[]);
  // On the heap the given (or found) column serves as it is; shared storage takes a copy.
  const records = storage === HEAP_STORAGE ? given : storage.int32(length);
  if (records !== given) records.set(given);
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

/**
 * Each item's dictionary entry, into `out` (the item count long); a position past the dictionary is
 * the request's fault. Privileges go into bytes: their indexes and NO_PRIVILEGE fit.
 */
function gather<T extends Int32Array | Uint8Array>(
  field: string,
  positions: Uint32Array | null,
  dictionary: Int32Array,
  out: T,
): T {
  const length = out.length;
  if (positions === null) {
    if (dictionary.length !== 1) {
      throw invalid(`items.${field}`, `\`items.${field}\` is required unless the dictionary names exactly one`);
    }
    out.fill(dictionary[0] as number);
    return out;
  }
  if (positions.length !== length) {
    throw invalid(`items.${field}`, `\`items.${field}\` has ${positions.length} entries for ${length} items`);
  }
  const size = dictionary.length;
  for (let i = 0; i < length; i++) {
    const at = positions[i] as number;
    if (at >= size) {
      throw invalid(`items.${field}`, `\`items.${field}[${i}]\` is ${at}, past the ${size} names given`);
    }
    out[i] = dictionary[at] as number;
  }
  return out;
}

function invalid(field: string, message: string) {
  return serverError(ServerErrorCodes.INVALID_REQUEST, message, { field });
}

/** Per code byte, 1 where it is an error (`errorOfCode`): one load per item instead of a Map lookup. */
const IS_ERROR = Uint8Array.from({ length: 256 }, (_, code) => (errorOfCode(code) === null ? 0 : 1));

/** The answer: codes as they are, and the wording of each item that failed. */
export function columnBatchAnswer(resolved: ResolvedColumnBatch, codes: Uint8Array): BatchAnswer {
  const errors = new Map<number, ErrorInfo>();
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i] as number;
    if (IS_ERROR[code] === 1) errors.set(i, resolved.errorOf(i, code));
  }
  return { codes, errors };
}
