/**
 * How cost grows with the world (issue 7): compile time, engine memory, `check`, `filter` and
 * `lookup` on worlds that differ in one dimension at a time, around a base of 10,000 BUs in an
 * 8-level wide tree, 100,000 users and 1,000,000 records in one user-owned table:
 *
 *   BU count 1k / 10k / 100k, BU depth 4 / 8 / 16, records 100k / 1M (/ 10M with --large),
 *   users 10k / 100k.
 *
 * Before anything is timed, each world's `filter` is checked against `check` on a sample of rows,
 * `lookup` against `filter` on every row, both against the reference evaluator on a sample of rows
 * (half of them allowed ones) and against PostgreSQL. Baselines per world, in the same run: the
 * reference evaluator's `check` and PostgreSQL's Dataverse-style query over the same table (loaded
 * per world; `--no-postgres` leaves it out). Two markdown tables per dimension (the engine; the
 * baselines and the engine's ratios to them); results in bench-results/scaling.json. The
 * 10M-record world needs about 4 GB more heap and a few minutes (and PostgreSQL a few more).
 *
 *   pnpm bench:scaling [-- --large] [-- --time 1000] [-- --only bus,depth,records,users] [-- --quick] [-- --no-postgres]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Engine, type RecordIdx, type UserIdx, type WorldInput } from '@palisade/core';
import { PostgresDataverseBaseline } from '../baselines/postgres-dataverse.js';
import { ReferenceEvaluator, sampleRows, verifyRows } from '../baselines/reference.js';
import { Picker } from '../generate/random.js';
import { type GenerateOptions, generateWorld, type WorldShape } from '../generate/world.js';
import { announce, formatCount, formatNs, formatRatio, sink, writeResults } from '../harness.js';
import { engineMemory, retainedBy } from '../memory.js';
import { startPostgres } from '../postgres.js';
import { timeIt } from '../timing.js';

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    large: { type: 'boolean', default: false },
    time: { type: 'string', default: '1000' },
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'no-postgres': { type: 'boolean', default: false },
  },
});
/** --quick: every count divided by 10, for a smoke run of the suite (not for results). */
const SCALE = args.quick ? 0.1 : 1;
const scaled = (n: number) => Math.round(n * SCALE);
const TIME_MS = Number(args.time);
const TABLE = 'account';
const BASE: WorldShape = {
  seed: 7,
  businessUnits: scaled(10_000),
  depth: 8,
  users: scaled(100_000),
  records: scaled(1_000_000),
  shareRatio: 0.05,
};
// One user-owned table holds every record, so "the whole table" is every record of the world.
const OPTIONS: GenerateOptions = { tables: [TABLE], tree: 'wide' };

interface Dimension {
  readonly key: 'bus' | 'depth' | 'records' | 'users';
  readonly title: string;
  readonly column: string;
  readonly values: readonly number[];
  readonly shape: (value: number) => WorldShape;
}

const DIMENSIONS: readonly Dimension[] = [
  {
    key: 'bus',
    title: 'BU count (depth 8, 100k users, 1M records)',
    column: 'BUs',
    values: [1_000, 10_000, 100_000],
    shape: (businessUnits) => ({ ...BASE, businessUnits: scaled(businessUnits) }),
  },
  {
    key: 'depth',
    title: 'BU depth (10k BUs, 100k users, 1M records)',
    column: 'depth',
    values: [4, 8, 16],
    shape: (depth) => ({ ...BASE, depth }),
  },
  {
    key: 'records',
    title: 'records (10k BUs, depth 8, 100k users)',
    column: 'records',
    values: args.large ? [100_000, 1_000_000, 10_000_000] : [100_000, 1_000_000],
    shape: (records) => ({ ...BASE, records: scaled(records) }),
  },
  {
    key: 'users',
    title: 'users (10k BUs, depth 8, 1M records)',
    column: 'users',
    values: [10_000, 100_000],
    shape: (users) => ({ ...BASE, users: scaled(users) }),
  },
];

interface Measurement {
  shape: WorldShape;
  generateMs: number;
  compileMs: number;
  engineBytes: number;
  /** What the first lookup builds and keeps: the table's record index (row groups, bitmaps). */
  indexBytes: number;
  rows: number;
  checkNs: number;
  filterRowsPerSecond: number;
  filterMs: number;
  firstLookupMs: number;
  lookupMs: number;
  /** Mean rows a sampled reader's lookup returns. */
  lookupRows: number;
  /** The widest deep reader among 2,000 sampled users: BUs covered, rows allowed, lookup median. */
  widestBus: number;
  widestRows: number;
  widestLookupMs: number;
  /** Rows asked of the reference evaluator before timing, and how many it allowed. */
  referenceChecked: number;
  referenceAllowed: number;
  /** The reference evaluator's median `check` over random (user, record) pairs. */
  referenceCheckNs: number;
  /** PostgreSQL's Dataverse-style query over the whole table, median per call (NaN without PostgreSQL). */
  postgresMs: number;
  postgresLoadS: number;
}

const { machine } = announce('scaling');
if (!args.large) console.log('(the 10M-record world runs with --large)');
if (args.quick) console.log('(--quick: every count divided by 10; the tables name the full-size values)');

const only = args.only?.split(',');
const dimensions = DIMENSIONS.filter((d) => only === undefined || only.includes(d.key));
const measured = new Map<string, Measurement>();
const dataDir = mkdtempSync(join(tmpdir(), 'palisade-bench-pg-'));
const postgres = args['no-postgres'] ? null : await startPostgres(dataDir);
for (const dimension of dimensions) {
  for (const value of dimension.values) {
    const shape = dimension.shape(value);
    const key = JSON.stringify(shape);
    if (measured.has(key)) continue;
    measured.set(key, await measureWorld(shape));
  }
}
await postgres?.stop();
rmSync(dataDir, { recursive: true, force: true });

const tables: string[] = [];
for (const dimension of dimensions) {
  const lines = [
    `### ${dimension.title}`,
    '',
    `| ${dimension.column} | compile | engine memory (+ the table index) | check | filter (whole table) | first lookup | lookup, sampled readers | lookup, widest deep reader (≤ half the BUs) |`,
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const value of dimension.values) {
    const m = measured.get(JSON.stringify(dimension.shape(value))) as Measurement;
    lines.push(
      `| ${formatCount(value)} | ${(m.compileMs / 1000).toFixed(2)} s | ${(m.engineBytes / 2 ** 20).toFixed(0)} MiB (+${(m.indexBytes / 2 ** 20).toFixed(0)}) | ` +
        `${formatNs(m.checkNs)} | ${ms(m.filterMs)} (${formatCount(m.filterRowsPerSecond)} rows/s) | ` +
        `${ms(m.firstLookupMs)} | ${ms(m.lookupMs)} (${formatCount(m.lookupRows)} rows) | ` +
        `${ms(m.widestLookupMs)} (${formatCount(m.widestBus)} BUs, ${formatCount(m.widestRows)} rows) |`,
    );
  }
  lines.push(
    '',
    `| ${dimension.column} | reference check | check × reference | filter × reference (per row) | ` +
      'PostgreSQL, Dataverse-style (whole table) | filter × PostgreSQL | lookup (sampled readers) × PostgreSQL |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const value of dimension.values) {
    const m = measured.get(JSON.stringify(dimension.shape(value))) as Measurement;
    const filterRowNs = 1e9 / m.filterRowsPerSecond;
    lines.push(
      `| ${formatCount(value)} | ${formatNs(m.referenceCheckNs)} | ${formatRatio(m.referenceCheckNs / m.checkNs)} | ` +
        `${formatRatio(m.referenceCheckNs / filterRowNs)} | ${Number.isNaN(m.postgresMs) ? 'n/a' : ms(m.postgresMs)} | ` +
        `${formatRatio(m.postgresMs / m.filterMs)} | ${formatRatio(m.postgresMs / m.lookupMs)} |`,
    );
  }
  tables.push(lines.join('\n'));
}
console.log(`\n${tables.join('\n\n')}\n`);
const file = writeResults('scaling', {
  machine,
  postgres: postgres !== null,
  base: BASE,
  options: OPTIONS,
  timeMs: TIME_MS,
  worlds: [...measured.values()],
});
console.log(`results written to ${file}`);

function ms(value: number): string {
  return value >= 100 ? `${value.toFixed(0)} ms` : value >= 1 ? `${value.toFixed(1)} ms` : `${value.toFixed(2)} ms`;
}

async function measureWorld(shape: WorldShape): Promise<Measurement> {
  console.log(`\nworld ${JSON.stringify(shape)}`);
  let started = performance.now();
  let world: WorldInput | null = generateWorld(shape, OPTIONS);
  const generateMs = performance.now() - started;
  const userIds = (world.users ?? []).filter((u) => u.disabled !== true).map((u) => u.id);
  const { engine, compileMs, bytes } = engineMemory(() => Engine.fromWorld(world as WorldInput));
  console.log(
    `  generated in ${(generateMs / 1000).toFixed(1)} s; load + compile ${(compileMs / 1000).toFixed(2)} s; ` +
      `engine memory ${(bytes / 2 ** 20).toFixed(0)} MiB`,
  );

  const t = engine.table(TABLE);
  const p = engine.privilege('read');
  const rowCount = engine.model.tables[t]?.records.count ?? 0;
  const records = Int32Array.from({ length: rowCount }, (_, i) => i);

  // Readers decided row by row (local or deep, not global, not administrators).
  const pick = new Picker(11);
  const readers: UserIdx[] = [];
  for (let tries = 0; readers.length < 16 && tries < 100_000; tries++) {
    const user = engine.user(pick.pick(userIds));
    const spec = engine.filterSpec(user, t, p);
    if (!spec.all && spec.businessUnitIds.length > 0 && !readers.includes(user)) readers.push(user);
  }
  if (readers.length === 0) throw new Error('no reader decided row by row');
  // The hardest lookup: among 2,000 users, the one whose local and deep grants cover the most BUs
  // while covering at most half of them (a manager high in the tree; with more than half, lookup
  // takes the complement and the work shrinks again), so the answer is a large part of the table.
  const buCount = engine.stats().businessUnits;
  let widest = readers[0] as UserIdx;
  let widestBus = 0;
  for (let k = 0; k < 2_000; k++) {
    const user = engine.user(pick.pick(userIds));
    const spec = engine.filterSpec(user, t, p);
    const covered = spec.businessUnitIds.length;
    if (!spec.all && covered > widestBus && covered * 2 <= buCount) {
      widest = user;
      widestBus = covered;
    }
  }

  // ---- correctness first: filter against check on sampled rows, lookup against filter ----
  // Timed inside: retainedBy collects garbage before and after, outside the timing.
  let firstLookupMs = 0;
  const indexBytes = retainedBy(() => {
    started = performance.now();
    engine.lookup(readers[0] as UserIdx, t, p);
    firstLookupMs = performance.now() - started;
  });
  const step = Math.max(1, Math.floor(rowCount / 5_000));
  let lookupRows = 0;
  for (const reader of [widest, ...readers.slice(0, 4)]) {
    const allowed = engine.filter(reader, t, p, { records });
    const set = new Set(allowed);
    for (let row = pick.int(step); row < rowCount; row += step) {
      if (engine.check(reader, t, p, row as RecordIdx).allowed !== set.has(row))
        throw new Error(`filter disagrees with check: user ${reader} row ${row}`);
    }
    const fromLookup = engine.lookup(reader, t, p).recordIndexes();
    if (fromLookup.length !== allowed.length || fromLookup.some((r, i) => r !== allowed[i]))
      throw new Error(`lookup disagrees with filter: user ${reader}`);
    if (reader !== widest) lookupRows += allowed.length;
  }
  const widestRows = engine.lookup(widest, t, p).size;
  console.log(
    `  verified filter against check (every ${step}th row) and lookup against filter for 5 readers ` +
      `(the widest: ${widestBus} BUs, ${formatCount(widestRows)} rows)`,
  );

  // ---- the baselines, while the world value is alive: the reference evaluator, PostgreSQL ----
  const { referenceChecked, referenceAllowed, referenceCheckNs, postgresMs, postgresLoadS } = await measureBaselines(
    world,
    engine,
    [widest, ...readers.slice(0, 2)],
    readers,
    userIds,
    pick,
  );
  world = null; // only the engine from here on

  // ---- timing ----
  const CHECKS = 10_000;
  // Each call asks the next 10,000 of 64 × 10,000 pairs: one set asked again and again would sit
  // in the caches and hide how check time grows with the world.
  const SETS = 64;
  const checkUsers = Int32Array.from({ length: CHECKS * SETS }, () => engine.user(pick.pick(userIds)));
  const checkRows = Int32Array.from({ length: CHECKS * SETS }, () => pick.int(rowCount));
  let nextSet = 0;
  let next = 0;
  const nextReader = () => readers[next++ % readers.length] as UserIdx;
  const check = await timeIt(
    `check, ${CHECKS} random (user, record)`,
    CHECKS,
    () => {
      const from = (nextSet++ % SETS) * CHECKS;
      let n = 0;
      for (let i = from; i < from + CHECKS; i++)
        if (engine.check(checkUsers[i] as UserIdx, t, p, checkRows[i] as RecordIdx).allowed) n++;
      sink.value += n;
    },
    { timeMs: TIME_MS },
  );
  const filter = await timeIt(
    `filter, engine record indexes (${formatCount(rowCount)} rows)`,
    rowCount,
    () => {
      sink.value += engine.filter(nextReader(), t, p, { records }).length;
    },
    { timeMs: TIME_MS },
  );
  const lookup = await timeIt(
    'lookup, whole table, sampled readers',
    1,
    () => {
      sink.value += engine.lookup(nextReader(), t, p).size;
    },
    { timeMs: TIME_MS },
  );
  const widestLookup = await timeIt(
    `lookup, widest deep reader (${widestBus} BUs)`,
    1,
    () => {
      sink.value += engine.lookup(widest, t, p).size;
    },
    { timeMs: TIME_MS },
  );
  return {
    shape,
    generateMs,
    compileMs,
    engineBytes: bytes,
    indexBytes,
    rows: rowCount,
    checkNs: check.medianNs / CHECKS,
    filterRowsPerSecond: filter.perSecond,
    filterMs: filter.medianNs / 1e6,
    firstLookupMs,
    lookupMs: lookup.medianNs / 1e6,
    lookupRows: lookupRows / 4,
    widestBus,
    widestRows,
    widestLookupMs: widestLookup.medianNs / 1e6,
    referenceChecked,
    referenceAllowed,
    referenceCheckNs,
    postgresMs,
    postgresLoadS,
  };
}

/**
 * The reference evaluator and PostgreSQL on one world, in a function of their own so that nothing
 * holds the world value once it returns: the sampled rows of `verifiedReaders` against the
 * reference, its median check, and PostgreSQL's Dataverse-style query over the whole table.
 */
async function measureBaselines(
  world: WorldInput,
  engine: Engine,
  verifiedReaders: readonly UserIdx[],
  readers: readonly UserIdx[],
  userIds: readonly string[],
  pick: Picker,
): Promise<
  Pick<Measurement, 'referenceChecked' | 'referenceAllowed' | 'referenceCheckNs' | 'postgresMs' | 'postgresLoadS'>
> {
  const t = engine.table(TABLE);
  const p = engine.privilege('read');
  const rowCount = engine.model.tables[t]?.records.count ?? 0;
  const records = Int32Array.from({ length: rowCount }, (_, i) => i);
  const store = engine.model.tables[t]?.records;
  if (store === undefined) throw new Error(`no table ${TABLE}`);
  const userId = (u: UserIdx) => engine.model.principals[u]?.id as string;
  const reference = new ReferenceEvaluator(world);
  let referenceChecked = 0;
  let referenceAllowed = 0;
  let started = performance.now();
  for (const reader of verifiedReaders) {
    const allowed = engine.filter(reader, t, p, { records });
    const set = new Set(allowed);
    const verified = verifyRows(
      'filter (and lookup, equal to it)',
      reference,
      { user: userId(reader), table: TABLE, privilege: 'read' },
      sampleRows(allowed, rowCount, 12, pick),
      (row) => store.ids[row] as string,
      (row) => set.has(row),
    );
    referenceChecked += verified.checked;
    referenceAllowed += verified.allowed;
  }
  console.log(
    `  verified filter against the reference evaluator on ${referenceChecked} sampled rows ` +
      `(${referenceAllowed} allowed) for ${verifiedReaders.length} readers in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const pairs = Array.from(
    { length: 64 },
    () => [pick.pick(userIds), store.ids[pick.int(rowCount)] as string] as const,
  );
  let pair = 0;
  const referenceCheck = await timeIt(
    'reference evaluator check, random (user, record)',
    1,
    () => {
      const [user, record] = pairs[pair++ & 63] as readonly [string, string];
      sink.value += reference.decide(user, TABLE, 'read', record).allowed ? 1 : 0;
    },
    { timeMs: Math.min(TIME_MS, 1000), iterations: 8 },
  );
  let postgresMs = Number.NaN;
  let postgresLoadS = Number.NaN;
  if (postgres !== null) {
    started = performance.now();
    const baseline = await PostgresDataverseBaseline.load(world, postgres.url);
    postgresLoadS = (performance.now() - started) / 1000;
    try {
      for (const reader of verifiedReaders) {
        const mine = engine.lookup(reader, t, p).ids();
        const sql = new Set(await baseline.filter(userId(reader), TABLE, 'read', 'or'));
        if (sql.size !== mine.length || mine.some((id) => !sql.has(id)))
          throw new Error(`postgres disagrees with lookup: ${userId(reader)}`);
      }
      console.log(
        `  postgres: loaded in ${postgresLoadS.toFixed(1)} s; verified lookup against it for ${verifiedReaders.length} readers`,
      );
      let next = 0;
      const timing = await timeIt(
        'postgres, Dataverse-style query (whole table), sampled readers',
        rowCount,
        async () => {
          sink.value += (
            await baseline.filter(userId(readers[next++ % readers.length] as UserIdx), TABLE, 'read', 'or')
          ).length;
        },
        { timeMs: TIME_MS, iterations: 16 },
      );
      postgresMs = timing.medianNs / 1e6;
    } finally {
      await baseline.close();
    }
  }
  return { referenceChecked, referenceAllowed, referenceCheckNs: referenceCheck.medianNs, postgresMs, postgresLoadS };
}
