/**
 * The HTML report: one self-contained file (inline SVG and CSS, no script, nothing fetched), so it
 * opens anywhere, offline, and can be attached to an issue. Charts: latency over time (client p50
 * and p99, server p99, per second), throughput over time, and the latency histogram.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Kind } from './options.js';
import type { KindReport, LoadReport } from './report.js';
import type { Bucket } from './stats.js';
import { formatMs, formatRate, latencyCells, scheduleText } from './summary.js';

const WIDTH = 860;
const HEIGHT = 280;
const PAD = { left: 64, right: 16, top: 16, bottom: 40 };
const COLORS = { p50: '#2563eb', p99: '#dc2626', server: '#059669', bars: '#64748b', serverBars: '#10b981' };
/** Per-kind p99 lines (dashed), when the mix has more than one kind. */
const KIND_COLORS: Readonly<Record<string, string>> = {
  check: '#7c3aed',
  checks: '#ea580c',
  columns: '#0891b2',
  filter: '#db2777',
  lookup: '#ca8a04',
  noop: '#94a3b8',
};

export function renderHtml(report: LoadReport): string {
  const kinds = Object.entries(report.kinds) as [string, KindReport][];
  const v = report.verification;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>palisade load — ${esc(report.settings.mix)} — ${esc(report.startedAt)}</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1000px; color: #0f172a; }
  h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
  table { border-collapse: collapse; margin: 8px 0; }
  td, th { padding: 3px 10px; border-bottom: 1px solid #e2e8f0; text-align: right; white-space: nowrap; }
  .meta td, td.wrap { white-space: normal; }
  th:first-child, td:first-child { text-align: left; }
  .meta td { text-align: left; }
  .pass { color: #059669; font-weight: 600; } .fail { color: #dc2626; font-weight: 600; }
  svg { background: #f8fafc; border: 1px solid #e2e8f0; }
  svg text { font: 11px system-ui, sans-serif; fill: #334155; }
  .legend span { display: inline-block; margin-right: 16px; } .legend i { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin-right: 4px; }
  code { font-size: 12px; }
</style>
</head>
<body>
<h1>palisade-bench load: <span class="${report.passed ? 'pass' : 'fail'}">${report.passed ? 'passed' : 'failed'}</span></h1>
<table class="meta">
<tr><td>started</td><td>${esc(report.startedAt)}</td></tr>
<tr><td>target</td><td>${esc(report.target.url)}${report.target.started ? ` (started by this run, ${esc(report.target.build ?? '')} build)` : ''}</td></tr>
<tr><td>world</td><td>${esc(report.target.world)}</td></tr>
<tr><td>load</td><td>${esc(report.settings.loop)}; ${esc(report.settings.encoding)}; mix ${esc(report.settings.mix)}; ${report.durationS} s measured after ${report.settings.warmupS} s warm-up${report.settings.launcher === null ? '' : `; started by ${esc(report.settings.launcher)}`}; req/s and items/s are answers per second over ${report.answerWindowS.toFixed(2)} s, to the last answer</td></tr>
<tr><td>bodies</td><td>batch ${report.settings.batch}, filter ${report.settings.rows} rows as ${esc(report.settings.filterRows)} → ${esc(report.settings.filterOutput)}, lookup pages of ${report.settings.lookupLimit}; prebuilt per kind: ${esc(JSON.stringify(report.settings.bodies))}</td></tr>
<tr><td>machine</td><td>${esc(`${report.machine.cpu}, ${report.machine.cores} cores, ${report.machine.memoryGiB} GiB, Node ${report.machine.node}`)}</td></tr>
${report.schedule === null ? '' : `<tr><td>schedule</td><td>${esc(scheduleText(report.schedule))}</td></tr>\n`}<tr><td>client CPU</td><td>${report.clientCpuCores.toFixed(2)} cores${report.clientCpuCores > 0.9 ? ' — the load generator may be the bottleneck' : ''}</td></tr>
</table>

<h2>Throughput and latency (ms)</h2>
<table>
<tr><th>kind</th><th>requests</th><th>req/s</th><th>items/s</th><th>errors</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>server p50</th><th>server p99</th></tr>
${[...kinds, ['all', report.overall] as [string, KindReport]].map(([kind, k]) => kindRow(kind, k)).join('\n')}
</table>

<h2>Errors</h2>
${
  report.errors.length === 0
    ? '<p>none</p>'
    : `<table><tr><th>code</th><th>status</th><th>count</th><th>by kind</th><th>example</th></tr>
${report.errors
  .map(
    (e) =>
      `<tr><td><code>${esc(e.code)}</code></td><td>${e.status ?? '—'}</td><td>${e.count}</td><td>${esc(JSON.stringify(e.byKind))}</td><td class="wrap" style="text-align:left">${esc(e.message.slice(0, 160))}</td></tr>`,
  )
  .join('\n')}</table>`
}

<h2>Verification: <span class="${v.status === 'failed' ? 'fail' : v.status === 'passed' ? 'pass' : ''}">${v.status}</span></h2>
<p>${
    v.status === 'skipped'
      ? esc(v.reason ?? '')
      : `${count(v.responses)} sampled answers; ${count(v.decisions)} decisions compared with the engine, ${count(v.referenceDecisions)} with the reference evaluator; ${v.mismatchCount} mismatches${v.samplesDropped > 0 ? `; ${v.samplesDropped} sampled answers not kept (memory cap)` : ''}.`
  }</p>
${
  v.mismatches.length === 0
    ? ''
    : `<table><tr><th>kind</th><th>against</th><th>question</th><th>expected</th><th>got</th></tr>
${v.mismatches.map((m) => `<tr><td>${m.kind}</td><td>${m.against}</td><td class="wrap" style="text-align:left"><code>${esc(m.question)}</code></td><td>${esc(m.expected)}</td><td>${esc(m.got)}</td></tr>`).join('\n')}</table>`
}

<h2>Latency over time</h2>
<div class="legend"><span><i style="background:${COLORS.p50}"></i>client p50</span><span><i style="background:${COLORS.p99}"></i>client p99</span><span><i style="background:${COLORS.server}"></i>server p99</span>${
    kinds.length > 1
      ? kinds
          .map(([kind]) => `<span><i style="background:${KIND_COLORS[kind]}"></i>${kind} p99 (dashed)</span>`)
          .join('')
      : ''
  }</div>
${latencyOverTime(report)}

<h2>Throughput over time</h2>
${throughputOverTime(report)}

<h2>Latency histogram</h2>
<div class="legend"><span><i style="background:${COLORS.bars}"></i>client latency</span><span><i style="background:${COLORS.serverBars}"></i>server time</span></div>
${histogramChart(report.histogram.client, report.histogram.server)}
</body>
</html>
`;
}

export async function writeHtmlReport(report: LoadReport, file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, renderHtml(report));
}

function kindRow(kind: string, k: KindReport): string {
  const cells = [
    kind,
    String(k.requests),
    formatRate(k.rps),
    `${formatRate(k.itemsPerSecond)} ${k.itemUnit}/s`,
    String(k.errors),
    ...latencyCells(k),
  ];
  return `<tr>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
}

/** Client p50 and p99 and server p99 per second, on a log axis (latencies span microseconds to seconds). */
function latencyOverTime(report: LoadReport): string {
  const points = report.timeline.filter((s) => s.client.count > 0);
  if (points.length === 0) return '<p>no answers</p>';
  const kinds = Object.keys(report.kinds);
  const perKind = kinds.length > 1;
  const values = points.flatMap((s) => [
    s.client.p50,
    s.client.p99,
    ...(s.server.count > 0 ? [s.server.p99] : []),
    ...(perKind ? Object.values(s.kinds).map((k) => k.p99) : []),
  ]);
  const y = logScale(Math.min(...values), Math.max(...values));
  const x = linearScale(0, Math.max(1, (report.timeline.at(-1)?.t ?? 0) + 1), PAD.left, WIDTH - PAD.right);
  const line = (pick: (s: (typeof points)[number]) => number | null, color: string, name: string, dashed = false) => {
    const coords = points
      .map((s) => [s.t + 0.5, pick(s)] as const)
      .filter((p): p is readonly [number, number] => p[1] !== null && p[1] > 0)
      .map(([t, v]) => `${x.at(t).toFixed(1)},${y.at(v).toFixed(1)}`);
    if (coords.length === 0) return '';
    const style = dashed ? 'stroke-width="1.5" stroke-dasharray="5 3"' : 'stroke-width="2"';
    return `<polyline data-series="${name}" fill="none" stroke="${color}" ${style} points="${coords.join(' ')}"/>${
      coords.length === 1
        ? `<circle cx="${coords[0]?.split(',')[0]}" cy="${coords[0]?.split(',')[1]}" r="3" fill="${color}"/>`
        : ''
    }`;
  };
  return svg(
    'latency-over-time',
    [
      yAxis(y.ticks, y.at, compact, 'ms'),
      xAxis(x, 'seconds'),
      ...(perKind
        ? kinds.map((kind) =>
            line((s) => s.kinds[kind as Kind]?.p99 ?? null, KIND_COLORS[kind] ?? '#000', `${kind}-p99`, true),
          )
        : []),
      line((s) => s.client.p50, COLORS.p50, 'client-p50'),
      line((s) => s.client.p99, COLORS.p99, 'client-p99'),
      line((s) => (s.server.count > 0 ? s.server.p99 : null), COLORS.server, 'server-p99'),
    ].join('\n'),
  );
}

function throughputOverTime(report: LoadReport): string {
  const seconds = report.timeline;
  if (seconds.length === 0) return '<p>no answers</p>';
  const top = Math.max(1, ...seconds.map((s) => s.requests));
  const y = linearScale(0, top * 1.1, HEIGHT - PAD.bottom, PAD.top);
  const x = linearScale(0, Math.max(1, (seconds.at(-1)?.t ?? 0) + 1), PAD.left, WIDTH - PAD.right);
  const width = Math.max(1, x.at(1) - x.at(0) - 2);
  // Answered requests in grey, errors stacked on top in red.
  const bar = (t: number, from: number, to: number, color: string, title: string) =>
    to <= from
      ? ''
      : `<rect x="${(x.at(t) + 1).toFixed(1)}" y="${y.at(to).toFixed(1)}" width="${width.toFixed(1)}" height="${(y.at(from) - y.at(to)).toFixed(1)}" fill="${color}"><title>${title}</title></rect>`;
  const bars = seconds
    .map((s) => {
      const title = `${s.t}–${s.t + 1} s: ${s.requests} requests, ${s.errors} errors`;
      return (
        bar(s.t, 0, s.requests - s.errors, COLORS.bars, title) +
        bar(s.t, s.requests - s.errors, s.requests, COLORS.p99, title)
      );
    })
    .join('');
  return svg(
    'throughput-over-time',
    [yAxis(niceTicks(0, top * 1.1), y.at, compact, 'req/s'), xAxis(x, 'seconds'), bars].join('\n'),
  );
}

/** Counts per logarithmic latency bucket: client latency, with the server's time beside it. */
function histogramChart(client: readonly Bucket[], server: readonly Bucket[]): string {
  if (client.length === 0) return '<p>no answers</p>';
  const all = [...client, ...server];
  const x = logScale(
    Math.min(...all.map((b) => b.fromMs)),
    Math.max(...all.map((b) => b.toMs)),
    PAD.left,
    WIDTH - PAD.right,
  );
  const top = Math.max(...all.map((b) => b.count));
  const y = linearScale(0, top * 1.1, HEIGHT - PAD.bottom, PAD.top);
  const bars = (buckets: readonly Bucket[], color: string, name: string, shift: number) =>
    `<g data-series="${name}">${buckets
      .filter((b) => b.count > 0)
      .map((b) => {
        const x0 = x.at(b.fromMs);
        const w = Math.max(1, (x.at(b.toMs) - x0) / 2 - 1);
        return `<rect x="${(x0 + shift * (w + 1)).toFixed(1)}" y="${y.at(b.count).toFixed(1)}" width="${w.toFixed(1)}" height="${(y.at(0) - y.at(b.count)).toFixed(1)}" fill="${color}"><title>${formatMs(b.fromMs)}–${formatMs(b.toMs)} ms: ${b.count}</title></rect>`;
      })
      .join('')}</g>`;
  const xTicks = x.ticks.map((v) => {
    const px = x.at(v).toFixed(1);
    return `<line x1="${px}" x2="${px}" y1="${HEIGHT - PAD.bottom}" y2="${HEIGHT - PAD.bottom + 4}" stroke="#94a3b8"/><text x="${px}" y="${HEIGHT - PAD.bottom + 16}" text-anchor="middle">${compact(v)}</text>`;
  });
  return svg(
    'latency-histogram',
    [
      yAxis(niceTicks(0, top * 1.1), y.at, (v) => String(Math.round(v)), 'answers'),
      ...xTicks,
      `<text x="${(WIDTH + PAD.left) / 2}" y="${HEIGHT - 6}" text-anchor="middle">latency, ms (log scale)</text>`,
      bars(client, COLORS.bars, 'client', 0),
      bars(server, COLORS.serverBars, 'server', 1),
    ].join('\n'),
  );
}

function svg(id: string, body: string): string {
  return `<svg id="${id}" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img">
${body}
</svg>`;
}

interface Scale {
  at(value: number): number;
  readonly ticks: readonly number[];
}

function linearScale(min: number, max: number, from: number, to: number): Scale {
  const span = max - min || 1;
  return { at: (v) => from + ((v - min) / span) * (to - from), ticks: niceTicks(min, max) };
}

/** A log scale over [min, max] (padded to whole 1-2-5 steps), ticks at 1, 2 and 5 × 10^k. */
function logScale(min: number, max: number, from = HEIGHT - PAD.bottom, to = PAD.top): Scale {
  const lo = Math.log10(Math.max(1e-3, min)) - 0.05;
  const hi = Math.log10(Math.max(min * 1.01, max, 1e-3)) + 0.05;
  const ticks: number[] = [];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (Math.log10(v) >= lo && Math.log10(v) <= hi) ticks.push(v);
    }
  }
  return { at: (v) => from + ((Math.log10(Math.max(v, 1e-3)) - lo) / (hi - lo)) * (to - from), ticks };
}

function niceTicks(min: number, max: number, count = 5): number[] {
  const raw = (max - min) / count || 1;
  const step = [1, 2, 5, 10].map((m) => m * 10 ** Math.floor(Math.log10(raw))).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function yAxis(
  ticks: readonly number[],
  at: (v: number) => number,
  label: (v: number) => string,
  unit: string,
): string {
  const lines = ticks.map((v) => {
    const py = at(v).toFixed(1);
    return `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${py}" y2="${py}" stroke="#e2e8f0"/><text x="${PAD.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${esc(label(v))}</text>`;
  });
  return `${lines.join('')}<text x="12" y="${PAD.top + 4}" transform="rotate(-90 12 ${PAD.top + 4})" text-anchor="end">${unit}</text>`;
}

function xAxis(x: Scale, unit: string): string {
  const ticks = x.ticks.map((v) => {
    const px = x.at(v).toFixed(1);
    return `<line x1="${px}" x2="${px}" y1="${HEIGHT - PAD.bottom}" y2="${HEIGHT - PAD.bottom + 4}" stroke="#94a3b8"/><text x="${px}" y="${HEIGHT - PAD.bottom + 16}" text-anchor="middle">${v}</text>`;
  });
  return `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${HEIGHT - PAD.bottom}" y2="${HEIGHT - PAD.bottom}" stroke="#94a3b8"/>${ticks.join('')}<text x="${(WIDTH + PAD.left) / 2}" y="${HEIGHT - 6}" text-anchor="middle">${unit}</text>`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** An axis label: 0.05, 2, 500, 20,000. */
function compact(v: number): string {
  return Number(v.toPrecision(3)).toLocaleString('en-US', { maximumFractionDigits: 3 });
}

function esc(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}
