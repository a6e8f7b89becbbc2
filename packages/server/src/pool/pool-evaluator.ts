import { availableParallelism } from 'node:os';
import { BatchCode, type CheckItem, type Engine, type FilterRows } from '@palisade/core';
import { type EvaluatorState, toBitmask } from '@palisade/core/internal';
import { Piscina } from 'piscina';
import {
  type ColumnBatchRequest,
  columnBatchAnswer,
  columnBatchBytes,
  columnBatchLength,
  resolveColumnBatch,
} from '../column-batch.js';
import { FailureCauses, ServerErrorCodes, serverError } from '../errors.js';
import { type BatchAnswer, InlineEvaluator, type Question } from '../evaluator.js';
import { SharedLayout, SharedRegions, SharedScratch } from './shared-scratch.js';

export interface PoolOptions {
  /** Worker threads; default: the machine's available parallelism. */
  readonly threads?: number;
  /**
   * `checkBatch` (an object per item, `/v1/checks`) with fewer items stays on the main thread.
   * Measured (BENCHMARKS.md, "When a worker pool pays" and "Server under load"): the batch loop
   * alone gains from two workers from about 32,000 items, but the route spends most of its time
   * parsing and resolving ids on the main thread, and a pooled 10,000-item batch was ~10% slower
   * than inline; above the default batch limit: raise both on larger machines.
   */
  readonly threshold?: number;
  /**
   * `checkColumns` (`/v1/checks/columns`) with fewer items stays on the main thread. Measured
   * (BENCHMARKS.md, "Server under load"): the workers answer one batch while the main thread
   * decodes and resolves the next. With two workers at concurrency 4 (medians): 1.2× the inline
   * checks/s at 2,500 items, 1.7× at 5,000, 1.3–1.6× at 10,000; 1.1× at 1,000, within the spread.
   */
  readonly columnThreshold?: number;
  /**
   * Filters of fewer rows stay on the main thread. Measured (BENCHMARKS.md, "When a worker pool
   * pays"): copying the rows into shared memory and the round trip cost about as much as
   * filtering 100,000 rows inline; two workers win from about 131,000.
   */
  readonly filterThreshold?: number;
  /**
   * Most ranges that may wait for a busy worker: a pooled question whose ranges would take the wait
   * past this is refused with 503 `PALISADE_UNAVAILABLE` and `Retry-After: 1`. Default
   * `DEFAULT_POOL_QUEUE_PER_THREAD` × threads (`defaultPoolMaxQueue`).
   */
  readonly maxQueue?: number;
  /**
   * Longest a pooled question's ranges may take from being handed to the pool, in ms (default
   * `DEFAULT_POOL_TASK_TIMEOUT_MS`). Past it the ranges still running are aborted: their workers
   * are terminated and replaced, and the question fails with 503 `PALISADE_UNAVAILABLE`. Without a
   * deadline a hung worker would hold its request, every later update (which waits for pooled
   * questions to finish) and shutdown for ever.
   */
  readonly taskTimeoutMs?: number;
  /** The worker module (default `./worker.mjs`); tests swap in one that fails on cue. */
  readonly workerFile?: URL;
}

export const DEFAULT_POOL_THRESHOLD = 32_768;
export const DEFAULT_COLUMN_POOL_THRESHOLD = 2_048;
/**
 * Past the default `--max-rows` (1,000,000): no filter is pooled unless asked. Since `filter` runs
 * caller columns in WebAssembly kernels, copying a filter's rows into shared memory and posting
 * them costs more than filtering them on the main thread: two workers measured 0.08–0.52× inline
 * on columns of 16,384 to 1,048,576 rows, 0.19–1.18× on record indexes (BENCHMARKS.md, "When a
 * worker pool pays"). It was 131,072 when the JavaScript loop was four times slower.
 */
export const DEFAULT_FILTER_POOL_THRESHOLD = 2_097_152;
/** A pooled range takes about a millisecond, a full queue about 40 ms: 30 s is only ever a hung worker. */
export const DEFAULT_POOL_TASK_TIMEOUT_MS = 30_000;
/**
 * Waiting ranges allowed per worker thread. A pooled question is split into at most `threads`
 * ranges, so N questions in flight keep at most (N − 1) × threads ranges waiting: 32 per thread
 * lets any closed loop of up to 33 concurrent pooled requests through without a 503, while a queue
 * that keeps growing (more requests arriving than the workers answer) is refused. Measured
 * (BENCHMARKS.md, "Server under load"; two workers, 10,000-item column batches): at most 26 ranges
 * waiting at concurrency 16, no 503 at 32, 6–9% of the requests refused at 48. The old bound,
 * threads² (4 here), refused 13–16% at concurrency 4. A full queue is about 32 × 1.3 ms ≈ 40 ms of
 * work per worker.
 */
export const DEFAULT_POOL_QUEUE_PER_THREAD = 32;

/** Free shared regions of column batches kept for reuse, in bytes (a 10,000-item batch takes ~140 KB). */
const REGION_KEEP_BYTES = 16 * 2 ** 20;

/** The default `maxQueue` for `threads` worker threads. */
export function defaultPoolMaxQueue(threads: number): number {
  return Math.max(1, threads) * DEFAULT_POOL_QUEUE_PER_THREAD;
}

/**
 * The inline evaluator, with large check batches and filters split over a Piscina pool of workers
 * that read the engine's compiled state from shared memory. The main thread resolves ids (workers
 * hold no id maps) into shared columns; each worker answers a range in place.
 *
 * The state is posted at start as `workerData`. Updates (`exclusive`) wait until no worker is
 * answering (the engine changes its shared arrays in place, and a worker must never read half an
 * update), hold new pooled questions back while they run, and then re-post the state: arrays may
 * have grown, and table sizes are part of it. Every task after the first update carries the state
 * with its generation; a worker rebuilds its evaluator when the generation changes (cloning a
 * state is a few dozen SharedArrayBuffer handles, nothing next to a pooled batch).
 */
export class PoolEvaluator extends InlineEvaluator {
  private readonly pool: Piscina;
  private readonly threads: number;
  private readonly threshold: number;
  private readonly columnThreshold: number;
  private readonly filterThreshold: number;
  private readonly maxQueue: number;
  private readonly taskTimeoutMs: number;
  /** Ranges handed to the pool and not yet answered: running (at most `threads`) or waiting. */
  private tasks: number;
  private readonly scratch: SharedScratch;
  /** Shared regions of pooled column batches, one per batch in flight, reused. */
  private readonly regions: SharedRegions;
  /** Bumped by each update; 0: the workers' `workerData` is current. */
  private generation: number;
  private state: EvaluatorState | null;
  /** Pooled questions between taking the engine's state and their last worker answer. */
  private active: number;
  /** Set while an update waits for `active` to reach 0 and runs: new pooled questions wait for it. */
  private updating: Promise<void> | null;
  private drained: (() => void) | null;

  constructor(engine: Engine, options: PoolOptions = {}) {
    super(engine);
    this.threads = Math.max(1, options.threads ?? availableParallelism());
    this.threshold = options.threshold ?? DEFAULT_POOL_THRESHOLD;
    this.columnThreshold = options.columnThreshold ?? DEFAULT_COLUMN_POOL_THRESHOLD;
    this.filterThreshold = options.filterThreshold ?? DEFAULT_FILTER_POOL_THRESHOLD;
    this.maxQueue = options.maxQueue ?? defaultPoolMaxQueue(this.threads);
    this.taskTimeoutMs = options.taskTimeoutMs ?? DEFAULT_POOL_TASK_TIMEOUT_MS;
    this.tasks = 0;
    this.scratch = new SharedScratch();
    this.regions = new SharedRegions(REGION_KEEP_BYTES);
    this.generation = 0;
    this.state = null;
    this.active = 0;
    this.updating = null;
    this.drained = null;
    this.pool = new Piscina({
      filename: (options.workerFile ?? new URL('./worker.mjs', import.meta.url)).href,
      workerData: engine.sharedState(),
      minThreads: this.threads,
      maxThreads: this.threads,
    });
  }

  override queueDepth(): number {
    return this.pool.queueSize;
  }

  override async exclusive<T>(change: () => T): Promise<T> {
    while (this.updating !== null) await this.updating;
    let release = (): void => {};
    this.updating = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      if (this.active > 0) {
        await new Promise<void>((resolve) => {
          this.drained = resolve;
        });
      }
      try {
        return change();
      } finally {
        // Even a failed change may have moved arrays (the engine rebuilds its own evaluator too).
        this.generation++;
        this.state = this.engine.sharedState();
        this.changed();
      }
    } finally {
      this.updating = null;
      this.drained = null;
      release();
    }
  }

  /** Runs a pooled question once no update is running, counting it as active until it settles. */
  private async pooled<T>(answer: () => Promise<T>): Promise<T> {
    while (this.updating !== null) await this.updating;
    this.active++;
    try {
      return await answer();
    } finally {
      this.active--;
      if (this.active === 0) this.drained?.();
    }
  }

  /** What a task carries besides its range: the state, once an update has made `workerData` stale. */
  private stateFields(): Record<string, unknown> {
    return this.generation === 0 ? {} : { generation: this.generation, state: this.state };
  }

  override async checkBatch(items: readonly CheckItem[]): Promise<BatchAnswer> {
    if (items.length < this.threshold) return super.checkBatch(items);
    return this.pooled(() => this.checkBatchPooled(items));
  }

  private async checkBatchPooled(items: readonly CheckItem[]): Promise<BatchAnswer> {
    const shards = this.reserve(Math.ceil(items.length / (this.threshold / 2)));
    const { columns, inline } = this.engine.batchColumns(items);
    const out = new Uint8Array(new SharedArrayBuffer(items.length));
    await this.runShards(items.length, shards, (from, to) => ({ kind: 'check', columns, out, from, to }));
    for (const i of inline) {
      const item = items[i] as CheckItem;
      out[i] = this.engine.checkBatch([item])[0] as number;
    }
    return this.withMessages(items, out);
  }

  override async checkColumns(request: ColumnBatchRequest): Promise<BatchAnswer> {
    const length = columnBatchLength(request);
    if (length < this.columnThreshold) return super.checkColumns(request);
    return this.pooled(() => this.checkColumnsPooled(request));
  }

  private async checkColumnsPooled(request: ColumnBatchRequest): Promise<BatchAnswer> {
    const length = columnBatchLength(request);
    // The resolved columns are written straight into a warm shared region, and the workers write
    // their answers next to them: nothing is copied but the answer, out of the region at the end.
    const region = this.regions.acquire(columnBatchBytes(length));
    let reusable = true;
    try {
      const layout = new SharedLayout(region);
      const resolved = resolveColumnBatch(this.engine, request, layout);
      const { columns } = resolved;
      const out = layout.uint8(length);
      // The region is reused: a slot no shard wrote must read as denied, not as an earlier batch's answer.
      out.fill(BatchCode.noAccess);
      const shards = this.reserve(Math.ceil(length / (this.columnThreshold / 2)));
      await this.runShards(
        length,
        shards,
        (from, to) => ({ kind: 'check', columns, out, from, to }),
        () => {
          reusable = false;
        },
      );
      // The answer outlives the region (it is encoded after this returns); the messages are worded
      // now, while the region still holds the columns they quote.
      return columnBatchAnswer(resolved, out.slice());
    } finally {
      if (reusable) this.regions.release(region);
    }
  }

  /**
   * Rows given as index columns are copied into warm shared memory and split over the workers.
   * Rows given as ids stay inline: resolving a million strings on the main thread costs far more
   * than the filter loop the workers would take over.
   */
  override async filter(q: Question, rows: FilterRows, output: 'indexes' | 'bitmask'): Promise<Uint32Array> {
    const columns = 'owners' in rows || 'records' in rows ? rows : null;
    const length = columns === null ? 0 : 'owners' in columns ? columns.owners.length : columns.records.length;
    if (length < this.filterThreshold) return super.filter(q, rows, output);
    return this.pooled(() => this.filterPooled(q, rows, output, length));
  }

  private async filterPooled(
    q: Question,
    rows: FilterRows,
    output: 'indexes' | 'bitmask',
    length: number,
  ): Promise<Uint32Array> {
    const memory = this.scratch.acquire(length * 16);
    if (memory === null) return super.filter(q, rows, output);
    let reusable = true;
    try {
      const layout = new SharedLayout(memory);
      const staged: FilterRows =
        'owners' in rows
          ? {
              owners: layout.copyInt32(rows.owners),
              businessUnits: layout.copyInt32(rows.businessUnits),
              ...(rows.records === undefined ? {} : { records: layout.copyInt32(rows.records) }),
            }
          : { records: layout.copyInt32((rows as { records: Int32Array | Uint32Array }).records) };
      const job = this.engine.filterJob(q.user, q.table, q.privilege, staged, { shared: true });
      if (job.kind !== 'rows') return super.filter(q, rows, output);
      const shards = this.reserve(Math.ceil(length / (this.filterThreshold / 2)));
      const positions = layout.uint32(length);
      const counts = await this.runShards(
        length,
        shards,
        (from, to) => ({ kind: 'filter', job, out: positions.subarray(from, to), from }),
        () => {
          reusable = false;
        },
      );
      // Each shard wrote its allowed positions at the start of its range: close the gaps.
      const size = Math.ceil(length / shards);
      let count = 0;
      counts.forEach((n, shard) => {
        positions.copyWithin(count, shard * size, shard * size + n);
        count += n;
      });
      return output === 'bitmask' ? toBitmask(positions, count, length) : positions.slice(0, count);
    } finally {
      if (reusable) this.scratch.release();
      else this.scratch.abandon();
    }
  }

  /**
   * How many shards a job of `wanted` may use, or 503 when more than `maxQueue` ranges would then
   * wait for a worker (ranges the idle workers take at once do not wait).
   */
  private reserve(wanted: number): number {
    const shards = Math.min(this.threads, wanted);
    if (this.tasks + shards - this.threads > this.maxQueue) {
      throw serverError(ServerErrorCodes.UNAVAILABLE, 'the worker pool is busy: retry shortly', { retryAfter: 1 });
    }
    return shards;
  }

  /**
   * Runs `shards` equal ranges of [0, length) on the pool; each task's answer, in range order.
   *
   * Every range settles before this returns or throws: the caller then frees or reuses the shared
   * memory the ranges read and write, which a range still running would write into. A range
   * aborted at the deadline settles at once, but its worker is only being terminated and may write
   * a little longer: `abandon` is called then, and the caller must never reuse that memory (it is
   * garbage once the worker has gone). Such a worker may also still read the engine's state while
   * an update changes it; what it reads only goes into an answer no one reads.
   */
  private async runShards(
    length: number,
    shards: number,
    task: (from: number, to: number) => Record<string, unknown>,
    abandon: () => void = () => {},
  ): Promise<number[]> {
    const size = Math.ceil(length / shards);
    const tasks: Promise<number>[] = [];
    const state = this.stateFields();
    // One deadline for all of a question's ranges: one timer, and one abort for every range left.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.taskTimeoutMs);
    for (let from = 0; from < length; from += size) {
      this.tasks++;
      tasks.push(
        this.pool
          .run({ ...task(from, Math.min(from + size, length)), ...state }, { signal: deadline.signal })
          .finally(() => {
            this.tasks--;
          }),
      );
    }
    let settled: PromiseSettledResult<number>[];
    try {
      settled = await Promise.allSettled(tasks);
    } finally {
      clearTimeout(timer);
    }
    const failed = settled.find((result) => result.status === 'rejected');
    if (failed !== undefined) {
      const error = (failed as PromiseRejectedResult).reason;
      if (deadline.signal.aborted) {
        abandon();
        throw serverError(
          ServerErrorCodes.UNAVAILABLE,
          `a worker did not answer within ${this.taskTimeoutMs} ms (it was replaced): retry`,
          { retryAfter: 1, cause: FailureCauses.WORKER_TIMEOUT },
          error,
        );
      }
      throw serverError(
        ServerErrorCodes.UNAVAILABLE,
        'a worker failed while answering (it was replaced): retry',
        { retryAfter: 1, cause: FailureCauses.WORKER_FAILED },
        error,
      );
    }
    return settled.map((result) => (result as PromiseFulfilledResult<number>).value);
  }

  override async close(): Promise<void> {
    this.regions.stopKeeping();
    await this.pool.destroy();
  }
}
