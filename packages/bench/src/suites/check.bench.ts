/**
 * Single-question speed: `check` and `accessRights` on the `check` preset world (1,000 BUs,
 * 10,000 users, 100,000 records), beside a hand-written Map-based evaluator and the test suite's
 * plain reference evaluator, in the same run. Every decision is verified against both before
 * anything is timed.
 *
 *   pnpm bench            (builds packages/core, then runs this on its dist)
 */
import { Engine, PRIVILEGES, type PrivilegeName, type RecordIdx, type TableIdx, type UserIdx } from '@palisade/core';
import { ReferenceEvaluator } from '../../../core/test/reference/reference.js';
import { MapEvaluator } from '../baselines/map-evaluator.js';
import { Picker } from '../generate/random.js';
import { generateWorld, PRESETS } from '../generate/world.js';
import { formatNs, machine, requireBuiltCore, sink, table, writeResults } from '../harness.js';
import { type Case, measure } from '../timing.js';

const QUESTIONS = 4096;
const PER_CALL = 1024;

const coreEntry = requireBuiltCore();

const shape = PRESETS.check;
console.log(`palisade bench: check — ${JSON.stringify(machine())}`);
console.log(`core: ${coreEntry}`);

let started = performance.now();
const world = generateWorld(shape);
const generatedMs = performance.now() - started;
const rssBefore = process.memoryUsage().rss;
started = performance.now();
const engine = Engine.fromWorld(world);
const compileMs = performance.now() - started;
const rssAfter = process.memoryUsage().rss;
const stats = engine.stats();
console.log(`world: ${JSON.stringify(shape)} generated in ${generatedMs.toFixed(0)} ms`);
console.log(
  `load + compile: ${compileMs.toFixed(0)} ms, +${((rssAfter - rssBefore) / 2 ** 20).toFixed(0)} MiB RSS; ${JSON.stringify(stats)}`,
);

const mapEvaluator = new MapEvaluator(world);
const reference = new ReferenceEvaluator(world);

// Questions as both string ids (what callers send) and dense indexes (what hot callers hold).
const pick = new Picker(42);
const users = world.users ?? [];
const records = world.records ?? [];
const q = {
  user: [] as string[],
  table: [] as string[],
  privilege: [] as PrivilegeName[],
  record: [] as string[],
  u: new Int32Array(QUESTIONS),
  t: new Int32Array(QUESTIONS),
  p: new Int32Array(QUESTIONS),
  r: new Int32Array(QUESTIONS),
};
// A realistic mix: list views mostly ask about nearby records, so half the questions are about a
// record in the user's own BU or owned by the user, half about any record.
const buOf = new Map<string, string>(users.map((u) => [u.id, u.businessUnitId]));
const nearby = new Map<string, typeof records>();
for (const r of records) {
  const bu = r.owningBusinessUnitId ?? buOf.get(r.ownerId ?? '');
  for (const key of [bu, r.ownerId]) {
    if (key === undefined) continue;
    const list = nearby.get(key) ?? [];
    list.push(r);
    nearby.set(key, list);
  }
}
for (let i = 0; i < QUESTIONS; i++) {
  const userInput = pick.pick(users);
  const user = userInput.id;
  const close = pick.chance(0.5) ? nearby.get(pick.chance(0.8) ? userInput.businessUnitId : user) : undefined;
  const record = pick.pick(close !== undefined && close.length > 0 ? close : records);
  const privilege = pick.pick(PRIVILEGES);
  q.user.push(user);
  q.table.push(record.table);
  q.privilege.push(privilege);
  q.record.push(record.id);
  q.u[i] = engine.user(user);
  q.t[i] = engine.table(record.table);
  q.p[i] = engine.privilege(privilege);
  q.r[i] = engine.record(record.table, record.id);
}

/** Question i as string ids. */
const at = (i: number) =>
  [q.user[i], q.table[i], q.privilege[i], q.record[i]] as [string, string, PrivilegeName, string];

// Correctness before speed: the engine must agree with both baselines on every timed question.
let allowed = 0;
for (let i = 0; i < QUESTIONS; i++) {
  const [user, tableName, privilege, record] = at(i);
  const answer = engine.check(user, tableName, privilege, record).allowed;
  if (answer !== mapEvaluator.check(user, tableName, privilege, record))
    throw new Error(`map evaluator disagrees on question ${i}`);
  if (i < 512 && answer !== reference.decide(user, tableName, privilege, record).allowed) {
    throw new Error(`reference evaluator disagrees on question ${i}`);
  }
  if (i < 512 && engine.accessRights(user, tableName, record) !== reference.accessRights(user, tableName, record)) {
    throw new Error(`reference evaluator's access mask differs on question ${i}`);
  }
  if (answer) allowed++;
}
console.log(
  `verified ${QUESTIONS} decisions against the map evaluator and 512 against the reference (${allowed} allowed)`,
);

let cursor = 0;
const next = (): number => {
  cursor = (cursor + 1) & (QUESTIONS - 1);
  return cursor;
};

// Each case spells out its own loop on purpose: one shared loop calling a closure per case makes
// that call site megamorphic and roughly doubles the engine's measured time.
const cases: Case[] = [
  {
    name: 'engine check (dense ids)',
    opsPerCall: PER_CALL,
    run() {
      let n = 0;
      for (let k = 0; k < PER_CALL; k++) {
        const i = next();
        if (engine.check(q.u[i] as UserIdx, q.t[i] as TableIdx, q.p[i] as never, q.r[i] as RecordIdx).allowed) n++;
      }
      sink.value += n;
    },
  },
  {
    name: 'engine check (string ids)',
    opsPerCall: PER_CALL,
    run() {
      let n = 0;
      for (let k = 0; k < PER_CALL; k++) {
        const i = next();
        if (
          engine.check(
            q.user[i] as string,
            q.table[i] as string,
            q.privilege[i] as PrivilegeName,
            q.record[i] as string,
          ).allowed
        )
          n++;
      }
      sink.value += n;
    },
  },
  {
    name: 'engine accessRights (dense ids)',
    opsPerCall: PER_CALL,
    run() {
      let n = 0;
      for (let k = 0; k < PER_CALL; k++) {
        const i = next();
        n ^= engine.accessRights(q.u[i] as UserIdx, q.t[i] as TableIdx, q.r[i] as RecordIdx);
      }
      sink.value += n;
    },
  },
  {
    name: 'map evaluator check',
    opsPerCall: PER_CALL,
    run() {
      let n = 0;
      for (let k = 0; k < PER_CALL; k++) {
        const i = next();
        if (
          mapEvaluator.check(
            q.user[i] as string,
            q.table[i] as string,
            q.privilege[i] as PrivilegeName,
            q.record[i] as string,
          )
        )
          n++;
      }
      sink.value += n;
    },
  },
  {
    name: 'map evaluator accessRights',
    opsPerCall: PER_CALL / 8,
    run() {
      let n = 0;
      for (let k = 0; k < PER_CALL / 8; k++) {
        const i = next();
        for (const privilege of PRIVILEGES)
          if (mapEvaluator.check(q.user[i] as string, q.table[i] as string, privilege, q.record[i] as string)) n++;
      }
      sink.value += n;
    },
  },
  {
    name: 'reference evaluator check',
    opsPerCall: 8,
    timeMs: 1000,
    run() {
      let n = 0;
      for (let k = 0; k < 8; k++) {
        const i = next();
        if (
          reference.decide(
            q.user[i] as string,
            q.table[i] as string,
            q.privilege[i] as PrivilegeName,
            q.record[i] as string,
          ).allowed
        )
          n++;
      }
      sink.value += n;
    },
  },
];

const results = await measure(cases);
console.log(`\n${table(results, ['map evaluator check', 'reference evaluator check'])}\n`);
const check = results.find((r) => r.name === 'engine check (dense ids)');
console.log(`engine check median: ${formatNs(check?.medianNs ?? Number.NaN)}`);
const file = writeResults('check', { machine: machine(), shape, compileMs, stats, results, sink: sink.value });
console.log(`results written to ${file}`);
