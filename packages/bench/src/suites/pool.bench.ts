/**
 * Where a worker pool starts to pay: `checkBatch` answered on the main thread against the same
 * batch split over one or two worker threads; then `filter` through the server's inline and
 * pooled evaluators. Workers read the engine's state, the question
 * columns and write the answers all in shared memory, so a message carries only a range: the cost
 * left is the round trip. The smallest batch at which the workers win is the threshold the
 * server's pool should use. Beside them, the reference evaluator answering the same questions one
 * by one. Before timing, the workers' and the pool's answers are compared with the main thread's
 * on every item, and a sample of each batch and filter with the reference evaluator.
 *
 *   pnpm bench:pool
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { Engine, isAllowedCode, PRIVILEGES } from '@palisade/core';
import { InlineEvaluator, PoolEvaluator } from '@palisade/server';
import { type Question, ReferenceEvaluator, sampleRows, verifyQuestions } from '../baselines/reference.js';
import { Picker } from '../generate/random.js';
import { generateWorld, PRESETS } from '../generate/world.js';
import { announce, printRatios, sink, writeResults } from '../harness.js';
import { type Timing, timeIt } from '../timing.js';

const { machine } = announce('pool');
const world = generateWorld(PRESETS.check);
const engine = Engine.fromWorld(world);
const reference = new ReferenceEvaluator(world);
/** Questions asked of the reference evaluator per batch size and per filter size. */
const REFERENCE_SAMPLE = 32;
let referenceChecked = 0;
let referenceAllowed = 0;
const noteReference = (r: { checked: number; allowed: number }) => {
  referenceChecked += r.checked;
  referenceAllowed += r.allowed;
};
const principalId = (u: number) => engine.model.principals[u]?.id as string;
const state = engine.sharedState();
const workers = [0, 1].map(
  () => new Worker(new URL('../workers/check-worker.mjs', import.meta.url), { workerData: state }),
);

type Columns = { users: Int32Array; tables: Int32Array; privileges: Uint8Array; records: Int32Array };
const pick = new Picker(9);
const users = (world.users ?? []).map((u) => engine.user(u.id));
const records = (world.records ?? []).map((r) => [engine.table(r.table), engine.record(r.table, r.id)] as const);
const shared = <T extends Int32Array | Uint8Array>(make: (buffer: SharedArrayBuffer) => T, bytes: number) =>
  make(new SharedArrayBuffer(bytes));
function batch(size: number): Columns {
  const columns = {
    users: shared((b) => new Int32Array(b), size * 4),
    tables: shared((b) => new Int32Array(b), size * 4),
    privileges: shared((b) => new Uint8Array(b), size),
    records: shared((b) => new Int32Array(b), size * 4),
  };
  for (let i = 0; i < size; i++) {
    const [t, r] = pick.pick(records);
    columns.users[i] = pick.pick(users);
    columns.tables[i] = t;
    columns.privileges[i] = pick.int(8);
    columns.records[i] = r;
  }
  return columns;
}
async function ask(worker: Worker, columns: Columns, out: Uint8Array, from: number, to: number): Promise<void> {
  worker.postMessage({ columns, out, from, to });
  await once(worker, 'message');
}

const rows: { size: number; inline: Timing; one: Timing; two: Timing }[] = [];
for (const size of [64, 256, 1024, 4096, 16_384, 32_768, 65_536]) {
  const columns = batch(size);
  const expected = engine.checkBatch(columns);
  const out = new Uint8Array(new SharedArrayBuffer(size));
  const [w0, w1] = workers as [Worker, Worker];
  const viaOne = async () => ask(w0, columns, out, 0, size);
  const viaTwo = async () => {
    const half = size >>> 1;
    await Promise.all([ask(w0, columns, out, 0, half), ask(w1, columns, out, half, size)]);
  };
  for (const run of [viaOne, viaTwo]) {
    out.fill(255);
    await run();
    if (out.some((v, i) => v !== expected[i]))
      throw new Error(`workers disagree with the engine at batch size ${size}`);
  }
  const sampled = Array.from({ length: Math.min(size, REFERENCE_SAMPLE) }, () => pick.int(size));
  const questions = sampled.map((i): Question => {
    const table = engine.model.tables[columns.tables[i] as number];
    return {
      user: principalId(columns.users[i] as number),
      table: table?.name as string,
      privilege: PRIVILEGES[columns.privileges[i] as number] as Question['privilege'],
      record: table?.records.ids[columns.records[i] as number] as string,
    };
  });
  noteReference(
    verifyQuestions(`checkBatch of ${size}`, reference, questions, (_, k) =>
      isAllowedCode(expected[sampled[k] as number] as number),
    ),
  );
  const inline = await timeIt(`inline, ${size} items`, size, () => {
    sink.value += engine.checkBatch(columns, out)[0] as number;
  });
  const one = await timeIt(`one worker, ${size} items`, size, async () => {
    await viaOne();
    sink.value += out[0] as number;
  });
  const two = await timeIt(`two workers, ${size} items`, size, async () => {
    await viaTwo();
    sink.value += out[0] as number;
  });
  rows.push({ size, inline, one, two });
}
console.log(
  `verified the workers against the main thread on every item, ${referenceChecked} items against the reference evaluator`,
);
// The reference evaluator answering the same kind of question, one by one.
const referenceQuestions = Array.from({ length: 64 }, (): Question => {
  const [t, r] = pick.pick(records);
  const table = engine.model.tables[t];
  return {
    user: principalId(pick.pick(users)),
    table: table?.name as string,
    privilege: pick.pick(PRIVILEGES),
    record: table?.records.ids[r] as string,
  };
});
let nextQuestion = 0;
const referenceCheck = await timeIt('reference evaluator, one check', 1, () => {
  const q = referenceQuestions[nextQuestion++ & 63] as Question;
  sink.value += reference.decide(q.user, q.table, q.privilege, q.record).allowed ? 1 : 0;
});

console.log('\n| batch | inline | one worker | two workers | two workers vs inline |\n| --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(
    `| ${r.size} | ${r.inline.median} | ${r.one.median} | ${r.two.median} | ${(r.inline.medianNs / r.two.medianNs).toFixed(2)}× |`,
  );
}
const threshold = rows.find((r) => r.two.medianNs < r.inline.medianNs)?.size ?? null;
console.log(`\nsmallest batch where two workers beat the main thread: ${threshold ?? 'none measured'}`);
await Promise.all(workers.map((w) => w.terminate()));

// ---- filter: the server's own evaluators, inline against the pool (rows copied into shared memory) ----
// Rows arrive as ordinary typed arrays (as a request body decodes), so the pooled path pays for
// the copy into shared memory: that is part of what the threshold must cover.
const inlineEvaluator = new InlineEvaluator(engine);
const poolEvaluator = new PoolEvaluator(engine, { threads: 2, filterThreshold: 1 });
const account = engine.model.tables[engine.table('account')]?.records;
if (account === undefined) throw new Error('no account table');
const reader = (world.users ?? [])
  .map((u) => u.id)
  .find((u) => engine.filterJob(u, 'account', 'read', { records: new Int32Array(1) }).kind === 'rows');
if (reader === undefined) throw new Error('no user who is decided row by row');
const question = { user: reader, table: 'account', privilege: 'read' as const };
// Both row forms: caller columns (owner, BU, record per row: the engine tests each row), and
// record indexes alone, which a long list decides by marking the allowed records (~4× cheaper a
// row), so the pool pays later.
type FilterForm = 'columns' | 'records';
const filterRows: { form: FilterForm; size: number; inline: Timing; pool: Timing }[] = [];
for (const size of [16_384, 65_536, 131_072, 262_144, 524_288, 1_048_576]) {
  const records = Int32Array.from({ length: size }, () => pick.int(account.count));
  const forms = {
    columns: {
      owners: Int32Array.from(records, (r) => account.ownerOf(r)),
      businessUnits: Int32Array.from(records, (r) => account.buOf(r)),
      records,
    },
    records: { records },
  } as const;
  for (const form of ['columns', 'records'] as const) {
    const rows = forms[form];
    const expected = await inlineEvaluator.filter(question, rows, 'indexes');
    const pooled = await poolEvaluator.filter(question, rows, 'indexes');
    if (pooled.length !== expected.length || pooled.some((v, i) => v !== expected[i])) {
      throw new Error(`the pool disagrees with the main thread filtering ${size} rows as ${form}`);
    }
    // Positions of the allowed rows; rows are record indexes of `account`.
    const allowed = new Set(expected);
    const positions = sampleRows(expected, size, REFERENCE_SAMPLE, pick);
    noteReference(
      verifyQuestions(
        `filter of ${size} rows as ${form}`,
        reference,
        positions.map((i) => ({ ...question, record: account.ids[records[i] as number] as string })),
        (_, k) => allowed.has(positions[k] as number),
      ),
    );
    const inline = await timeIt(`filter inline, ${size} rows as ${form}`, size, async () => {
      sink.value += (await inlineEvaluator.filter(question, rows, 'indexes')).length;
    });
    const pool = await timeIt(`filter on two workers, ${size} rows as ${form}`, size, async () => {
      sink.value += (await poolEvaluator.filter(question, rows, 'indexes')).length;
    });
    filterRows.push({ form, size, inline, pool });
  }
}
await poolEvaluator.close();
console.log(
  `verified the pool against the main thread on every filter; ${referenceChecked} items and rows in all against the reference evaluator (${referenceAllowed} allowed)`,
);
console.log(
  '\n| rows as | filter rows | inline | two workers (copy included) | two workers vs inline |\n| --- | --- | --- | --- | --- |',
);
for (const r of filterRows) {
  console.log(
    `| ${r.form} | ${r.size} | ${r.inline.median} | ${r.pool.median} | ${(r.inline.medianNs / r.pool.medianNs).toFixed(2)}× |`,
  );
}
const smallestWin = (form: FilterForm) =>
  filterRows.find((r) => r.form === form && r.pool.medianNs < r.inline.medianNs)?.size ?? null;
const filterThreshold = smallestWin('columns');
const recordFilterThreshold = smallestWin('records');
console.log(
  `\nsmallest filter where two workers beat the main thread: ${filterThreshold ?? 'none measured'} rows as columns, ${recordFilterThreshold ?? 'none measured'} as record indexes`,
);
// Per item (a check) and per row (a filtered row) against the reference evaluator's single check,
// at the largest size measured.
const perOp = (t: Timing) => 1e9 / t.perSecond;
const lastBatch = rows[rows.length - 1];
const lastFilter = filterRows.filter((r) => r.form === 'columns').at(-1);
const ratios =
  lastBatch === undefined || lastFilter === undefined
    ? {}
    : {
        [`checkBatch inline (${lastBatch.size} items) vs reference evaluator, per check`]:
          referenceCheck.medianNs / perOp(lastBatch.inline),
        [`checkBatch on two workers (${lastBatch.size} items) vs reference evaluator, per check`]:
          referenceCheck.medianNs / perOp(lastBatch.two),
        [`filter inline (${lastFilter.size} rows) vs reference evaluator, per row`]:
          referenceCheck.medianNs / perOp(lastFilter.inline),
        [`filter on two workers (${lastFilter.size} rows) vs reference evaluator, per row`]:
          referenceCheck.medianNs / perOp(lastFilter.pool),
      };
printRatios(ratios);
const file = writeResults('pool', {
  machine,
  verified: { referenceChecked, referenceAllowed },
  rows,
  threshold,
  filterRows,
  filterThreshold,
  recordFilterThreshold,
  referenceCheck,
  ratios,
});
console.log(`results written to ${file}`);
