/**
 * What a run measured: per kind and overall, client latency and server time (HDR histograms),
 * counts, items, bytes and errors by code; and a per-second timeline for the progress line and
 * the latency-over-time chart. Only answered requests (2xx) enter the latency histograms: an
 * error's latency says little about the service, and it is counted by code instead.
 */
import type { JsHistogram } from 'hdr-histogram-js';
import type { Kind } from './options.js';
import { newHistogram, type Percentiles, percentiles, recordMs } from './stats.js';

export interface KindTotals {
  requests: number;
  errors: number;
  items: number;
  bytesSent: number;
  bytesReceived: number;
  readonly client: JsHistogram;
  /** Server-Timing `app;dur`: the server's own time for the request. */
  readonly server: JsHistogram;
}

/** One second of the run, by completion time. */
export interface Second {
  /** Seconds since measuring began (this second covers [t, t + 1)). */
  readonly t: number;
  readonly requests: number;
  readonly errors: number;
  readonly items: number;
  readonly client: Percentiles;
  readonly server: Percentiles;
  readonly kinds: Readonly<Partial<Record<Kind, { requests: number; p50: number; p99: number }>>>;
}

export interface ErrorCount {
  count: number;
  readonly byKind: Partial<Record<Kind, number>>;
  /** The first message seen, as an example. */
  readonly message: string;
  /** The HTTP status, or null for a transport error. */
  readonly status: number | null;
}

export class LoadRecorder {
  readonly kinds = new Map<Kind, KindTotals>();
  readonly all: KindTotals = totals();
  readonly errors = new Map<string, ErrorCount>();
  readonly timeline: Second[] = [];
  /**
   * Open loop only: how long after its due time each measured request left (a late timer, a busy
   * client), and each answer's latency from when it actually left. Client latency counts a late
   * request from its due time; these two say how much of that is the generator's own lateness.
   */
  readonly sendLag: JsHistogram = newHistogram();
  readonly fromSend: JsHistogram = newHistogram();
  /** When the last measured request completed (answered or failed); -Infinity before any. */
  lastDoneMs = Number.NEGATIVE_INFINITY;
  private second: {
    t: number;
    requests: number;
    errors: number;
    items: number;
    client: JsHistogram;
    server: JsHistogram;
    kinds: Map<Kind, JsHistogram>;
  };

  /** `startMs`: `performance.now()` when measuring began. */
  constructor(
    kinds: readonly Kind[],
    private readonly startMs: number,
  ) {
    for (const kind of kinds) this.kinds.set(kind, totals());
    this.second = {
      t: 0,
      requests: 0,
      errors: 0,
      items: 0,
      client: newHistogram(),
      server: newHistogram(),
      kinds: new Map(kinds.map((k) => [k, newHistogram()])),
    };
  }

  /** Open loop: a measured request left `lagMs` after it was due (0 when on time or early). */
  sent(lagMs: number): void {
    recordMs(this.sendLag, lagMs);
  }

  /** Open loop: an answer's latency from when its request left (see `sendLag`). */
  answeredFromSend(latencyMs: number): void {
    recordMs(this.fromSend, latencyMs);
  }

  /** An answered request: `latencyMs` from its (scheduled) start to its last byte. */
  answered(
    kind: Kind,
    doneMs: number,
    latencyMs: number,
    serverMs: number | null,
    items: number,
    sent: number,
    received: number,
  ): void {
    this.roll(doneMs);
    this.lastDoneMs = Math.max(this.lastDoneMs, doneMs);
    for (const t of [this.kinds.get(kind) as KindTotals, this.all]) {
      t.requests++;
      t.items += items;
      t.bytesSent += sent;
      t.bytesReceived += received;
      recordMs(t.client, latencyMs);
      if (serverMs !== null) recordMs(t.server, serverMs);
    }
    const s = this.second;
    s.requests++;
    s.items += items;
    recordMs(s.client, latencyMs);
    if (serverMs !== null) recordMs(s.server, serverMs);
    recordMs(s.kinds.get(kind) as JsHistogram, latencyMs);
  }

  /** A failed request: an error status (`code` from its body) or a transport error (status null). */
  failed(kind: Kind, doneMs: number, code: string, message: string, status: number | null, sent: number): void {
    this.roll(doneMs);
    this.lastDoneMs = Math.max(this.lastDoneMs, doneMs);
    for (const t of [this.kinds.get(kind) as KindTotals, this.all]) {
      t.requests++;
      t.errors++;
      t.bytesSent += sent;
    }
    this.second.requests++;
    this.second.errors++;
    const entry = this.errors.get(code) ?? { count: 0, byKind: {}, message, status };
    this.errors.set(code, entry);
    entry.count++;
    entry.byKind[kind] = (entry.byKind[kind] ?? 0) + 1;
  }

  /** Closes every second that ended before `nowMs` (empty seconds included, so the timeline has no gaps). */
  roll(nowMs: number): void {
    const t = Math.floor((nowMs - this.startMs) / 1000);
    while (this.second.t < t) {
      const s = this.second;
      const kinds: Partial<Record<Kind, { requests: number; p50: number; p99: number }>> = {};
      for (const [kind, histogram] of s.kinds) {
        const p = percentiles(histogram);
        if (p.count > 0) kinds[kind] = { requests: p.count, p50: p.p50, p99: p.p99 };
        histogram.reset();
      }
      this.timeline.push({
        t: s.t,
        requests: s.requests,
        errors: s.errors,
        items: s.items,
        client: percentiles(s.client),
        server: percentiles(s.server),
        kinds,
      });
      s.client.reset();
      s.server.reset();
      s.t++;
      s.requests = 0;
      s.errors = 0;
      s.items = 0;
    }
  }

  /** Closes the second in progress if anything completed in it (answers that came in after the end). */
  finish(): void {
    if (this.second.requests > 0) this.roll(this.startMs + (this.second.t + 1) * 1000);
  }

  /** The last whole second, or the second in progress before one has ended. */
  latest(): { requests: number; errors: number; p99: number } {
    const last = this.timeline.at(-1);
    if (last !== undefined) return { requests: last.requests, errors: last.errors, p99: last.client.p99 };
    return { requests: this.second.requests, errors: this.second.errors, p99: percentiles(this.second.client).p99 };
  }
}

function totals(): KindTotals {
  return {
    requests: 0,
    errors: 0,
    items: 0,
    bytesSent: 0,
    bytesReceived: 0,
    client: newHistogram(),
    server: newHistogram(),
  };
}
