/**
 * Hierarchy security and column masks (issue 5): `filter` and `lookup` for managers with about 50
 * effective reports, with hierarchy on, beside the same questions on the same world with it off;
 * and the per-record column masks of a filtered list beside the filter alone. Baselines in the
 * same run: the reference evaluator (a check, and a column access, per row) and PostgreSQL
 * filtering the hierarchy-off world the way Dataverse does (the PostgreSQL baseline models no
 * hierarchy, so it stands beside the "off" engine only; `--no-postgres` leaves it out).
 *
 * Before anything is timed: `filter` and `lookup` against `check` on every 13th row; both worlds'
 * filters against the reference evaluator on a sample of rows (half of them allowed, hierarchy-only
 * rows among them); the column masks against the reference's column access on a sample of rows
 * and every secured column; the off engine's lookup against PostgreSQL.
 *
 *   pnpm bench:hierarchy [-- --records 1000000 --users 10000 --bus 1000 --span 7 --depth 2 --columns 8 --no-postgres]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Engine, type UserIdx, type WorldInput } from '@palisade/core';
import { RowField } from '@palisade/core/internal';
import { PostgresDataverseBaseline } from '../baselines/postgres-dataverse.js';
import { ReferenceEvaluator, sampleRows, verifyRows } from '../baselines/reference.js';
import { Picker } from '../generate/random.js';
import { generateWorld, type WorldShape } from '../generate/world.js';
import { announce, formatCount, printRatios, sink, writeResults } from '../harness.js';
import { startPostgres } from '../postgres.js';
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
    'no-postgres': { type: 'boolean', default: false },
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

const { machine } = announce('hierarchy and column masks');
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

// ---- verify: filter and lookup against check, hierarchy reasons present, samples against the reference ----
const reference = new ReferenceEvaluator(on);
const referenceOff = new ReferenceEvaluator(off);
const pick = new Picker(3);
const userId = (u: UserIdx) => withHierarchy.model.principals[u]?.id as string;
const idOf = (row: number) => store.ids[row] as string;
let viaHierarchy = 0;
const verified = { referenceChecked: 0, referenceAllowed: 0, columnAnswers: 0 };
const noteReference = (r: { checked: number; allowed: number }) => {
  verified.referenceChecked += r.checked;
  verified.referenceAllowed += r.allowed;
};
for (const manager of managers) {
  const allowedRows = withHierarchy.filter(manager, t, 'read', rows);
  const allowed = new Set(allowedRows);
  const hierarchyRows: number[] = [];
  for (let row = 0; row < rowCount; row += 13) {
    const decision = withHierarchy.check(manager, t, 'read', row as never);
    if (decision.allowed !== allowed.has(row)) throw new Error(`filter disagrees with check on row ${row}`);
    if (decision.reason === 'hierarchy') {
      viaHierarchy++;
      hierarchyRows.push(row);
    }
  }
  const looked = withHierarchy.lookup(manager, t, 'read').recordIndexes();
  if (looked.length !== allowedRows.length || looked.some((r, i) => r !== allowedRows[i]))
    throw new Error('lookup disagrees with filter');
  // The reference, hierarchy on: sampled rows (half allowed) and up to 4 rows allowed only through hierarchy.
  const sample = new Set(sampleRows(allowedRows, rowCount, 8, pick));
  for (let k = 0; k < 4 && hierarchyRows.length > 0; k++) sample.add(pick.pick(hierarchyRows));
  const question = { user: userId(manager), table: 'account', privilege: 'read' as const };
  noteReference(verifyRows('filter, hierarchy on', reference, question, [...sample], idOf, (row) => allowed.has(row)));
  // Hierarchy off: the other engine against the reference on the other world.
  const offRows = without.filter(manager, t, 'read', rows);
  const offAllowed = new Set(offRows);
  noteReference(
    verifyRows('filter, hierarchy off', referenceOff, question, sampleRows(offRows, rowCount, 8, pick), idOf, (row) =>
      offAllowed.has(row),
    ),
  );
}
if (viaHierarchy === 0) throw new Error('no row was allowed through hierarchy: the benchmark would not measure it');
// Column masks: every secured column of a few allowed rows (and a denied one) per manager.
const securedColumns = withHierarchy.model.tables[t]?.securedColumns ?? [];
if (securedColumns.length === 0) throw new Error('no secured column: the column masks would not be measured');
for (const manager of managers.slice(0, 3)) {
  const allowedRows = withHierarchy.filter(manager, t, 'read', rows);
  const sample = Uint32Array.from(sampleRows(allowedRows, rowCount, 2, pick));
  const hidden = withHierarchy.hiddenColumns(manager, t, sample);
  sample.forEach((row, k) => {
    hidden.columns.forEach((column, c) => {
      const masked = (((hidden.masks[k * hidden.words + (c >>> 5)] as number) >>> (c & 31)) & 1) === 1;
      const readable = reference.columnAccess(userId(manager), 'account', idOf(row), column).read;
      if (masked === readable) {
        throw new Error(
          `hiddenColumns disagrees with the reference evaluator: ${userId(manager)} ${idOf(row)} ${column}: ` +
            `engine ${masked ? 'hides' : 'shows'} it, reference ${readable ? 'may' : 'may not'} read it`,
        );
      }
      verified.columnAnswers++;
    });
  });
}
console.log(
  `verified filter and lookup against check for ${managers.length} managers (${viaHierarchy} sampled rows via hierarchy); ` +
    `both worlds' filters against the reference evaluator on ${verified.referenceChecked} rows ` +
    `(${verified.referenceAllowed} allowed), column masks on ${verified.columnAnswers} (row, column) answers`,
);

// ---- PostgreSQL, Dataverse-style, on the hierarchy-off world ----
let postgres: Awaited<ReturnType<typeof startPostgres>> | null = null;
let baseline: PostgresDataverseBaseline | null = null;
const dataDir = mkdtempSync(join(tmpdir(), 'palisade-bench-pg-'));
if (!args['no-postgres']) {
  postgres = await startPostgres(dataDir);
  const started = performance.now();
  baseline = await PostgresDataverseBaseline.load(off, postgres.url);
  console.log(`postgres: loaded the world in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  for (const manager of managers.slice(0, 3)) {
    const mine = without.lookup(manager, t, 'read').ids();
    const sql = new Set(await baseline.filter(userId(manager), 'account', 'read', 'or'));
    if (sql.size !== mine.length || mine.some((id) => !sql.has(id)))
      throw new Error(`postgres disagrees with the hierarchy-off engine: ${userId(manager)}`);
  }
  console.log('verified the hierarchy-off lookup against PostgreSQL for 3 managers');
}

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
  // Calls cycle through the managers, so a call's rows are their mean.
  await timeIt('column masks alone, per allowed row', meanRows(allowedRows), () => {
    const m = next++ % managers.length;
    sink.value += withHierarchy.hiddenColumns(managers[m] as UserIdx, t, allowedRows[m] as Uint32Array).masks.length;
  }),
  // The reference walks the world per question (and the management tree for hierarchy): hundreds of
  // milliseconds a question at 1M records, so one question a sample and few samples.
  await timeIt(
    'reference evaluator, check per row (1 row), hierarchy on',
    1,
    () => {
      sink.value += reference.decide(userId(nextManager()), 'account', 'read', idOf(pick.int(rowCount))).allowed
        ? 1
        : 0;
    },
    { timeMs: 1000, iterations: 8 },
  ),
  await timeIt(
    'reference evaluator, column access of one secured column of an allowed row',
    1,
    () => {
      const m = next++ % managers.length;
      const list = allowedRows[m] as Uint32Array;
      const row = list[pick.int(list.length)] as number;
      const column = pick.pick(securedColumns);
      sink.value += reference.columnAccess(userId(managers[m] as UserIdx), 'account', idOf(row), column).read ? 1 : 0;
    },
    { timeMs: 1000, iterations: 8 },
  ),
);
if (baseline !== null) {
  const sql = baseline;
  results.push(
    await timeIt('postgres, Dataverse-style query, hierarchy off (the baseline models none)', rowCount, async () => {
      sink.value += (await sql.filter(userId(nextManager()), 'account', 'read', 'or')).length;
    }),
  );
}

const find = (prefix: string) => results.find((r) => r.name.startsWith(prefix)) as Timing | undefined;
const ns = (prefix: string) => find(prefix)?.medianNs ?? Number.NaN;
const perRowNs = (prefix: string) => 1e9 / (find(prefix)?.perSecond ?? Number.NaN);
const slowdown = (what: string) => ns(`${what}, hierarchy on`) / ns(`${what}, hierarchy off`);
const ratios = {
  'filter caller columns, on / off': slowdown('filter, caller columns'),
  'filter record indexes, on / off': slowdown('filter, engine record indexes'),
  'lookup, on / off': slowdown('lookup'),
  'filter + column masks / filter alone (hierarchy on)':
    ns('filter + column masks') / ns('filter, caller columns, hierarchy on'),
};
// How many times faster than the baselines (per row; a lookup against a check of every row).
const speedups = {
  'filter caller columns, hierarchy on, vs reference evaluator':
    perRowNs('reference evaluator, check per row') / perRowNs('filter, caller columns, hierarchy on'),
  'lookup, hierarchy on, vs reference evaluator (a check per row of the table)':
    (perRowNs('reference evaluator, check per row') * rowCount) / ns('lookup, hierarchy on'),
  // A row's mask answers every secured column: the reference asks once per column.
  'column masks per allowed row vs reference evaluator column access (every secured column)':
    (ns('reference evaluator, column access') * securedColumns.length) / perRowNs('column masks alone'),
  'filter caller columns, hierarchy off, vs postgres (Dataverse-style), hierarchy off':
    perRowNs('postgres, Dataverse-style') / perRowNs('filter, caller columns, hierarchy off'),
  'filter caller columns, hierarchy on, vs postgres (Dataverse-style) without hierarchy':
    perRowNs('postgres, Dataverse-style') / perRowNs('filter, caller columns, hierarchy on'),
};
console.log('\n| case | median | throughput |\n| --- | --- | --- |');
for (const r of results) console.log(`| ${r.name} | ${r.median} | ${formatCount(r.perSecond)}/s |`);
printRatios(ratios, 'slowdowns (same run)');
printRatios(speedups, 'against the baselines (same run)');
const file = writeResults('hierarchy', { machine, shape, hierarchy, verified, results, ratios, speedups });
console.log(`results written to ${file}`);
await baseline?.close();
await postgres?.stop();
rmSync(dataDir, { recursive: true, force: true });

function meanRows(lists: readonly Uint32Array[]): number {
  const total = lists.reduce((sum, list) => sum + list.length, 0);
  return Math.max(1, total / Math.max(1, lists.length));
}
