/**
 * Where a worker pool starts to pay: `checkBatch` answered on the main thread against the same
 * batch split over one or two worker threads; then `filter` through the server's inline and
 * pooled evaluators. Workers read the engine's state, the question
 * columns and write the answers all in shared memory, so a message carries only a range: the cost
 * left is the round trip. The smallest batch at which the workers win is the threshold the
 * server's pool should use.
 *
 *   pnpm bench:pool
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { Engine } from '@palisade/core';
import { InlineEvaluator, PoolEvaluator } from '@palisade/server';
import { Picker } from '../generate/random.js';
import { generateWorld, PRESETS } from '../generate/world.js';
import { machine, requireBuiltCore, sink, writeResults } from '../harness.js';
import { type Timing, timeIt } from '../timing.js';

console.log(`palisade bench: pool — ${JSON.stringify(machine())}`);
console.log(`core: ${requireBuiltCore()}`);
const world = generateWorld(PRESETS.check);
const engine = Engine.fromWorld(world);
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
const filterRows: { size: number; inline: Timing; pool: Timing }[] = [];
for (const size of [16_384, 65_536, 131_072, 262_144, 1_048_576]) {
  const records = Int32Array.from({ length: size }, () => pick.int(account.count));
  const columns = {
    owners: Int32Array.from(records, (r) => account.ownerOf(r)),
    businessUnits: Int32Array.from(records, (r) => account.buOf(r)),
    records,
  };
  const expected = await inlineEvaluator.filter(question, columns, 'indexes');
  const pooled = await poolEvaluator.filter(question, columns, 'indexes');
  if (pooled.length !== expected.length || pooled.some((v, i) => v !== expected[i])) {
    throw new Error(`the pool disagrees with the main thread filtering ${size} rows`);
  }
  const inline = await timeIt(`filter inline, ${size} rows`, size, async () => {
    sink.value += (await inlineEvaluator.filter(question, columns, 'indexes')).length;
  });
  const pool = await timeIt(`filter on two workers, ${size} rows`, size, async () => {
    sink.value += (await poolEvaluator.filter(question, columns, 'indexes')).length;
  });
  filterRows.push({ size, inline, pool });
}
await poolEvaluator.close();
console.log(
  '\n| filter rows | inline | two workers (copy included) | two workers vs inline |\n| --- | --- | --- | --- |',
);
for (const r of filterRows) {
  console.log(
    `| ${r.size} | ${r.inline.median} | ${r.pool.median} | ${(r.inline.medianNs / r.pool.medianNs).toFixed(2)}× |`,
  );
}
const filterThreshold = filterRows.find((r) => r.pool.medianNs < r.inline.medianNs)?.size ?? null;
console.log(`\nsmallest filter where two workers beat the main thread: ${filterThreshold ?? 'none measured'}`);
writeResults('pool', { machine: machine(), rows, threshold, filterRows, filterThreshold });
