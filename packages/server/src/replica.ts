/**
 * A server process's view of the world: an engine, the evaluator that answers from it, and (when
 * the world lives in the PostgreSQL store) the change-log revision it has applied.
 *
 * The change log is the write path (docs/store.md, "Writes"): the world tables hold the snapshot of
 * the last import, every later write is one row of `palisade_changes`. A replica loads the
 * snapshot and applies every change after it with `engine.apply`, in revision order; it then
 * follows the log (LISTEN/NOTIFY wakes it, catch-up by revision loses nothing) and applies what
 * other processes write. Every process that replays the same log holds the same engine, record
 * indexes included (a deleted record keeps its index, so the snapshot must not be compacted while
 * servers run).
 *
 * One thing at a time changes the engine (a process-local mutex): a catch-up, a write, or a reload.
 */

import { Engine, isPalisadeError, type UpdateOp } from '@palisade/core';
import {
  FailureCauses,
  isServerError,
  ServerError,
  ServerErrorCodes,
  serverError,
  updateRolledBack,
} from './errors.js';
import { type Evaluator, InlineEvaluator } from './evaluator.js';
import { type StorableProblem, storableProblem } from './storable.js';
import {
  appendChange,
  type Change,
  type ChangeAuthor,
  isImportChange,
  lockForWrite,
  readChanges,
} from './store/changes.js';
import { databaseFailure, failureDetails } from './store/failures.js';
import type { ChangeListener, Store } from './store/open.js';
import { authorizeWrite } from './write-auth.js';

export interface ReplicaOptions {
  /** Builds the evaluator for an engine (default: an `InlineEvaluator`; a `PoolEvaluator` for a pool). */
  readonly evaluator?: (engine: Engine) => InlineEvaluator;
  /** Follow the log with LISTEN/NOTIFY (default true); without, a replica catches up only when asked. */
  readonly follow?: boolean;
  /** How long a read with `atLeastRevision` waits for its revision (default 2,000 ms). */
  readonly waitMs?: number;
  /**
   * While following, also catch up every this many ms whatever LISTEN says (default 5,000; 0: never).
   * A safety net: a LISTEN connection can die silently (a NAT or proxy that drops idle connections
   * without a reset) or never hear anything (a pooler in transaction mode), and a replica that
   * relied on notifications alone would then stay behind until a read asked for a revision.
   */
  readonly catchUpMs?: number;
  /** Where background failures (a lost LISTEN connection, a failed catch-up) are reported. */
  readonly onError?: (message: string, error: unknown) => void;
}

export interface WriteResult {
  /** The revision the write committed as; every reply computed from now on carries at least it. */
  readonly revision: number;
  /** Operations applied. */
  readonly operations: number;
}

export const DEFAULT_REVISION_WAIT_MS = 2_000;
/** A lost LISTEN connection is tried again after this long (and the log caught up then). */
const RELISTEN_MS = 1_000;
/** After a failed write, a reload that failed too is tried again after this long. */
const RELOAD_RETRY_MS = 1_000;
export const DEFAULT_CATCH_UP_MS = 5_000;

/** Runs tasks one at a time, in call order. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

export class Replica {
  /** The store the world lives in; null for a world file served as it is (no writes). */
  readonly store: Store | null;
  readonly evaluator: Evaluator;
  readonly waitMs: number;
  private readonly updatable: InlineEvaluator | null;
  private engine: Engine | null;
  /** The change-log revision the engine holds. */
  private applied: number;
  /** The engine may hold a write the store does not have (its commit failed): reads wait for a reload. */
  private dirty: boolean;
  private readonly mutex: Mutex;
  /** The catch-up queued or running; `syncStarted` once it has begun reading the log. */
  private syncing: Promise<void> | null;
  private syncStarted: boolean;
  /** The catch-up that follows the running one (`sync`). */
  private syncAgain: Promise<void> | null;
  private readonly waiters: Set<() => void>;
  private readonly onError: (message: string, error: unknown) => void;
  private listener: ChangeListener | null;
  private timer: NodeJS.Timeout | null;
  private poller: NodeJS.Timeout | null;
  /** The last periodic catch-up failed (reported once, not every period). */
  private pollFailing: boolean;
  private closed: boolean;

  private constructor(
    store: Store | null,
    evaluator: Evaluator,
    updatable: InlineEvaluator | null,
    engine: Engine | null,
    revision: number,
    options: ReplicaOptions,
  ) {
    this.store = store;
    this.evaluator = evaluator;
    this.updatable = updatable;
    this.engine = engine;
    this.applied = revision;
    this.waitMs = options.waitMs ?? DEFAULT_REVISION_WAIT_MS;
    this.dirty = false;
    this.mutex = new Mutex();
    this.syncing = null;
    this.syncStarted = false;
    this.syncAgain = null;
    this.waiters = new Set();
    this.onError = options.onError ?? (() => {});
    this.listener = null;
    this.timer = null;
    this.poller = null;
    this.pollFailing = false;
    this.closed = false;
  }

  /** A world file served as it is: revision 0, no store, writes refused with `PALISADE_STORE_REQUIRED`. */
  static serving(evaluator: Evaluator, options: Pick<ReplicaOptions, 'waitMs'> = {}): Replica {
    return new Replica(null, evaluator, null, null, 0, options);
  }

  /** Loads the store's snapshot and every change after it, then follows the log (unless `follow: false`). */
  static async open(store: Store, options: ReplicaOptions = {}): Promise<Replica> {
    const { engine, revision } = await loadEngine(store);
    const evaluator = (options.evaluator ?? ((e: Engine) => new InlineEvaluator(e)))(engine);
    const replica = new Replica(store, evaluator, evaluator, engine, revision, options);
    if (options.follow !== false) {
      await replica.follow();
      replica.startPolling(options.catchUpMs ?? DEFAULT_CATCH_UP_MS);
    }
    return replica;
  }

  /** The change-log revision the engine has applied (0 for a world file). */
  get revision(): number {
    return this.applied;
  }

  /** False while the engine may hold a write the store does not have: reads must not be answered. */
  get consistent(): boolean {
    return !this.dirty;
  }

  ready(): boolean {
    return !this.dirty && !this.closed && this.evaluator.ready();
  }

  /**
   * Catches up with the store: applies every change after `revision`, in order (an import entry
   * reloads the whole world). Concurrent callers share one catch-up: the one queued, or else the
   * one after the catch-up that is running. Joining a running one would not do: it may have read
   * the log before the change this caller heard of committed, and then ends without it.
   */
  sync(): Promise<void> {
    const store = this.store;
    if (store === null) return Promise.resolve();
    if (this.syncing !== null && this.syncStarted) {
      this.syncAgain ??= this.syncing
        .catch(() => undefined)
        .then(() => {
          this.syncAgain = null;
          return this.sync();
        });
      return this.syncAgain;
    }
    this.syncing ??= this.mutex
      .run(async () => {
        this.syncStarted = true;
        if (this.dirty) return this.reload(store);
        for (;;) {
          const changes = await withStoreErrors(() =>
            store.withClient((client) => readChanges(client, store.schema, this.applied)),
          );
          if (changes.length === 0) return;
          await this.applyChanges(store, changes);
        }
      })
      .finally(() => {
        this.syncing = null;
        this.syncStarted = false;
      });
    return this.syncing;
  }

  /**
   * Resolves once the engine has applied `revision`, catching up from the log; rejects with 503
   * `PALISADE_REVISION_NOT_READY` when it has not within `timeoutMs`.
   */
  async waitFor(revision: number, timeoutMs: number = this.waitMs): Promise<void> {
    if (this.applied >= revision && !this.dirty) return;
    const started = performance.now();
    let lastError: unknown = null;
    let pause = 5;
    for (;;) {
      if (this.store !== null && !this.closed) {
        try {
          await this.sync();
          lastError = null;
        } catch (error) {
          lastError = error;
        }
      }
      if (this.applied >= revision && !this.dirty) return;
      const left = timeoutMs - (performance.now() - started);
      if (left <= 0 || this.store === null || this.closed) throw this.notReady(revision, started, lastError);
      await this.advanced(Math.min(pause, left));
      pause = Math.min(pause * 2, 100);
    }
  }

  /**
   * One write: `ops` as one transaction, validated and applied by the engine, appended to the log.
   * With `asUser`, each operation must be allowed to that user first (write-auth.ts). Resolves with
   * the revision the write committed as. Invalid operations reject with the engine's
   * `PALISADE_UPDATE_INVALID` (index, field, rule) and nothing is written.
   */
  write(ops: readonly UpdateOp[], author: ChangeAuthor = {}): Promise<WriteResult> {
    const store = this.store;
    if (store === null) {
      return Promise.reject(
        serverError(
          ServerErrorCodes.STORE_REQUIRED,
          'this server serves a world file without the PostgreSQL store: writes need the store (start it without --store none)',
        ),
      );
    }
    // Refused before the engine changes: what the change log could not hold would otherwise fail
    // its INSERT after the engine had applied it (and the server would reload the world).
    const problem = storableProblem(ops);
    if (problem !== null) return Promise.reject(storableError(problem));
    return this.mutex.run(async () => {
      if (this.closed) throw serverError(ServerErrorCodes.UNAVAILABLE, 'the server is shutting down');
      if (this.dirty) await this.reload(store);
      const outcome = await withStoreErrors(() =>
        store.withClient(async (client) => {
          await client.query('BEGIN');
          let stage: 'before' | 'applied' | 'committing' = 'before';
          let revision = 0;
          try {
            await lockForWrite(client, store.schema);
            // Under the lock no change can commit: catch up with every change before this one.
            for (;;) {
              const changes = await readChanges(client, store.schema, this.applied);
              if (changes.length === 0) break;
              await this.applyChanges(store, changes);
            }
            const engine = this.engine as Engine;
            if (author.asUser !== undefined && author.asUser !== null) authorizeWrite(engine, ops, author.asUser);
            await (this.updatable as InlineEvaluator).exclusive(() => engine.apply(ops));
            stage = 'applied';
            revision = await appendChange(client, store.schema, ops, author);
            stage = 'committing';
            await client.query('COMMIT');
          } catch (error) {
            // From here until the reload below, reads are refused rather than answered from a change
            // the store may not have, or from an engine that could not undo a failed update.
            const unusable = updateRolledBack(error) === false;
            if (stage !== 'before' || unusable) this.dirty = true;
            await client.query('ROLLBACK').catch(() => undefined);
            if (unusable) return { error, reload: true };
            if (stage === 'before' && (isPalisadeError(error) || error instanceof ServerError)) {
              // Refused (invalid, denied, or failed and undone): the connection is healthy, the engine unchanged.
              return { error };
            }
            if (stage !== 'before') return { error, lost: { stage, revision } };
            throw error;
          }
          this.applied = revision;
          this.wake();
          return { revision };
        }),
      ).catch((error: unknown) => ({ error }));
      if ('revision' in outcome) return { revision: outcome.revision, operations: ops.length };
      if ('reload' in outcome) {
        await this.reload(store).catch((reloadError: unknown) => {
          this.onError('reloading from the store after the engine failed a write failed; retrying', reloadError);
          this.retryReload();
        });
        throw outcome.error;
      }
      if ('lost' in outcome && outcome.lost !== undefined) {
        // The engine holds a change the store may not have: rebuild it from the store.
        await this.reload(store).catch((reloadError: unknown) => {
          this.onError('reloading from the store after a failed write failed; retrying', reloadError);
          this.retryReload();
        });
        throw lostWrite(outcome.error, outcome.lost.stage, outcome.lost.revision);
      }
      throw outcome.error;
    });
  }

  /** Stops following the log and closes the evaluator (the store stays open: its owner closes it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.poller !== null) clearInterval(this.poller);
    this.poller = null;
    await this.listener?.close();
    this.listener = null;
    this.wake();
    // Let a catch-up or write in progress finish before the evaluator goes.
    await this.mutex.run(async () => undefined);
    await this.evaluator.close();
  }

  // ---- internals ----

  /** Applies `changes` (in order) to the engine; an import among them reloads the whole world. Under the mutex. */
  private async applyChanges(store: Store, changes: readonly Change[]): Promise<void> {
    if (changes.some(isImportChange)) {
      await this.reload(store);
      return;
    }
    const engine = this.engine as Engine;
    try {
      await (this.updatable as InlineEvaluator).exclusive(() => {
        for (const change of changes) {
          engine.apply(change.ops);
          this.applied = change.revision;
        }
      });
    } catch (error) {
      // Every process replays the same log: a change that does not apply here means this engine
      // has drifted. Start over from the store. An engine that could not undo the failed change
      // must not answer reads meanwhile, nor after a reload that fails too (the next sync retries).
      if (updateRolledBack(error) === false) this.dirty = true;
      this.onError(`change ${this.applied + 1}… does not apply to this engine: reloading from the store`, error);
      await this.reload(store);
    } finally {
      this.wake();
    }
  }

  /** Rebuilds the engine from the store's snapshot and log, and answers from it. Under the mutex. */
  private async reload(store: Store): Promise<void> {
    const { engine, revision } = await withStoreErrors(() => loadEngine(store));
    const updatable = this.updatable as InlineEvaluator;
    await updatable.exclusive(() => {
      updatable.setEngine(engine);
      this.engine = engine;
      this.applied = revision;
      this.dirty = false;
    });
    this.wake();
  }

  private retryReload(): void {
    const store = this.store;
    if (store === null || this.closed || this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.dirty || this.closed) return;
      this.sync().catch((error: unknown) => {
        this.onError('reloading from the store after a failed write failed; retrying', error);
        this.retryReload();
      });
    }, RELOAD_RETRY_MS);
    this.timer.unref();
  }

  /** LISTENs for changes; catches up once listening (a change committed before then sent its NOTIFY to no one). */
  private async follow(): Promise<void> {
    const store = this.store;
    if (store === null || this.closed) return;
    try {
      this.listener = await store.listen(
        (revision) => {
          if (revision > this.applied) this.catchUpInBackground();
        },
        (error) => {
          this.listener = null;
          if (this.closed) return;
          this.onError('the LISTEN connection to the store was lost; reconnecting', error);
          this.relisten();
        },
      );
    } catch (error) {
      this.onError('cannot LISTEN to the store; retrying', error);
      this.relisten();
      return;
    }
    this.catchUpInBackground();
  }

  /** Catches up every `ms` (the safety net under LISTEN: `ReplicaOptions.catchUpMs`). */
  private startPolling(ms: number): void {
    if (ms <= 0 || this.store === null || this.closed) return;
    this.poller = setInterval(() => {
      // A catch-up already running (a notification, a read's token) is as good as this one.
      if (this.closed || this.syncing !== null) return;
      this.sync().then(
        () => {
          this.pollFailing = false;
        },
        (error: unknown) => {
          if (!this.pollFailing) this.onError('the periodic catch-up with the store failed; retrying', error);
          this.pollFailing = true;
        },
      );
    }, ms);
    this.poller.unref();
  }

  private relisten(): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      if (!this.closed) void this.follow();
    }, RELISTEN_MS);
    timer.unref();
  }

  private catchUpInBackground(): void {
    if (this.closed) return;
    this.sync().catch((error: unknown) => this.onError('catching up with the store failed', error));
  }

  /** Resolves when the revision advances or after `ms`. */
  private advanced(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private notReady(revision: number, started: number, cause: unknown): ServerError {
    const waited = Math.round(performance.now() - started);
    const details: Record<string, unknown> = { atLeastRevision: revision, revision: this.applied, waitedMs: waited };
    if (cause !== null) details.cause = causeOf(cause);
    const why =
      this.store === null
        ? 'this server serves a world file (always revision 0)'
        : this.dirty
          ? 'the server is reloading from the store after a failed write'
          : cause !== null
            ? 'the store could not be read'
            : `the log holds no revision ${revision} yet, or this server is behind`;
    return serverError(
      ServerErrorCodes.REVISION_NOT_READY,
      `revision ${revision} is not applied here (at ${this.applied} after ${waited} ms): ${why}`,
      details,
      cause ?? undefined,
    );
  }
}

/** The engine of the store's snapshot with every change after it applied, and its revision. */
async function loadEngine(store: Store): Promise<{ engine: Engine; revision: number }> {
  const { world, snapshotRevision, changes } = await store.loadServing();
  const engine = Engine.fromWorld(world);
  let revision = snapshotRevision;
  for (const change of changes) {
    try {
      engine.apply(change.ops);
    } catch (error) {
      throw new Error(
        `the change log's revision ${change.revision} does not apply to the world it follows: ${(error as Error).message}`,
        { cause: error },
      );
    }
    revision = change.revision;
  }
  return { engine, revision };
}

function storableError(problem: StorableProblem): ServerError {
  const { field, rule } = problem;
  switch (rule) {
    case 'no-nul':
    case 'well-formed': {
      const what = rule === 'no-nul' ? 'U+0000' : 'a lone UTF-16 surrogate';
      return serverError(
        ServerErrorCodes.STORE_REJECTED,
        `the store cannot hold ${what} in a string (\`${field}\`): nothing was written`,
        { field, rule },
      );
    }
    case 'depth':
      return serverError(ServerErrorCodes.INVALID_REQUEST, `\`${field}\` nests too deeply for an operation`, {
        field,
        rule,
      });
    case 'plain-data':
      return serverError(
        ServerErrorCodes.INVALID_REQUEST,
        `\`${field}\` must be JSON data (a string, a finite number, a boolean, null, a list or a map)`,
        { field, rule },
      );
  }
}

/** Runs `body`; a database failure becomes 503 `PALISADE_DATABASE_UNAVAILABLE` (`asStoreError`). */
async function withStoreErrors<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw asStoreError(error);
  }
}

/**
 * A database failure as 503 `PALISADE_DATABASE_UNAVAILABLE`, its kind in `details.cause` and the
 * raw error only in the log. Anything else as it is: engine and server errors are answers already,
 * and any other error is a bug, which takes the 500 path (a 503 would have clients retry it).
 */
function asStoreError(error: unknown): unknown {
  if (isPalisadeError(error) || error instanceof ServerError) return error;
  const failure = databaseFailure(error);
  if (failure === null) return error;
  const message =
    failure.cause === FailureCauses.DATABASE_UNREACHABLE
      ? 'the store cannot be reached: retry shortly'
      : `the store failed (SQLSTATE ${failure.sqlState ?? 'unknown'}): retry shortly`;
  return serverError(ServerErrorCodes.DATABASE_UNAVAILABLE, message, failureDetails(failure), error);
}

/** The answer to a write whose engine change outlived a failed INSERT or COMMIT (the engine has been rebuilt). */
function lostWrite(error: unknown, stage: 'applied' | 'committing', revision: number): unknown {
  const failure = databaseFailure(error);
  if (stage === 'committing') {
    // Only the COMMIT ran at this stage: whatever failed, the database may have committed.
    return serverError(
      ServerErrorCodes.DATABASE_UNAVAILABLE,
      `the store did not confirm the commit of revision ${revision}: it may or may not have been written ` +
        '(read with atLeastRevision, or look for it in the log); this server reloaded from the store',
      {
        revision,
        committed: 'unknown',
        ...(failure === null ? { cause: FailureCauses.INTERNAL } : failureDetails(failure)),
      },
      error,
    );
  }
  if (failure === null) return error;
  const { sqlState } = failure;
  if (sqlState !== undefined && /^2[23]/.test(sqlState)) {
    // Classes 22 (data exception) and 23 (integrity constraint violation): the write itself is refused.
    return serverError(
      ServerErrorCodes.STORE_REJECTED,
      `the database refused the write (SQLSTATE ${sqlState}): nothing was written`,
      failureDetails(failure),
      error,
    );
  }
  return serverError(
    ServerErrorCodes.DATABASE_UNAVAILABLE,
    'the write could not be stored: nothing was written; retry shortly',
    failureDetails(failure),
    error,
  );
}

/** `details.cause` for a failure behind an answer: the server error's own, or the kind of database failure. */
function causeOf(error: unknown): string {
  if (isServerError(error) && typeof error.details?.cause === 'string') return error.details.cause;
  return databaseFailure(error)?.cause ?? FailureCauses.INTERNAL;
}
