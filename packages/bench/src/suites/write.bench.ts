/**
 * Durable writes and replicas (issue 6), through real `palisade serve` processes (the built
 * server, `packages/server/dist/cli.js`) on one PostgreSQL (embedded, durable settings: fsync and
 * synchronous commit on; or DATABASE_URL):
 *
 * 1. `palisade import` of the world (default the 1M-record `medium` world), into a fresh cluster
 *    and again into the initialised store;
 * 2. start-up: `palisade serve` until `/readyz` answers, for replica A and then replica B;
 * 3. write throughput through A (after a CHECKPOINT, so the import's dirty pages are not flushed
 *    in the middle): single-operation writes from one client and from several, and
 *    batched writes (100 operations a request);
 * 4. write-to-visible latency on B: a write through A, then B polled until it has applied the
 *    revision by itself (LISTEN/NOTIFY), and a read on B with `atLeastRevision` (read-your-writes).
 *
 * Decisions are verified against the reference evaluator (on the world file, with every write
 * applied to it in place): a sample of questions on both replicas before the writes are timed, a
 * sample about what the writes touched on B after them, and the same on A after its restart. No
 * ratio is printed: nothing in the reference evaluator is durable, so nothing is like for like.
 *
 *   pnpm bench:write [-- --world /tmp/medium.msgpack --writes 2000 --batches 300 --latency 500]
 *
 * The world file is made when missing:
 *   pnpm palisade-bench gen --preset medium --format msgpack --out /tmp/medium.msgpack
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { PrivilegeName, UpdateOp, WorldInput } from '@palisade/core';
import { sha256 } from '@palisade/server';
import { unpack } from 'msgpackr';
import pg from 'pg';
import { Agent, request } from 'undici';
import { type Question, ReferenceEvaluator, WorldEditor } from '../baselines/reference.js';
import { Picker } from '../generate/random.js';
import { announce, writeResults } from '../harness.js';
import { startPostgres } from '../postgres.js';

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    world: { type: 'string', default: '/tmp/medium.msgpack' },
    writes: { type: 'string', default: '2000' },
    clients: { type: 'string', default: '8' },
    batches: { type: 'string', default: '300' },
    'batch-size': { type: 'string', default: '100' },
    latency: { type: 'string', default: '500' },
  },
});
const WRITES = Number(args.writes);
const CLIENTS = Number(args.clients);
const BATCHES = Number(args.batches);
const BATCH_SIZE = Number(args['batch-size']);
const LATENCY_SAMPLES = Number(args.latency);

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SERVER_CLI = join(ROOT, 'packages/server/dist/cli.js');
const BENCH_CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));
const KEY = 'bench-admin-key-0123456789abcdef';

if (!existsSync(SERVER_CLI)) throw new Error(`build the server first (pnpm run build:bench): ${SERVER_CLI} is missing`);
const { machine } = announce('write');

// ---- the world ----
const worldPath = args.world;
if (!existsSync(worldPath)) {
  console.log(`${worldPath} is missing: generating the medium world`);
  await run(process.execPath, [
    '--import',
    'tsx',
    BENCH_CLI,
    'gen',
    '--preset',
    'medium',
    '--format',
    'msgpack',
    '--out',
    worldPath,
  ]);
}
// Ids for the writes: the world's users, tables and some records. The world value stays: the
// reference evaluator answers from it, with every write applied to it (WorldEditor).
const world = unpack(readFileSync(worldPath)) as WorldInput & {
  users: { id: string }[];
  tables: { name: string; ownership?: string }[];
  records: { table: string; id: string }[];
};
const users = world.users.map((u) => u.id);
const table = world.tables.find((t) => t.ownership !== 'organization')?.name ?? 'account';
const sharable = world.records.filter((r) => r.table === table).map((r) => r.id);
const recordCount = world.records.length;
console.log(
  `world ${worldPath}: ${recordCount} records, ${users.length} users; writes on table ${table} (${sharable.length} records)`,
);
const reference = new ReferenceEvaluator(world);
const editor = new WorldEditor(world);
/** Every operation a write sent (and A acknowledged), in order. */
const sentOps: UpdateOp[] = [];
const pick = new Picker(17);
const verified: { when: string; replica: string; questions: number; allowed: number }[] = [];

const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-write-'));
// Under root the embedded PostgreSQL runs as `postgres`, which must be able to enter the directory.
chmodSync(dir, 0o755);
const keysFile = join(dir, 'keys.json');
writeFileSync(
  keysFile,
  JSON.stringify({ keys: [{ id: 'bench', sha256: sha256(KEY).toString('hex'), scopes: ['admin'] }] }),
);
const postgres = await startPostgres(join(dir, 'pg'));
const databaseUrl = postgres.url;
const agent = new Agent({ connections: 64, keepAliveTimeout: 30_000 });
const servers: ChildProcess[] = [];
/** The highest revision a write answered. */
let lastRevision = 0;

try {
  // ---- import ----
  const imports: { run: string; wallS: number; reportedS: number }[] = [];
  for (const runName of ['into a fresh cluster', 'again (store initialised)']) {
    const started = performance.now();
    const output = await run(process.execPath, [SERVER_CLI, 'import', worldPath, '--database-url', databaseUrl]);
    const wallS = (performance.now() - started) / 1000;
    const reportedS = Number(/ in ([\d.]+) s:/.exec(output)?.[1] ?? Number.NaN);
    imports.push({ run: runName, wallS, reportedS });
    console.log(`import ${runName}: ${wallS.toFixed(1)} s wall (${reportedS} s as the command reports)`);
  }

  // The import left hundreds of MB of dirty pages: flush them now, not in a checkpoint that would
  // stall commits in the middle of the write timings.
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('CHECKPOINT');
  await client.end();

  // ---- start-up ----
  const startups: { replica: string; readyS: number; loadedS: number }[] = [];
  const a = await startServer('A', startups);
  const b = await startServer('B', startups);

  // ---- decisions before the timed writes: both replicas against the reference evaluator ----
  const PRIVILEGES: PrivilegeName[] = ['read', 'write', 'append', 'share', 'delete'];
  const before = Array.from({ length: 32 }, (): Question => {
    const record = pick.pick(world.records);
    return { user: pick.pick(users), table: record.table, privilege: pick.pick(PRIVILEGES), record: record.id };
  });
  // Half of them about records near the user would need the world's BU index; instead a few
  // questions each owner is sure to be allowed (its own records, read).
  for (const record of world.records.slice(0, 200)) {
    const owner = (record as { ownerId?: string }).ownerId;
    if (owner !== undefined && users.includes(owner) && before.length < 48)
      before.push({ user: owner, table: record.table, privilege: 'read', record: record.id });
  }
  await verifyReplica('before the writes', a, before);
  await verifyReplica('before the writes', b, before);

  // ---- write throughput through A ----
  let next = 0;
  const newRecord = (): UpdateOp => ({
    op: 'createRecord',
    table,
    id: `bench-w-${next++}`,
    ownerId: users[next % users.length] as string,
  });
  const share = (i: number): UpdateOp => ({
    op: 'grantShare',
    table,
    recordId: sharable[(i * 7919) % sharable.length] as string,
    principalId: users[(i * 104_729) % users.length] as string,
    rights: ['read'],
  });
  const throughput: {
    case: string;
    requests: number;
    ops: number;
    seconds: number;
    requestsPerS: number;
    opsPerS: number;
    p50Ms: number;
    p99Ms: number;
  }[] = [];
  const measure = async (name: string, requests: number, clients: number, body: (i: number) => UpdateOp[]) => {
    let sent = 0;
    const latencies: number[] = [];
    let ops = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (sent < requests) {
          const i = sent++;
          const batch = body(i);
          const t0 = performance.now();
          await write(a, batch);
          latencies.push(performance.now() - t0);
          ops += batch.length;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const row = {
      case: name,
      requests,
      ops,
      seconds,
      requestsPerS: requests / seconds,
      opsPerS: ops / seconds,
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
    };
    throughput.push(row);
    console.log(
      `  ${name}: ${row.requestsPerS.toFixed(0)} writes/s, ${row.opsPerS.toFixed(0)} ops/s; ` +
        `latency p50 ${row.p50Ms.toFixed(2)} ms, p99 ${row.p99Ms.toFixed(2)} ms`,
    );
  };
  console.log('\nwrite throughput through A:');
  await measure('warm-up', 100, 1, () => [newRecord()]);
  throughput.length = 0;
  await measure('single op (createRecord), 1 client', WRITES, 1, () => [newRecord()]);
  await measure('single op (grantShare), 1 client', WRITES, 1, (i) => [share(i)]);
  await measure(`single op (createRecord), ${CLIENTS} clients`, WRITES, CLIENTS, () => [newRecord()]);
  await measure(`batched: ${BATCH_SIZE} ops/request (½ create, ½ share), 1 client`, BATCHES, 1, (i) =>
    Array.from({ length: BATCH_SIZE }, (_, k) => (k % 2 === 0 ? newRecord() : share(i * BATCH_SIZE + k))),
  );
  await measure(`batched: ${BATCH_SIZE} ops/request, ${CLIENTS} clients`, BATCHES, CLIENTS, (i) =>
    Array.from({ length: BATCH_SIZE }, (_, k) => (k % 2 === 0 ? newRecord() : share(i * BATCH_SIZE + k))),
  );

  // ---- write-to-visible latency on B ----
  console.log('\nwrite-to-visible latency on replica B:');
  const notifyTotal: number[] = [];
  const notifyAfterAck: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const t0 = performance.now();
    const revision = await write(a, [newRecord()]);
    const t1 = performance.now();
    // B is never told the revision: it learns of it from the NOTIFY and catches up by itself.
    // Polled back to back with /healthz, whose `palisade-revision` header is B's revision (one
    // cheap round trip; /readyz counts the live records, 1–2 ms at 1M).
    while ((await appliedRevision(b)) < revision) {
      // again
    }
    const t2 = performance.now();
    notifyTotal.push(t2 - t0);
    notifyAfterAck.push(t2 - t1);
  }
  const tokenTotal: number[] = [];
  const tokenAfterAck: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const record = newRecord() as Extract<UpdateOp, { op: 'createRecord' }>;
    const t0 = performance.now();
    const revision = await write(a, [record]);
    const t1 = performance.now();
    // Read-your-writes: the client passes the write's revision to the other replica.
    const answer = await call(b, 'POST', `/v1/check?atLeastRevision=${revision}`, {
      user: users[0],
      table,
      privilege: 'read',
      record: record.id,
    });
    if (answer.status !== 200 || (answer.body as { error?: unknown }).error !== null) {
      throw new Error(`B answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
    const t2 = performance.now();
    tokenTotal.push(t2 - t0);
    tokenAfterAck.push(t2 - t1);
  }
  const latency = [
    { case: 'write through A → B has applied it (NOTIFY; B polled)', samples: notifyTotal },
    { case: '… of which after A acknowledged the write', samples: notifyAfterAck },
    { case: 'write through A → read on B with atLeastRevision answered', samples: tokenTotal },
    { case: '… of which the read on B (after the ack)', samples: tokenAfterAck },
  ].map(({ case: name, samples }) => ({
    case: name,
    samples: samples.length,
    p50Ms: percentile(samples, 0.5),
    p99Ms: percentile(samples, 0.99),
    maxMs: Math.max(...samples),
  }));
  for (const row of latency) {
    console.log(
      `  ${row.case}: p50 ${row.p50Ms.toFixed(2)} ms, p99 ${row.p99Ms.toFixed(2)} ms, max ${row.maxMs.toFixed(2)} ms`,
    );
  }

  // ---- decisions after the writes: what they touched, on B, against the reference evaluator ----
  editor.apply(sentOps);
  const created = sentOps.filter((op) => op.op === 'createRecord');
  const shared = sentOps.filter((op) => op.op === 'grantShare');
  const after: Question[] = [
    ...Array.from({ length: 12 }, () => pick.pick(created)).flatMap((op): Question[] => [
      { user: op.ownerId as string, table, privilege: 'read', record: op.id },
      { user: pick.pick(users), table, privilege: 'read', record: op.id },
    ]),
    ...Array.from({ length: 12 }, () => pick.pick(shared)).map(
      (op): Question => ({ user: op.principalId, table, privilege: 'read', record: op.recordId }),
    ),
  ];
  // B has applied everything once it reports A's last revision.
  while ((await appliedRevision(b)) < lastRevision) await sleep(10);
  await verifyReplica('after the writes', b, after);

  // ---- restart after the writes: snapshot + every change since ----
  for (const child of servers) child.kill('SIGTERM');
  await Promise.all(servers.map((child) => (child.exitCode === null ? once(child, 'exit') : null)));
  servers.length = 0;
  const restartRows: { replica: string; readyS: number; loadedS: number }[] = [];
  const restarted = await startServer(
    `A again, after the writes (snapshot + ${lastRevision - 2} changes to replay)`,
    restartRows,
  );
  await verifyReplica('after the restart', restarted, after);

  console.log('\n| step | time |\n| --- | --- |');
  for (const row of imports) {
    console.log(`| \`palisade import\` ${row.run} | ${row.wallS.toFixed(1)} s (command reports ${row.reportedS} s) |`);
  }
  for (const row of [...startups, ...restartRows]) {
    console.log(
      `| start-up of replica ${row.replica}: spawn → /readyz 200 | ${row.readyS.toFixed(1)} s (loaded in ${row.loadedS} s) |`,
    );
  }
  console.log(
    '\n| writes through A | requests | ops/s | writes/s | p50 | p99 |\n| --- | --- | --- | --- | --- | --- |',
  );
  for (const row of throughput) {
    console.log(
      `| ${row.case} | ${row.requests} | ${row.opsPerS.toFixed(0)} | ${row.requestsPerS.toFixed(0)} | ${row.p50Ms.toFixed(2)} ms | ${row.p99Ms.toFixed(2)} ms |`,
    );
  }
  console.log('\n| write-to-visible on B | samples | p50 | p99 | max |\n| --- | --- | --- | --- | --- |');
  for (const row of latency) {
    console.log(
      `| ${row.case} | ${row.samples} | ${row.p50Ms.toFixed(2)} ms | ${row.p99Ms.toFixed(2)} ms | ${row.maxMs.toFixed(2)} ms |`,
    );
  }
  console.log(
    `\nload average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const file = writeResults('write', {
    machine,
    world: { path: worldPath, records: recordCount, users: users.length },
    postgres: process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded, durable (fsync on)',
    imports,
    startups: [...startups, ...restartRows],
    throughput,
    latency,
    changesAfterSnapshot: lastRevision - 2,
    verified,
  });
  console.log(`results: ${file}`);
} finally {
  for (const child of servers) if (child.exitCode === null) child.kill('SIGKILL');
  await agent.close();
  await postgres.stop();
  rmSync(dir, { recursive: true, force: true });
}
// The embedded PostgreSQL's exit hook would otherwise decide the exit code (postgres/embedded.ts).
process.exit(0);

// ---- helpers ----

interface Replica {
  readonly name: string;
  readonly url: string;
}

/** Starts `palisade serve` on the store and resolves once `/readyz` answers 200; records the time. */
async function startServer(name: string, rows: { replica: string; readyS: number; loadedS: number }[]) {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [SERVER_CLI, 'serve', '--database-url', databaseUrl, '--port', '0', '--keys', keysFile, '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  servers.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  let url: string | undefined;
  while (url === undefined) {
    if (child.exitCode !== null) throw new Error(`replica ${name} exited:\n${output}`);
    url = /listening on (http:\/\/\S+) \(/.exec(output)?.[1];
    if (url === undefined) await sleep(20);
  }
  const replica = { name, url };
  while ((await readyRevision(replica)) < 0) await sleep(20);
  const readyS = (performance.now() - started) / 1000;
  const loadedS = Number(/loaded the store at revision \d+ in ([\d.]+) s/.exec(output)?.[1] ?? Number.NaN);
  rows.push({ replica: name, readyS, loadedS });
  console.log(`replica ${name}: ready in ${readyS.toFixed(1)} s (store loaded and compiled at ${loadedS} s)`);
  return replica;
}

async function call(
  replica: Replica,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await request(`${replica.url}${path}`, {
    method,
    dispatcher: agent,
    headers: {
      authorization: `Bearer ${KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.statusCode, body: await response.body.json() };
}

/** One write; resolves with its revision (throws on anything but 200). Its operations are kept for the reference. */
async function write(replica: Replica, ops: UpdateOp[]): Promise<number> {
  const answer = await call(replica, 'POST', '/v1/write', { ops });
  if (answer.status !== 200) throw new Error(`write answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  sentOps.push(...ops);
  const { revision } = answer.body as { revision: number };
  lastRevision = Math.max(lastRevision, revision);
  return revision;
}

/** The revision the replica has applied, from the header of its cheapest reply. */
async function appliedRevision(replica: Replica): Promise<number> {
  const response = await request(`${replica.url}/healthz`, { dispatcher: agent });
  await response.body.dump();
  const revision = Number(response.headers['palisade-revision']);
  if (!Number.isInteger(revision)) throw new Error(`${replica.name}: no palisade-revision on /healthz`);
  return revision;
}

async function readyRevision(replica: Replica): Promise<number> {
  try {
    const answer = await call(replica, 'GET', '/readyz');
    return answer.status === 200 ? (answer.body as { revision: number }).revision : -1;
  } catch {
    return -1;
  }
}

/** Asks `replica` each question with /v1/check and throws where it differs from the reference evaluator. */
async function verifyReplica(when: string, replica: Replica, questions: readonly Question[]): Promise<void> {
  let allowed = 0;
  for (const q of questions) {
    const answer = await call(replica, 'POST', '/v1/check', q);
    const body = answer.body as { allowed?: boolean; error?: unknown };
    if (answer.status !== 200 || body.error !== null) {
      throw new Error(`${replica.name} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
    const expected = reference.decide(q.user, q.table, q.privilege, q.record).allowed;
    if (body.allowed !== expected) {
      throw new Error(
        `replica ${replica.name} (${when}) disagrees with the reference evaluator: ${q.user} ${q.privilege} ` +
          `${q.table}/${q.record}: server ${body.allowed}, reference ${expected}`,
      );
    }
    if (expected) allowed++;
  }
  verified.push({ when, replica: replica.name, questions: questions.length, allowed });
  console.log(
    `verified ${questions.length} decisions of replica ${replica.name} ${when} against the reference evaluator (${allowed} allowed)`,
  );
}

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs a command to its end; resolves with its output, rejects when it fails. */
async function run(command: string, argv: string[]): Promise<string> {
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`${argv.join(' ')} exited ${code}:\n${output}`);
  return output;
}
