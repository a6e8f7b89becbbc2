/**
 * What a client is told when the store fails, against a scripted store (no PostgreSQL): a database
 * failure is 503 with a fixed `details.cause` and never the raw error, which only the log holds;
 * anything else (a bug) is 500 `PALISADE_INTERNAL`.
 */
import { readFileSync } from 'node:fs';
import { Engine, PalisadeError, type WorldInput } from '@palisade/core';
import { buildServer, DatabaseUnavailableError, Replica, SAMPLE_WORLD, type Store } from '@palisade/server';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { databaseFailure } from '../src/store/failures.js';
import { type Answer, errorOf, post, shareToSam, TEST_KEYS } from './support/http.js';

const SAMPLE = JSON.parse(readFileSync(SAMPLE_WORLD, 'utf8')) as WorldInput;
/** What the raw errors below hold that no client may see: a host, an address, a constraint, a table. */
const SECRET = /db\.internal|10\.1\.2\.3|refuse_doomed|palisade_changes|reading 'rows'/;

function pgError(message: string, code: string): pg.DatabaseError {
  const error = new pg.DatabaseError(message, message.length, 'error');
  error.code = code;
  return error;
}

function connectionRefused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:5432 (db.internal)'), { code: 'ECONNREFUSED' });
}

/** A store whose connections answer `query` as told (every statement the write path sends). */
function scriptedStore(query: (text: string) => unknown, connect?: () => never): Store {
  const client = {
    query: async (text: string) => {
      const result = query(text);
      return result instanceof Promise ? result : (result ?? { rows: [] });
    },
  };
  return {
    schema: 'palisade',
    location: 'scripted',
    loadServing: async () => ({ world: SAMPLE, snapshotRevision: 1, changes: [] }),
    withClient: async <T>(body: (client: pg.PoolClient) => Promise<T>) => {
      connect?.();
      return body(client as unknown as pg.PoolClient);
    },
  } as unknown as Store;
}

const apps: FastifyInstance[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const app of apps.splice(0)) await app.close();
});

/** An app on `store`, and the log lines it writes. */
async function serverOn(store: Store): Promise<{ app: FastifyInstance; log: string[] }> {
  const replica = await Replica.open(store, { follow: false, waitMs: 30 });
  const log: string[] = [];
  const app = buildServer({
    replica,
    keys: TEST_KEYS,
    logger: { level: 'warn', stream: { write: (line) => log.push(line) } },
  });
  apps.push(app);
  return { app, log };
}

const write = (app: FastifyInstance) => post(app, '/v1/write', { ops: [shareToSam('acc-fabrikam')] });

function expectNoLeak(answer: Answer): void {
  expect(JSON.stringify(answer.body)).not.toMatch(SECRET);
}

describe('a write when the store fails', () => {
  it('the store unreachable: 503 with cause `database-unreachable`, the raw error only in the log', async () => {
    const { app, log } = await serverOn(
      scriptedStore(
        () => undefined,
        () => {
          throw new DatabaseUnavailableError('cannot connect to postgres://admin@db.internal:5432/palisade', {
            cause: connectionRefused(),
          });
        },
      ),
    );
    const answer = await write(app);
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('1');
    expect(errorOf(answer)).toMatchObject({
      code: 'PALISADE_DATABASE_UNAVAILABLE',
      details: { cause: 'database-unreachable' },
    });
    expectNoLeak(answer);
    expect(log.join('\n')).toMatch(/db\.internal/);
    expect(log.join('\n')).toMatch(/ECONNREFUSED/);
  });

  it('a bug in the write path (not a database failure): 500 PALISADE_INTERNAL, not a 503 to retry', async () => {
    const { app, log } = await serverOn(
      scriptedStore((text) => {
        if (text === 'BEGIN') throw new TypeError("Cannot read properties of undefined (reading 'rows')");
      }),
    );
    const answer = await write(app);
    expect(answer.status).toBe(500);
    expect(errorOf(answer)).toEqual({ code: 'PALISADE_INTERNAL', message: 'internal error' });
    expect(log.join('\n')).toMatch(/reading 'rows'/);
  });

  it('an INSERT the database refuses: 422 with its SQLSTATE, not its message', async () => {
    const { app, log } = await serverOn(
      scriptedStore((text) => {
        if (text.startsWith('INSERT')) {
          throw pgError('new row for relation "palisade_changes" violates check constraint "refuse_doomed"', '23514');
        }
      }),
    );
    const answer = await write(app);
    expect(answer.status).toBe(422);
    expect(errorOf(answer)).toMatchObject({
      code: 'PALISADE_STORE_REJECTED',
      details: { sqlState: '23514', cause: 'database-error' },
    });
    expectNoLeak(answer);
    expect(log.join('\n')).toMatch(/"level":40.*refuse_doomed/);
  });

  it('an INSERT that fails otherwise: 503 with its SQLSTATE; a COMMIT that goes unconfirmed: 503, committed unknown', async () => {
    const failing = await serverOn(
      scriptedStore((text) => {
        if (text.startsWith('INSERT')) throw pgError('could not extend file "base/16384/palisade_changes"', '53100');
      }),
    );
    const stored = await write(failing.app);
    expect(stored.status).toBe(503);
    expect(errorOf(stored)).toMatchObject({
      code: 'PALISADE_DATABASE_UNAVAILABLE',
      details: { cause: 'database-error', sqlState: '53100' },
    });
    expectNoLeak(stored);
    expect(failing.log.join('\n')).toMatch(/could not extend file/);

    let revision = 1;
    const unconfirmed = await serverOn(
      scriptedStore((text) => {
        if (text.startsWith('INSERT')) return { rows: [{ revision: String(++revision) }] };
        if (text === 'COMMIT') throw new Error('Connection terminated unexpectedly (db.internal)');
        return undefined;
      }),
    );
    const committing = await write(unconfirmed.app);
    expect(committing.status).toBe(503);
    expect(errorOf(committing)).toMatchObject({
      code: 'PALISADE_DATABASE_UNAVAILABLE',
      details: { revision: 2, committed: 'unknown', cause: 'database-unreachable' },
    });
    expectNoLeak(committing);
  });
});

describe('a write the engine fails to compile (PALISADE_UPDATE_FAILED)', () => {
  /** The engine's error for a valid update whose compile failed, its raw cause only in the message. */
  const updateFailed = (rolledBack: boolean) =>
    new PalisadeError(
      'PALISADE_UPDATE_FAILED',
      `the update failed while compiling: cannot allocate for db.internal (rolled back: ${rolledBack})`,
      { rolledBack },
      { cause: new RangeError('Array buffer allocation failed') },
    );

  it('rolled back: 500 with a fixed message, nothing written, the same engine serves on', async () => {
    const statements: string[] = [];
    const store = scriptedStore((text) => {
      statements.push(text);
      if (text.startsWith('INSERT')) return { rows: [{ revision: '2' }] };
      return undefined;
    });
    const loads = vi.spyOn(store, 'loadServing');
    const { app, log } = await serverOn(store);
    vi.spyOn(Engine.prototype, 'apply').mockImplementationOnce(() => {
      throw updateFailed(true);
    });
    const answer = await write(app);
    expect(answer.status).toBe(500);
    expect(errorOf(answer)).toEqual({
      code: 'PALISADE_UPDATE_FAILED',
      message: 'the engine failed while applying the write and undid it: nothing was written',
      details: { rolledBack: true, cause: 'internal' },
    });
    expectNoLeak(answer);
    expect(log.join('\n')).toMatch(/db\.internal/);
    expect(statements.some((text) => text.startsWith('INSERT'))).toBe(false);
    expect(loads).toHaveBeenCalledTimes(1);
    // the next write goes through on the same engine
    expect((await write(app)).status).toBe(200);
    expect(loads).toHaveBeenCalledTimes(1);
  });

  it('not rolled back: 500, and the server reloads its engine from the store before it answers again', async () => {
    const store = scriptedStore((text) => (text.startsWith('INSERT') ? { rows: [{ revision: '2' }] } : undefined));
    const loads = vi.spyOn(store, 'loadServing');
    const { app } = await serverOn(store);
    const apply = vi.spyOn(Engine.prototype, 'apply').mockImplementationOnce(() => {
      throw updateFailed(false);
    });
    const answer = await write(app);
    expect(answer.status).toBe(500);
    expect(errorOf(answer)).toMatchObject({
      code: 'PALISADE_UPDATE_FAILED',
      details: { rolledBack: false, cause: 'internal' },
    });
    expectNoLeak(answer);
    expect(loads).toHaveBeenCalledTimes(2);
    apply.mockRestore();
    expect((await write(app)).status).toBe(200);
  });
});

describe('a logged change the engine fails to compile while catching up', () => {
  it('not rolled back: reads are refused until a reload from the store succeeds, however many it takes', async () => {
    const change = { revision: '2', ops: [shareToSam('acc-fabrikam')] };
    const store = scriptedStore((text) =>
      text.startsWith('SELECT revision, ops') ? { rows: replica.revision < 2 ? [change] : [] } : undefined,
    );
    const serving = store.loadServing.bind(store);
    let loads = 0;
    vi.spyOn(store, 'loadServing').mockImplementation(async () => {
      loads++;
      if (loads === 2) throw connectionRefused();
      return serving();
    });
    const replica = await Replica.open(store, { follow: false, waitMs: 30 });
    const apply = vi.spyOn(Engine.prototype, 'apply').mockImplementationOnce(() => {
      throw new PalisadeError('PALISADE_UPDATE_FAILED', 'the update failed while compiling', { rolledBack: false });
    });
    // the change fails, and so does the reload after it
    await expect(replica.sync()).rejects.toMatchObject({ code: 'PALISADE_DATABASE_UNAVAILABLE' });
    expect(replica.consistent).toBe(false);
    apply.mockRestore();
    // the next sync reloads; the one after applies the change
    await replica.waitFor(2);
    expect({ consistent: replica.consistent, revision: replica.revision, loads }).toEqual({
      consistent: true,
      revision: 2,
      loads: 3,
    });
    await replica.close();
  });
});

describe('a read with atLeastRevision when the log cannot be read', () => {
  it('is 503 PALISADE_REVISION_NOT_READY with cause `database-unreachable`; the raw error is logged', async () => {
    let reachable = true;
    const { app, log } = await serverOn(
      scriptedStore((text) => {
        if (!reachable && text.startsWith('SELECT revision, ops')) throw connectionRefused();
      }),
    );
    reachable = false;
    const answer = await post(app, '/v1/check?atLeastRevision=5', {
      user: 'u-wendy',
      table: 'account',
      privilege: 'read',
      record: 'acc-litware',
    });
    expect(answer.status).toBe(503);
    expect(errorOf(answer)).toMatchObject({
      code: 'PALISADE_REVISION_NOT_READY',
      details: { atLeastRevision: 5, revision: 1, cause: 'database-unreachable' },
    });
    expectNoLeak(answer);
    expect(log.join('\n')).toMatch(/ECONNREFUSED 10\.1\.2\.3/);
  });
});

describe('databaseFailure', () => {
  it('tells database and connection failures from everything else', () => {
    expect(databaseFailure(new DatabaseUnavailableError('x'))).toEqual({ cause: 'database-unreachable' });
    expect(databaseFailure(connectionRefused())).toEqual({ cause: 'database-unreachable' });
    expect(databaseFailure(new Error('Connection terminated unexpectedly'))).toEqual({
      cause: 'database-unreachable',
    });
    expect(databaseFailure(pgError('terminating connection due to administrator command', '57P01'))).toEqual({
      cause: 'database-unreachable',
      sqlState: '57P01',
    });
    expect(databaseFailure(pgError('relation does not exist', '42P01'))).toEqual({
      cause: 'database-error',
      sqlState: '42P01',
    });
    for (const other of [new TypeError('x is not a function'), new RangeError('x'), 'text', null, { code: '23505' }]) {
      expect(databaseFailure(other)).toBeNull();
    }
  });
});
