/**
 * The service the routes call: every question goes through an `Evaluator`, never to the engine
 * directly, so a worker pool can take the engine's place later without touching a route.
 *
 * Everything an `Evaluator` returns is plain data (numbers, strings, typed arrays, plain objects):
 * what a worker thread could send back by structured clone. Data-returning methods reject with a
 * `PalisadeError`; decisions never do (a bad question is a deny with its error, as in the engine).
 */
import {
  type AccessHolder,
  type CheckItem,
  type ColumnAccess,
  type ColumnExplanation,
  type Decision,
  type Engine,
  type EngineStats,
  type ErrorCode,
  type Explanation,
  errorOfCode,
  type FilterRows,
  type FilterSpec,
  type HiddenColumns,
  type InlineRecord,
  type PrivilegeName,
  type SqlColumns,
  toSqlWhere,
  type UserPrivileges,
} from '@palisade/core';

import { type ColumnBatchRequest, columnBatchAnswer, resolveColumnBatch } from './column-batch.js';

/** A record by id, or a row given inline (owner and owning BU). */
export type RecordInput = string | InlineRecord;

/** One yes/no question with the world's ids. */
export interface Question {
  readonly user: string;
  readonly table: string;
  readonly privilege: PrivilegeName;
}

/** A question about one record. */
export interface RecordQuestion extends Question {
  readonly record: RecordInput;
}

/** A question about one column of a record (§6). */
export interface ColumnQuestion {
  readonly user: string;
  readonly table: string;
  readonly record: RecordInput;
  readonly column: string;
}

/** An error as it travels in an answer: its stable code and a message naming the input. */
export interface ErrorInfo {
  readonly code: string;
  readonly message: string;
}

/** A decision as plain data: the engine's `Decision` with its error reduced to code and message. */
export interface DecisionAnswer {
  readonly allowed: boolean;
  readonly reason: Decision['reason'];
  readonly missing: PrivilegeName | null;
  readonly error: ErrorInfo | null;
}

/** A batch's answers: one `BatchCode` byte per item, and the message of each item that failed. */
export interface BatchAnswer {
  readonly codes: Uint8Array;
  /** Item position → its error; empty when no item failed. */
  readonly errors: ReadonlyMap<number, ErrorInfo>;
}

export type LookupFormat = 'ids' | 'page' | 'roaring';

export interface LookupRequest {
  readonly format: LookupFormat;
  /** Page size (`page`) or a cap on the ids returned (`ids`). */
  readonly limit: number | null;
  readonly cursor: string | null;
  /** `ids`: answer no ids (null) when more than this many would be returned. */
  readonly maxIds: number;
}

/** A lookup's answer; fields a format does not use are null (one shape for every format). */
export interface LookupAnswer {
  /** How many records the user may access in all (not just this page). */
  readonly total: number;
  readonly ids: string[] | null;
  readonly cursor: string | null;
  /** The record indexes in roaring's portable serialization. */
  readonly roaring: Uint8Array | null;
}

export interface FilterSpecAnswer {
  readonly spec: FilterSpec;
  readonly sql: string;
  readonly params: string[][];
}

export interface ServiceStats extends EngineStats {
  /** Successful updates since load. */
  readonly revision: number;
}

export interface Evaluator {
  /** True once a world is loaded and questions can be answered. */
  ready(): boolean;
  /** Questions waiting for a worker: always 0 for the inline evaluator. */
  queueDepth(): number;
  /** World sizes for metrics; cheap to call (cached per revision). */
  stats(): ServiceStats;
  check(question: RecordQuestion): Promise<DecisionAnswer>;
  checkBatch(items: readonly CheckItem[]): Promise<BatchAnswer>;
  /** A batch given as columns over dictionaries of ids (`/v1/checks/columns`). */
  checkColumns(request: ColumnBatchRequest): Promise<BatchAnswer>;
  filter(question: Question, rows: FilterRows, output: 'indexes' | 'bitmask'): Promise<Uint32Array>;
  lookup(question: Question, request: LookupRequest): Promise<LookupAnswer>;
  filterSpec(question: Question, columns: SqlColumns, firstParameter: number): Promise<FilterSpecAnswer>;
  accessRights(user: string, table: string, record: RecordInput): Promise<number>;
  explain(question: RecordQuestion): Promise<Explanation>;
  /** §6: what the user may do with one column of the record. */
  columnAccess(question: ColumnQuestion): Promise<ColumnAccess>;
  explainColumn(question: ColumnQuestion): Promise<ColumnExplanation>;
  /** §6 for lists: per record (an engine index or an id), the secured columns to null out. */
  hiddenColumns(user: string, table: string, records: Uint32Array | readonly string[]): Promise<HiddenColumns>;
  userPrivileges(user: string): Promise<UserPrivileges>;
  whoCanAccess(table: string, record: RecordInput, privilege: PrivilegeName): Promise<AccessHolder[]>;
  /** Releases what the evaluator holds (workers, for a pool). */
  close(): Promise<void>;
}

const NO_ERRORS: ReadonlyMap<number, ErrorInfo> = new Map();

/** The evaluator that asks the engine on the calling thread. */
export class InlineEvaluator implements Evaluator {
  protected engine: Engine;
  private cachedStats: ServiceStats | null;
  private statsEngine: Engine | null;

  constructor(engine: Engine) {
    this.engine = engine;
    this.cachedStats = null;
    this.statsEngine = null;
  }

  /**
   * Runs `change` (synchronous: `engine.apply`, `setEngine`) where no question is being answered
   * from the engine's memory. Inline questions run to completion on this thread, so here that is
   * any moment; a worker pool first waits for the questions its workers are answering.
   */
  async exclusive<T>(change: () => T): Promise<T> {
    try {
      return change();
    } finally {
      this.changed();
    }
  }

  /**
   * After a change, failed ones included: a failed update that the engine rolled back leaves the
   * revision as it was but compiles the world afresh (other profile and grant counts).
   */
  protected changed(): void {
    this.cachedStats = null;
  }

  /** Answers from `engine` from now on (a world reloaded from the store). Call inside `exclusive`. */
  setEngine(engine: Engine): void {
    this.engine = engine;
    this.cachedStats = null;
  }

  ready(): boolean {
    return true;
  }

  queueDepth(): number {
    return 0;
  }

  stats(): ServiceStats {
    // `Engine.stats` walks every table's records; a scrape every few seconds should not.
    const revision = this.engine.revision;
    if (this.cachedStats === null || this.cachedStats.revision !== revision || this.statsEngine !== this.engine) {
      this.cachedStats = { ...this.engine.stats(), revision };
      this.statsEngine = this.engine;
    }
    return this.cachedStats;
  }

  async check(q: RecordQuestion): Promise<DecisionAnswer> {
    return decisionAnswer(this.engine.check(q.user, q.table, q.privilege, q.record));
  }

  async checkBatch(items: readonly CheckItem[]): Promise<BatchAnswer> {
    return this.withMessages(items, this.engine.checkBatch(items));
  }

  async checkColumns(request: ColumnBatchRequest): Promise<BatchAnswer> {
    const resolved = resolveColumnBatch(this.engine, request);
    return columnBatchAnswer(resolved, this.engine.checkBatch(resolved.columns));
  }

  /** A batch's codes with the message of each item that failed. */
  protected withMessages(items: readonly CheckItem[], codes: Uint8Array): BatchAnswer {
    let errors: Map<number, ErrorInfo> | null = null;
    for (let i = 0; i < codes.length; i++) {
      if (errorOfCode(codes[i] as number) === null) continue;
      // A batch code carries only the error's code; the single check gives its message (errors are rare).
      const item = items[i] as CheckItem;
      const decision = this.engine.check(item.user, item.table, item.privilege as PrivilegeName, item.record);
      if (decision.error !== null) {
        errors ??= new Map();
        errors.set(i, { code: decision.error.code, message: decision.error.message });
      }
    }
    return { codes, errors: errors ?? NO_ERRORS };
  }

  async filter(q: Question, rows: FilterRows, output: 'indexes' | 'bitmask'): Promise<Uint32Array> {
    return this.engine.filter(q.user, q.table, q.privilege, rows, { output });
  }

  async lookup(q: Question, request: LookupRequest): Promise<LookupAnswer> {
    const lookup = this.engine.lookup(q.user, q.table, q.privilege);
    const total = lookup.size;
    switch (request.format) {
      case 'page': {
        const page = lookup.page({ limit: request.limit ?? DEFAULT_PAGE_SIZE, cursor: request.cursor });
        return { total, ids: page.ids, cursor: page.cursor, roaring: null };
      }
      case 'roaring':
        return { total, ids: null, cursor: null, roaring: lookup.serialize() };
      default: {
        const count = Math.min(request.limit ?? total, total);
        if (count > request.maxIds) return { total, ids: null, cursor: null, roaring: null };
        const ids = count === total ? lookup.ids() : lookup.page({ limit: count }).ids;
        return { total, ids, cursor: null, roaring: null };
      }
    }
  }

  async filterSpec(q: Question, columns: SqlColumns, firstParameter: number): Promise<FilterSpecAnswer> {
    const spec = this.engine.filterSpec(q.user, q.table, q.privilege);
    const { sql, params } = toSqlWhere(spec, columns, firstParameter);
    return { spec, sql, params };
  }

  async columnAccess(q: ColumnQuestion): Promise<ColumnAccess> {
    return this.engine.columnAccess(q.user, q.table, q.record, q.column);
  }

  async explainColumn(q: ColumnQuestion): Promise<ColumnExplanation> {
    return this.engine.explainColumn(q.user, q.table, q.record, q.column);
  }

  async hiddenColumns(user: string, table: string, records: Uint32Array | readonly string[]): Promise<HiddenColumns> {
    return this.engine.hiddenColumns(user, table, records);
  }

  async accessRights(user: string, table: string, record: RecordInput): Promise<number> {
    return this.engine.accessRights(user, table, record);
  }

  async explain(q: RecordQuestion): Promise<Explanation> {
    return this.engine.explain(q.user, q.table, q.privilege, q.record);
  }

  async userPrivileges(user: string): Promise<UserPrivileges> {
    return this.engine.userPrivileges(user);
  }

  async whoCanAccess(table: string, record: RecordInput, privilege: PrivilegeName): Promise<AccessHolder[]> {
    return this.engine.whoCanAccess(table, record, privilege);
  }

  async close(): Promise<void> {}
}

/** Page size when a request names none. */
export const DEFAULT_PAGE_SIZE = 100;

/** The engine's decision as plain data, always with the same four fields. */
export function decisionAnswer(decision: Decision): DecisionAnswer {
  return {
    allowed: decision.allowed,
    reason: decision.reason,
    missing: decision.missing,
    error: decision.error === null ? null : { code: decision.error.code as ErrorCode, message: decision.error.message },
  };
}
