/**
 * Every incremental update the engine offers for records, shares, teams, roles and users, timed
 * one per `apply` on the `bench:bulk` world as loaded (10,000 BUs in an 8-level tree, 100,000
 * users, 1,000,000 records): median, 90th percentile and the slowest, beside a full load +
 * compile of the same world, which is what an engine without incremental updates would redo.
 * Afterwards the updated engine is held to a fresh compile of the world it has become
 * (`Engine.fromWorld(engine.toWorld())`) on random questions, so the timed state was a right one.
 *
 *   pnpm bench:updates [-- --records 1000000 --users 100000 --bus 10000 --count 200]
 */
import { parseArgs } from 'node:util';
import { Engine, PRIVILEGES, type UpdateOp } from '@palisade/core';
import { Picker } from '../generate/random.js';
import { generateWorld, PRESETS, type WorldShape } from '../generate/world.js';
import { announce, formatNs, formatRatio, sink, writeResults } from '../harness.js';

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    records: { type: 'string', default: String(PRESETS.bulk.records) },
    users: { type: 'string', default: String(PRESETS.bulk.users) },
    bus: { type: 'string', default: String(PRESETS.bulk.businessUnits) },
    count: { type: 'string', default: '200' },
  },
});
const shape: WorldShape = {
  ...PRESETS.bulk,
  businessUnits: Number(args.bus),
  users: Number(args.users),
  records: Number(args.records),
};
const COUNT = Number(args.count);
/** Role changes rewrite a slot of most profiles: fewer of them, alternating between two maps. */
const ROLE_CHANGES = 30;
const TABLE = 'account';
const QUESTIONS = 20_000;

const { machine } = announce('updates');
const world = generateWorld(shape);
const loads: number[] = [];
let engine = Engine.fromWorld(world);
for (let i = 0; i < 3; i++) {
  const started = performance.now();
  engine = Engine.fromWorld(world);
  loads.push(performance.now() - started);
}
const compileMs = median(loads);
console.log(`world ${JSON.stringify(shape)}: load + compile median ${compileMs.toFixed(0)} ms of three`);
console.log(JSON.stringify(engine.stats()));

const pick = new Picker(5);
const users = (world.users ?? []).filter((u) => !u.disabled).map((u) => u.id);
const businessUnits = (world.businessUnits ?? []).map((bu) => bu.id);
const ownerTeams = (world.teams ?? []).filter((team) => team.type === 'owner').map((team) => team.id);
const accounts = (world.records ?? []).filter((r) => r.table === TABLE).map((r) => r.id);
/** Distinct users in a fixed order, so an op and its undo meet the same user exactly once. */
const nthUser = (i: number, stride: number) => users[(i * stride) % users.length] as string;

interface Row {
  readonly name: string;
  readonly count: number;
  readonly medianNs: number;
  readonly p90Ns: number;
  readonly maxNs: number;
}
const rows: Row[] = [];

/** Applies `make(i)` for i < count, one `apply` each, and records the times. */
function time(name: string, make: (i: number) => UpdateOp[], count = COUNT): void {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const ops = make(i);
    const started = performance.now();
    sink.value += engine.apply(ops).revision;
    times.push((performance.now() - started) * 1e6);
  }
  times.sort((a, b) => a - b);
  const row = {
    name,
    count,
    medianNs: times[count >> 1] as number,
    p90Ns: times[Math.floor(count * 0.9)] as number,
    maxNs: times[count - 1] as number,
  };
  rows.push(row);
  console.log(
    `  ${name}: median ${formatNs(row.medianNs)}, p90 ${formatNs(row.p90Ns)}, max ${formatNs(row.maxNs)} (${count})`,
  );
}

const created: string[] = [];
time('createRecord', (i) => {
  created.push(`bench-${i}`);
  return [{ op: 'createRecord', table: TABLE, id: `bench-${i}`, ownerId: pick.pick(users) }];
});
time('deleteRecord (one created above)', (i) => [{ op: 'deleteRecord', table: TABLE, id: created[i] as string }]);
time('assignRecord', () => [{ op: 'assignRecord', table: TABLE, id: pick.pick(accounts), ownerId: pick.pick(users) }]);
const shares: [string, string][] = [];
time('grantShare', () => {
  const share: [string, string] = [pick.pick(accounts), pick.pick(users)];
  shares.push(share);
  return [{ op: 'grantShare', table: TABLE, recordId: share[0], principalId: share[1], rights: ['read'] }];
});
time('modifyShare (the same share, other rights)', (i) => {
  const [recordId, principalId] = shares[i] as [string, string];
  return [{ op: 'modifyShare', table: TABLE, recordId, principalId, rights: ['read', 'write'] }];
});
time('revokeShare', (i) => {
  const [recordId, principalId] = shares[i] as [string, string];
  return [{ op: 'revokeShare', table: TABLE, recordId, principalId }];
});
const joined: string[] = [];
time('addTeamMember', (i) => {
  joined.push(pick.pick(ownerTeams));
  return [{ op: 'addTeamMember', teamId: joined[i] as string, userId: nthUser(i, 7907) }];
});
time('removeTeamMember (the same)', (i) => [
  { op: 'removeTeamMember', teamId: joined[i] as string, userId: nthUser(i, 7907) },
]);
time('addRoleAssignment (a user)', (i) => [
  { op: 'addRoleAssignment', principalId: nthUser(i, 7919), roleId: 'role-auditor' },
]);
time('removeRoleAssignment (the same)', (i) => [
  { op: 'removeRoleAssignment', principalId: nthUser(i, 7919), roleId: 'role-auditor' },
]);
time(
  "addRoleAssignment + removeRoleAssignment (a team: its members' profiles, twice)",
  () => {
    const team = pick.pick(ownerTeams);
    return [
      { op: 'addRoleAssignment', principalId: team, roleId: 'role-auditor' },
      { op: 'removeRoleAssignment', principalId: team, roleId: 'role-auditor' },
    ];
  },
  ROLE_CHANGES,
);
const SALES = { account: { read: 'local', write: 'basic' }, currency: { read: 'global' } };
const SALES_DEEP = { ...SALES, account: { ...SALES.account, read: 'deep' } };
time(
  'setRolePrivileges (a role 70% of users hold, one slot changes)',
  (i) => [{ op: 'setRolePrivileges', roleId: 'role-salesperson', privileges: i % 2 === 0 ? SALES_DEEP : SALES }],
  ROLE_CHANGES,
);
time('moveUser (its records move with it)', () => [
  { op: 'moveUser', userId: pick.pick(users), businessUnitId: pick.pick(businessUnits) },
]);
time('moveUser (doNotMoveRecords)', () => [
  { op: 'moveUser', userId: pick.pick(users), businessUnitId: pick.pick(businessUnits), doNotMoveRecords: true },
]);
time('setUserDisabled true', (i) => [{ op: 'setUserDisabled', userId: nthUser(i, 104729), disabled: true }]);
time('setUserDisabled false (the same)', (i) => [
  { op: 'setUserDisabled', userId: nthUser(i, 104729), disabled: false },
]);

// The timed state against a fresh compile of the world it describes.
const worldNow = engine.toWorld();
const fresh = Engine.fromWorld(worldNow);
const allUsers = (worldNow.users ?? []).map((u) => u.id);
const recordsNow = worldNow.records ?? [];
let differing = 0;
for (let i = 0; i < QUESTIONS; i++) {
  const record = pick.pick(recordsNow);
  const user = pick.pick(allUsers);
  const privilege = pick.pick(PRIVILEGES);
  const a = engine.check(user, record.table, privilege, record.id).allowed;
  const b = fresh.check(user, record.table, privilege, record.id).allowed;
  if (a !== b) differing++;
}
if (differing > 0) throw new Error(`the updated engine differs from a fresh compile on ${differing} questions`);
console.log(`verified: the updated engine and a fresh compile of its world agree on ${QUESTIONS} random questions`);

console.log('\n| update | median | p90 | max | a full load + compile / median |');
console.log('| --- | --- | --- | --- | --- |');
for (const row of rows) {
  const ratio = formatRatio((compileMs * 1e6) / row.medianNs);
  console.log(
    `| ${row.name} | ${formatNs(row.medianNs)} | ${formatNs(row.p90Ns)} | ${formatNs(row.maxNs)} | ${ratio} |`,
  );
}
console.log(`results written to ${writeResults('updates', { machine, shape, compileMs, rows })}`);

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] as number;
}
