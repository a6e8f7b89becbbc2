/**
 * Single-question speed: `check` and `accessRights` on the `check` preset world (1,000 BUs,
 * 10,000 users, 100,000 records), beside a hand-written Map-based evaluator and the test suite's
 * plain reference evaluator, in the same run; and the compile (`Engine.fromWorld`) beside building
 * the Map evaluator's indexes, with the number of questions after which it has paid for itself
 * against the reference evaluator (which compiles nothing). Every decision is verified against
 * both before anything is timed.
 *
 *   pnpm bench            (builds packages/core, then runs this on its dist)
 */
import { Engine, PRIVILEGES, type PrivilegeName, type RecordIdx, type TableIdx, type UserIdx } from '@palisade/core';
import { MapEvaluator } from '../baselines/map-evaluator.js';
import { ReferenceEvaluator } from '../baselines/reference.js';
import { Picker } from '../generate/random.js';
import { generateWorld, PRESETS } from '../generate/world.js';
import { announce, formatNs, formatRatio, printRatios, sink, table, writeResults } from '../harness.js';
import { type Case, measure } from '../timing.js';

const QUESTIONS = 4096;
const PER_CALL = 1024;
/** Questions asked of the reference evaluator before timing (check and accessRights each). */
const REFERENCE_SAMPLE = 512;

const shape = PRESETS.check;
const { machine: machineInfo } = announce('check');

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

// Correctness before speed: the engine must agree with both baselines on every timed question
// (the reference, ~2 ms a question here, on the first REFERENCE_SAMPLE of them: the timed loops
// cycle through all 4,096, so these are a sample of what is timed, with dense and string ids).
let allowed = 0;
let referenceAllowed = 0;
for (let i = 0; i < QUESTIONS; i++) {
  const [user, tableName, privilege, record] = at(i);
  const answer = engine.check(user, tableName, privilege, record).allowed;
  const dense = engine.check(q.u[i] as UserIdx, q.t[i] as TableIdx, q.p[i] as never, q.r[i] as RecordIdx).allowed;
  if (dense !== answer) throw new Error(`dense and string ids disagree on question ${i}`);
  if (answer !== mapEvaluator.check(user, tableName, privilege, record))
    throw new Error(`map evaluator disagrees on question ${i}`);
  if (i < REFERENCE_SAMPLE) {
    if (answer !== reference.decide(user, tableName, privilege, record).allowed)
      throw new Error(`reference evaluator disagrees on question ${i}`);
    const mask = engine.accessRights(q.u[i] as UserIdx, q.t[i] as TableIdx, q.r[i] as RecordIdx);
    if (mask !== reference.accessRights(user, tableName, record))
      throw new Error(`reference evaluator's access mask differs on question ${i}`);
    if (answer) referenceAllowed++;
  }
  if (answer) allowed++;
}
console.log(
  `verified ${QUESTIONS} decisions against the map evaluator (${allowed} allowed) and ${REFERENCE_SAMPLE} ` +
    `decisions and access masks against the reference evaluator (${referenceAllowed} allowed)`,
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
    name: 'reference evaluator accessRights',
    opsPerCall: 1,
    timeMs: 1000,
    iterations: 32,
    run() {
      const i = next();
      sink.value += reference.accessRights(q.user[i] as string, q.table[i] as string, q.record[i] as string);
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

// Compile: the engine's load + compile beside the Map evaluator building its indexes. The reference
// evaluator compiles nothing; what it pays instead is the time of each question.
const compiles: Case[] = [
  {
    name: 'engine load + compile (Engine.fromWorld)',
    opsPerCall: 1,
    iterations: 8,
    run() {
      sink.value += Engine.fromWorld(world).stats().profiles;
    },
  },
  {
    name: 'map evaluator build (index the world in Maps)',
    opsPerCall: 1,
    iterations: 8,
    run() {
      sink.value += new MapEvaluator(world).check(
        q.user[0] as string,
        q.table[0] as string,
        'read',
        q.record[0] as string,
      )
        ? 1
        : 0;
    },
  },
];

const questionResults = await measure(cases);
const compileResults = await measure(compiles);
const results = [...questionResults, ...compileResults];
console.log(`\n${table(questionResults, ['map evaluator check', 'reference evaluator check'])}\n`);
console.log(`${table(compileResults, ['map evaluator build (index the world in Maps)'])}\n`);
const find = (name: string) => results.find((r) => r.name === name)?.medianNs ?? Number.NaN;
const check = find('engine check (dense ids)');
const compile = find('engine load + compile (Engine.fromWorld)');
const ratios = {
  'check (dense ids) vs reference evaluator check': find('reference evaluator check') / check,
  'check (dense ids) vs map evaluator check': find('map evaluator check') / check,
  'check (string ids) vs reference evaluator check':
    find('reference evaluator check') / find('engine check (string ids)'),
  'accessRights (dense ids) vs reference evaluator accessRights':
    find('reference evaluator accessRights') / find('engine accessRights (dense ids)'),
  'accessRights (dense ids) vs map evaluator accessRights':
    find('map evaluator accessRights') / find('engine accessRights (dense ids)'),
  'compile vs map evaluator build': find('map evaluator build (index the world in Maps)') / compile,
};
printRatios(ratios);
// Break-even: the compile is paid back once every question saved the difference between a
// reference (or map evaluator) check and an engine check.
const breakEven = {
  'reference evaluator checks': compile / (find('reference evaluator check') - check),
  'map evaluator checks (its own build included)':
    (compile - find('map evaluator build (index the world in Maps)')) / (find('map evaluator check') - check),
};
console.log(
  `compile (${formatNs(compile)}) pays for itself after ${Math.ceil(breakEven['reference evaluator checks'])} ` +
    `questions against the reference evaluator, ${Math.max(0, Math.ceil(breakEven['map evaluator checks (its own build included)']))} against the map evaluator`,
);
console.log(
  `engine check median: ${formatNs(check)} (${formatRatio(ratios['check (dense ids) vs reference evaluator check'])} the reference)`,
);
const file = writeResults('check', {
  machine: machineInfo,
  shape,
  compileMs,
  stats,
  verified: { mapEvaluator: QUESTIONS, reference: REFERENCE_SAMPLE, allowed, referenceAllowed },
  results,
  ratios,
  breakEven,
});
console.log(`results written to ${file}`);
