import type pg from 'pg';

/**
 * Runs `body` inside BEGIN … COMMIT on `client`, rolling back when it throws (and rethrowing).
 * `begin` is the opening statement, e.g. `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`.
 */
export async function inTransaction<T>(client: pg.ClientBase, body: () => Promise<T>, begin = 'BEGIN'): Promise<T> {
  await client.query(begin);
  let result: T;
  try {
    result = await body();
  } catch (error) {
    // A connection that broke mid-transaction cannot roll back; PostgreSQL discards the
    // transaction itself when the session ends, so the original error is the one to report.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  await client.query('COMMIT');
  return result;
}
