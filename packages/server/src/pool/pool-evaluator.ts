import { availableParallelism } from 'node:os';
import type { CheckItem, Engine } from '@palisade/core';
import { Piscina } from 'piscina';
import { ServerErrorCodes, serverError } from '../errors.js';
import { type BatchAnswer, InlineEvaluator } from '../evaluator.js';

export interface PoolOptions {
  /** Worker threads; default: the machine's available parallelism. */
  readonly threads?: number;
  /**
   * Batches with fewer items stay on the main thread. Measured (BENCHMARKS.md, "When a worker pool
   * pays"): a round trip costs 80–100 µs, two workers break even near 4,000 items and win from
   * about 8,000.
   */
  readonly threshold?: number;
  /** Ranges waiting for a worker before requests are refused with 503 (default threads², Piscina's advice). */
  readonly maxQueue?: number;
  /** The worker module (default `./worker.mjs`); tests swap in one that fails on cue. */
  readonly workerFile?: URL;
}

export const DEFAULT_POOL_THRESHOLD = 8192;

/**
 * The inline evaluator, with large check batches split over a Piscina pool of workers that read
 * the engine's compiled state from shared memory. The main thread resolves ids (workers hold no
 * id maps) into shared columns; each worker answers a range in place.
 *
 * The state is posted once, at start: the service applies no updates yet. When it does, the
 * pool must be drained and re-posted the state after each `apply`, since arrays may grow.
 */
export class PoolEvaluator extends InlineEvaluator {
  private readonly pool: Piscina;
  private readonly threads: number;
  private readonly threshold: number;
  private readonly maxQueue: number;

  constructor(engine: Engine, options: PoolOptions = {}) {
    super(engine);
    this.threads = Math.max(1, options.threads ?? availableParallelism());
    this.threshold = options.threshold ?? DEFAULT_POOL_THRESHOLD;
    this.maxQueue = options.maxQueue ?? this.threads * this.threads;
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

  override async checkBatch(items: readonly CheckItem[]): Promise<BatchAnswer> {
    if (items.length < this.threshold) return super.checkBatch(items);
    const shards = Math.min(this.threads, Math.ceil(items.length / (this.threshold / 2)));
    if (this.pool.queueSize + shards > this.maxQueue) {
      throw serverError(ServerErrorCodes.UNAVAILABLE, 'the worker pool is busy: retry shortly', { retryAfter: 1 });
    }
    const { columns, inline } = this.engine.batchColumns(items);
    const out = new Uint8Array(new SharedArrayBuffer(items.length));
    const size = Math.ceil(items.length / shards);
    const tasks: Promise<unknown>[] = [];
    for (let from = 0; from < items.length; from += size) {
      tasks.push(this.pool.run({ columns, out, from, to: Math.min(from + size, items.length) }));
    }
    try {
      await Promise.all(tasks);
    } catch (error) {
      throw serverError(ServerErrorCodes.UNAVAILABLE, 'a worker failed while answering: retry', {
        retryAfter: 1,
        cause: error instanceof Error ? error.message : String(error),
      });
    }
    for (const i of inline) {
      const item = items[i] as CheckItem;
      out[i] = this.engine.checkBatch([item])[0] as number;
    }
    return this.withMessages(items, out);
  }

  override async close(): Promise<void> {
    await this.pool.destroy();
  }
}
