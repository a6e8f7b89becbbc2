/**
 * The largest list views: `lookup` and `filter` over a 10,000,000-record table (the `large`
 * preset: 10,000 BUs, 100,000 users), beside a bare scan of the same columns, the reference
 * evaluator (a check per row) and PostgreSQL filtering the same table the way Dataverse does, in
 * the same run. `lookup` is verified against `filter` on every row, both against the reference
 * evaluator on a sample of rows and against PostgreSQL, before anything is timed.
 * Needs a large heap: the bench script passes --max-old-space-size. PostgreSQL loads the 10M rows
 * in a few minutes and needs a few GB of disk; `--no-postgres` leaves it out.
 *
 *   pnpm bench:large [-- --records 10000000 --no-postgres]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Engine, toSqlWhere, type UserIdx } from '@palisade/core';
import { Evaluator, RowField } from '@palisade/core/internal';
import pg from 'pg';
import { PostgresDataverseBaseline } from '../baselines/postgres-dataverse.js';
import { ReferenceEvaluator, sampleRows, verifyRows } from '../baselines/reference.js';
import { Picker } from '../generate/random.js';
import { generateWorld, PRESETS, type WorldShape } from '../generate/world.js';
import { announce, bareScan, filterGathered, formatCount, printRatios, sink, writeResults } from '../harness.js';
import { startPostgres } from '../postgres.js';
import { type Timing, timeIt } from '../timing.js';

// pnpm passes a `--` separator through to the script.
const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    records: { type: 'string', default: String(PRESETS.large.records) },
    'no-postgres': { type: 'boolean', default: false },
  },
});
// One user-owned table holds every record here, so "the whole table" means all of them.
const shape: WorldShape = { ...PRESETS.large, records: Number(args.records) };

const { machine } = announce('large');
let started = performance.now();
const world = generateWorld(shape, { tables: ['account'] });
console.log(`world ${JSON.stringify(shape)} generated in ${(performance.now() - started).toFixed(0)} ms`);
started = performance.now();
const engine = Engine.fromWorld(world);
const compileMs = performance.now() - started;
console.log(`load + compile: ${compileMs.toFixed(0)} ms; rss ${(process.memoryUsage().rss / 2 ** 30).toFixed(1)} GiB`);

const t = engine.table('account');
const p = engine.privilege('read');
const store = engine.model.tables[t]?.records;
if (store === undefined) throw new Error('no account table');
const rowCount = store.count;
const buColumn = store.column(RowField.bu);
const records = Int32Array.from({ length: rowCount }, (_, i) => i);

// Local and deep readers, chosen at random among users who are decided per row.
const pick = new Picker(5);
const users: UserIdx[] = [];
const candidates = (world.users ?? []).filter((u) => u.disabled !== true);
while (users.length < 16) {
  const user = engine.user(pick.pick(candidates).id);
  const spec = engine.filterSpec(user, t, p);
  if (!spec.all && spec.businessUnitIds.length > 0) users.push(user);
}

// The hardest lookup: the user among 2,000 whose local and deep grants cover the most BUs (a
// manager high in the tree), so the answer is a large share of the table.
let widest = users[0] as UserIdx;
let widestCount = 0;
for (let k = 0; k < 2000; k++) {
  const user = engine.user(pick.pick(candidates).id);
  const spec = engine.filterSpec(user, t, p);
  if (!spec.all && spec.businessUnitIds.length > widestCount) {
    widest = user;
    widestCount = spec.businessUnitIds.length;
  }
}

// The lookup must equal the rows a filter over every record allows.
started = performance.now();
engine.lookup(users[0] as UserIdx, t, p);
console.log(`first lookup (builds the table's BU and owner bitmaps): ${(performance.now() - started).toFixed(0)} ms`);
// …and both the reference evaluator's answers on a sample of rows (half of them allowed ones): at
// 10M records the reference takes a few hundred milliseconds a question, so 16 rows a user.
const reference = new ReferenceEvaluator(world);
const userId = (u: UserIdx) => engine.model.principals[u]?.id as string;
const verifiedUsers = [widest, ...users.slice(0, 3)];
const evaluator = new Evaluator(engine.sharedState());
let referenceChecked = 0;
let referenceAllowed = 0;
started = performance.now();
for (const user of verifiedUsers) {
  const fromLookup = engine.lookup(user, t, p).recordIndexes();
  const fromFilter = engine.filter(user, t, p, { records });
  if (fromLookup.length !== fromFilter.length || fromLookup.some((r, i) => r !== fromFilter[i])) {
    throw new Error('lookup and filter disagree');
  }
  const gathered = new Uint32Array(rowCount);
  const count = filterGathered(engine, evaluator, { user, table: t, privilege: p }, records, gathered);
  if (count !== fromFilter.length || fromFilter.some((r, i) => r !== gathered[i])) {
    throw new Error('filter on record indexes, gathered, disagrees with filter');
  }
  const allowed = new Set(fromFilter);
  const verified = verifyRows(
    'filter and lookup',
    reference,
    { user: userId(user), table: 'account', privilege: 'read' },
    sampleRows(fromFilter, rowCount, 16, pick),
    (row) => store.ids[row] as string,
    (row) => allowed.has(row),
  );
  referenceChecked += verified.checked;
  referenceAllowed += verified.allowed;
}
console.log(
  `verified lookup against filter on every row for ${verifiedUsers.length} users (the widest included), and both ` +
    `against the reference evaluator on ${referenceChecked} sampled rows (${referenceAllowed} allowed) in ` +
    `${((performance.now() - started) / 1000).toFixed(1)} s`,
);

// ---- PostgreSQL: the same table, filtered the way Dataverse does, and the engine's filterSpec pushed down ----
let postgres: Awaited<ReturnType<typeof startPostgres>> | null = null;
let baseline: PostgresDataverseBaseline | null = null;
let pushdown: pg.Pool | null = null;
const dataDir = mkdtempSync(join(tmpdir(), 'palisade-bench-pg-'));
const pushedDown = async (pool: pg.Pool, user: UserIdx) => {
  const where = toSqlWhere(engine.filterSpec(user, t, p));
  return (
    await pool.query<{ id: string }>(`SELECT id FROM "dataverse_records"."account" WHERE ${where.sql}`, where.params)
  ).rows;
};
if (!args['no-postgres']) {
  postgres = await startPostgres(dataDir);
  started = performance.now();
  baseline = await PostgresDataverseBaseline.load(world, postgres.url);
  console.log(`postgres: loaded the world in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  pushdown = new pg.Pool({ connectionString: postgres.url, max: 1 });
  pushdown.on('error', () => {});
  for (const user of [widest, ...users.slice(0, 2)]) {
    const mine = engine.lookup(user, t, p).ids();
    const answers = {
      'Dataverse-style query': await baseline.filter(userId(user), 'account', 'read', 'or'),
      'tuned query': await baseline.filter(userId(user), 'account', 'read', 'union'),
      "engine's filterSpec as WHERE": (await pushedDown(pushdown, user)).map((row) => row.id),
    };
    for (const [name, ids] of Object.entries(answers)) {
      const sql = new Set(ids);
      if (sql.size !== mine.length || mine.some((id) => !sql.has(id)))
        throw new Error(`postgres (${name}) disagrees with lookup: ${userId(user)}`);
    }
  }
  console.log('verified lookup against the three PostgreSQL queries for 3 users (the widest included)');
}

let next = 0;
const nextUser = () => users[next++ % users.length] as UserIdx;
const bits = new Uint32Array(((shape.businessUnits + 31) >>> 5) + 1).fill(0x01010101);
const out = new Uint32Array(rowCount);
/** What the postgres queries return: the ids of the rows (the like-for-like comparison). */
const LOOKUP_IDS = 'engine lookup, whole table as record ids';
const results: Timing[] = [
  await timeIt(`engine lookup, whole table (${formatCount(rowCount)} rows)`, 1, () => {
    sink.value += engine.lookup(nextUser(), t, p).size;
  }),
  await timeIt(LOOKUP_IDS, 1, () => {
    sink.value += engine.lookup(nextUser(), t, p).ids().length;
  }),
  await timeIt(
    `engine lookup, widest deep reader (${widestCount} BUs, ${formatCount(engine.lookup(widest, t, p).size)} rows)`,
    1,
    () => {
      sink.value += engine.lookup(widest, t, p).size;
    },
  ),
  await timeIt('bare scan of the BU column into a list (one bitset test per row)', 1, () => {
    sink.value += bareScan(buColumn, bits, out);
  }),
  await timeIt(`engine filter, engine record indexes (${formatCount(rowCount)} rows)`, rowCount, () => {
    sink.value += engine.filter(nextUser(), t, p, { records }).length;
  }),
  await timeIt('engine filter, the same, gathered (before marking)', rowCount, () => {
    sink.value += filterGathered(engine, evaluator, { user: nextUser(), table: t, privilege: p }, records, out);
  }),
  await timeIt(
    'reference evaluator, check per row (1 row)',
    1,
    () => {
      sink.value += reference.decide(userId(nextUser()), 'account', 'read', store.ids[pick.int(rowCount)] as string)
        .allowed
        ? 1
        : 0;
    },
    { timeMs: 1000, iterations: 8 },
  ),
];
if (baseline !== null && pushdown !== null) {
  const sql = baseline;
  const pool = pushdown;
  results.push(
    await timeIt(
      'postgres, Dataverse-style query',
      rowCount,
      async () => {
        sink.value += (await sql.filter(userId(nextUser()), 'account', 'read', 'or')).length;
      },
      { iterations: 16 },
    ),
    await timeIt(
      'postgres, tuned query',
      rowCount,
      async () => {
        sink.value += (await sql.filter(userId(nextUser()), 'account', 'read', 'union')).length;
      },
      { iterations: 16 },
    ),
    await timeIt(
      "postgres, the engine's filterSpec as WHERE",
      rowCount,
      async () => {
        sink.value += (await pushedDown(pool, nextUser())).length;
      },
      { iterations: 16 },
    ),
  );
}
const timing = (prefix: string) => results.find((r) => r.name.startsWith(prefix));
const callNs = (prefix: string) => timing(prefix)?.medianNs ?? Number.NaN;
const perRowNs = (prefix: string) => 1e9 / (timing(prefix)?.perSecond ?? Number.NaN);
const referenceTableNs = callNs('reference evaluator') * rowCount;
console.log('\n| case | median | throughput |\n| --- | --- | --- |');
for (const r of results) console.log(`| ${r.name} | ${r.median} | ${formatCount(r.perSecond)}/s |`);
const ratios = {
  'lookup (bitmap) vs bare scan of the BU column': callNs('bare scan') / callNs('engine lookup, whole table ('),
  'lookup (bitmap) vs reference evaluator (a check per row of the table)':
    referenceTableNs / callNs('engine lookup, whole table ('),
  'filter vs reference evaluator (per row)': callNs('reference evaluator') / perRowNs('engine filter'),
  'filter vs postgres (Dataverse-style)': perRowNs('postgres, Dataverse-style') / perRowNs('engine filter'),
  'filter vs postgres (tuned)': perRowNs('postgres, tuned') / perRowNs('engine filter'),
  'filter vs the same, gathered (before marking)':
    perRowNs('engine filter, the same, gathered') / perRowNs('engine filter'),
  "filter vs postgres running the engine's filterSpec": perRowNs("postgres, the engine's") / perRowNs('engine filter'),
  'lookup as ids vs postgres (Dataverse-style), same question':
    callNs('postgres, Dataverse-style') / callNs(LOOKUP_IDS),
  'lookup as ids vs postgres (tuned), same question': callNs('postgres, tuned') / callNs(LOOKUP_IDS),
  "lookup as ids vs postgres running the engine's filterSpec, same question":
    callNs("postgres, the engine's") / callNs(LOOKUP_IDS),
  'lookup as a bitmap vs postgres (tuned)': callNs('postgres, tuned') / callNs('engine lookup, whole table ('),
};
printRatios(ratios);
const file = writeResults('large', {
  machine,
  shape,
  compileMs,
  verified: { users: verifiedUsers.length, referenceChecked, referenceAllowed, postgres: baseline !== null },
  results,
  ratios,
});
console.log(`results written to ${file}`);
await baseline?.close();
await pushdown?.end();
await postgres?.stop();
rmSync(dataDir, { recursive: true, force: true });
