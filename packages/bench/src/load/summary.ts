/** What a person reads in the terminal: the progress line during the run and the summary after it. */
import type { KindReport, LoadReport } from './report.js';
import type { Progress } from './runner.js';

/** Milliseconds with three significant digits or so: 0.412, 3.21, 45.6, 123. */
export function formatMs(ms: number): string {
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

/** A rate or count for people: 812, 4,101, 1.23M. */
export function formatRate(n: number): string {
  if (n >= 10_000_000) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1_000_000) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 100) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(1);
}

export function progressLine(p: Progress, warmupMs: number): string {
  // The tick that ends the warm-up lands a moment after measuring began, with nothing measured yet.
  if (p.elapsedMs < 500) {
    return `warm-up ${(Math.min(warmupMs, warmupMs + p.elapsedMs) / 1000).toFixed(0)}/${(warmupMs / 1000).toFixed(0)} s`;
  }
  return [
    `${(p.elapsedMs / 1000).toFixed(0).padStart(4)} s`,
    `requests ${p.requests.toLocaleString('en-US')}`,
    `rps ${formatRate(p.rps)}`,
    `errors ${p.errors}`,
    `p99 ${formatMs(p.p99)} ms`,
  ].join('  ');
}

/** Writes progress to a stream: one line redrawn in place on a TTY, a line per update otherwise. */
export function progressPrinter(stream: NodeJS.WriteStream, warmupMs: number) {
  let drawn = false;
  return {
    update(p: Progress): void {
      const line = progressLine(p, warmupMs);
      if (stream.isTTY) {
        stream.write(`\r\x1b[2K${line}`);
        drawn = true;
      } else {
        stream.write(`${line}\n`);
      }
    },
    /** Ends the redrawn line before other output. */
    done(): void {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}

export function summaryText(report: LoadReport, files: readonly string[]): string {
  const t = report.target;
  const lines = [
    `palisade-bench load: ${report.passed ? 'passed' : 'FAILED'}`,
    `  target   ${t.url}${t.started ? ` (started by this run, ${t.build} build)` : ''}; world ${t.world}`,
    `  load     ${report.settings.loop}; ${report.settings.encoding}; mix ${report.settings.mix}; ${report.durationS} s measured${
      report.settings.warmupS > 0 ? ` after ${report.settings.warmupS} s warm-up` : ''
    }${report.settings.launcher === null ? '' : `; started by ${report.settings.launcher}`}`,
    '',
    table(report),
    '',
    "  latency in ms: client from the request's start (open loop: its due time, if sent late) to its last byte; srv = Server-Timing",
    `  req/s and items/s: answers per second over ${report.answerWindowS.toFixed(2)} s, from the start of measuring to the last answer`,
  ];
  if (report.errors.length === 0) {
    lines.push('  errors   none');
  } else {
    // Failed requests (timeouts among them) are the slow ones an overloaded server makes.
    lines.push(
      `  errors   ${report.overall.errors} in all; the latency columns cover only the ${report.overall.requests - report.overall.errors} answered requests`,
    );
    for (const e of report.errors) {
      const kinds = Object.entries(e.byKind)
        .map(([kind, n]) => `${kind} ${n}`)
        .join(', ');
      lines.push(
        `    ${e.code.padEnd(28)} ${String(e.count).padStart(8)}  ${e.status === null ? 'transport' : `HTTP ${e.status}`}; ${kinds}; e.g. ${e.message.slice(0, 100)}`,
      );
    }
  }
  const v = report.verification;
  if (v.status === 'skipped') {
    lines.push(`  verification skipped: ${v.reason}`);
  } else {
    lines.push(
      `  verification ${v.status}: ${plural(v.responses, 'sampled answer')}, ${plural(v.decisions, 'decision')} ` +
        `compared with the engine, ${v.referenceDecisions.toLocaleString('en-US')} with the reference evaluator` +
        (v.samplesDropped > 0 ? ` (${v.samplesDropped} sampled answers not kept: memory cap)` : ''),
    );
    for (const m of v.mismatches) {
      lines.push(
        `    MISMATCH ${m.kind} vs ${m.against}: ${m.question}\n      expected ${m.expected}\n      got      ${m.got}`,
      );
    }
    if (v.mismatchCount > v.mismatches.length) lines.push(`    … and ${v.mismatchCount - v.mismatches.length} more`);
  }
  if (report.schedule !== null) lines.push(`  schedule ${scheduleText(report.schedule)}`);
  lines.push(
    `  client CPU ${report.clientCpuCores.toFixed(2)} cores${report.clientCpuCores > 0.9 ? ' (the load generator may be the bottleneck)' : ''}`,
  );
  if (files.length > 0) lines.push(`  report   ${files.join(', ')}`);
  return lines.join('\n');
}

/** The open loop's own lateness beside the latency counted from the actual send (see `LoadReport.schedule`). */
export function scheduleText(schedule: NonNullable<LoadReport['schedule']>): string {
  const { lagMs: lag, fromSendMs: fromSend } = schedule;
  return (
    `requests left after their due time by p50 ${formatMs(lag.p50)}, p99 ${formatMs(lag.p99)}, max ${formatMs(lag.max)} ms; ` +
    `client latency from the actual send: p50 ${formatMs(fromSend.p50)}, p99 ${formatMs(fromSend.p99)} ms`
  );
}

function table(report: LoadReport): string {
  const head = [
    'kind',
    'requests',
    'req/s',
    'items/s',
    'errors',
    'p50',
    'p90',
    'p99',
    'p99.9',
    'max',
    'srv p50',
    'srv p99',
  ];
  const row = (kind: string, k: KindReport) => [
    kind,
    k.requests.toLocaleString('en-US'),
    formatRate(k.rps),
    `${formatRate(k.itemsPerSecond)} ${k.itemUnit}/s`,
    String(k.errors),
    ...latencyCells(k),
  ];
  const kinds = Object.entries(report.kinds) as [string, KindReport][];
  const rows = [head, ...kinds.map(([kind, k]) => row(kind, k))];
  if (kinds.length > 1) rows.push(row('all', report.overall));
  const widths = head.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  return rows
    .map(
      (r) =>
        `  ${r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ')}`,
    )
    .join('\n');
}

function plural(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
}

/** p50, p90, p99, p99.9, max of the client, p50 and p99 of the server; dashes where nothing was answered. */
export function latencyCells(k: KindReport): string[] {
  const client = k.latencyMs;
  const server = k.serverMs;
  return [
    ...[client.p50, client.p90, client.p99, client.p999, client.max].map((v) =>
      client.count === 0 ? '—' : formatMs(v),
    ),
    ...[server.p50, server.p99].map((v) => (server.count === 0 ? '—' : formatMs(v))),
  ];
}
