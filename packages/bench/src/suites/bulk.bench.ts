/**
 * List views and batch checks: `filter`, `checkBatch`, `lookup`, `filterSpec`, `whoCanAccess`
 * and incremental updates on a large world (default 10,000 BUs in an 8-level tree, 100,000
 * users, 1,000,000 records), beside a bare typed-array loop, the Map-based evaluator, the test
 * suite's reference evaluator and PostgreSQL filtering the way Dataverse does, all in one run.
 * Answers are verified against the baselines before anything is timed.
 *
 *   pnpm bench:bulk [-- --records 1000000 --users 100000 --bus 10000 --no-postgres]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Engine, isAllowedCode, type PrivilegeName, toSqlWhere, type UserIdx } from '@palisade/core';
import { RowField } from '@palisade/core/internal';
import { ReferenceEvaluator } from '../../../core/test/reference/reference.js';
import { MapEvaluator } from '../baselines/map-evaluator.js';
import { PostgresDataverseBaseline } from '../baselines/postgres-dataverse.js';
import { Picker } from '../generate/random.js';
import { generateWorld, type WorldShape } from '../generate/world.js';
import { bareScan, formatCount, machine, requireBuiltCore, sink, writeResults } from '../harness.js';
import { engineMemory, memoryPerItem } from '../memory.js';
import { startPostgres } from '../postgres.js';
import { timeIt } from '../timing.js';

// pnpm passes a `--` separator through to the script.
const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    records: { type: 'string', default: '1000000' },
    users: { type: 'string', default: '100000' },
    bus: { type: 'string', default: '10000' },
    depth: { type: 'string', default: '8' },
    'no-postgres': { type: 'boolean', default: false },
  },
});
const shape: WorldShape = {
  seed: 7,
  businessUnits: Number(args.bus),
  depth: Number(args.depth),
  users: Number(args.users),
  records: Number(args.records),
  shareRatio: 0.05,
};
const TABLE = 'account';
const PRIVILEGE: PrivilegeName = 'read';

console.log(`palisade bench: bulk — ${JSON.stringify(machine())}`);
console.log(`core: ${requireBuiltCore()}`);

let started = performance.now();
const world = generateWorld(shape);
console.log(`world ${JSON.stringify(shape)} generated in ${(performance.now() - started).toFixed(0)} ms`);

// ---- compile: time and memory ----
const { engine, compileMs, bytes } = engineMemory(() => Engine.fromWorld(world));
const stats = engine.stats();
console.log(
  `load + compile: ${compileMs.toFixed(0)} ms; engine memory ${(bytes / 2 ** 20).toFixed(0)} MiB; ${JSON.stringify(stats)}`,
);
const perItem = memoryPerItem(shape);
console.log(`memory: ${perItem.perRecord.toFixed(0)} bytes per record, ${perItem.perUser.toFixed(0)} bytes per user`);

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
const mapEvaluator = new MapEvaluator(world);
const reference = new ReferenceEvaluator(world);
for (const user of sampleUsers.slice(0, 4)) {
  const allowed = new Set(engine.filter(user, t, p, rows));
  for (let i = 0; i < rowCount; i += 97) {
    if (allowed.has(i) !== mapEvaluator.check(userId(user), TABLE, PRIVILEGE, recordIds[i] as string)) {
      throw new Error(`map evaluator disagrees: ${userId(user)} row ${i}`);
    }
  }
  for (let i = 0; i < rowCount; i += Math.floor(rowCount / 12)) {
    if (allowed.has(i) !== reference.decide(userId(user), TABLE, PRIVILEGE, recordIds[i] as string).allowed) {
      throw new Error(`reference evaluator disagrees: ${userId(user)} row ${i}`);
    }
  }
}
console.log(
  'verified filter against the map evaluator (every 97th row) and the reference evaluator (12 rows) for 4 users',
);

let postgres: Awaited<ReturnType<typeof startPostgres>> | null = null;
let baseline: PostgresDataverseBaseline | null = null;
const dataDir = mkdtempSync(join(tmpdir(), 'palisade-bench-pg-'));
if (!args['no-postgres']) {
  postgres = await startPostgres(dataDir);
  started = performance.now();
  baseline = await PostgresDataverseBaseline.load(world, postgres.url);
  console.log(`postgres: loaded the world in ${(performance.now() - started).toFixed(0)} ms`);
  for (const user of sampleUsers.slice(0, 3)) {
    const sql = new Set(await baseline.filter(userId(user), TABLE, PRIVILEGE));
    const mine = engine.lookup(user, t, p).ids();
    if (sql.size !== mine.length || mine.some((id) => !sql.has(id)))
      throw new Error(`postgres disagrees: ${userId(user)}`);
  }
  console.log('verified the engine against postgres for 3 users');
}

// ---- filter ----
const out = new Uint32Array(rowCount);
let u = 0;
const nextUser = () => sampleUsers[u++ % sampleUsers.length] as UserIdx;
const bits = new Uint32Array(((shape.businessUnits + 31) >>> 5) + 1).fill(0x01010101);
const results = [
  await timeIt('engine filter, caller columns (owner, BU, record)', rowCount, () => {
    sink.value += engine.filter(nextUser(), t, p, rows).length;
  }),
  await timeIt('engine filter, engine record indexes', rowCount, () => {
    sink.value += engine.filter(nextUser(), t, p, { records: rows.records }).length;
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
  await timeIt('reference evaluator, check per row (4 rows)', 4, () => {
    const user = userId(nextUser());
    for (let i = 0; i < 4; i++)
      sink.value += reference.decide(user, TABLE, PRIVILEGE, recordIds[i] as string).allowed ? 1 : 0;
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

// ---- checkBatch: 10,000 mixed questions, two ways ----
// Uniform: any user about any record of the million, the worst case for caches. List view: 20
// users asking about the same 500 records (a page set), the shape of a batch check RPC.
const BATCH = 10_000;
const allRecords = world.records ?? [];
const ASKED: PrivilegeName[] = ['read', 'write', 'append', 'share'];
type Item = { user: string; table: string; privilege: PrivilegeName; record: string };
const question = (user: string, record: { table: string; id: string }): Item => ({
  user,
  table: record.table,
  privilege: pick.pick(ASKED),
  record: record.id,
});
const items = Array.from({ length: BATCH }, () => question(pick.pick(candidates).id, pick.pick(allRecords)));
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
const columns = columnsOf(items);
const listColumns = columnsOf(listItems);
for (const [list, cols] of [
  [items, columns],
  [listItems, listColumns],
] as const) {
  const answers = engine.checkBatch(cols);
  list.forEach((item, i) => {
    if (
      isAllowedCode(answers[i] as number) !== mapEvaluator.check(item.user, item.table, item.privilege, item.record)
    ) {
      throw new Error(`checkBatch disagrees with the map evaluator on item ${i}`);
    }
  });
}
const batchOut = new Uint8Array(BATCH);
results.push(
  await timeIt('engine checkBatch, 10,000 uniform random items as dense columns', BATCH, () => {
    sink.value += engine.checkBatch(columns, batchOut)[0] as number;
  }),
  await timeIt('engine checkBatch, 10,000 list-view items (20 users × 500 records) as dense columns', BATCH, () => {
    sink.value += engine.checkBatch(listColumns, batchOut)[0] as number;
  }),
  await timeIt('engine checkBatch, 10,000 uniform random items with string ids', BATCH, () => {
    sink.value += engine.checkBatch(items, batchOut)[0] as number;
  }),
  await timeIt('map evaluator, 10,000 uniform random checks', BATCH, () => {
    let n = 0;
    for (const item of items) if (mapEvaluator.check(item.user, item.table, item.privilege, item.record)) n++;
    sink.value += n;
  }),
);

// ---- list queries ----
results.push(
  await timeIt(`engine lookup, whole ${TABLE} table (${formatCount(rowCount)} rows)`, 1, () => {
    sink.value += engine.lookup(nextUser(), t, p).size;
  }),
  await timeIt('engine filterSpec + toSqlWhere', 1, () => {
    sink.value += toSqlWhere(engine.filterSpec(nextUser(), t, p)).params.length;
  }),
  await timeIt('engine whoCanAccess (one record, every user)', 1, () => {
    sink.value += engine.whoCanAccess(t, recordIds[pick.int(rowCount)] as string, p).length;
  }),
);

// ---- incremental updates on this world ----
let created = 0;
const someUser = () => userId(nextUser());
const teams = (world.teams ?? []).filter((team) => team.type === 'owner');
results.push(
  await timeIt('update: createRecord, then check it', 1, () => {
    const id = `bench-${created++}`;
    engine.apply([{ op: 'createRecord', table: TABLE, id, ownerId: someUser() }]);
    sink.value += engine.check(nextUser(), t, p, id).allowed ? 1 : 0;
  }),
  await timeIt('update: grantShare, then check it', 1, () => {
    const recordId = recordIds[pick.int(rowCount)] as string;
    const principalId = someUser();
    engine.apply([{ op: 'grantShare', table: TABLE, recordId, principalId, rights: ['read'] }]);
    sink.value += engine.check(principalId, TABLE, 'read', recordId).allowed ? 1 : 0;
  }),
  await timeIt('update: addTeamMember (recompiles one user)', 1, () => {
    const team = pick.pick(teams);
    engine.apply([{ op: 'addTeamMember', teamId: team.id, userId: someUser() }]);
  }),
  await timeIt("update: team role change (recompiles its members' profiles)", 1, () => {
    const team = pick.pick(teams);
    engine.apply([{ op: 'addRoleAssignment', principalId: team.id, roleId: 'role-auditor' }]);
    engine.apply([{ op: 'removeRoleAssignment', principalId: team.id, roleId: 'role-auditor' }]);
  }),
  await timeIt(
    'update: setRolePrivileges on a role 70% of users hold',
    1,
    () => {
      const privileges = { account: { read: 'local', write: 'basic' }, currency: { read: 'global' } };
      engine.apply([{ op: 'setRolePrivileges', roleId: 'role-salesperson', privileges }]);
    },
    { timeMs: 3000 },
  ),
);

// ---- report ----
const rowsPerSecond = (name: string) => results.find((r) => r.name.startsWith(name))?.perSecond ?? Number.NaN;
const ratio = (a: string, b: string) => rowsPerSecond(a) / rowsPerSecond(b);
console.log('\n| case | median | throughput |\n| --- | --- | --- |');
for (const r of results) console.log(`| ${r.name} | ${r.median} | ${formatCount(r.perSecond)}/s |`);
const ratios = {
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
  // Both answer "which rows of the table may the user read": a lookup counts as one operation.
  'lookup vs postgres (tuned), same question': ratio('engine lookup', 'postgres, tuned') * rowCount,
  'checkBatch uniform vs map evaluator': ratio('engine checkBatch, 10,000 uniform', 'map evaluator, 10,000 uniform'),
};
console.log('\nratios (same run):');
for (const [name, value] of Object.entries(ratios)) console.log(`  ${name}: ${value.toFixed(1)}×`);

const file = writeResults('bulk', {
  machine: machine(),
  shape,
  compileMs,
  memoryBytes: bytes,
  perItem,
  stats,
  results,
  ratios,
});
console.log(`results written to ${file}`);
await baseline?.close();
await postgres?.stop();
rmSync(dataDir, { recursive: true, force: true });
