/**
 * The largest list views: `lookup` and `filter` over a 10,000,000-record table (the `large`
 * preset: 10,000 BUs, 100,000 users), beside a bare scan of the same columns in the same run.
 * Needs a large heap: the bench script passes --max-old-space-size.
 *
 *   pnpm bench:large [-- --records 10000000]
 */
import { parseArgs } from 'node:util';
import { Engine, type UserIdx } from '@palisade/core';
import { RowField } from '@palisade/core/internal';
import { Picker } from '../generate/random.js';
import { generateWorld, PRESETS, type WorldShape } from '../generate/world.js';
import { bareScan, formatCount, machine, requireBuiltCore, sink, writeResults } from '../harness.js';
import { timeIt } from '../timing.js';

// pnpm passes a `--` separator through to the script.
const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: { records: { type: 'string', default: String(PRESETS.large.records) } },
});
// One user-owned table holds every record here, so "the whole table" means all of them.
const shape: WorldShape = { ...PRESETS.large, records: Number(args.records) };

console.log(`palisade bench: large — ${JSON.stringify(machine())}`);
console.log(`core: ${requireBuiltCore()}`);
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
for (const user of [widest, ...users.slice(0, 3)]) {
  const fromLookup = engine.lookup(user, t, p).recordIndexes();
  const fromFilter = engine.filter(user, t, p, { records });
  if (fromLookup.length !== fromFilter.length || fromLookup.some((r, i) => r !== fromFilter[i])) {
    throw new Error('lookup and filter disagree');
  }
}
console.log('verified lookup against filter for 3 users');

let next = 0;
const nextUser = () => users[next++ % users.length] as UserIdx;
const bits = new Uint32Array(((shape.businessUnits + 31) >>> 5) + 1).fill(0x01010101);
const out = new Uint32Array(rowCount);
const results = [
  await timeIt(`engine lookup, whole table (${formatCount(rowCount)} rows)`, 1, () => {
    sink.value += engine.lookup(nextUser(), t, p).size;
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
];
const lookup = results[0];
const scan = results[2];
console.log('\n| case | median | throughput |\n| --- | --- | --- |');
for (const r of results) console.log(`| ${r.name} | ${r.median} | ${formatCount(r.perSecond)}/s |`);
if (lookup !== undefined && scan !== undefined)
  console.log(`\nlookup vs bare scan: ${(scan.medianNs / lookup.medianNs).toFixed(1)}× faster`);
const file = writeResults('large', { machine: machine(), shape, compileMs, results });
console.log(`results written to ${file}`);
