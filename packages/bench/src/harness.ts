import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import type { CaseResult } from './timing.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  v8: string;
  platform: string;
}

export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
  };
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
      return base === undefined ? '' : `${(base.medianNs / r.medianNs).toFixed(1)}×`;
    }),
  ]);
  return [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

export function writeResults(name: string, payload: unknown): string {
  const dir = new URL('../../../bench-results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(`${name}.json`, dir);
  writeFileSync(file, `${JSON.stringify(payload, null, 2)}\n`);
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
