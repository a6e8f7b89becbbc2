import {
  BatchCode,
  Engine,
  isPalisadeError,
  type PalisadeError,
  type SettingsInput,
  UPDATE_OPS,
  type UpdateErrorDetail,
  type UpdateOp,
  type WorldInput,
} from '@palisade/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ColumnSecurity } from '../src/compile/columns.js';
import { CompiledWorld } from '../src/compile/compile.js';
import { HierarchyTables } from '../src/compile/hierarchy.js';
import { tableIndex } from '../src/model/mutations.js';
import { randomWorld, rng } from './reference/random-world.js';
import { firstBulkMismatch } from './support/bulk-differential.js';
import { codeOfReason } from './support/codes.js';
import { firstMismatch, type Mismatch } from './support/differential.js';
import {
  addIds,
  answerDifference,
  answers,
  ghostQuestions,
  type IdsByTable,
  questions,
  recordIds,
  referenceAnswers,
} from './support/engine-answers.js';
import { sampleWorld } from './support/scenarios.js';
import {
  applyAllToWorld,
  applyToWorld,
  churnOps,
  INVALID_KINDS,
  type InvalidKind,
  invalidOpOfKind,
  randomInvalidOp,
  randomOpOfKind,
  randomOps,
} from './support/world-updates.js';

// Every section of the semantics is on, hierarchy and column security included.
const OPTIONS = { hierarchy: true, columnSecurity: true } as const;
const UPDATE_INVALID = 'PALISADE_UPDATE_INVALID';
/** Worlds of the single-operation property (fewer for a quick run, more for a long one). */
const WORLDS = Number(process.env.PALISADE_UPDATE_WORLDS ?? 300);
/**
 * After every operation the incremental engine is compared with a fresh compile on every
 * question (cheap: ~4 ms a world). After every FULL_EVERY-th operation and the last, also with
 * the reference evaluator (firstMismatch) and on explanations (~45 ms a world). The fresh compile
 * is itself held to the reference by differential.test.ts, so this gives the per-operation
 * guarantee within the time budget; PALISADE_UPDATE_FULL_EVERY=1 runs the reference every time.
 */
const FULL_EVERY = Number(process.env.PALISADE_UPDATE_FULL_EVERY ?? 6);

/** A random world whose assign settings are varied more often than randomWorld does on its own. */
function prepare(seed: number): WorldInput {
  const world = randomWorld(seed, OPTIONS);
  const random = rng(seed ^ 0x5eed5eed);
  const settings: SettingsInput = { ...(world.settings ?? {}) };
  if (random() < 0.4) settings.shareToPreviousOwnerOnAssign = random() < 0.6;
  if (random() < 0.4) settings.alwaysMoveRecordToOwnerBusinessUnit = random() < 0.5;
  world.settings = settings;
  return world;
}

function describeMismatch(m: Mismatch): string {
  return `${m.question}\n  engine:    ${JSON.stringify(m.engine)}\n  reference: ${JSON.stringify(m.reference)}`;
}

function history(ops: readonly UpdateOp[]): string {
  return ops.map((op, i) => `  #${i} ${JSON.stringify(op)}`).join('\n');
}

/** Engine (incremental) and fresh compile of `world` agree on every question (ghost ids included). */
function freshDifference(engine: Engine, world: WorldInput, ghosts: IdsByTable = new Map()): string | null {
  const qs = questions(world, ghosts);
  return answerDifference(qs, answers(engine, qs), answers(Engine.fromWorld(world), qs), ['incremental', 'fresh']);
}

/** Engine and reference agree on record ids the world no longer has, by id and inline. */
function ghostDifference(engine: Engine, world: WorldInput, ghosts: IdsByTable): string | null {
  const present = recordIds(world);
  const absent = new Map<string, Set<string>>();
  for (const [table, ids] of ghosts) absent.set(table, new Set([...ids].filter((id) => !present.get(table)?.has(id))));
  if ([...absent.values()].every((ids) => ids.size === 0)) return null;
  const qs = ghostQuestions(world, absent);
  return answerDifference(qs, answers(engine, qs), referenceAnswers(world, qs), ['engine', 'reference']);
}

/** Arrays sorted (recursively) by their elements' JSON: equal up to the order of lists. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value
      .map(canonical)
      .map((item) => [JSON.stringify(item), item] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, item]) => item);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, canonical(item)]));
  }
  return value;
}

/**
 * What the incremental engine reports beyond decisions equals a fresh compile's: `explain` on
 * every stored record (read and write), `userPrivileges` of every user and the counts of `stats`
 * (lists compared as sets: the order of paths depends on the order shares were made in, which a
 * world file and a history need not share). Also: asking by dense indexes gives the answers
 * asking by ids gives.
 */
function derivedDifference(engine: Engine, world: WorldInput): string | null {
  const fresh = Engine.fromWorld(world);
  const same = (text: string, a: unknown, b: unknown): string | null => {
    const x = JSON.stringify(canonical(a));
    const y = JSON.stringify(canonical(b));
    return x === y ? null : `${text}\n  incremental: ${x}\n  fresh:       ${y}`;
  };
  const counts = (e: Engine) => {
    const { businessUnits, users, teams, tables, roles, records } = e.stats();
    return { businessUnits, users, teams, tables, roles, records };
  };
  const found = [same('stats()', counts(engine), counts(fresh))];
  for (const user of world.users ?? []) {
    found.push(same(`userPrivileges(${user.id})`, engine.userPrivileges(user.id), fresh.userPrivileges(user.id)));
    const u = engine.user(user.id);
    for (const record of world.records ?? []) {
      const t = engine.table(record.table);
      const r = engine.record(t, record.id);
      for (const privilege of ['read', 'write'] as const) {
        const question = `explain(${user.id}, ${record.table}, ${privilege}, ${record.id})`;
        // the order of paths is unspecified, and with it the summary, which names the first
        const { summary: _a, ...incremental } = engine.explain(user.id, record.table, privilege, record.id);
        const { summary: _b, ...compiled } = fresh.explain(user.id, record.table, privilege, record.id);
        found.push(same(question, incremental, compiled));
        found.push(
          same(
            `by index: ${question}`,
            engine.check(u, t, privilege, r),
            engine.check(user.id, record.table, privilege, record.id),
          ),
        );
      }
      found.push(
        same(
          `accessRights by index (${user.id}, ${record.table}, ${record.id})`,
          engine.accessRights(u, t, r),
          engine.accessRights(user.id, record.table, record.id),
        ),
      );
    }
  }
  return found.find((difference) => difference !== null) ?? null;
}

/**
 * Every check after an update. `cheap`: the incremental engine against a fresh compile of
 * `world`, on every question. Full: also the reference on every question (firstMismatch: checks,
 * masks, inline rows, composites with sampled arguments, explain's paths), deleted ids against
 * the reference, and explain/userPrivileges/stats/index answers against a fresh compile.
 */
function verify(engine: Engine, world: WorldInput, ghosts: IdsByTable, seed: number, full: boolean): string | null {
  if (!full) {
    const fresh = freshDifference(engine, world);
    return fresh === null ? null : `vs fresh compile: ${fresh}`;
  }
  const mismatch = firstMismatch(world, seed, engine);
  if (mismatch !== null) return `vs reference: ${describeMismatch(mismatch)}`;
  const ghost = ghostDifference(engine, world, ghosts);
  if (ghost !== null) return `vs reference on ids no longer stored: ${ghost}`;
  const fresh = freshDifference(engine, world, ghosts);
  if (fresh !== null) return `vs fresh compile: ${fresh}`;
  const derived = derivedDifference(engine, world);
  return derived === null ? null : `vs fresh compile: ${derived}`;
}

function applyError(engine: Engine, ops: UpdateOp[]): PalisadeError {
  try {
    engine.apply(ops);
  } catch (error) {
    if (isPalisadeError(error)) return error;
    throw error;
  }
  throw new Error(`apply did not throw for\n${history(ops)}`);
}

function updateDetails(error: PalisadeError): UpdateErrorDetail {
  const details = error.details;
  if (details === null || !('index' in details)) throw new Error(`no update details: ${error.message}`);
  return details;
}

/** The field named at fault, up to its first `.` or `[` (e.g. `privileges.account.read` → `privileges`). */
function topField(field: string): string {
  return field.split(/[.[]/)[0] ?? field;
}

/** Builds every table's index groups (by owner, by BU), as a first lookup would. */
function sortTables(engine: Engine): void {
  for (const table of engine.model.tables) {
    const index = tableIndex(table);
    index.byOwner.size(0);
    index.byBu.size(0);
  }
}

function seedChunks(first: number, count: number, size: number): [number, number][] {
  const chunks: [number, number][] = [];
  for (let from = first; from < first + count; from += size)
    chunks.push([from, Math.min(from + size, first + count) - 1]);
  return chunks;
}

describe('single operations: the incremental engine equals the reference and a fresh compile', () => {
  it.each(seedChunks(1, WORLDS, 50))('random worlds of seeds %i to %i', { timeout: 180_000 }, (first, last) => {
    for (let seed = first; seed <= last; seed++) {
      let world = prepare(seed);
      const engine = Engine.fromWorld(world);
      expect(engine.revision).toBe(0);
      const random = rng(seed * 7919 + 17);
      const count = 8 + Math.floor(random() * 8);
      const ghosts = recordIds(world);
      const done: UpdateOp[] = [];
      // Half the worlds sort their tables before any change, so the changes must keep the index's groups current.
      if (seed % 2 === 0) sortTables(engine);
      for (let i = 0; i < count; i++) {
        const [op] = randomOps(world, random, 1);
        if (op === undefined) throw new Error('randomOps gave nothing');
        done.push(op);
        const where = () => `seed ${seed}, op #${i} ${JSON.stringify(op)}\nops so far:\n${history(done)}`;
        let result = { revision: -1 };
        const asGiven = JSON.stringify(op);
        try {
          result = engine.apply([op]);
        } catch (error) {
          expect.fail(
            `${where()}\napply threw on a valid op: ${String(error)} ${JSON.stringify(isPalisadeError(error) ? error.details : null)}`,
          );
        }
        expect(JSON.stringify(op), `${where()}\napply changed its argument`).toBe(asGiven);
        expect(result.revision, where()).toBe(i + 1);
        expect(engine.revision, where()).toBe(i + 1);
        world = applyToWorld(world, op);
        addIds(ghosts, recordIds(world));
        const full = i % FULL_EVERY === FULL_EVERY - 1 || i === count - 1;
        const difference = verify(engine, world, ghosts, seed * 100 + i, full);
        if (difference !== null) expect.fail(`${where()}\n${difference}`);
        // The list paths (lookup, filter both ways, filterSpec, whoCanAccess) agree with check.
        const bulk = full ? firstBulkMismatch(world, seed, engine) : null;
        if (bulk !== null) expect.fail(`${where()}\n${describeMismatch(bulk)}`);
      }
    }
  });
});

describe('transactions of several operations', () => {
  it.each(seedChunks(1001, 80, 40))('random worlds of seeds %i to %i', { timeout: 180_000 }, (first, last) => {
    for (let seed = first; seed <= last; seed++) {
      let world = prepare(seed);
      const engine = Engine.fromWorld(world);
      const random = rng(seed * 104729 + 3);
      const ghosts = recordIds(world);
      const batches = 2 + Math.floor(random() * 3);
      // Half the worlds sort their tables before any change, so the changes must keep the index's groups current.
      if (seed % 2 === 0) sortTables(engine);
      for (let b = 0; b < batches; b++) {
        const ops = randomOps(world, random, 2 + Math.floor(random() * 9));
        const where = () => `seed ${seed}, batch #${b}:\n${history(ops)}`;
        expect(engine.apply(ops).revision, where()).toBe(b + 1);
        world = applyAllToWorld(world, ops);
        addIds(ghosts, recordIds(world));
        const full = b === batches - 1 || b % 2 === 1;
        const difference = verify(engine, world, ghosts, seed * 10 + b, full);
        if (difference !== null) expect.fail(`${where()}\n${difference}`);
        // The list paths (lookup, filter both ways, filterSpec, whoCanAccess) agree with check.
        const bulk = full ? firstBulkMismatch(world, seed, engine) : null;
        if (bulk !== null) expect.fail(`${where()}\n${describeMismatch(bulk)}`);
        // What the store compacts the log into: the engine's world, loaded afresh, answers alike.
        const exported = freshDifference(Engine.fromWorld(engine.toWorld()), world);
        if (exported !== null) expect.fail(`${where()}\nengine.toWorld() loaded: ${exported}`);
      }
      expect(engine.revision).toBe(batches);
    }
  });

  it('a record created, shared, assigned and deleted within one batch leaves nothing behind', () => {
    const world = focusedWorld();
    const engine = Engine.fromWorld(world);
    const ops: UpdateOp[] = [
      { op: 'createRecord', table: 'account', id: 'acc-tmp', ownerId: 'u-bob' },
      { op: 'grantShare', table: 'account', recordId: 'acc-tmp', principalId: 'u-ann', rights: ['read'] },
      { op: 'assignRecord', table: 'account', id: 'acc-tmp', ownerId: 'u-cat' },
      { op: 'deleteRecord', table: 'account', id: 'acc-tmp' },
      { op: 'createRecord', table: 'account', id: 'acc-tmp', ownerId: 'u-dan' },
    ];
    engine.apply(ops);
    const after = applyAllToWorld(world, ops);
    expect(firstMismatch(after, 1, engine)).toBeNull();
    expect(engine.check('u-ann', 'account', 'read', 'acc-tmp')).toMatchObject({ allowed: false, reason: 'no-access' });
  });
});

describe('atomicity: a batch with an invalid operation changes nothing', () => {
  it.each(seedChunks(2001, 120, 40))('random worlds of seeds %i to %i', { timeout: 180_000 }, (first, last) => {
    for (let seed = first; seed <= last; seed++) {
      const initial = prepare(seed);
      let world = initial;
      const engine = Engine.fromWorld(world);
      const random = rng(seed * 31337 + 5);
      // some history first, so that rolling back has incremental state to restore
      const earlier = randomOps(world, random, Math.floor(random() * 4));
      for (const op of earlier) engine.apply([op]);
      world = applyAllToWorld(world, earlier);
      const revision = engine.revision;

      const prefix = randomOps(world, random, Math.floor(random() * 7));
      const after = applyAllToWorld(world, prefix);
      const invalid = randomInvalidOp(after, random);
      const suffix = randomOps(after, random, Math.floor(random() * 3));
      const batch = [...prefix, invalid.op, ...suffix];
      const where = `seed ${seed}, expected ${invalid.rule} at #${prefix.length}:\n${history(batch)}`;

      const ghosts = recordIds(world);
      addIds(ghosts, recordIds(after));
      const qs = questions(world, ghosts);
      const before = answers(engine, qs);

      const error = applyError(engine, batch);
      expect(error.code, where).toBe(UPDATE_INVALID);
      const details = updateDetails(error);
      expect({ index: details.index, rule: details.rule, op: details.op }, where).toEqual({
        index: prefix.length,
        rule: invalid.rule,
        op: invalid.op.op,
      });
      expect(invalid.fields, `${where}\nfield ${details.field}`).toContain(topField(details.field));
      expect(engine.revision, where).toBe(revision);
      const changed = answerDifference(qs, answers(engine, qs), before, ['after the failed apply', 'before']);
      if (changed !== null) expect.fail(`${where}\n${changed}`);
      const derived = derivedDifference(engine, world);
      if (derived !== null) expect.fail(`${where}\nafter rollback vs fresh compile: ${derived}`);

      // the engine still works: the valid prefix alone applies and equals the reference
      if (prefix.length > 0) {
        expect(engine.apply(prefix).revision, where).toBe(revision + 1);
        const difference = verify(engine, after, ghosts, seed, true);
        if (difference !== null) expect.fail(`${where}\nprefix after rollback: ${difference}`);
      }
      // and numbers its records as an engine that never saw the failed call (a replica replaying
      // only the committed writes): a rolled-back create must leave no gap
      const replayed = Engine.fromWorld(initial);
      for (const op of earlier) replayed.apply([op]);
      if (prefix.length > 0) replayed.apply(prefix);
      for (const [table, ids] of recordIds(after)) {
        for (const id of ids)
          expect(engine.record(table, id), `${where}\nindex of ${table} ${id}`).toBe(replayed.record(table, id));
      }
    }
  });
});

describe('atomicity, exactly', () => {
  it('a failed batch that created records frees their indexes: the next record gets the index it would have had', () => {
    const engine = Engine.fromWorld(focusedWorld());
    const replica = Engine.fromWorld(focusedWorld());
    const create = (id: string): UpdateOp => ({ op: 'createRecord', table: 'account', id, ownerId: 'u-ann' });
    applyError(engine, [
      create('acc-new-1'),
      create('acc-new-2'),
      { op: 'deleteRecord', table: 'account', id: 'acc-missing' },
    ]);
    expect(() => engine.record('account', 'acc-new-1')).toThrow(
      expect.objectContaining({ code: 'PALISADE_UNKNOWN_RECORD' }),
    );
    engine.apply([create('acc-new-3')]);
    replica.apply([create('acc-new-3')]);
    expect(engine.record('account', 'acc-new-3')).toBe(replica.record('account', 'acc-new-3'));
    expect(engine.check('u-ann', 'account', 'read', 'acc-new-3')).toEqual(
      replica.check('u-ann', 'account', 'read', 'acc-new-3'),
    );
  });

  it('a user a failed batch created is gone from bulk id lookups, even if asked while it existed', () => {
    const engine = Engine.fromWorld(focusedWorld());
    const ask = (user: string) => [{ user, table: 'account', privilege: 'read', record: 'acc-bob' }];
    engine.checkBatch(ask('u-ann'));
    // A JavaScript caller can reach the engine from inside an apply, through a getter of an op.
    const failing = { op: 'addTeamMember', userId: 'u-ann' } as Record<string, unknown>;
    Object.defineProperty(failing, 'teamId', {
      enumerable: true,
      get() {
        engine.checkBatch(ask('u-ghost'));
        return 'no-such-team';
      },
    });
    applyError(engine, [
      { op: 'createUser', id: 'u-ghost', businessUnitId: 'bu-east' },
      failing as unknown as UpdateOp,
    ]);
    // The next user created takes the index u-ghost had.
    engine.apply([
      { op: 'createUser', id: 'u-new', businessUnitId: 'bu-east' },
      { op: 'addRoleAssignment', principalId: 'u-new', roleId: 'role-bu-reader' },
    ]);
    expect(Array.from(engine.checkBatch([...ask('u-ghost'), ...ask('u-new')]))).toEqual([
      BatchCode.unknownUser,
      codeOfReason(engine.check('u-new', 'account', 'read', 'acc-bob')),
    ]);
    expect(Array.from(engine.userIndexes(['u-ghost', 'u-new']))).toEqual([-1, engine.user('u-new')]);
  });

  it('names of Object.prototype members are unknown operations, not built-ins', () => {
    const engine = Engine.fromWorld(focusedWorld());
    for (const op of ['toString', 'constructor', 'valueOf', 'hasOwnProperty', '__proto__', 'isPrototypeOf']) {
      expect(updateDetails(applyError(engine, [{ op } as unknown as UpdateOp])), op).toMatchObject({
        index: 0,
        op,
        field: 'op',
        rule: 'exact-word',
      });
    }
    expect(engine.revision).toBe(0);
  });

  it('a failed batch that deleted a shared record leaves its explanation exactly as before', () => {
    const world = focusedWorld();
    world.shares?.push(
      { table: 'account', recordId: 'acc-bob', principalId: 'team-sales', rights: ['read'] },
      { table: 'account', recordId: 'acc-bob', principalId: 'organization', rights: ['read'] },
    );
    const engine = Engine.fromWorld(world);
    const before = engine.explain('u-ann', 'account', 'read', 'acc-bob');
    const details = updateDetails(
      applyError(engine, [
        { op: 'deleteRecord', table: 'account', id: 'acc-bob' },
        { op: 'deleteRecord', table: 'account', id: 'acc-missing' },
      ]),
    );
    expect(details).toMatchObject({ index: 1, rule: 'reference-resolves' });
    // same paths in the same order, so the same summary: the call did not happen
    expect(engine.explain('u-ann', 'account', 'read', 'acc-bob')).toEqual(before);
  });
});

/**
 * The steps `apply` takes after the operations changed the model (Engine.catchUp). Spying on them
 * makes one fail as an allocation could, part way through the compiled state.
 */
const COMPILE_STEPS = [
  [CompiledWorld.prototype, 'recompileProfiles'],
  [CompiledWorld.prototype, 'refreshUser'],
  [CompiledWorld.prototype, 'reindexBusinessUnits'],
  [ColumnSecurity.prototype, 'refreshUser'],
  [ColumnSecurity.prototype, 'refreshFieldShares'],
  [HierarchyTables.prototype, 'refresh'],
  [HierarchyTables.prototype, 'rebuild'],
] as const;

/**
 * Counts the calls of every compile step; while `failAt` is set, the call of that number throws
 * (once). Returns the count so far and the error thrown.
 */
function instrumentCompileSteps(): { calls: () => number; failAt: (n: number) => void; thrown: Error } {
  let calls = 0;
  let target = 0;
  const thrown = new Error('simulated allocation failure');
  for (const [prototype, name] of COMPILE_STEPS) {
    const methods = prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
    const original = methods[name] as (...args: unknown[]) => unknown;
    vi.spyOn(methods, name).mockImplementation(function (this: unknown, ...args: unknown[]) {
      calls++;
      if (calls === target) {
        target = 0;
        throw thrown;
      }
      return original.apply(this, args);
    });
  }
  return {
    calls: () => calls,
    failAt: (n) => {
      calls = 0;
      target = n;
    },
    thrown,
  };
}

describe('a valid update that fails while compiling is rolled back', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each(seedChunks(4001, 80, 40))('random worlds of seeds %i to %i', { timeout: 180_000 }, (first, last) => {
    const steps = instrumentCompileSteps();
    let failures = 0;
    for (let seed = first; seed <= last; seed++) {
      let world = prepare(seed);
      const engine = Engine.fromWorld(world);
      const random = rng(seed * 7919 + 3);
      const earlier = randomOps(world, random, Math.floor(random() * 4));
      for (const op of earlier) engine.apply([op]);
      world = applyAllToWorld(world, earlier);

      const batch = randomOps(world, random, 1 + Math.floor(random() * 6));
      const after = applyAllToWorld(world, batch);
      // How many compile steps the batch takes, on a twin engine; then fail one of them.
      const twin = Engine.fromWorld(world);
      steps.failAt(0);
      twin.apply(batch);
      const total = steps.calls();
      if (total === 0) continue;
      const failing = 1 + Math.floor(random() * total);
      const where = `seed ${seed}, compile step ${failing} of ${total} fails:\n${history(batch)}`;

      const ghosts = recordIds(world);
      addIds(ghosts, recordIds(after));
      const qs = questions(world, ghosts);
      const before = answers(engine, qs);
      const revision = engine.revision;

      steps.failAt(failing);
      const error = applyError(engine, batch);
      failures++;
      expect({ code: error.code, details: error.details, cause: error.cause }, where).toEqual({
        code: 'PALISADE_UPDATE_FAILED',
        details: { rolledBack: true },
        cause: steps.thrown,
      });
      expect(engine.revision, where).toBe(revision);
      const changed = answerDifference(qs, answers(engine, qs), before, ['after the failed apply', 'before']);
      if (changed !== null) expect.fail(`${where}\n${changed}`);
      const derived = derivedDifference(engine, world);
      if (derived !== null) expect.fail(`${where}\nafter recovery vs fresh compile: ${derived}`);

      // the recovered engine takes the same batch and keeps up with updates
      expect(engine.apply(batch).revision, where).toBe(revision + 1);
      const difference = verify(engine, after, ghosts, seed, true);
      if (difference !== null) expect.fail(`${where}\nthe batch again after recovery: ${difference}`);
    }
    // most batches compile something: the property must not pass by skipping every seed
    expect(failures).toBeGreaterThan((last - first + 1) / 2);
  });

  it('when the rollback cannot recompile either, the engine refuses every later update', () => {
    const engine = Engine.fromWorld(focusedWorld());
    const thrown = new Error('simulated allocation failure');
    // What both the update's refresh and the fresh compile behind the rollback go through.
    const compiler = CompiledWorld.prototype as unknown as { refresh: (user: number, rolesRead: boolean) => void };
    const refresh = vi.spyOn(compiler, 'refresh').mockImplementation(() => {
      throw thrown;
    });
    const error = applyError(engine, [{ op: 'addTeamMember', teamId: 'team-sales', userId: 'u-cat' }]);
    expect({ code: error.code, details: error.details }).toEqual({
      code: 'PALISADE_UPDATE_FAILED',
      details: { rolledBack: false },
    });
    // the update's failure first, then the recompile's
    expect((error.cause as AggregateError).errors).toEqual([thrown, thrown]);
    expect(error.message).toMatch(/could not be rolled back: load the engine again/);
    refresh.mockRestore();
    const later = applyError(engine, [{ op: 'deleteRecord', table: 'account', id: 'acc-bob' }]);
    expect(later).toBe(error);
    expect(engine.revision).toBe(0);
  });
});

describe('churn: the same things changed again and again within one transaction', () => {
  it.each(seedChunks(3001, 100, 50))('random worlds of seeds %i to %i', { timeout: 180_000 }, (first, last) => {
    for (let seed = first; seed <= last; seed++) {
      const world = prepare(seed);
      const random = rng(seed * 2731 + 11);
      const ops = churnOps(world, random);
      const after = applyAllToWorld(world, ops);
      const ghosts = recordIds(world);
      addIds(ghosts, recordIds(after));

      // first with an invalid operation at the end: nothing may change
      const engine = Engine.fromWorld(world);
      const qs = questions(world, ghosts);
      const before = answers(engine, qs);
      const invalid = randomInvalidOp(after, random);
      const where = `seed ${seed}:\n${history([...ops, invalid.op])}`;
      const details = updateDetails(applyError(engine, [...ops, invalid.op]));
      expect({ index: details.index, rule: details.rule }, where).toEqual({ index: ops.length, rule: invalid.rule });
      expect(engine.revision, where).toBe(0);
      const changed = answerDifference(qs, answers(engine, qs), before, ['after the failed apply', 'before']);
      if (changed !== null) expect.fail(`${where}\nrollback: ${changed}`);
      const derived = derivedDifference(engine, world);
      if (derived !== null) expect.fail(`${where}\nafter rollback vs fresh compile: ${derived}`);

      // then the same operations alone, on the rolled-back engine
      engine.apply(ops);
      const difference = verify(engine, after, ghosts, seed, true);
      if (difference !== null) expect.fail(`${where}\n${difference}`);
    }
  });
});

describe('each invalid operation reports its rule', () => {
  const kinds = Object.keys(INVALID_KINDS) as InvalidKind[];
  it.each(kinds)('%s', { timeout: 60_000 }, (kind) => {
    let found = 0;
    for (let seed = 1; seed <= 400 && found < 12; seed++) {
      let world = prepare(seed);
      const engine = Engine.fromWorld(world);
      const random = rng(seed * 65537 + kind.length);
      if (random() < 0.5) {
        const earlier = randomOps(world, random, 1 + Math.floor(random() * 4));
        engine.apply(earlier);
        world = applyAllToWorld(world, earlier);
      }
      const alone = invalidOpOfKind(world, random, kind);
      if (alone === null) continue;
      found++;
      const revision = engine.revision;
      const qs = questions(world);
      const before = answers(engine, qs);
      const where = `seed ${seed}: ${JSON.stringify(alone.op)}`;

      const error = applyError(engine, [alone.op]);
      expect(error.code, where).toBe(UPDATE_INVALID);
      const details = updateDetails(error);
      expect({ index: details.index, rule: details.rule, op: details.op }, where).toEqual({
        index: 0,
        rule: alone.rule,
        op: alone.op.op,
      });
      expect(alone.fields, `${where}\nfield ${details.field}`).toContain(topField(details.field));

      // second in a batch, after a valid operation that it must see
      const [valid] = randomOps(world, random, 1);
      if (valid === undefined) throw new Error('randomOps gave nothing');
      const second = invalidOpOfKind(applyToWorld(world, valid), random, kind);
      if (second !== null) {
        const where2 = `seed ${seed}: [${JSON.stringify(valid)}, ${JSON.stringify(second.op)}]`;
        const error2 = applyError(engine, [valid, second.op]);
        expect(error2.code, where2).toBe(UPDATE_INVALID);
        const details2 = updateDetails(error2);
        expect({ index: details2.index, rule: details2.rule }, where2).toEqual({ index: 1, rule: second.rule });
      }
      expect(engine.revision, where).toBe(revision);
      const changed = answerDifference(qs, answers(engine, qs), before, ['after the failed apply', 'before']);
      if (changed !== null) expect.fail(`${where}\n${changed}`);
    }
    expect(found, `no random world allowed a ${kind} operation`).toBeGreaterThan(0);
  });
});

describe('revision', () => {
  it('starts at 0 and counts successful apply calls, not operations', () => {
    let world = prepare(7);
    const engine = Engine.fromWorld(world);
    expect(engine.revision).toBe(0);
    const random = rng(7);
    const one = randomOps(world, random, 1);
    expect(engine.apply(one)).toEqual({ revision: 1 });
    world = applyAllToWorld(world, one);
    const three = randomOps(world, random, 3);
    expect(engine.apply(three)).toEqual({ revision: 2 });
    world = applyAllToWorld(world, three);
    expect(engine.revision).toBe(2);
    const invalid = randomInvalidOp(world, random);
    applyError(engine, [invalid.op]);
    expect(engine.revision).toBe(2);
    const next = randomOps(world, random, 2);
    expect(engine.apply(next)).toEqual({ revision: 3 });
    world = applyAllToWorld(world, next);
    expect(engine.revision).toBe(3);
    expect(Engine.fromWorld(world).revision).toBe(0);
    expect(firstMismatch(world, 7, engine)).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// Focused cases
// ---------------------------------------------------------------------------------------------

const ALL_BASIC = {
  create: 'basic',
  read: 'basic',
  write: 'basic',
  delete: 'basic',
  append: 'basic',
  appendTo: 'basic',
  assign: 'basic',
  share: 'basic',
} as const;

/**
 * root ─┬─ east (ann, bob; team-sales = ann + bob)
 *       └─ west (cat)            dan is in root.
 * Everyone has role-user (basic everything on account); dan reads all of east by an assignment
 * made explicitly from east; cat reads its own BU by an assignment without BU.
 */
function focusedWorld(settings: SettingsInput = {}): WorldInput {
  return {
    settings,
    businessUnits: [
      { id: 'bu-root', parentId: null, defaultTeamId: 'dt-root' },
      { id: 'bu-east', parentId: 'bu-root', defaultTeamId: 'dt-east' },
      { id: 'bu-west', parentId: 'bu-root', defaultTeamId: 'dt-west' },
    ],
    users: [
      { id: 'u-ann', businessUnitId: 'bu-east' },
      { id: 'u-bob', businessUnitId: 'bu-east' },
      { id: 'u-cat', businessUnitId: 'bu-west' },
      { id: 'u-dan', businessUnitId: 'bu-root' },
    ],
    teams: [{ id: 'team-sales', businessUnitId: 'bu-east', type: 'owner', members: ['u-ann', 'u-bob'] }],
    tables: [
      { name: 'account', ownership: 'user' },
      { name: 'currency', ownership: 'organization' },
    ],
    roles: [
      { id: 'role-user', privileges: { account: { ...ALL_BASIC }, currency: { read: 'global' } } },
      { id: 'role-bu-reader', privileges: { account: { read: 'local' } } },
      { id: 'role-team', inheritance: 'team', privileges: { account: { read: 'none' } } },
    ],
    roleAssignments: [
      { principalId: 'u-ann', roleId: 'role-user' },
      { principalId: 'u-bob', roleId: 'role-user' },
      { principalId: 'u-cat', roleId: 'role-user' },
      { principalId: 'u-dan', roleId: 'role-user' },
      { principalId: 'u-dan', roleId: 'role-bu-reader', businessUnitId: 'bu-east' },
      { principalId: 'u-cat', roleId: 'role-bu-reader' },
      { principalId: 'team-sales', roleId: 'role-team' },
    ],
    records: [
      { table: 'account', id: 'acc-ann', ownerId: 'u-ann' },
      { table: 'account', id: 'acc-bob', ownerId: 'u-bob' },
      { table: 'account', id: 'acc-east', ownerId: 'dt-east' },
      { table: 'account', id: 'acc-west-team', ownerId: 'dt-west' },
      { table: 'account', id: 'acc-cat', ownerId: 'u-cat' },
      { table: 'account', id: 'acc-ann-west', ownerId: 'u-ann', owningBusinessUnitId: 'bu-west' },
      { table: 'currency', id: 'usd' },
    ],
    shares: [{ table: 'account', recordId: 'acc-bob', principalId: 'u-ann', rights: ['read'] }],
  };
}

/** An engine and its world, kept in step; every step is checked against the reference. */
class Scenario {
  world: WorldInput;
  readonly engine: Engine;

  constructor(world: WorldInput) {
    this.world = world;
    this.engine = Engine.fromWorld(world);
  }

  apply(...ops: UpdateOp[]): this {
    this.engine.apply(ops);
    this.world = applyAllToWorld(this.world, ops);
    const difference = verify(this.engine, this.world, recordIds(this.world), 1, true);
    if (difference !== null) expect.fail(`${history(ops)}\n${difference}`);
    return this;
  }

  reads(user: string, record: string): boolean {
    return this.engine.check(user, 'account', 'read', record).allowed;
  }

  reason(user: string, record: string, privilege: 'read' | 'write' = 'read'): string {
    return this.engine.check(user, 'account', privilege, record).reason;
  }

  failure(...ops: UpdateOp[]): UpdateErrorDetail {
    const error = applyError(this.engine, ops);
    expect(error.code).toBe(UPDATE_INVALID);
    return updateDetails(error);
  }
}

describe('focused updates', () => {
  it('a coverage of more than 32 anchors (sorted another way) before and after a new BU', () => {
    // 48 sibling BUs; dan reads locally in every one but each fifth, deeply in each seventh.
    const bus = Array.from({ length: 48 }, (_, i) => `bu-${i}`);
    const world: WorldInput = {
      businessUnits: [{ id: 'bu-root', parentId: null }, ...bus.map((id) => ({ id, parentId: 'bu-root' }))],
      users: [
        { id: 'u-dan', businessUnitId: 'bu-root' },
        ...bus.map((id, i) => ({ id: `u-${i}`, businessUnitId: id })),
      ],
      tables: [{ name: 'account', ownership: 'user' }],
      roles: [
        { id: 'role-local', privileges: { account: { read: 'local' } } },
        { id: 'role-deep', privileges: { account: { read: 'deep' } } },
      ],
      roleAssignments: bus.flatMap((id, i) => [
        ...(i % 5 === 0 ? [] : [{ principalId: 'u-dan', roleId: 'role-local', businessUnitId: id }]),
        ...(i % 7 === 0 ? [{ principalId: 'u-dan', roleId: 'role-deep', businessUnitId: id }] : []),
      ]),
      records: bus.map((_, i) => ({ table: 'account', id: `acc-${i}`, ownerId: `u-${i}` })),
    };
    const s = new Scenario(world);
    const readable = () => bus.map((_, i) => s.reads('u-dan', `acc-${i}`));
    const expected = bus.map((_, i) => i % 5 !== 0 || i % 7 === 0);
    expect(readable()).toEqual(expected);
    // Children of a deep anchor (covered) and of a local one (not), renumbering every coverage.
    s.apply(
      { op: 'createBusinessUnit', id: 'bu-7-child', parentId: 'bu-7' },
      { op: 'createBusinessUnit', id: 'bu-8-child', parentId: 'bu-8' },
      { op: 'createUser', id: 'u-7c', businessUnitId: 'bu-7-child' },
      { op: 'createUser', id: 'u-8c', businessUnitId: 'bu-8-child' },
      { op: 'createRecord', table: 'account', id: 'acc-7c', ownerId: 'u-7c' },
      { op: 'createRecord', table: 'account', id: 'acc-8c', ownerId: 'u-8c' },
    );
    expect(readable()).toEqual(expected);
    expect([s.reads('u-dan', 'acc-7c'), s.reads('u-dan', 'acc-8c')]).toEqual([true, false]);
  });

  it('a new BU between two local anchors whose positions touched splits their coverage', () => {
    // Preorder: root 0, east 1, west 2: dan's local readers at east and west merge into one
    // interval [1, 3). A child of east takes position 2, so the coverage must become [1, 2) and
    // [3, 4), and the child's records stay out of it.
    const world = focusedWorld();
    world.roleAssignments = [
      ...(world.roleAssignments ?? []),
      { principalId: 'u-dan', roleId: 'role-bu-reader', businessUnitId: 'bu-west' },
    ];
    const s = new Scenario(world);
    expect([s.reads('u-dan', 'acc-east'), s.reads('u-dan', 'acc-west-team')]).toEqual([true, true]);
    s.apply(
      { op: 'createBusinessUnit', id: 'bu-east-child', parentId: 'bu-east' },
      { op: 'createUser', id: 'u-eve', businessUnitId: 'bu-east-child' },
      { op: 'createRecord', table: 'account', id: 'acc-eve', ownerId: 'u-eve' },
    );
    expect([s.reads('u-dan', 'acc-east'), s.reads('u-dan', 'acc-west-team')]).toEqual([true, true]);
    expect(s.reads('u-dan', 'acc-eve')).toBe(false);
  });

  it('assign with shareToPreviousOwnerOnAssign gives the previous owner all seven rights', () => {
    const s = new Scenario(focusedWorld({ shareToPreviousOwnerOnAssign: true }));
    expect(s.reason('u-ann', 'acc-ann')).toBe('role');
    expect(s.reads('u-dan', 'acc-ann')).toBe(true); // east, by dan's east reader role
    s.apply({ op: 'assignRecord', table: 'account', id: 'acc-ann', ownerId: 'u-cat' });
    expect(s.reason('u-ann', 'acc-ann')).toBe('share');
    expect(s.reason('u-ann', 'acc-ann', 'write')).toBe('share');
    // every bit but create (create is role path only, and ann's basic create does not cover cat's record)
    expect(s.engine.accessRights('u-ann', 'account', 'acc-ann')).toBe(1 + 2 + 4 + 16 + 65536 + 262144 + 524288);
    expect(s.reason('u-cat', 'acc-ann')).toBe('role');
    // the owning BU followed cat to west: dan's east reader no longer covers it
    expect(s.reads('u-dan', 'acc-ann')).toBe(false);
    // the previous owner already holding a share: rights are ORed, not duplicated
    s.apply({ op: 'assignRecord', table: 'account', id: 'acc-bob', ownerId: 'u-ann' });
    expect(s.world.shares?.filter((x) => x.recordId === 'acc-bob')).toHaveLength(2);
    expect(s.reason('u-bob', 'acc-bob', 'write')).toBe('share');
    s.apply({ op: 'revokeShare', table: 'account', recordId: 'acc-bob', principalId: 'u-bob' });
    expect(s.reads('u-bob', 'acc-bob')).toBe(false);
  });

  it('assign without shareToPreviousOwnerOnAssign leaves the previous owner nothing', () => {
    const s = new Scenario(focusedWorld());
    s.apply({ op: 'assignRecord', table: 'account', id: 'acc-ann', ownerId: 'u-cat' });
    expect(s.reason('u-ann', 'acc-ann')).toBe('no-access');
    expect(s.reads('u-cat', 'acc-ann')).toBe(true);
  });

  it('assign with alwaysMoveRecordToOwnerBusinessUnit false keeps the owning BU', () => {
    const s = new Scenario(focusedWorld({ alwaysMoveRecordToOwnerBusinessUnit: false }));
    s.apply({ op: 'assignRecord', table: 'account', id: 'acc-ann', ownerId: 'u-cat' });
    expect(s.reads('u-dan', 'acc-ann')).toBe(true); // still in east
    expect(s.reads('u-cat', 'acc-ann')).toBe(true); // owner
    // moving the old owner, or the new one with doNotMoveRecords, changes nothing
    s.apply({ op: 'moveUser', userId: 'u-ann', businessUnitId: 'bu-west' });
    s.apply({ op: 'moveUser', userId: 'u-cat', businessUnitId: 'bu-root', doNotMoveRecords: true });
    expect(s.reads('u-dan', 'acc-ann')).toBe(true);
    // assigning to a team: still east
    s.apply({ op: 'assignRecord', table: 'account', id: 'acc-ann', ownerId: 'dt-west' });
    expect(s.reads('u-dan', 'acc-ann')).toBe(true);
  });

  it('moveUser moves owned records, default team membership and BU-less role assignments', () => {
    const s = new Scenario(focusedWorld());
    expect(s.reads('u-ann', 'acc-east')).toBe(true); // through dt-east (role-user basic covers the team)
    expect(s.reads('u-ann', 'acc-west-team')).toBe(false);
    expect(s.reads('u-dan', 'acc-ann')).toBe(true);
    expect(s.reads('u-cat', 'acc-ann')).toBe(false);
    s.apply({ op: 'moveUser', userId: 'u-ann', businessUnitId: 'bu-west' });
    // default teams: out of dt-east, into dt-west
    expect(s.reads('u-ann', 'acc-east')).toBe(false);
    expect(s.reason('u-ann', 'acc-west-team')).toBe('role');
    // acc-ann moved to west with its owner
    expect(s.reads('u-dan', 'acc-ann')).toBe(false);
    expect(s.reads('u-cat', 'acc-ann')).toBe(true);
    // explicit team membership stays
    expect(s.world.teams?.[0]?.members).toContain('u-ann');

    // cat's reader role has no BU: it follows cat to east; dan's names east: it stays
    expect(s.reads('u-cat', 'acc-bob')).toBe(false);
    s.apply({ op: 'moveUser', userId: 'u-cat', businessUnitId: 'bu-east', doNotMoveRecords: true });
    expect(s.reads('u-cat', 'acc-bob')).toBe(true);
    expect(s.reads('u-cat', 'acc-ann')).toBe(false); // west now, and cat's reader went east
    s.apply({ op: 'moveUser', userId: 'u-dan', businessUnitId: 'bu-west' });
    expect(s.reads('u-dan', 'acc-bob')).toBe(true);
    expect(s.reads('u-dan', 'acc-ann')).toBe(false);
  });

  it('moveUser with doNotMoveRecords leaves the records in the old BU', () => {
    const s = new Scenario(focusedWorld());
    s.apply({ op: 'moveUser', userId: 'u-ann', businessUnitId: 'bu-west', doNotMoveRecords: true });
    expect(s.reads('u-dan', 'acc-ann')).toBe(true);
    expect(s.reads('u-cat', 'acc-ann')).toBe(false);
    expect(s.reads('u-ann', 'acc-ann')).toBe(true); // still the owner
    // moving back and forth again: the record stays in east throughout
    s.apply({ op: 'moveUser', userId: 'u-ann', businessUnitId: 'bu-root', doNotMoveRecords: true });
    s.apply({ op: 'moveUser', userId: 'u-ann', businessUnitId: 'bu-west', doNotMoveRecords: true });
    expect(s.reads('u-dan', 'acc-ann')).toBe(true);
    // a record created without owning BU took ann's BU at that moment (west) and does not follow
    s.apply({ op: 'createRecord', table: 'account', id: 'acc-new', ownerId: 'u-ann' });
    expect(s.reads('u-cat', 'acc-new')).toBe(true);
    s.apply({ op: 'moveUser', userId: 'u-ann', businessUnitId: 'bu-east', doNotMoveRecords: true });
    expect(s.reads('u-cat', 'acc-new')).toBe(true);
    expect(s.reads('u-dan', 'acc-new')).toBe(false);
    s.apply({ op: 'moveUser', userId: 'u-ann', businessUnitId: 'bu-root' });
    expect(s.reads('u-cat', 'acc-new')).toBe(false);
  });

  it('a role assignment with the own BU named stays when the user moves; one without follows', () => {
    const s = new Scenario(focusedWorld());
    s.apply({ op: 'addRoleAssignment', principalId: 'u-cat', roleId: 'role-bu-reader', businessUnitId: 'bu-west' });
    s.apply({ op: 'removeRoleAssignment', principalId: 'u-cat', roleId: 'role-bu-reader' });
    expect(s.reads('u-cat', 'acc-ann-west')).toBe(true); // the explicit west one remains
    s.apply({ op: 'moveUser', userId: 'u-cat', businessUnitId: 'bu-east' });
    expect(s.reads('u-cat', 'acc-ann-west')).toBe(true);
    expect(s.reads('u-cat', 'acc-bob')).toBe(false);
    expect(
      s.failure({
        op: 'removeRoleAssignment',
        principalId: 'u-cat',
        roleId: 'role-bu-reader',
        businessUnitId: 'bu-east',
      }),
    ).toMatchObject({ rule: 'not-found', index: 0 });
    expect(s.failure({ op: 'removeRoleAssignment', principalId: 'u-cat', roleId: 'role-bu-reader' })).toMatchObject({
      rule: 'not-found',
      index: 0,
    });
  });

  it('a team role change reaches every member', () => {
    const s = new Scenario(focusedWorld());
    expect(s.reads('u-ann', 'acc-cat')).toBe(false);
    s.apply({ op: 'removeRoleAssignment', principalId: 'u-dan', roleId: 'role-bu-reader', businessUnitId: 'bu-east' });
    expect(s.reads('u-dan', 'acc-bob')).toBe(false);
    s.apply({ op: 'setRolePrivileges', roleId: 'role-team', privileges: { account: { read: 'global' } } });
    expect(s.reason('u-ann', 'acc-cat')).toBe('role');
    expect(s.reason('u-bob', 'acc-cat')).toBe('role');
    expect(s.reads('u-dan', 'acc-cat')).toBe(false);
    s.apply({ op: 'addTeamMember', teamId: 'team-sales', userId: 'u-dan' });
    expect(s.reads('u-dan', 'acc-cat')).toBe(true);
    s.apply({ op: 'removeTeamMember', teamId: 'team-sales', userId: 'u-ann' });
    expect(s.reads('u-ann', 'acc-cat')).toBe(false);
    s.apply({ op: 'setRolePrivileges', roleId: 'role-team', privileges: { account: { read: 'local' } } });
    expect(s.reads('u-bob', 'acc-cat')).toBe(false);
    expect(s.reason('u-dan', 'acc-bob')).toBe('role'); // local to the team's BU (east), not dan's (root)
    expect(s.reads('u-dan', 'acc-cat')).toBe(false);
    s.apply({ op: 'setRolePrivileges', roleId: 'role-team', privileges: {} });
    expect(s.reads('u-dan', 'acc-bob')).toBe(false);
    expect(s.reads('u-bob', 'acc-east')).toBe(true); // still: dt-east member, role-user basic
  });

  it('a profile nobody held through a role change is compiled again when a user takes it back', () => {
    const s = new Scenario(focusedWorld());
    expect(s.reads('u-cat', 'acc-ann')).toBe(false); // cat's reader role is local to west
    // Cat leaves its profile (the only holder), the role changes, cat comes back to it.
    s.apply({ op: 'addTeamMember', teamId: 'team-sales', userId: 'u-cat' });
    s.apply({ op: 'setRolePrivileges', roleId: 'role-bu-reader', privileges: { account: { read: 'global' } } });
    s.apply({ op: 'removeTeamMember', teamId: 'team-sales', userId: 'u-cat' });
    expect(s.reads('u-cat', 'acc-ann')).toBe(true);
    // And a team role change while the profile is empty.
    s.apply({ op: 'addTeamMember', teamId: 'team-sales', userId: 'u-cat' });
    s.apply({ op: 'removeRoleAssignment', principalId: 'u-cat', roleId: 'role-bu-reader' });
    s.apply({ op: 'addRoleAssignment', principalId: 'team-sales', roleId: 'role-bu-reader' });
    s.apply({ op: 'removeRoleAssignment', principalId: 'team-sales', roleId: 'role-bu-reader' });
    s.apply({ op: 'addRoleAssignment', principalId: 'u-cat', roleId: 'role-bu-reader' });
    s.apply({ op: 'removeTeamMember', teamId: 'team-sales', userId: 'u-cat' });
    expect(s.reads('u-cat', 'acc-ann')).toBe(true);
  });

  it('setRolePrivileges removing privileges removes the access, shares included', () => {
    const s = new Scenario(focusedWorld());
    expect(s.reason('u-ann', 'acc-bob')).toBe('share');
    expect(s.engine.canCreate('u-ann', 'account').allowed).toBe(true);
    expect(s.engine.check('u-ann', 'currency', 'read', 'usd').allowed).toBe(true);
    s.apply({ op: 'setRolePrivileges', roleId: 'role-user', privileges: { account: { create: 'basic' } } });
    expect(s.reason('u-ann', 'acc-ann')).toBe('no-access');
    expect(s.reason('u-ann', 'acc-bob')).toBe('no-access'); // the share is inert without a read grant
    expect(s.engine.canCreate('u-ann', 'account')).toMatchObject({ allowed: false, missing: 'read' });
    expect(s.engine.check('u-ann', 'currency', 'read', 'usd').allowed).toBe(false);
    s.apply({ op: 'setRolePrivileges', roleId: 'role-user', privileges: {} });
    expect(s.engine.accessRights('u-ann', 'account', 'acc-ann')).toBe(0);
    s.apply({ op: 'setRolePrivileges', roleId: 'role-user', privileges: { account: { read: 'basic' } } });
    expect(s.reason('u-ann', 'acc-bob')).toBe('share');
  });

  it('disabling a user denies everything; enabling restores it', () => {
    const s = new Scenario(focusedWorld());
    s.apply({ op: 'setUserDisabled', userId: 'u-ann', disabled: true });
    expect(s.reason('u-ann', 'acc-ann')).toBe('disabled');
    expect(s.engine.canCreate('u-ann', 'account').reason).toBe('disabled');
    expect(s.engine.canAssign('u-bob', 'account', 'acc-bob', 'u-ann').reason).toBe('recipient-disabled');
    expect(s.engine.accessRights('u-ann', 'account', 'acc-ann')).toBe(0);
    s.apply({ op: 'setUserDisabled', userId: 'u-ann', disabled: false });
    expect(s.reason('u-ann', 'acc-ann')).toBe('role');
    expect(s.engine.canAssign('u-bob', 'account', 'acc-bob', 'u-ann').allowed).toBe(true);
  });

  it('rows a world file repeats are one assignment, one share and one membership', () => {
    const world = focusedWorld();
    world.roleAssignments?.push({ principalId: 'u-cat', roleId: 'role-bu-reader' });
    world.shares?.push({ table: 'account', recordId: 'acc-bob', principalId: 'u-ann', rights: ['write'] });
    world.teams?.[0]?.members.push('u-ann');
    const s = new Scenario(world);
    expect(s.reads('u-cat', 'acc-ann-west')).toBe(true);
    expect(s.reason('u-ann', 'acc-bob', 'write')).toBe('share');
    s.apply({ op: 'removeRoleAssignment', principalId: 'u-cat', roleId: 'role-bu-reader' });
    expect(s.reads('u-cat', 'acc-ann-west')).toBe(false);
    s.apply({ op: 'revokeShare', table: 'account', recordId: 'acc-bob', principalId: 'u-ann' });
    expect(s.reads('u-ann', 'acc-bob')).toBe(false);
    s.apply({ op: 'setRolePrivileges', roleId: 'role-team', privileges: { account: { read: 'global' } } });
    expect(s.reads('u-ann', 'acc-cat')).toBe(true);
    s.apply({ op: 'removeTeamMember', teamId: 'team-sales', userId: 'u-ann' });
    expect(s.reads('u-ann', 'acc-cat')).toBe(false);
  });

  it('deleting a shared record drops its shares; a new record with the same id has none', () => {
    const s = new Scenario(focusedWorld());
    expect(s.reason('u-ann', 'acc-bob')).toBe('share');
    s.apply({ op: 'deleteRecord', table: 'account', id: 'acc-bob' });
    expect(s.engine.check('u-ann', 'account', 'read', 'acc-bob').error?.code).toBe('PALISADE_UNKNOWN_RECORD');
    expect(s.engine.check('u-ann', 'account', 'read', { id: 'acc-bob', ownerId: 'u-bob' }).allowed).toBe(false);
    expect(s.failure({ op: 'revokeShare', table: 'account', recordId: 'acc-bob', principalId: 'u-ann' }).rule).toBe(
      'reference-resolves',
    );
    s.apply({ op: 'createRecord', table: 'account', id: 'acc-bob', ownerId: 'u-bob' });
    expect(s.reason('u-ann', 'acc-bob')).toBe('no-access');
    expect(s.reason('u-bob', 'acc-bob')).toBe('role');
  });
});

describe('operation fields', () => {
  it('junk in any field of any operation is refused naming that field, or applies; never another error', () => {
    const JUNK: unknown[] = [
      null,
      0,
      -1,
      1.5,
      Number.NaN,
      '',
      'organization',
      'x',
      true,
      [],
      [1],
      ['read'],
      [null],
      {},
      { a: 1 },
    ];
    const world = randomWorld(77, OPTIONS);
    const random = rng(4242);
    let engine = Engine.fromWorld(world);
    let refused = 0;
    for (const kind of UPDATE_OPS) {
      for (let attempt = 0; attempt < 40; attempt++) {
        const op = { ...((randomOpOfKind(world, random, kind) ?? { op: kind }) as Record<string, unknown>) };
        const fields = Object.keys(op).filter((field) => field !== 'op');
        const field = fields[Math.floor(random() * fields.length)] ?? 'id';
        op[field] = JUNK[Math.floor(random() * JUNK.length)];
        const revision = engine.revision;
        const where = JSON.stringify(op);
        let failure: unknown = null;
        try {
          engine.apply([op as UpdateOp]);
        } catch (error) {
          failure = error;
        }
        if (failure === null) {
          // The junk was a valid value after all (e.g. `true` for `disabled`): the world model takes the
          // same operation to a world the loader accepts and the engine answers as; then start again.
          expect(freshDifference(engine, applyToWorld(world, op as UpdateOp)), where).toBeNull();
          engine = Engine.fromWorld(world);
        } else {
          const error = failure;
          if (!isPalisadeError(error)) throw new Error(`${where}: ${String(error)}`);
          expect(error.code, where).toBe(UPDATE_INVALID);
          expect(updateDetails(error).field, where).toBe(field);
          expect(engine.revision, where).toBe(revision);
          refused++;
        }
      }
    }
    expect(refused).toBeGreaterThan(UPDATE_OPS.length * 20);
    expect(freshDifference(engine, world)).toBeNull();
  });

  it('an unknown or misspelt field is a shape error naming the field, and nothing applies', () => {
    const engine = Engine.fromWorld(sampleWorld());
    const before = engine.check('u-erin', 'account', 'read', 'acc-litware');
    const misspelt = { op: 'moveUser', userId: 'u-erin', businessUnitId: 'bu-service', doNotMoveRecord: true };
    expect(() => engine.apply([misspelt as unknown as UpdateOp])).toThrow(
      expect.objectContaining({
        code: 'PALISADE_UPDATE_INVALID',
        details: { rule: 'shape', index: 0, op: 'moveUser', field: 'doNotMoveRecord' },
      }),
    );
    expect(engine.check('u-erin', 'account', 'read', 'acc-litware')).toBe(before);
    expect(engine.revision).toBe(0);
  });
});
