import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, totalmem } from 'node:os';
import { type Engine, PRIVILEGES, type PrivilegeRef, type TableRef, type UserRef } from '@palisade/core';
import { type Evaluator, type EvaluatorState, filterRange, GRANT_STRIDE, ROW_STRIDE } from '@palisade/core/internal';
import type { CaseResult } from './timing.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  v8: string;
  platform: string;
  /** 1, 5 and 15-minute load averages when the suite started: the machine is shared, so say how busy it was. */
  loadAverage: number[];
}

export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/**
 * The first lines every suite prints: its name, the machine, the Node version, the load average
 * and the core build it times (refusing to run on anything but the built `dist`).
 */
export function announce(suite: string): { machine: Machine; core: string } {
  const core = requireBuiltCore();
  const m = machine();
  console.log(`palisade bench: ${suite} — ${JSON.stringify(m)}`);
  console.log(
    `node ${m.node} (V8 ${m.v8}) on ${m.platform}, ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB; ` +
      `load average ${m.loadAverage.join(' ')}`,
  );
  console.log(`core: ${core}`);
  return { machine: m, core };
}

/** Prints `ratios` (name → how many times faster the first case is), one per line. */
export function printRatios(ratios: Readonly<Record<string, number>>, title = 'ratios (same run)'): void {
  console.log(`\n${title}:`);
  for (const [name, value] of Object.entries(ratios)) console.log(`  ${name}: ${formatRatio(value)}`);
}

/** `12.3×`, `1,234×`, `0.42×` (slower). */
export function formatRatio(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 1000) return `${Math.round(value).toLocaleString('en-US')}×`;
  return `${value.toFixed(value >= 10 ? 1 : 2)}×`;
}

/** The path of the core build this process runs; throws unless it is the built `dist`, which benchmarks must time. */
export function requireBuiltCore(): string {
  const entry = createRequire(import.meta.url).resolve('@palisade/core');
  if (!entry.includes('/dist/')) throw new Error(`benchmarks must run on the built core, got ${entry}`);
  return entry;
}

/** Where results escape to, so V8 cannot drop the work (zod's bench rule 3). */
export const sink = { value: 0 };

export function formatNs(ns: number): string {
  if (ns < 1_000) return `${ns.toFixed(ns < 10 ? 2 : 1)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(2)} µs`;
  return `${(ns / 1_000_000).toFixed(2)} ms`;
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}

/** A markdown table: each case with its median and its speed relative to `baseline`. */
export function table(results: readonly CaseResult[], against: readonly string[]): string {
  const head = ['case', 'median / op', 'ops/s', ...against.map((a) => `× vs ${a}`)];
  const rows = results.map((r) => [
    r.name,
    formatNs(r.medianNs),
    formatCount(r.opsPerSecond),
    ...against.map((a) => {
      const base = results.find((b) => b.name === a);
      return base === undefined ? '' : formatRatio(base.medianNs / r.medianNs);
    }),
  ]);
  return [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/**
 * Writes `bench-results/<name>.json`: the payload, the sink (so every consumed result is also
 * observed) and the load average at the end of the run.
 */
export function writeResults(name: string, payload: object): string {
  const dir = new URL('../../../bench-results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(`${name}.json`, dir);
  const body = { ...payload, sink: sink.value, loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100) };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return file.pathname;
}

/**
 * The floor for a list filter: one pass over a BU column, one bitset test per row, branch-free,
 * positions written to `out`. Returns how many rows passed.
 */
export function bareScan(column: Int32Array, bits: Uint32Array, out: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < column.length; i++) {
    const bu = column[i] as number;
    out[n] = i;
    n += ((bits[bu >>> 5] as number) >>> (bu & 31)) & 1;
  }
  return n;
}

/** A batch of checks as dense columns, as `checkBatch` takes it. */
export interface BatchColumns {
  readonly users: Int32Array;
  readonly tables: Int32Array;
  readonly privileges: Uint8Array;
  readonly records: Int32Array;
}

/**
 * The floor for `checkBatch`: per item, the reads no check can skip (the user's profile, the
 * profile's grant for the table and privilege, the grant's row, the record's row) in one plain
 * loop, with one trivial test where a check would decide, and no validation. On large worlds these
 * reads are cache misses, so this is the loop to hold `checkBatch` to.
 */
export function bareBatchReads(state: EvaluatorState, columns: BatchColumns, out: Uint8Array): number {
  const { userProfile, profileGrant, grants, slots } = state;
  const rowsOf = state.tables.map((table) => table.rows);
  const { users, tables, privileges, records } = columns;
  let allowed = 0;
  for (let i = 0; i < users.length; i++) {
    const table = tables[i] as number;
    const profile = userProfile[users[i] as number] as number;
    const grant = profileGrant[profile * slots + table * PRIVILEGES.length + (privileges[i] as number)] as number;
    const flags = grant < 0 ? 0 : (grants[grant * GRANT_STRIDE] as number);
    const owner = (rowsOf[table] as Int32Array)[(records[i] as number) * ROW_STRIDE] as number;
    const answer = (flags ^ owner) & 1;
    out[i] = answer;
    allowed += answer;
  }
  return allowed;
}

/** Scratch columns of `bareBatchPasses`, sized to the largest batch seen. */
let passRecord = new Int32Array(0);
let passGrant = new Int32Array(0);

/**
 * The lowest floor for `checkBatch`: the same four reads as `bareBatchReads`, but in the pattern
 * that overlaps the most cache misses: separate loops, each making one read per item that depends
 * on nothing read in the same loop (record rows; user profiles; profile slots; grant rows). No
 * validation and no decision, so no batch checker can beat it on the same world and machine.
 */
export function bareBatchPasses(state: EvaluatorState, columns: BatchColumns, out: Uint8Array): number {
  const { userProfile, profileGrant, grants, slots } = state;
  const rowsOf = state.tables.map((table) => table.rows);
  const { users, tables, privileges, records } = columns;
  const n = users.length;
  if (passRecord.length < n) {
    passRecord = new Int32Array(n);
    passGrant = new Int32Array(n);
  }
  const record = passRecord;
  const grant = passGrant;
  for (let i = 0; i < n; i++) {
    record[i] = (rowsOf[tables[i] as number] as Int32Array)[(records[i] as number) * ROW_STRIDE] as number;
  }
  for (let i = 0; i < n; i++) grant[i] = userProfile[users[i] as number] as number;
  for (let i = 0; i < n; i++) {
    grant[i] = profileGrant[
      (grant[i] as number) * slots + (tables[i] as number) * PRIVILEGES.length + (privileges[i] as number)
    ] as number;
  }
  let allowed = 0;
  for (let i = 0; i < n; i++) {
    const g = grant[i] as number;
    const answer = ((g < 0 ? 0 : (grants[g * GRANT_STRIDE] as number)) ^ (record[i] as number)) & 1;
    out[i] = answer;
    allowed += answer;
  }
  return allowed;
}

/**
 * `filter` on record indexes decided by gathering each row's owner and BU, as every call did before
 * the engine learnt to mark allowed records (`auto` picks per call): the baseline marking is
 * measured against. `evaluator` is `new Evaluator(engine.sharedState())`, made after the last update.
 */
export function filterGathered(
  engine: Engine,
  evaluator: Evaluator,
  question: { readonly user: UserRef; readonly table: TableRef; readonly privilege: PrivilegeRef },
  records: Int32Array,
  out: Uint32Array,
): number {
  const { user, table, privilege } = question;
  const job = engine.filterJob(user, table, privilege, { records }, { records: 'gather' });
  return filterRange(evaluator, job, 0, job.length, out);
}
