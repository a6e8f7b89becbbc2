/**
 * Hierarchy security and column masks (issue 5): `filter` and `lookup` for managers with about 50
 * effective reports, with hierarchy on, beside the same questions on the same world with it off;
 * and the per-record column masks of a filtered list beside the filter alone. Answers are checked
 * against `check` (and a few against the reference evaluator) before anything is timed.
 *
 *   pnpm bench:hierarchy [-- --records 1000000 --users 10000 --bus 1000 --span 7 --depth 2 --columns 8]
 */
import { parseArgs } from 'node:util';
import { Engine, type UserIdx, type WorldInput } from '@palisade/core';
import { RowField } from '@palisade/core/internal';
import { ReferenceEvaluator } from '../../../core/test/reference/reference.js';
import { Picker } from '../generate/random.js';
import { generateWorld, type WorldShape } from '../generate/world.js';
import { machine, requireBuiltCore, sink, writeResults } from '../harness.js';
import { type Timing, timeIt } from '../timing.js';

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    records: { type: 'string', default: '1000000' },
    users: { type: 'string', default: '10000' },
    bus: { type: 'string', default: '1000' },
    span: { type: 'string', default: '7' },
    depth: { type: 'string', default: '2' },
    columns: { type: 'string', default: '8' },
  },
});
const shape: WorldShape = {
  seed: 5,
  businessUnits: Number(args.bus),
  depth: 8,
  users: Number(args.users),
  records: Number(args.records),
  shareRatio: 0.05,
};
const hierarchy = { span: Number(args.span), depth: Number(args.depth) };

console.log(`palisade bench: hierarchy and column masks — ${JSON.stringify(machine())}`);
console.log(`core: ${requireBuiltCore()}`);
const on: WorldInput = generateWorld(shape, { tables: ['account'], hierarchy, securedColumns: Number(args.columns) });
const off: WorldInput = {
  ...on,
  settings: { ...on.settings, hierarchy: { ...on.settings?.hierarchy, enabled: false } },
};
const withHierarchy = Engine.fromWorld(on);
const without = Engine.fromWorld(off);
const reports = hierarchy.span + hierarchy.span ** hierarchy.depth;
console.log(
  `world ${JSON.stringify(shape)}; managers with ${reports} effective reports (span ${hierarchy.span}, depth ${hierarchy.depth})`,
);

const t = withHierarchy.table('account');
const store = withHierarchy.model.tables[t]?.records;
if (store === undefined) throw new Error('no account table');
const rowCount = store.count;
const rows = {
  owners: store.column(RowField.owner),
  businessUnits: store.column(RowField.bu),
  records: Int32Array.from({ length: rowCount }, (_, i) => i),
};

// Managers decided row by row (local/deep/basic readers, not administrators or global readers),
// with a full tree of reports below them: users 1 .. span are such managers.
const managers: UserIdx[] = [];
for (let i = 1; managers.length < 6 && i < shape.users; i++) {
  const user = withHierarchy.user(`u-${i}`);
  if (withHierarchy.filterJob(user, t, 'read', { records: new Int32Array(1) }).kind === 'rows') managers.push(user);
}
if (managers.length === 0) throw new Error('no manager who is decided row by row');

// ---- verify: filter and lookup against check, hierarchy reasons present, a few rows against the reference ----
const reference = new ReferenceEvaluator(on);
const pick = new Picker(3);
let viaHierarchy = 0;
for (const manager of managers) {
  const allowed = new Set(withHierarchy.filter(manager, t, 'read', rows));
  for (let row = 0; row < rowCount; row += 13) {
    const decision = withHierarchy.check(manager, t, 'read', row as never);
    if (decision.allowed !== allowed.has(row)) throw new Error(`filter disagrees with check on row ${row}`);
    if (decision.reason === 'hierarchy') viaHierarchy++;
  }
  const looked = withHierarchy.lookup(manager, t, 'read').bitmap;
  if (looked.size !== allowed.size) throw new Error('lookup disagrees with filter');
  for (let k = 0; k < 3; k++) {
    const row = pick.int(rowCount);
    const id = store.ids[row] as string;
    const userId = withHierarchy.model.principals[manager]?.id as string;
    if (reference.decide(userId, 'account', 'read', id).allowed !== allowed.has(row)) {
      throw new Error(`the engine disagrees with the reference evaluator on ${id}`);
    }
  }
}
if (viaHierarchy === 0) throw new Error('no row was allowed through hierarchy: the benchmark would not measure it');
console.log(
  `verified filter and lookup against check for ${managers.length} managers (${viaHierarchy} sampled rows via hierarchy)`,
);

let next = 0;
const nextManager = () => managers[next++ % managers.length] as UserIdx;
const results: Timing[] = [];
for (const [label, engine] of [
  ['hierarchy on', withHierarchy],
  ['hierarchy off', without],
] as const) {
  results.push(
    await timeIt(`filter, caller columns, ${label}`, rowCount, () => {
      sink.value += engine.filter(nextManager(), t, 'read', rows).length;
    }),
    await timeIt(`filter, engine record indexes, ${label}`, rowCount, () => {
      sink.value += engine.filter(nextManager(), t, 'read', { records: rows.records }).length;
    }),
    await timeIt(`lookup, ${label}`, 1, () => {
      sink.value += engine.lookup(nextManager(), t, 'read').size;
    }),
  );
}
// Column masks: the rows a manager may read, then the secured columns to null out per row.
const allowedRows = managers.map((m) => withHierarchy.filter(m, t, 'read', rows));
results.push(
  await timeIt('filter + column masks of the allowed rows', rowCount, () => {
    const m = next++ % managers.length;
    const allowed = withHierarchy.filter(managers[m] as UserIdx, t, 'read', rows);
    sink.value += withHierarchy.hiddenColumns(managers[m] as UserIdx, t, allowed).masks.length;
  }),
  await timeIt('column masks alone, per allowed row', allowedRows[0]?.length ?? 1, () => {
    const m = next++ % managers.length;
    sink.value += withHierarchy.hiddenColumns(managers[m] as UserIdx, t, allowedRows[m] as Uint32Array).masks.length;
  }),
);

const find = (prefix: string) => results.find((r) => r.name.startsWith(prefix)) as Timing;
const slowdown = (what: string) => find(`${what}, hierarchy on`).medianNs / find(`${what}, hierarchy off`).medianNs;
const ratios = {
  'filter caller columns, on / off': slowdown('filter, caller columns'),
  'filter record indexes, on / off': slowdown('filter, engine record indexes'),
  'lookup, on / off': slowdown('lookup'),
  'filter + column masks / filter alone (hierarchy on)':
    find('filter + column masks').medianNs / find('filter, caller columns, hierarchy on').medianNs,
};
console.log('\n| case | median | throughput |\n| --- | --- | --- |');
for (const r of results) console.log(`| ${r.name} | ${r.median} | ${(r.perSecond / 1e6).toFixed(1)}M/s |`);
console.log('\nslowdowns (same run):');
for (const [name, value] of Object.entries(ratios)) console.log(`  ${name}: ${value.toFixed(2)}×`);
writeResults('hierarchy', { machine: machine(), shape, hierarchy, results, ratios });
