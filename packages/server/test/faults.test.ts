/**
 * Faults (issue 6), with real processes: a server killed with SIGKILL in the middle of a stream
 * of acknowledged writes, PostgreSQL killed under load and started again, concurrent writers on
 * two replicas, and an embedded PostgreSQL that dies under `palisade serve`. One durable embedded
 * PostgreSQL for the file (fsync and synchronous commit on: an acknowledged commit survives a
 * kill), one database per test. No assertion depends on timing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type Answer,
  eventually,
  ServerProcess,
  sleep,
  useProcessTestbed,
  type WriteOutcome,
  WriteStream,
} from './support/processes.js';

const testbed = useProcessTestbed('palisade-faults-');

interface LoggedChange {
  revision: number;
  ops: { op: string; id?: string; recordId?: string }[];
}

async function changeLog(database: string): Promise<LoggedChange[]> {
  const rows = await testbed.db.query<{ revision: string; ops: LoggedChange['ops'] }>(
    'SELECT revision, ops FROM palisade.palisade_changes ORDER BY revision',
    [],
    database,
  );
  return rows.map((row) => ({ revision: Number(row.revision), ops: row.ops }));
}

/**
 * Write `i`: three operations that are all visible or none — an account, a share of it to u-sam
 * (who could not read it otherwise), and a contact.
 */
function tripleOps(prefix: string): (i: number) => unknown[] {
  return (i) => [
    { op: 'createRecord', table: 'account', id: `acc-${prefix}${i}`, ownerId: 'u-erin' },
    { op: 'grantShare', table: 'account', recordId: `acc-${prefix}${i}`, principalId: 'u-sam', rights: ['read'] },
    { op: 'createRecord', table: 'contact', id: `con-${prefix}${i}`, ownerId: 'u-erin' },
  ];
}

/** The three effects of each write `tripleOps(prefix)(i)`, as one server sees them at `revision`. */
async function tripleEffects(
  server: ServerProcess,
  prefix: string,
  indexes: readonly number[],
  revision: number,
): Promise<Map<number, [boolean, boolean, boolean]>> {
  const items = indexes.flatMap((i) => [
    { id: `a${i}`, user: 'u-alex', table: 'account', privilege: 'read', record: `acc-${prefix}${i}` },
    { id: `s${i}`, user: 'u-sam', table: 'account', privilege: 'read', record: `acc-${prefix}${i}` },
    { id: `c${i}`, user: 'u-alex', table: 'contact', privilege: 'read', record: `con-${prefix}${i}` },
  ]);
  const answer = await server.call('POST', `/v1/checks?atLeastRevision=${revision}`, { items });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  const results = new Map(
    (answer.body as { results: { id: string; allowed: boolean; reason: string }[] }).results.map((r) => [r.id, r]),
  );
  return new Map(
    indexes.map((i) => [
      i,
      [
        results.get(`a${i}`)?.allowed === true,
        results.get(`s${i}`)?.reason === 'share',
        results.get(`c${i}`)?.allowed === true,
      ],
    ]),
  );
}

/** The stream write that created `acc-<prefix><i>`, found in the log by its first operation's id. */
function loggedIndexes(log: readonly LoggedChange[], prefix: string): Map<number, LoggedChange> {
  const found = new Map<number, LoggedChange>();
  for (const change of log) {
    const id = change.ops[0]?.id;
    if (id?.startsWith(`acc-${prefix}`)) found.set(Number(id.slice(`acc-${prefix}`.length)), change);
  }
  return found;
}

describe('faults', () => {
  it('kill -9 a server in the middle of acknowledged writes: after a restart every acknowledged write is there, none half-applied', async () => {
    const databaseUrl = await testbed.db.create('killed_server');
    const writer = await ServerProcess.start({ databaseUrl, keysFile: testbed.keysFile });
    const observer = await ServerProcess.start({ databaseUrl, keysFile: testbed.keysFile });
    // Three clients writing one after another: at any moment, writes are in flight.
    const stream = new WriteStream(() => writer, tripleOps('k'), { loops: 3, stopOnNoAnswer: true });
    await stream.until(() => stream.acknowledged.length >= 20);
    expect(await writer.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    await stream.ended();

    const acknowledged = stream.acknowledged;
    const unanswered = stream.outcomes.filter((o) => o.status === 0);
    expect(acknowledged.length).toBeGreaterThanOrEqual(20);
    // Nothing but acknowledgements before the kill and dropped connections at it.
    expect(stream.outcomes.filter((o) => o.status !== 200 && o.status !== 0)).toEqual([]);
    expect(unanswered.length).toBe(3);

    // The store: every acknowledged revision is in the log, with its three operations as sent.
    const log = await changeLog('killed_server');
    const byRevision = new Map(log.map((c) => [c.revision, c]));
    for (const write of acknowledged) expect(byRevision.get(write.revision)?.ops).toEqual(write.ops);
    // Every logged write is whole (a write in flight at the kill is either all there or absent).
    for (const change of log.slice(1)) expect(change.ops).toHaveLength(3);

    const restarted = await writer.restart();
    const last = log.at(-1)?.revision as number;
    const sent = stream.outcomes.map((o) => o.index);
    const logged = loggedIndexes(log, 'k');
    for (const server of [restarted, observer]) {
      const effects = await tripleEffects(server, 'k', sent, last);
      for (const index of sent) {
        const seen = effects.get(index);
        // All three effects, or none; all three for a logged write (acknowledged ones included).
        expect(seen, `write ${index}`).toEqual(logged.has(index) ? [true, true, true] : [false, false, false]);
      }
    }
    // The restarted server and the one that ran throughout agree on every question.
    const extra = sent.flatMap((i): [string, string][] => [
      ['account', `acc-k${i}`],
      ['contact', `con-k${i}`],
    ]);
    expect(await restarted.everyAnswer(extra, last)).toEqual(await observer.everyAnswer(extra, last));
    // And writing goes on where the log left off.
    const next = await restarted.write([{ op: 'createRecord', table: 'account', id: 'acc-after', ownerId: 'u-sam' }]);
    expect(next.status).toBe(200);
    expect((next.body as { revision: number }).revision).toBeGreaterThan(last);
    for (const server of [restarted, observer]) await server.kill('SIGTERM');
  }, 60_000);

  it('PostgreSQL killed under load: writes answer 503 PALISADE_DATABASE_UNAVAILABLE, reads go on from memory, and all recovers when it returns', async () => {
    const databaseUrl = await testbed.db.create('killed_database');
    const wait = ['--workers', '0', '--revision-wait', '300'];
    const [writer, reader] = await Promise.all([
      ServerProcess.start({ databaseUrl, keysFile: testbed.keysFile, args: wait }),
      ServerProcess.start({ databaseUrl, keysFile: testbed.keysFile, args: wait }),
    ]);
    const stream = new WriteStream(() => writer, tripleOps('p'), { loops: 2 });
    // Reads through the other replica, as a client would make them: no token, and the last write's.
    const reads: { phase: string; token: boolean; answer: Answer }[] = [];
    let reading = true;
    const readLoop = (async () => {
      while (reading) {
        const phase = stream.phase;
        const latest = Math.max(1, ...stream.acknowledged.map((o) => o.revision));
        for (const token of [false, true]) {
          const answer = await reader.check('u-wendy', 'account', 'read', 'acc-litware', token ? latest : undefined);
          reads.push({ phase, token, answer });
        }
        await sleep(5);
      }
    })();

    await stream.until(() => stream.acknowledged.length >= 10);
    await testbed.db.kill();
    stream.phase = 'outage';
    const down = stream.outcomes.length;
    await stream.until(
      () => stream.outcomes.length >= down + 10 && reads.filter((r) => r.phase === 'outage').length >= 10,
    );
    // A token beyond what the reader holds cannot be checked while the log cannot be read.
    const ahead = await reader.check('u-wendy', 'account', 'read', 'acc-litware', 1_000_000);
    // What the servers say of themselves while the database is away.
    const readiness = await Promise.all([writer.readyRevision(), reader.readyRevision()]);
    await stream.stop();
    stream.phase = 'after';

    // The writes sent while it was down: each answered 503 with the code, none acknowledged.
    const outage = stream.outcomes.filter((o) => o.phase === 'outage');
    expect(outage.length).toBeGreaterThanOrEqual(10);
    for (const write of outage) {
      expect(write.status, JSON.stringify(write.error)).toBe(503);
      expect(write.error?.code).toBe('PALISADE_DATABASE_UNAVAILABLE');
    }
    // Reads without a token were answered from memory throughout; with one the reader already has, too.
    const outageReads = reads.filter((r) => r.phase === 'outage');
    for (const { token, answer } of outageReads) {
      if (!token) expect(answer.status).toBe(200);
      else expect([200, 503]).toContain(answer.status);
      if (answer.status === 200) expect(answer.body).toMatchObject({ allowed: true, reason: 'role' });
      else expect(answer.body).toMatchObject({ error: { code: 'PALISADE_REVISION_NOT_READY' } });
    }
    expect(ahead.status).toBe(503);
    expect(ahead.body).toMatchObject({
      error: { code: 'PALISADE_REVISION_NOT_READY', details: { cause: 'database-unreachable' } },
    });
    // The reader stays ready (it answers from memory). The writer too, unless a write was caught
    // between its engine and its commit: then it refuses reads until it has reloaded from the store.
    expect(readiness[1]).toBeGreaterThan(0);

    await testbed.db.restart();
    // The first write after PostgreSQL is back succeeds (the pool reconnects; a writer that must
    // reload does so first).
    const next = await writer.write([{ op: 'createRecord', table: 'account', id: 'acc-back', ownerId: 'u-erin' }]);
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    const revision = (next.body as { revision: number }).revision;
    // The reader: at once with the token, and by itself once its LISTEN connection is back.
    const seen = await reader.check('u-alex', 'account', 'read', 'acc-back', revision);
    expect(seen.body).toMatchObject({ allowed: true });
    expect(await eventually(async () => (await reader.readyRevision()) >= revision)).toBe(true);
    const more = await writer.write([{ op: 'createRecord', table: 'account', id: 'acc-back-2', ownerId: 'u-erin' }]);
    const after = (more.body as { revision: number }).revision;
    expect(await eventually(async () => (await reader.readyRevision()) >= after)).toBe(true);
    reading = false;
    await readLoop;

    // Nothing acknowledged was lost; nothing refused was written, except a commit the server could
    // not confirm (it says so: `committed: 'unknown'`); every logged write is whole.
    const log = await changeLog('killed_database');
    const logged = loggedIndexes(log, 'p');
    for (const write of stream.acknowledged) expect(logged.get(write.index)?.revision).toBe(write.revision);
    const refused = stream.outcomes.filter((o: WriteOutcome) => o.status !== 200);
    for (const write of refused) {
      if (write.error?.details?.committed !== 'unknown')
        expect(logged.has(write.index), `write ${write.index}`).toBe(false);
    }
    for (const change of logged.values()) expect(change.ops).toHaveLength(3);
    // Both replicas hold exactly what the log holds.
    const indexes = stream.outcomes.map((o) => o.index);
    for (const server of [writer, reader]) {
      const effects = await tripleEffects(server, 'p', indexes, after);
      for (const index of indexes) {
        expect(effects.get(index), `write ${index}`).toEqual(
          logged.has(index) ? [true, true, true] : [false, false, false],
        );
      }
    }
    for (const server of [writer, reader]) expect(await server.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('concurrent writers on two replicas: one of two creations of the same id succeeds, every distinct write lands', async () => {
    const databaseUrl = await testbed.db.create('concurrent');
    const [a, b] = await Promise.all([
      ServerProcess.start({ databaseUrl, keysFile: testbed.keysFile }),
      ServerProcess.start({ databaseUrl, keysFile: testbed.keysFile }),
    ]);
    const create = (id: string) => [{ op: 'createRecord', table: 'account', id, ownerId: 'u-erin' }];
    // Each replica sends its own stream of distinct writes, and both race to create the same ids.
    const distinct = async (server: ServerProcess, prefix: string) => {
      const answers: Answer[] = [];
      for (let i = 0; i < 25; i++) answers.push(await server.write(create(`acc-${prefix}${i}`)));
      return answers;
    };
    const race = async () => {
      const pairs: Answer[][] = [];
      for (let i = 0; i < 15; i++) {
        pairs.push(await Promise.all([a.write(create(`acc-race${i}`)), b.write(create(`acc-race${i}`))]));
      }
      return pairs;
    };
    const [fromA, fromB, pairs] = await Promise.all([distinct(a, 'a'), distinct(b, 'b'), race()]);

    for (const answer of [...fromA, ...fromB]) expect(answer.status).toBe(200);
    for (const pair of pairs) {
      expect(pair.map((x) => x.status).sort()).toEqual([200, 422]);
      const loser = pair.find((x) => x.status === 422) as Answer;
      expect(loser.body).toMatchObject({
        error: { code: 'PALISADE_UPDATE_INVALID', details: { field: 'id', rule: 'id-unique' } },
      });
    }
    // Every acknowledged write has its own revision, and the log holds exactly those.
    const revisions = [...fromA, ...fromB, ...pairs.flat()]
      .filter((x) => x.status === 200)
      .map((x) => (x.body as { revision: number }).revision)
      .sort((x, y) => x - y);
    expect(revisions).toHaveLength(25 + 25 + 15);
    expect(new Set(revisions).size).toBe(revisions.length);
    const log = await changeLog('concurrent');
    expect(log.map((c) => c.revision)).toEqual([1, ...revisions]);
    const last = revisions.at(-1) as number;
    // Both replicas see all 65 records, and agree on every question.
    const extra = [
      ...Array.from({ length: 25 }, (_, i): [string, string] => ['account', `acc-a${i}`]),
      ...Array.from({ length: 25 }, (_, i): [string, string] => ['account', `acc-b${i}`]),
      ...Array.from({ length: 15 }, (_, i): [string, string] => ['account', `acc-race${i}`]),
    ];
    const fromAnswers = await a.everyAnswer(extra, last);
    expect(await b.everyAnswer(extra, last)).toEqual(fromAnswers);
    for (const [table, record] of extra) {
      expect((await b.check('u-alex', table, 'read', record, last)).body).toMatchObject({ allowed: true });
    }
    for (const server of [a, b]) await server.kill('SIGTERM');
  }, 60_000);

  it('an embedded PostgreSQL that dies under palisade serve: writes answer 503, reads go on, it is started again, SIGTERM still stops the server', async () => {
    const dataDir = join(testbed.dir, 'embedded');
    const server = await ServerProcess.start({ keysFile: testbed.keysFile, env: { PALISADE_DATA_DIR: dataDir } });
    expect(
      (await server.write([{ op: 'createRecord', table: 'account', id: 'acc-x', ownerId: 'u-erin' }])).status,
    ).toBe(200);
    // The server's own PostgreSQL crashes (kill -9 of its postmaster and backends).
    const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(postmaster, 'SIGKILL');
    await sleep(200);
    const write = await server.write([{ op: 'createRecord', table: 'account', id: 'acc-y', ownerId: 'u-erin' }]);
    expect(write.status).toBe(503);
    expect(write.body).toMatchObject({ error: { code: 'PALISADE_DATABASE_UNAVAILABLE' } });
    expect((await server.check('u-alex', 'account', 'read', 'acc-x')).body).toMatchObject({ allowed: true });
    // The store starts it again (a restart takes at least its 250 ms backoff plus PostgreSQL's
    // start-up, so the write above could not have landed), and writes land again.
    const landed = await eventually(
      async () =>
        (await server.write([{ op: 'createRecord', table: 'account', id: 'acc-y', ownerId: 'u-erin' }])).status === 200,
      60_000,
      100,
    );
    expect(landed, server.output).toBe(true);
    expect(server.output).toContain('the embedded PostgreSQL exited on its own and is running again');
    expect((await server.check('u-alex', 'account', 'read', 'acc-y')).body).toMatchObject({ allowed: true });
    // Stopping does not wait for a database that is gone: it used to wait for an exit event that
    // had already happened, until Node found nothing left to run and ended the process with 13
    // (an unsettled top-level await), the drain unfinished.
    expect(await server.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(server.output).toContain('palisade: stopped');
  }, 120_000);
});
