/**
 * List views and batch checks: `filter`, `checkBatch`, `lookup`, `filterSpec`, `whoCanAccess`
 * and incremental updates on a large world (default 10,000 BUs in an 8-level tree, 100,000
 * users, 1,000,000 records), beside a bare typed-array loop, the Map-based evaluator, the test
 * suite's reference evaluator and PostgreSQL filtering the way Dataverse does, all in one run;
 * `filterSpec` also as what it is for: its `toSqlWhere` fragment run by PostgreSQL.
 *
 * Every timed operation is verified before it is timed, against the reference evaluator on a
 * sample (it walks the world's arrays per question: ~20 ms a question at 1M records) and against
 * the Map evaluator, PostgreSQL or the engine's other paths in full; the updates also after they
 * were timed (the same operations applied to the world value, then a sample asked of both).
 *
 *   pnpm bench:bulk [-- --records 1000000 --users 100000 --bus 10000 --no-postgres]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  Engine,
  type FilterSpec,
  isAllowedCode,
  type PrivilegeName,
  toSqlWhere,
  type UpdateOp,
  type UserIdx,
} from '@palisade/core';
import { Evaluator, RowField, useRowKernels } from '@palisade/core/internal';
import pg from 'pg';
import { MapEvaluator } from '../baselines/map-evaluator.js';
import { PostgresDataverseBaseline } from '../baselines/postgres-dataverse.js';
import {
  type Question,
  ReferenceEvaluator,
  sampleRows,
  verifyQuestions,
  verifyRows,
  WorldEditor,
} from '../baselines/reference.js';
import { Picker } from '../generate/random.js';
import { generateWorld, PRESETS, type WorldShape } from '../generate/world.js';
import {
  announce,
  bareBatchPasses,
  bareBatchReads,
  bareScan,
  filterGathered,
  formatCount,
  printRatios,
  sink,
  writeResults,
} from '../harness.js';
import { buildLazyIndexes, engineMemory, memoryPerItem, retainedBy } from '../memory.js';
import { startPostgres } from '../postgres.js';
import { type Timing, timeIt } from '../timing.js';

// pnpm passes a `--` separator through to the script.
const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    records: { type: 'string', default: String(PRESETS.bulk.records) },
    users: { type: 'string', default: String(PRESETS.bulk.users) },
    bus: { type: 'string', default: String(PRESETS.bulk.businessUnits) },
    depth: { type: 'string', default: String(PRESETS.bulk.depth) },
    'no-postgres': { type: 'boolean', default: false },
  },
});
const shape: WorldShape = {
  ...PRESETS.bulk,
  businessUnits: Number(args.bus),
  depth: Number(args.depth),
  users: Number(args.users),
  records: Number(args.records),
};
const TABLE = 'account';
const PRIVILEGE: PrivilegeName = 'read';

const { machine } = announce('bulk');

let started = performance.now();
const world = generateWorld(shape);
console.log(`world ${JSON.stringify(shape)} generated in ${(performance.now() - started).toFixed(0)} ms`);

// ---- compile: time and memory ----
const { engine, compileMs: firstCompileMs, bytes } = engineMemory(() => Engine.fromWorld(world));
const stats = engine.stats();
// What the first bulk queries build and keep (record indexes per table, their bitmaps, the user
// id table), so that the memory figure is what a serving engine holds, not only the compile.
const lazyBytes = retainedBy(() => buildLazyIndexes(engine));
// The update ratios divide by the compile: a median of three, the first (cold) one included.
const compileRuns = [firstCompileMs];
for (let k = 0; k < 2; k++) {
  const again = performance.now();
  sink.value += Engine.fromWorld(world).revision;
  compileRuns.push(performance.now() - again);
}
const compileMs = [...compileRuns].sort((a, b) => a - b)[1] as number;
const mib = (n: number) => (n / 2 ** 20).toFixed(0);
console.log(
  `load + compile: median ${compileMs.toFixed(0)} ms of ${compileRuns.map((ms) => ms.toFixed(0)).join(', ')} ms; ` +
    `engine memory ${mib(bytes)} MiB compiled, ${mib(bytes + lazyBytes)} MiB with the lazily built indexes; ${JSON.stringify(stats)}`,
);
const perItem = memoryPerItem(shape);
console.log(
  `memory: ${perItem.perRecord.toFixed(0)} bytes per record, ${perItem.perUser.toFixed(0)} bytes per user compiled; ` +
    `${perItem.lazy.perRecord.toFixed(0)} and ${perItem.lazy.perUser.toFixed(0)} with the lazily built indexes`,
);

// ---- the rows a list view would filter: every row of the table, as columns ----
const t = engine.table(TABLE);
const p = engine.privilege(PRIVILEGE);
const store = engine.model.tables[t]?.records;
if (store === undefined) throw new Error(`no table ${TABLE}`);
const rowCount = store.count;
const rows = {
  owners: store.column(RowField.owner),
  businessUnits: store.column(RowField.bu),
  records: Int32Array.from({ length: rowCount }, (_, i) => i),
};
const recordIds = store.ids.slice(0, rowCount);

// Users who must be decided row by row: local or deep readers (not global, not administrators).
const pick = new Picker(11);
const candidates = (world.users ?? []).filter((u) => u.disabled !== true);
const sampleUsers: UserIdx[] = [];
while (sampleUsers.length < 24) {
  const user = engine.user(pick.pick(candidates).id);
  const spec = engine.filterSpec(user, t, p);
  if (!spec.all && spec.businessUnitIds.length > 0 && !sampleUsers.includes(user)) sampleUsers.push(user);
}
const userId = (u: UserIdx) => engine.model.principals[u]?.id as string;

// ---- correctness before speed ----
// filter (both row forms), lookup and filterSpec are compared with one another on every row, with
// the Map evaluator on every 97th row and with the reference evaluator on a sample of rows (half of
// them allowed ones), for the first VERIFIED_USERS of the timed users.
const VERIFIED_USERS = 4;
const REFERENCE_ROWS = 24;
const mapEvaluator = new MapEvaluator(world);
const reference = new ReferenceEvaluator(world);
const verified = { filterRows: 0, referenceQuestions: 0, referenceAllowed: 0 };
const noteReference = (r: { checked: number; allowed: number }) => {
  verified.referenceQuestions += r.checked;
  verified.referenceAllowed += r.allowed;
};
const principalIds = engine.model.principals.map((principal) => principal?.id as string);
const buIds = engine.model.businessUnits.map((bu) => bu?.id as string);
/** The rows `spec` allows, evaluated plainly over the table's columns (what a database would do with it). */
function rowsOfSpec(spec: FilterSpec): number[] {
  if (spec.all) return Array.from({ length: rowCount }, (_, i) => i);
  const bus = new Set(spec.businessUnitIds);
  const owners = new Set(spec.ownerIds);
  const shared = new Set(spec.sharedRecordIds);
  const allowed: number[] = [];
  for (let i = 0; i < rowCount; i++) {
    if (
      bus.has(buIds[rows.businessUnits[i] as number] as string) ||
      owners.has(principalIds[rows.owners[i] as number] as string) ||
      shared.has(recordIds[i] as string)
    )
      allowed.push(i);
  }
  return allowed;
}
const sameRows = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => v === b[i]);
for (const user of sampleUsers.slice(0, VERIFIED_USERS)) {
  const fromColumns = engine.filter(user, t, p, rows);
  if (!sameRows(fromColumns, engine.filter(user, t, p, { records: rows.records })))
    throw new Error(`filter on caller columns and on record indexes disagree: ${userId(user)}`);
  const gathered = new Uint32Array(rowCount);
  const count = filterGathered(
    engine,
    new Evaluator(engine.sharedState()),
    { user, table: t, privilege: p },
    rows.records,
    gathered,
  );
  if (!sameRows(fromColumns, gathered.subarray(0, count)))
    throw new Error(`filter on record indexes, gathered, disagrees: ${userId(user)}`);
  if (!sameRows(fromColumns, engine.lookup(user, t, p).recordIndexes()))
    throw new Error(`lookup disagrees with filter: ${userId(user)}`);
  if (!sameRows(fromColumns, rowsOfSpec(engine.filterSpec(user, t, p))))
    throw new Error(`filterSpec disagrees with filter: ${userId(user)}`);
  const allowed = new Set(fromColumns);
  for (let i = 0; i < rowCount; i += 97) {
    if (allowed.has(i) !== mapEvaluator.check(userId(user), TABLE, PRIVILEGE, recordIds[i] as string)) {
      throw new Error(`map evaluator disagrees: ${userId(user)} row ${i}`);
    }
  }
  const sample = sampleRows(fromColumns, rowCount, REFERENCE_ROWS, pick);
  noteReference(
    verifyRows(
      'filter (and lookup, filterSpec, equal to it)',
      reference,
      { user: userId(user), table: TABLE, privilege: PRIVILEGE },
      sample,
      (row) => recordIds[row] as string,
      (row) => allowed.has(row),
    ),
  );
  verified.filterRows += rowCount;
}
console.log(
  `verified filter (both row forms), lookup and filterSpec against one another on every row, the map evaluator ` +
    `on every 97th row and the reference evaluator on ${verified.referenceQuestions} sampled rows ` +
    `(${verified.referenceAllowed} allowed) for ${VERIFIED_USERS} users`,
);

let postgres: Awaited<ReturnType<typeof startPostgres>> | null = null;
let baseline: PostgresDataverseBaseline | null = null;
/** A connection of its own for the engine's filterSpec pushed down as a WHERE fragment. */
let pushdown: pg.Pool | null = null;
const RECORDS_TABLE = '"dataverse_records"."account"';
/** `SELECT id FROM <the baseline's account table> WHERE toSqlWhere(spec)`: the filterSpec as PostgreSQL runs it. */
const pushedDown = async (pool: pg.Pool, user: UserIdx) => {
  const where = toSqlWhere(engine.filterSpec(user, t, p));
  return (await pool.query<{ id: string }>(`SELECT id FROM ${RECORDS_TABLE} WHERE ${where.sql}`, where.params)).rows;
};
const dataDir = mkdtempSync(join(tmpdir(), 'palisade-bench-pg-'));
if (!args['no-postgres']) {
  postgres = await startPostgres(dataDir);
  started = performance.now();
  baseline = await PostgresDataverseBaseline.load(world, postgres.url);
  console.log(`postgres: loaded the world in ${(performance.now() - started).toFixed(0)} ms`);
  pushdown = new pg.Pool({ connectionString: postgres.url, max: 1 });
  pushdown.on('error', () => {});
  for (const user of sampleUsers.slice(0, VERIFIED_USERS)) {
    const mine = engine.lookup(user, t, p).ids();
    for (const form of ['or', 'union'] as const) {
      const sql = new Set(await baseline.filter(userId(user), TABLE, PRIVILEGE, form));
      if (sql.size !== mine.length || mine.some((id) => !sql.has(id)))
        throw new Error(`postgres (${form}) disagrees: ${userId(user)}`);
    }
    const viaSpec = new Set((await pushedDown(pushdown, user)).map((row) => row.id));
    if (viaSpec.size !== mine.length || mine.some((id) => !viaSpec.has(id)))
      throw new Error(`filterSpec run by postgres disagrees with lookup: ${userId(user)}`);
  }
  console.log(
    `verified lookup against both postgres queries and against toSqlWhere(filterSpec) run by postgres for ${VERIFIED_USERS} users`,
  );
}

// ---- filter ----
const out = new Uint32Array(rowCount);
const evaluator = new Evaluator(engine.sharedState());
let u = 0;
const nextUser = () => sampleUsers[u++ % sampleUsers.length] as UserIdx;
const bits = new Uint32Array(((shape.businessUnits + 31) >>> 5) + 1).fill(0x01010101);
const results = [
  await timeIt('engine filter, caller columns (owner, BU, record)', rowCount, () => {
    sink.value += engine.filter(nextUser(), t, p, rows).length;
  }),
  // The same calls with the WebAssembly row kernels off: the JavaScript loop they replace.
  await timeIt('JavaScript row loop, the same filter with the row kernels off', rowCount, () => {
    useRowKernels('never');
    sink.value += engine.filter(nextUser(), t, p, rows).length;
    useRowKernels('auto');
  }),
  await timeIt('engine filter, engine record indexes', rowCount, () => {
    sink.value += engine.filter(nextUser(), t, p, { records: rows.records }).length;
  }),
  await timeIt('engine filter, engine record indexes, gathered (before marking)', rowCount, () => {
    sink.value += filterGathered(engine, evaluator, { user: nextUser(), table: t, privilege: p }, rows.records, out);
  }),
  await timeIt('bare typed-array loop (one BU bitset test per row, one column)', rowCount, () => {
    sink.value += bareScan(rows.businessUnits, bits, out);
  }),
  await timeIt('bare typed-array loop over the same three columns (one test each)', rowCount, () => {
    const { owners, businessUnits, records } = rows;
    const self = u;
    let n = 0;
    for (let i = 0; i < rowCount; i++) {
      const bu = businessUnits[i] as number;
      out[n] = i;
      n +=
        (((bits[bu >>> 5] as number) >>> (bu & 31)) & 1) |
        ((owners[i] === self) as unknown as number) |
        ((records[i] === self) as unknown as number);
    }
    sink.value += n;
  }),
  await timeIt('map evaluator, check per row (20,000 rows)', 20_000, () => {
    const user = userId(nextUser());
    let n = 0;
    for (let i = 0; i < 20_000; i++) if (mapEvaluator.check(user, TABLE, PRIVILEGE, recordIds[i] as string)) n++;
    sink.value += n;
  }),
  // Rows drawn at random: the reference finds a record by scanning, so the first rows would be cheap.
  await timeIt('reference evaluator, check per row (4 rows)', 4, () => {
    const user = userId(nextUser());
    for (let i = 0; i < 4; i++) {
      const record = recordIds[pick.int(recordIds.length)] as string;
      sink.value += reference.decide(user, TABLE, PRIVILEGE, record).allowed ? 1 : 0;
    }
  }),
];
if (baseline !== null) {
  const sql = baseline;
  results.push(
    await timeIt(
      'postgres, Dataverse-style query (BU subtree, owners, shares OR-ed as IN-subqueries)',
      rowCount,
      async () => {
        sink.value += (await sql.filter(userId(nextUser()), TABLE, PRIVILEGE, 'or')).length;
      },
    ),
    await timeIt('postgres, tuned query (the three paths UNION-ed, each on its index)', rowCount, async () => {
      sink.value += (await sql.filter(userId(nextUser()), TABLE, PRIVILEGE, 'union')).length;
    }),
  );
}
if (pushdown !== null) {
  const pool = pushdown;
  results.push(
    await timeIt("postgres, the engine's filterSpec as WHERE (filterSpec + toSqlWhere + query)", rowCount, async () => {
      sink.value += (await pushedDown(pool, nextUser())).length;
    }),
  );
}

// ---- checkBatch: 10,000 mixed questions, two ways ----
// Uniform: any user about any record of the million, the worst case for caches. Timed over
// UNIFORM_BATCHES different batches in turn, as a server sees them: one batch asked again and again
// finds the ~2.5 MB it touches still in the caches, and runs 2–3.5× faster than a new one. That case
// is timed too, named for what it is. List view: 20 users asking about the same 500 records (a
// page set), the shape of a batch check RPC.
const BATCH = 10_000;
const UNIFORM_BATCHES = 64;
const allRecords = world.records ?? [];
const ASKED: PrivilegeName[] = ['read', 'write', 'append', 'share'];
type Item = { user: string; table: string; privilege: PrivilegeName; record: string };
const question = (user: string, record: { table: string; id: string }): Item => ({
  user,
  table: record.table,
  privilege: pick.pick(ASKED),
  record: record.id,
});
// Fresh strings, as a request's decoder makes them: the world's own id strings would compare by
// pointer against the engine's copies, which no caller's ids do.
const uniformBatches: Item[][] = Array.from({ length: UNIFORM_BATCHES }, () =>
  JSON.parse(
    JSON.stringify(Array.from({ length: BATCH }, () => question(pick.pick(candidates).id, pick.pick(allRecords)))),
  ),
);
const items = uniformBatches[0] as Item[];
const pageUsers = Array.from({ length: 20 }, () => pick.pick(candidates).id);
const pageRecords = Array.from({ length: 500 }, () => pick.pick(allRecords));
const listItems = Array.from({ length: BATCH }, (_, i) =>
  question(pageUsers[i % 20] as string, pageRecords[Math.floor(i / 20)] as { table: string; id: string }),
);
const columnsOf = (list: readonly Item[]) => ({
  users: Int32Array.from(list, (i) => engine.user(i.user)),
  tables: Int32Array.from(list, (i) => engine.table(i.table)),
  privileges: Uint8Array.from(list, (i) => engine.privilege(i.privilege)),
  records: Int32Array.from(list, (i) => engine.record(i.table, i.record)),
});
const uniformColumns = uniformBatches.map(columnsOf);
const columns = uniformColumns[0] as ReturnType<typeof columnsOf>;
const listColumns = columnsOf(listItems);
// Every item against the Map evaluator (and the string-id form against the dense one); a sample of
// each batch against the reference evaluator.
const BATCH_REFERENCE_SAMPLE = 48;
for (const [list, cols] of [
  ...uniformBatches.map((batch, k) => [batch, uniformColumns[k] as typeof columns] as const),
  [listItems, listColumns] as const,
]) {
  const answers = engine.checkBatch(cols);
  const fromIds = list === listItems ? answers : engine.checkBatch(list);
  list.forEach((item, i) => {
    if (fromIds[i] !== answers[i]) throw new Error(`checkBatch on string ids and on columns disagree on item ${i}`);
    if (
      isAllowedCode(answers[i] as number) !== mapEvaluator.check(item.user, item.table, item.privilege, item.record)
    ) {
      throw new Error(`checkBatch disagrees with the map evaluator on item ${i}`);
    }
  });
  if (list !== items && list !== listItems) continue;
  const sampled = Array.from({ length: BATCH_REFERENCE_SAMPLE }, () => pick.int(BATCH));
  noteReference(
    verifyQuestions(
      'checkBatch',
      reference,
      sampled.map((i) => list[i] as Question),
      (_, k) => isAllowedCode(answers[sampled[k] as number] as number),
    ),
  );
}
console.log(
  `verified checkBatch against the map evaluator on every item of ${UNIFORM_BATCHES} uniform batches and the list-view batch, and the reference evaluator on ${BATCH_REFERENCE_SAMPLE} items of one uniform batch and of the list-view batch`,
);
const batchOut = new Uint8Array(BATCH);
const batchState = engine.sharedState();
let turn = 0;
const nextUniform = <T>(batches: readonly T[]): T => batches[turn++ % batches.length] as T;
results.push(
  await timeIt('engine checkBatch, 10,000 uniform random items as dense columns, a new batch each time', BATCH, () => {
    sink.value += engine.checkBatch(nextUniform(uniformColumns), batchOut)[0] as number;
  }),
  await timeIt(
    'engine checkBatch, 10,000 uniform random items as dense columns, one batch repeated (warm caches)',
    BATCH,
    () => {
      sink.value += engine.checkBatch(columns, batchOut)[0] as number;
    },
  ),
  await timeIt(
    'bare loop reading what a check must read (profile, grant, grant row, record row), 10,000 uniform items, a new batch each time',
    BATCH,
    () => {
      sink.value += bareBatchReads(batchState, nextUniform(uniformColumns), batchOut);
    },
  ),
  await timeIt(
    'the same reads as separate loops, one independent read per item in each (the best pattern for cache misses), 10,000 uniform items, a new batch each time',
    BATCH,
    () => {
      sink.value += bareBatchPasses(batchState, nextUniform(uniformColumns), batchOut);
    },
  ),
  await timeIt('engine checkBatch, 10,000 list-view items (20 users × 500 records) as dense columns', BATCH, () => {
    sink.value += engine.checkBatch(listColumns, batchOut)[0] as number;
  }),
  await timeIt('engine checkBatch, 10,000 uniform random items with string ids, a new batch each time', BATCH, () => {
    sink.value += engine.checkBatch(nextUniform(uniformBatches), batchOut)[0] as number;
  }),
  await timeIt('map evaluator, 10,000 uniform random checks, a new batch each time', BATCH, () => {
    let n = 0;
    for (const item of nextUniform(uniformBatches)) {
      if (mapEvaluator.check(item.user, item.table, item.privilege, item.record)) n++;
    }
    sink.value += n;
  }),
  await timeIt('reference evaluator, uniform random items one by one (4 items)', 4, () => {
    const from = pick.int(BATCH - 4);
    let n = 0;
    for (let i = from; i < from + 4; i++) {
      const item = items[i] as Item;
      if (reference.decide(item.user, item.table, item.privilege, item.record).allowed) n++;
    }
    sink.value += n;
  }),
);

// ---- whoCanAccess: for a few records, a sample of users (half of them holders) against the reference ----
const enabledUserIds = candidates.map((u) => u.id);
for (let k = 0; k < 3; k++) {
  const recordId = recordIds[pick.int(rowCount)] as string;
  const holders = new Set(engine.whoCanAccess(t, recordId, p).map((h) => h.user));
  const holderList = [...holders];
  const asked = new Set<string>();
  for (let i = 0; i < 8 && holderList.length > 0; i++) asked.add(pick.pick(holderList));
  while (asked.size < 16) asked.add(pick.pick(enabledUserIds));
  noteReference(
    verifyQuestions(
      'whoCanAccess',
      reference,
      [...asked].map((user) => ({ user, table: TABLE, privilege: PRIVILEGE, record: recordId })),
      (q) => holders.has(q.user),
    ),
  );
}
console.log('verified whoCanAccess on 3 records against the reference evaluator (16 users each, half holders)');

// ---- list queries ----
results.push(
  await timeIt(`engine lookup, whole ${TABLE} table (${formatCount(rowCount)} rows), as a bitmap`, 1, () => {
    sink.value += engine.lookup(nextUser(), t, p).size;
  }),
  await timeIt(`engine lookup, whole ${TABLE} table, as sorted record indexes`, 1, () => {
    sink.value += engine.lookup(nextUser(), t, p).recordIndexes().length;
  }),
  // What the postgres queries return: the ids of the rows.
  await timeIt(`engine lookup, whole ${TABLE} table, as record ids`, 1, () => {
    sink.value += engine.lookup(nextUser(), t, p).ids().length;
  }),
  await timeIt('engine filterSpec + toSqlWhere', 1, () => {
    sink.value += toSqlWhere(engine.filterSpec(nextUser(), t, p)).params.length;
  }),
  await timeIt('engine filterSpec alone', 1, () => {
    const spec = engine.filterSpec(nextUser(), t, p);
    sink.value += spec.businessUnitIds.length + spec.ownerIds.length + spec.sharedRecordIds.length;
  }),
  await timeIt('engine whoCanAccess (one record, every user)', 1, () => {
    sink.value += engine.whoCanAccess(t, recordIds[pick.int(rowCount)] as string, p).length;
  }),
);

// ---- incremental updates on this world ----
// Every operation applied to the engine is also applied to the world value (WorldEditor), which
// the reference evaluator reads: before timing, one operation of each timed kind and the questions
// it changes; after timing, every timed operation and a sample of questions about what they touched.
let created = 0;
const someUser = () => userId(nextUser());
const teams = (world.teams ?? []).filter((team) => team.type === 'owner');
const editor = new WorldEditor(world);
const SALES_PRIVILEGES = { account: { read: 'local', write: 'basic' }, currency: { read: 'global' } };
/** The same map with one slot changed (account read local → deep): what the timed role change alternates to. */
const SALES_PRIVILEGES_DEEP = { ...SALES_PRIVILEGES, account: { ...SALES_PRIVILEGES.account, read: 'deep' } };
let salesDeep = false;
/** Applied to the engine while timing, to be applied to the world afterwards (in order). */
const engineOps: UpdateOp[] = [];
/** Applied to the world by the reference baseline while timing, to be applied to the engine afterwards. */
const worldOps: UpdateOp[] = [];
const both = (ops: UpdateOp[]) => {
  engine.apply(ops);
  editor.apply(ops);
};
const engineAgrees = (q: Question) => engine.check(q.user, q.table, q.privilege, q.record).allowed;
const randomRecordIds = (n: number) => Array.from({ length: n }, () => recordIds[pick.int(rowCount)] as string);
{
  const ask = (what: string, questions: Question[]) =>
    noteReference(verifyQuestions(`after ${what}`, reference, questions, engineAgrees));
  const read = (user: string, record: string): Question => ({ user, table: TABLE, privilege: PRIVILEGE, record });
  const [owner, other, sharedWith] = [someUser(), someUser(), someUser()];
  both([{ op: 'createRecord', table: TABLE, id: 'bench-probe', ownerId: owner }]);
  ask('createRecord', [read(owner, 'bench-probe'), read(other, 'bench-probe'), read(sharedWith, 'bench-probe')]);
  both([{ op: 'grantShare', table: TABLE, recordId: 'bench-probe', principalId: sharedWith, rights: ['read'] }]);
  ask('grantShare', [read(sharedWith, 'bench-probe'), read(other, 'bench-probe')]);
  const team = pick.pick(teams);
  const owned = (world.records ?? []).filter((r) => r.table === TABLE && r.ownerId === team.id).slice(0, 3);
  const member = someUser();
  both([{ op: 'addTeamMember', teamId: team.id, userId: member }]);
  ask('addTeamMember', [...owned.map((r) => read(member, r.id)), ...randomRecordIds(3).map((r) => read(member, r))]);
  const roleTeam = pick.pick(teams.filter((candidate) => candidate.members.length > 0));
  const roleMembers = roleTeam.members.slice(0, 3);
  const someRecords = randomRecordIds(2);
  both([{ op: 'addRoleAssignment', principalId: roleTeam.id, roleId: 'role-auditor' }]);
  ask(
    'addRoleAssignment',
    roleMembers.flatMap((m) => someRecords.map((r) => read(m, r))),
  );
  both([{ op: 'removeRoleAssignment', principalId: roleTeam.id, roleId: 'role-auditor' }]);
  ask(
    'removeRoleAssignment',
    roleMembers.flatMap((m) => someRecords.map((r) => read(m, r))),
  );
  both([{ op: 'setRolePrivileges', roleId: 'role-salesperson', privileges: SALES_PRIVILEGES }]);
  ask(
    'setRolePrivileges',
    randomRecordIds(6).flatMap((r) => [
      read(someUser(), r),
      { user: someUser(), table: TABLE, privilege: 'write', record: r },
    ]),
  );
  console.log(
    `verified one update of each timed kind against the reference evaluator (${verified.referenceQuestions} reference questions so far)`,
  );
}
const applied = (op: UpdateOp) => {
  engine.apply([op]);
  engineOps.push(op);
};
// The role change is timed twice: here, on the world as loaded (but for the few updates verified
// above), and again after the timed updates below, which churn it to about twice the profiles (a
// user who joins a team gets a new one).
const timeRoleChange = (world: string) => {
  console.log(`  (profiles before the role change ${world}: ${engine.stats().profiles.toLocaleString('en-US')})`);
  return timeIt(
    `update: setRolePrivileges ${world} (a role 70% of users hold, one slot changes)`,
    1,
    () => {
      // Alternating: the same map again would recompile nothing.
      salesDeep = !salesDeep;
      const privileges = salesDeep ? SALES_PRIVILEGES_DEEP : SALES_PRIVILEGES;
      applied({ op: 'setRolePrivileges', roleId: 'role-salesperson', privileges });
      sink.value += engine.revision;
    },
    { timeMs: 3000, iterations: 16 },
  );
};
results.push(await timeRoleChange('on the fresh world'));
results.push(
  await timeIt('update: createRecord, then check it', 1, () => {
    const id = `bench-${created++}`;
    applied({ op: 'createRecord', table: TABLE, id, ownerId: someUser() });
    sink.value += engine.check(nextUser(), t, p, id).allowed ? 1 : 0;
  }),
  await timeIt('update: grantShare, then check it', 1, () => {
    const recordId = recordIds[pick.int(rowCount)] as string;
    const principalId = someUser();
    applied({ op: 'grantShare', table: TABLE, recordId, principalId, rights: ['read'] });
    sink.value += engine.check(principalId, TABLE, 'read', recordId).allowed ? 1 : 0;
  }),
  // Any enabled user joins: drawing from the 24 timed users instead made each of them a member of
  // hundreds of teams by the end, which made every later team role change recompile such profiles.
  await timeIt('update: addTeamMember (recompiles one user)', 1, () => {
    const team = pick.pick(teams);
    applied({ op: 'addTeamMember', teamId: team.id, userId: pick.pick(enabledUserIds) });
    sink.value += engine.revision;
  }),
  await timeIt("update: team role change (recompiles its members' profiles)", 1, () => {
    const team = pick.pick(teams);
    applied({ op: 'addRoleAssignment', principalId: team.id, roleId: 'role-auditor' });
    applied({ op: 'removeRoleAssignment', principalId: team.id, roleId: 'role-auditor' });
    sink.value += engine.revision;
  }),
);
results.push(
  await timeRoleChange('after the updates above'),
  await timeIt('update: createUser in a random BU, then check for it', 1, () => {
    const id = `bench-user-${created++}`;
    const businessUnitId = (pick.pick(world.businessUnits ?? []) as { id: string }).id;
    applied({ op: 'createUser', id, businessUnitId });
    sink.value += engine.check(id, TABLE, PRIVILEGE, recordIds[0] as string).allowed ? 1 : 0;
  }),
  // Numbers the BU tree again and recomputes every distinct coverage (no profile is compiled).
  await timeIt(
    'update: createBusinessUnit under a random BU',
    1,
    () => {
      const parentId = (pick.pick(world.businessUnits ?? []) as { id: string }).id;
      applied({ op: 'createBusinessUnit', id: `bench-bu-${created++}`, parentId });
      sink.value += engine.revision;
    },
    { timeMs: 3000, iterations: 16 },
  ),
  // The reference evaluator has nothing to update: the change is a push into the world value, and
  // the cost is in its next question, which walks the grown arrays.
  await timeIt(
    'reference evaluator: createRecord (push into the world), then check it',
    1,
    () => {
      const op: UpdateOp = { op: 'createRecord', table: TABLE, id: `ref-bench-${created++}`, ownerId: someUser() };
      editor.apply([op]);
      worldOps.push(op);
      sink.value += reference.decide(userId(nextUser()), TABLE, PRIVILEGE, op.id).allowed ? 1 : 0;
    },
    { timeMs: 1000, iterations: 16 },
  ),
  await timeIt(
    'reference evaluator: grantShare (push into the world), then check it',
    1,
    () => {
      const recordId = recordIds[pick.int(rowCount)] as string;
      const principalId = someUser();
      const op: UpdateOp = { op: 'grantShare', table: TABLE, recordId, principalId, rights: ['read'] };
      editor.apply([op]);
      worldOps.push(op);
      sink.value += reference.decide(principalId, TABLE, 'read', recordId).allowed ? 1 : 0;
    },
    { timeMs: 1000, iterations: 16 },
  ),
);
// After timing: both sides get the other's operations, then the touched records and members are asked again.
started = performance.now();
engine.apply(worldOps);
editor.apply(engineOps);
{
  const sampleOf = <T>(list: readonly T[], n: number) =>
    Array.from({ length: Math.min(n, list.length) }, () => pick.pick(list));
  const createdOps = engineOps.filter((op) => op.op === 'createRecord');
  const shareOps = [...engineOps, ...worldOps].filter((op) => op.op === 'grantShare');
  const memberOps = engineOps.filter((op) => op.op === 'addTeamMember');
  const questions: Question[] = [
    ...sampleOf([...createdOps, ...worldOps.filter((op) => op.op === 'createRecord')], 10).flatMap((op) => [
      { user: op.ownerId as string, table: TABLE, privilege: PRIVILEGE, record: op.id },
      { user: someUser(), table: TABLE, privilege: PRIVILEGE, record: op.id },
    ]),
    ...sampleOf(shareOps, 10).map((op) => ({
      user: op.principalId,
      table: TABLE,
      privilege: 'read' as const,
      record: op.recordId,
    })),
    ...sampleOf(memberOps, 6).flatMap((op) =>
      randomRecordIds(2).map((record) => ({ user: op.userId, table: TABLE, privilege: PRIVILEGE, record })),
    ),
  ];
  noteReference(verifyQuestions('the engine after the timed updates', reference, questions, engineAgrees));
  console.log(
    `verified ${questions.length} questions about what ${engineOps.length + worldOps.length} timed updates touched ` +
      `against the reference evaluator (${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
}

// ---- report ----
const timing = (name: string): Timing | undefined => results.find((r) => r.name.startsWith(name));
const rowsPerSecond = (name: string) => timing(name)?.perSecond ?? Number.NaN;
/** How many times faster `a` is than `b`, per operation (row, check). */
const ratio = (a: string, b: string) => rowsPerSecond(a) / rowsPerSecond(b);
const LOOKUP_IDS = `engine lookup, whole ${TABLE} table, as record ids`;
/** Median nanoseconds of one call. */
const callNs = (name: string) => timing(name)?.medianNs ?? Number.NaN;
/** The reference evaluator answering a whole-table question: one check per row of the table. */
const referenceTableNs = (1e9 / rowsPerSecond('reference evaluator, check per row')) * rowCount;
console.log('\n| case | median | throughput |\n| --- | --- | --- |');
for (const r of results) console.log(`| ${r.name} | ${r.median} | ${formatCount(r.perSecond)}/s |`);
const ratios = {
  'filter columns, row kernels vs the JavaScript row loop': ratio(
    'engine filter, caller columns',
    'JavaScript row loop',
  ),
  'filter columns vs bare loop (one column)': ratio('engine filter, caller columns', 'bare typed-array loop (one'),
  'filter columns vs bare loop (three columns)': ratio('engine filter, caller columns', 'bare typed-array loop over'),
  'filter columns vs map evaluator': ratio('engine filter, caller columns', 'map evaluator, check per row'),
  'filter columns vs reference evaluator': ratio('engine filter, caller columns', 'reference evaluator'),
  'filter columns vs postgres (Dataverse-style)': ratio('engine filter, caller columns', 'postgres, Dataverse-style'),
  'filter columns vs postgres (tuned)': ratio('engine filter, caller columns', 'postgres, tuned'),
  'filter records vs map evaluator': ratio('engine filter, engine record indexes', 'map evaluator, check per row'),
  'filter records vs postgres (Dataverse-style)': ratio(
    'engine filter, engine record indexes',
    'postgres, Dataverse-style',
  ),
  'filter records vs postgres (tuned)': ratio('engine filter, engine record indexes', 'postgres, tuned'),
  'filter records vs the same, gathered (before marking)': ratio(
    'engine filter, engine record indexes',
    'engine filter, engine record indexes, gathered',
  ),
  // Both answer "which rows of the table may the user read": a lookup counts as one operation.
  'filter columns vs postgres running the engine filterSpec': ratio(
    'engine filter, caller columns',
    "postgres, the engine's",
  ),
  'postgres running the engine filterSpec vs postgres (Dataverse-style)': ratio(
    "postgres, the engine's",
    'postgres, Dataverse-style',
  ),
  // Both answer "which rows of the table may the user read": a lookup counts as one operation.
  // Like for like: the postgres queries return row ids, so does this lookup.
  'lookup as ids vs postgres (tuned), same question': ratio(LOOKUP_IDS, 'postgres, tuned') * rowCount,
  'lookup as ids vs postgres (Dataverse-style), same question':
    ratio(LOOKUP_IDS, 'postgres, Dataverse-style') * rowCount,
  'lookup as ids vs postgres running the engine filterSpec, same question':
    ratio(LOOKUP_IDS, "postgres, the engine's") * rowCount,
  'lookup as a bitmap vs postgres (tuned)': ratio('engine lookup, whole', 'postgres, tuned') * rowCount,
  'lookup as a bitmap vs reference evaluator (a check per row of the table)':
    referenceTableNs / callNs('engine lookup, whole'),
  'filterSpec + toSqlWhere vs reference evaluator (a check per row)':
    referenceTableNs / callNs('engine filterSpec + toSqlWhere'),
  // The map evaluator takes string ids; the like-for-like ratio is the engine on string ids too.
  'checkBatch uniform, string ids (a new batch each time) vs map evaluator (the same batches)': ratio(
    'engine checkBatch, 10,000 uniform random items with string ids',
    'map evaluator, 10,000 uniform',
  ),
  'checkBatch uniform (a new batch each time) vs the bare loop of its reads': ratio(
    'engine checkBatch, 10,000 uniform random items as dense columns, a new',
    'bare loop reading what a check must read',
  ),
  'checkBatch uniform (a new batch each time) vs its reads as separate loops': ratio(
    'engine checkBatch, 10,000 uniform random items as dense columns, a new',
    'the same reads as separate loops',
  ),
  'checkBatch uniform, dense columns (a new batch each time) vs map evaluator on string ids': ratio(
    'engine checkBatch, 10,000 uniform random items as dense columns, a new',
    'map evaluator, 10,000 uniform',
  ),
  'checkBatch uniform (a new batch each time) vs reference evaluator': ratio(
    'engine checkBatch, 10,000 uniform random items as dense columns, a new',
    'reference evaluator, uniform',
  ),
  'checkBatch uniform, one batch repeated vs a new batch each time (what warm caches are worth)': ratio(
    'engine checkBatch, 10,000 uniform random items as dense columns, one',
    'engine checkBatch, 10,000 uniform random items as dense columns, a new',
  ),
  'checkBatch list view vs reference evaluator': ratio(
    'engine checkBatch, 10,000 list-view',
    'reference evaluator, uniform',
  ),
  'whoCanAccess vs reference evaluator (a check per enabled user)':
    (candidates.length * 1e9) / rowsPerSecond('reference evaluator, uniform') / callNs('engine whoCanAccess'),
  'update createRecord + check vs reference evaluator': ratio(
    'update: createRecord',
    'reference evaluator: createRecord',
  ),
  'update grantShare + check vs reference evaluator': ratio('update: grantShare', 'reference evaluator: grantShare'),
  'update createRecord + check vs a full recompile': (compileMs * 1e6) / callNs('update: createRecord'),
  'update addTeamMember vs a full recompile': (compileMs * 1e6) / callNs('update: addTeamMember'),
  'update createBusinessUnit vs a full recompile': (compileMs * 1e6) / callNs('update: createBusinessUnit'),
  'update team role change (two applies) vs a full recompile': (compileMs * 1e6) / callNs('update: team role change'),
  'update setRolePrivileges (fresh world) vs a full recompile':
    (compileMs * 1e6) / callNs('update: setRolePrivileges on the fresh world'),
  'update setRolePrivileges (churned world) vs a full recompile':
    (compileMs * 1e6) / callNs('update: setRolePrivileges after the updates above'),
};
printRatios(ratios);
console.log(
  '(whole-table reference figures are its measured time per row times the rows of the table; ' +
    'a full recompile is the median of three loads + compiles at the start of this run)',
);

const file = writeResults('bulk', {
  machine,
  shape,
  verified,
  compileMs,
  compileRuns,
  memoryBytes: bytes,
  lazyIndexBytes: lazyBytes,
  perItem,
  stats,
  results,
  ratios,
});
console.log(`results written to ${file}`);
await baseline?.close();
await pushdown?.end();
await postgres?.stop();
rmSync(dataDir, { recursive: true, force: true });
