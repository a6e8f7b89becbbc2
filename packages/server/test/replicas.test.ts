/**
 * Replicas as processes (issue 6): several `palisade serve` processes on one PostgreSQL, spoken
 * to over HTTP. A write through one is visible through another with `atLeastRevision` at once,
 * and without it once the NOTIFY has arrived; a replica stopped during a stream of writes catches
 * up when it starts again. One embedded PostgreSQL for the file, one database per test.
 */
import { describe, expect, it } from 'vitest';
import { shareToSam } from './support/http.js';
import { eventually, ServerProcess, useProcessTestbed, WriteStream } from './support/processes.js';

const testbed = useProcessTestbed('palisade-replicas-', { ephemeral: true });

/**
 * The i-th write of a stream through one replica: records created, shared, assigned, deleted,
 * team membership toggled. Each is valid given every earlier one landed.
 */
function streamOps(i: number): unknown[] {
  const account = (n: number) => `acc-s${n}`;
  switch (i % 6) {
    case 0:
      return [{ op: 'createRecord', table: 'account', id: account(i), ownerId: ['u-erin', 'u-evan', 'u-sam'][i % 3] }];
    case 1:
      return [{ ...shareToSam(account(i - 1)), rights: ['read', 'write'] }];
    case 2:
      return [{ op: 'assignRecord', table: 'account', id: account(i - 2), ownerId: 'u-wendy' }];
    case 3:
      return [{ op: i % 12 === 3 ? 'addTeamMember' : 'removeTeamMember', teamId: 'team-west-deal', userId: 'u-erin' }];
    case 4:
      return [
        { op: 'createRecord', table: 'contact', id: `con-s${i}`, ownerId: 'u-sam' },
        {
          op: 'grantShare',
          table: 'contact',
          recordId: `con-s${i}`,
          principalId: 'team-key-accounts',
          rights: ['read'],
        },
      ];
    default:
      return i % 12 === 5
        ? [{ op: 'deleteRecord', table: 'account', id: account(i - 5) }]
        : [{ ...shareToSam(account(i - 5)), op: 'modifyShare', rights: ['read'] }];
  }
}

/** The records the first `count` stream writes create (deleted ones included: their checks answer the deletion). */
function streamRecords(count: number): [string, string][] {
  const records: [string, string][] = [];
  for (let i = 0; i < count; i++) {
    if (i % 6 === 0) records.push(['account', `acc-s${i}`]);
    if (i % 6 === 4) records.push(['contact', `con-s${i}`]);
  }
  return records;
}

describe('replicas: palisade serve processes on one PostgreSQL', () => {
  it('a write through one is visible through the others: with atLeastRevision at once, without it by NOTIFY', async () => {
    const databaseUrl = await testbed.db.create('visible');
    // Started together on an empty store: one of them imports the sample world, once. The third
    // answers large batches from its worker pool (the pool re-posts the state after each change).
    const [a, b, c] = await Promise.all([
      ServerProcess.start({ databaseUrl, keysFile: testbed.keysFile }),
      ServerProcess.start({ databaseUrl, keysFile: testbed.keysFile }),
      ServerProcess.start({
        databaseUrl,
        keysFile: testbed.keysFile,
        args: ['--workers', '2', '--pool-threshold', '64'],
      }),
    ]);
    const log = await testbed.db.query<{ revision: string; ops: { op: string }[] }>(
      'SELECT revision, ops FROM palisade.palisade_changes ORDER BY revision',
      [],
      'visible',
    );
    expect(log.map((row) => [Number(row.revision), row.ops[0]?.op])).toEqual([[1, 'importWorld']]);
    for (const server of [a, b, c]) expect(await server.readyRevision()).toBe(1);

    const before = await b.check('u-sam', 'account', 'read', 'acc-fabrikam');
    expect(before.body).toMatchObject({ allowed: false });

    const written = await a.write([shareToSam('acc-fabrikam')]);
    expect(written.status).toBe(200);
    const { revision } = written.body as { revision: number };
    expect(revision).toBe(2);
    expect(written.revision).toBe(2);

    // With the write's revision, B answers from a state that includes it, whatever the NOTIFY did.
    const seen = await b.check('u-sam', 'account', 'read', 'acc-fabrikam', revision);
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ allowed: true, reason: 'share' });
    expect(seen.revision).toBeGreaterThanOrEqual(revision);

    // Without it, C learns of the change from the NOTIFY (it is never asked for the revision).
    const followed = await eventually(async () => (await c.readyRevision()) >= revision);
    expect(followed).toBe(true);
    const unasked = await c.check('u-sam', 'account', 'read', 'acc-fabrikam');
    expect(unasked.body).toMatchObject({ allowed: true, reason: 'share' });
    expect(unasked.revision).toBe(revision);

    // Any replica writes; the others read it back with the token. Several operations, one revision.
    const fromC = await c.write([
      { op: 'createRecord', table: 'account', id: 'acc-from-c', ownerId: 'u-erin' },
      shareToSam('acc-from-c'),
    ]);
    expect(fromC.body).toEqual({ revision: 3, operations: 2 });
    for (const server of [a, b]) {
      const answer = await server.check('u-sam', 'account', 'read', 'acc-from-c', 3);
      expect(answer.body).toMatchObject({ allowed: true, reason: 'share' });
    }
    // A token the log does not hold yet: each waits (--revision-wait), then says so with the code.
    const ahead = await a.check('u-sam', 'account', 'read', 'acc-from-c', 99);
    expect(ahead.status).toBe(503);
    expect(ahead.body).toMatchObject({
      error: { code: 'PALISADE_REVISION_NOT_READY', details: { atLeastRevision: 99, revision: 3 } },
    });

    // All three agree on every question of the sample world (C through its worker pool).
    const extra: [string, string][] = [['account', 'acc-from-c']];
    const answers = await a.everyAnswer(extra, 3);
    expect(await b.everyAnswer(extra, 3)).toEqual(answers);
    expect(await c.everyAnswer(extra, 3)).toEqual(answers);
    for (const server of [a, b, c]) expect(await server.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('a replica stopped (SIGTERM) during a stream of writes through another catches up when restarted', async () => {
    const databaseUrl = await testbed.db.create('stopped');
    const writer = await ServerProcess.start({ databaseUrl, keysFile: testbed.keysFile });
    const [follower, other] = await Promise.all([
      ServerProcess.start({ databaseUrl, keysFile: testbed.keysFile }),
      ServerProcess.start({ databaseUrl, keysFile: testbed.keysFile }),
    ]);
    let replica = follower;
    const stream = new WriteStream(() => writer, streamOps);

    await stream.until(() => stream.outcomes.length >= 12);
    // Stopped while writes land: it drains and exits 0.
    expect(await replica.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const stoppedAt = stream.outcomes.length;
    await stream.until(() => stream.outcomes.length >= stoppedAt + 24);
    // Started again while the stream goes on: it loads snapshot + log, then follows.
    replica = await replica.restart();
    const restartedAt = stream.outcomes.length;
    await stream.until(() => stream.outcomes.length >= restartedAt + 12);
    await stream.stop();

    // Every write of the stream was acknowledged, in revision order.
    expect(stream.outcomes.map((o) => o.status)).toEqual(stream.outcomes.map(() => 200));
    const revisions = stream.outcomes.map((o) => o.revision);
    expect(revisions).toEqual(revisions.map((_, i) => i + 2));
    const last = revisions.at(-1) as number;

    // The restarted replica, the one that ran throughout and the writer answer every check alike.
    const extra = streamRecords(stream.outcomes.length);
    const expected = await writer.everyAnswer(extra, last);
    expect(await replica.everyAnswer(extra, last)).toEqual(expected);
    expect(await other.everyAnswer(extra, last)).toEqual(expected);
    // The stream changed the world (the comparison is not between untouched worlds).
    const first = await replica.check('u-sam', 'account', 'read', 'acc-s0', last);
    expect(first.body).toMatchObject({ error: { code: 'PALISADE_UNKNOWN_RECORD' } });
    // acc-s6: u-erin's, shared to u-sam (read, write; then read only), assigned to u-wendy.
    const kept = await replica.check('u-sam', 'account', 'read', 'acc-s6', last);
    expect(kept.body).toMatchObject({ allowed: true, reason: 'share' });
    expect((await replica.check('u-sam', 'account', 'write', 'acc-s6', last)).body).toMatchObject({ allowed: false });
    // And it follows again without being asked: a write through the writer reaches it by NOTIFY.
    const more = await writer.write([shareToSam('acc-coho')]);
    const next = (more.body as { revision: number }).revision;
    expect(await eventually(async () => (await replica.readyRevision()) >= next)).toBe(true);
    for (const server of [writer, replica, other]) {
      expect(await server.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    }
  }, 60_000);
});
