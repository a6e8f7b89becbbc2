import { Engine, PRIVILEGES, type ShareRight, type WorldInput } from '@palisade/core';
import { Evaluator, filterRange, kernelTests, useRowKernels } from '@palisade/core/internal';
import { afterEach, describe, expect, it } from 'vitest';
import { randomWorld } from './reference/random-world.js';
import { firstBulkMismatch } from './support/bulk-differential.js';
import { sampleWorld } from './support/scenarios.js';

const OPTIONS = { hierarchy: true, columnSecurity: true } as const;
const WORLDS = Number(process.env.PALISADE_BULK_WORLDS ?? 400);

function expectAgreement(label: string, mismatch: ReturnType<typeof firstBulkMismatch>): void {
  if (mismatch !== null) {
    expect.fail(
      `${label}: ${mismatch.question}\n  bulk:  ${JSON.stringify(mismatch.engine)}\n  check: ${JSON.stringify(mismatch.reference)}`,
    );
  }
}

describe('bulk paths agree with check', () => {
  it('on the sample world', () => {
    expectAgreement('sample', firstBulkMismatch(sampleWorld(), 1));
  });

  it(`on ${WORLDS} random worlds`, { timeout: 120_000 }, () => {
    for (let seed = 1; seed <= WORLDS; seed++)
      expectAgreement(`seed ${seed}`, firstBulkMismatch(randomWorld(seed, OPTIONS), seed));
  });

  // The worlds' calls are short, and `filter` runs them in the JavaScript loop; here every call on
  // caller columns goes through the row kernels.
  it(`on ${WORLDS} random worlds, the row kernels taking every call`, { timeout: 120_000 }, () => {
    useRowKernels('always');
    try {
      for (let seed = 1; seed <= WORLDS; seed++)
        expectAgreement(`seed ${seed}`, firstBulkMismatch(randomWorld(seed, OPTIONS), seed));
    } finally {
      useRowKernels('auto');
    }
  });
});

/** The sample world with `count` more accounts, owned round-robin by its users and owner teams, every 50th shared. */
function widerWorld(count: number): WorldInput {
  const world = sampleWorld();
  const owners = [
    ...(world.users ?? []).map((u) => u.id),
    ...(world.teams ?? []).filter((t) => t.type === 'owner').map((t) => t.id),
  ];
  const records = Array.from({ length: count }, (_, i) => ({
    table: 'account',
    id: `acc-${i}`,
    ownerId: owners[(i * 7) % owners.length] as string,
  }));
  const shares = records
    .filter((_, i) => i % 50 === 0)
    .map((r, i) => ({
      table: 'account',
      recordId: r.id,
      principalId: owners[(i * 3) % owners.length] as string,
      rights: ['read', 'write'] as ShareRight[],
    }));
  return { ...world, records: [...(world.records ?? []), ...records], shares: [...(world.shares ?? []), ...shares] };
}

describe('filter on long lists of record indexes (marking)', () => {
  const users = (world: WorldInput) => (world.users ?? []).map((u) => u.id);
  /** Every user and privilege: `filter` (auto) and both forced ways equal `check` on every row. */
  function expectAllAgree(engine: Engine, world: WorldInput, rows: Int32Array): void {
    const t = engine.table('account');
    const evaluator = new Evaluator(engine.sharedState());
    for (const user of users(world)) {
      for (const privilege of PRIVILEGES) {
        const want = Array.from(rows.keys()).filter((i) => {
          const r = rows[i] as number;
          return (
            engine.model.tables[t]?.records.has(r) === true && engine.check(user, t, privilege, r as never).allowed
          );
        });
        expect(Array.from(engine.filter(user, t, privilege, { records: rows })), `${user} ${privilege}`).toEqual(want);
        for (const records of ['gather', 'mark'] as const) {
          const job = engine.filterJob(user, t, privilege, { records: rows }, { records });
          const out = new Uint32Array(job.length);
          const got = Array.from(out.subarray(0, filterRange(evaluator, job, 0, job.length, out)));
          expect(got, `${user} ${privilege} ${records}`).toEqual(want);
        }
      }
    }
  }

  it('marks once gathering has paid for sorting the table, and answers as check does before and after changes', () => {
    const world = widerWorld(6_000);
    const engine = Engine.fromWorld(world);
    const table = engine.model.tables[engine.table('account')];
    const count = table?.records.count ?? 0;
    const rows = Int32Array.from({ length: count }, (_, i) => count - 1 - i);
    // A user decided row by row whose whole-table list auto marks once the table is sorted (the
    // policy assertion below fails for any other).
    const reader = users(world).find((user) => {
      const job = engine.filterJob(user, 'account', 'read', { records: rows }, { records: 'mark' });
      return job.kind === 'rows';
    });
    expect(reader).toBeDefined();
    // The forced marking above sorted the table; a fresh engine shows the policy from the start.
    const fresh = Engine.fromWorld(world);
    const marked = Array.from(
      { length: 5 },
      () => fresh.filterJob(reader as string, 'account', 'read', { records: rows }).marked !== null,
    );
    expect(marked).toEqual([false, false, false, true, true]);
    const shared = fresh.filterJob(reader as string, 'account', 'read', { records: rows }, { shared: true });
    expect(shared.marked?.buffer).toBeInstanceOf(SharedArrayBuffer);

    expectAllAgree(fresh, world, rows);
    // Changed groups become bitmaps; new records land past the sorted rows.
    const ids = [...(table?.records.ids ?? [])];
    fresh.apply([
      { op: 'assignRecord', table: 'account', id: ids[30] as string, ownerId: 'u-erin' },
      { op: 'assignRecord', table: 'account', id: ids[31] as string, ownerId: 'team-key-accounts' },
      { op: 'deleteRecord', table: 'account', id: ids[32] as string },
      { op: 'deleteRecord', table: 'account', id: ids[50] as string },
      { op: 'createRecord', table: 'account', id: 'acc-new-1', ownerId: 'u-wendy' },
      { op: 'createRecord', table: 'account', id: ids[32] as string, ownerId: 'u-erin' },
      { op: 'grantShare', table: 'account', recordId: ids[33] as string, principalId: 'u-erin', rights: ['read'] },
    ]);
    const after = Int32Array.from({ length: count + 2 }, (_, i) => count + 1 - i);
    expectAllAgree(fresh, fresh.toWorld(), after);
  });
});

describe('filter on long caller columns', () => {
  afterEach(() => useRowKernels('auto'));
  const JUNK = -1;
  /** Each way a call's columns were tested: the row kernels' three tests, or the loop's owner test. */
  type Paths = Set<string>;

  /**
   * Every user and three privileges over caller columns tiled from `table`'s live records: longer
   * than a kernel block, odd, in orders whose first rows are all denied, real (each user's own
   * density decides) and mixed with rows no test passes. Through the row kernels and through the
   * JavaScript loop, with and without a record column, answers as `check` does; returns which
   * paths the questions took.
   */
  function expectLongColumnsAgree(world: WorldInput, table: string, paths: Paths): void {
    const engine = Engine.fromWorld(world);
    const t = engine.table(table);
    const store = engine.model.tables[t]?.records;
    if (store === undefined) throw new Error(`no ${table} table`);
    const live = Array.from({ length: store.count }, (_, r) => r).filter((r) => store.has(r));
    const denied = (n: number) => Array.from({ length: n }, () => JUNK);
    const tiled = (n: number, step: number) =>
      Array.from({ length: n }, (_, i) => live[(i * step) % live.length] as number);
    const orders = {
      'denied first': [...denied(8_192), ...tiled(12_001, 7)],
      'real rows': tiled(20_001, 13),
      'mixed with junk': tiled(20_001, 3).map((r, i) => (i % 5 === 0 ? JUNK : r)),
    };
    for (const [name, order] of Object.entries(orders)) {
      // A junk row: an owner, BU and record no test passes (outside every table).
      const owners = Int32Array.from(order, (r) => (r === JUNK ? -2 : store.ownerOf(r)));
      const businessUnits = Int32Array.from(order, (r) => (r === JUNK ? 2 ** 30 : store.buOf(r)));
      const records = Int32Array.from(order, (r) => (r === JUNK ? -1 : r));
      const unknown = new Int32Array(order.length).fill(-1);
      for (const user of (world.users ?? []).map((u) => u.id)) {
        for (const privilege of ['read', 'write', 'share'] as const) {
          const job = engine.filterJob(user, t, privilege, { owners, businessUnits, records });
          // Administrators and global readers take every caller row, junk too: the engine cannot know it is junk.
          const want = order.flatMap((r, i) =>
            (r === JUNK ? job.kind === 'all' : engine.check(user, t, privilege, r as never).allowed) ? [i] : [],
          );
          // 'always', not 'auto': the kernel paths counted below must be the ones that ran.
          for (const use of ['always', 'never'] as const) {
            useRowKernels(use);
            const got = engine.filter(user, t, privilege, { owners, businessUnits, records });
            expect(Array.from(got), `${name}: ${user} ${privilege} (kernels: ${use})`).toEqual(want);
            // Without a record column no share counts: the same as a column of records no one shares.
            const withoutShares = Array.from(
              engine.filter(user, t, privilege, { owners, businessUnits, records: unknown }),
            );
            expect(
              Array.from(engine.filter(user, t, privilege, { owners, businessUnits })),
              `${name}: ${user} (kernels: ${use})`,
            ).toEqual(withoutShares);
          }
          if (job.test !== null) {
            paths.add(`loop, ${job.test.ownerTable === null ? 'owner registers' : 'owner table'}`);
            for (const withRecords of [true, false]) {
              const [bu, owner, record] = kernelTests(job.test, withRecords);
              paths.add(`kernel, BU ${bu}`).add(`kernel, owner ${owner}`).add(`kernel, record ${record}`);
            }
          }
        }
      }
    }
  }

  it('answer as check does, through the row kernels and the loop, each way of testing each column', {
    timeout: 60_000,
  }, () => {
    const paths: Paths = new Set();
    expectLongColumnsAgree(widerWorld(3_000), 'account', paths);
    // A random world whose users include some with more than two scope teams or hierarchy reach,
    // and some whose grant covers more than four BUs.
    const seed = Array.from({ length: 200 }, (_, i) => i + 1).find((s) => {
      const world = randomWorld(s, OPTIONS);
      const engine = Engine.fromWorld(world);
      const tests = (world.users ?? []).flatMap((u) =>
        engine.model.tables.flatMap((table) => {
          if (table.records.count === 0) return [];
          const job = engine.filterJob(u.id, table.name, 'read', {
            owners: new Int32Array(1),
            businessUnits: new Int32Array(1),
          });
          return job.test === null ? [] : [job.test];
        }),
      );
      return tests.some((test) => test.ownerTable !== null) && tests.some((test) => test.buCount > 4);
    });
    expect(seed).toBeDefined();
    const world = randomWorld(seed as number, OPTIONS);
    for (const table of new Set((world.records ?? []).map((r) => r.table))) expectLongColumnsAgree(world, table, paths);
    expect([...paths].sort()).toEqual([
      'kernel, BU none',
      'kernel, BU registers',
      'kernel, BU table',
      'kernel, owner registers',
      'kernel, owner table',
      'kernel, record none',
      'kernel, record registers',
      'kernel, record table',
      'loop, owner registers',
      'loop, owner table',
    ]);
  });
});

describe('filter columns', () => {
  it('must be Int32Arrays or Uint32Arrays: another array is refused naming the column, never reinterpreted', () => {
    const engine = Engine.fromWorld(sampleWorld());
    const records = new Float64Array([0, 1, 2, 3]) as unknown as Int32Array;
    expect(() => engine.filter('u-erin', 'account', 'read', { records })).toThrow(
      expect.objectContaining({ code: 'PALISADE_INVALID_ARGUMENT', message: expect.stringContaining('records') }),
    );
    const owners = new Uint16Array(4) as unknown as Int32Array;
    const businessUnits = new Int32Array(4);
    expect(() => engine.filter('u-erin', 'account', 'read', { owners, businessUnits })).toThrow(
      expect.objectContaining({ code: 'PALISADE_INVALID_ARGUMENT', message: expect.stringContaining('owners') }),
    );
  });
});

describe('filter answers', () => {
  it("are the caller's: a later call, longer or shorter, leaves an earlier answer as it was", () => {
    const engine = Engine.fromWorld(sampleWorld());
    const table = engine.model.tables[engine.table('account')];
    const records = Int32Array.from(table?.records.ids.keys() ?? []);
    const users = engine.model.principals.filter((_, i) => engine.model.isUser(i)).map((p) => p.id);
    // Two unknown rows first: every allowed row of a later call sits two positions further on.
    const shifted = Int32Array.from([-1, -1, ...records]);
    const longest = Int32Array.from([...shifted, ...records]);
    // The longest list first, so that any buffer the engine keeps is already as long as any later call needs.
    engine.filter(users[0] as string, 'account', 'read', { records: longest });
    const answers = users.map((user) => engine.filter(user, 'account', 'read', { records }));
    const copies = answers.map((answer) => Array.from(answer));
    expect(copies.some((copy) => copy.length > 0)).toBe(true);
    for (const user of users) {
      engine.filter(user, 'account', 'write', { records: longest });
      engine.filter(user, 'account', 'read', { records: shifted.subarray(0, 3) });
    }
    expect(answers.map((answer) => Array.from(answer))).toEqual(copies);
  });
});

describe('bulk paths after deletes', () => {
  it('a deleted or unknown record index is never an allowed row, for any user (administrators and global readers too)', () => {
    const engine = Engine.fromWorld(sampleWorld());
    const table = engine.model.tables.find((t) => t.name === 'account');
    const ids = [...(table?.records.ids ?? [])];
    engine.apply([{ op: 'deleteRecord', table: 'account', id: ids[0] as string }]);
    const records = Int32Array.from([...ids.keys(), ids.length + 5]);
    const users = engine.model.principals.filter((_, i) => engine.model.isUser(i)).map((p) => p.id);
    let administrators = 0;
    for (const user of users) {
      if (engine.check(user, 'account', 'delete', ids[1] as string).reason === 'system-administrator') administrators++;
      for (const privilege of PRIVILEGES) {
        const expected = Array.from(records.keys()).filter((i) => {
          const r = records[i] as number;
          return (
            engine.model.tables[engine.table('account')]?.records.has(r) === true &&
            engine.check(user, 'account', privilege, r as never).allowed
          );
        });
        expect(Array.from(engine.filter(user, 'account', privilege, { records }))).toEqual(expected);
        expect(Array.from(engine.lookup(user, 'account', privilege).bitmap.toUint32Array())).not.toContain(0);
      }
    }
    expect(administrators).toBeGreaterThan(0);
  });
});
