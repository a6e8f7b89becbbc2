/**
 * Prometheus metrics (text exposition format 0.0.4) at `GET /metrics` (admin scope): requests by
 * route and status, latency histograms by route, world sizes, and the worker pool's queue depth.
 * A few dozen series at most, so a small hand-written registry does; no global state, one per app.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Evaluator } from '../evaluator.js';
import { errorResponses } from '../schemas.js';

/** Latency bucket bounds in seconds: a check answers in tens of microseconds, a big lookup in tens of ms. */
const kBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** One histogram series; every field set in the constructor so all series share a shape. */
class Histogram {
  readonly labels: string;
  readonly counts: Float64Array;
  sum: number;
  count: number;

  constructor(labels: string) {
    this.labels = labels;
    this.counts = new Float64Array(kBuckets.length);
    this.sum = 0;
    this.count = 0;
  }

  observe(seconds: number): void {
    for (let i = 0; i < kBuckets.length; i++) {
      if (seconds <= (kBuckets[i] as number)) {
        this.counts[i] = (this.counts[i] as number) + 1;
        break;
      }
    }
    this.sum += seconds;
    this.count++;
  }
}

/** Request counters and latency histograms, keyed by their label strings. */
export class HttpMetrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();

  record(method: string, route: string, status: number, seconds: number): void {
    const routeLabels = `method="${method}",route="${escapeLabel(route)}"`;
    const key = `${routeLabels},status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    let histogram = this.latency.get(routeLabels);
    if (histogram === undefined) {
      histogram = new Histogram(routeLabels);
      this.latency.set(routeLabels, histogram);
    }
    histogram.observe(seconds);
  }

  render(lines: string[]): void {
    lines.push('# HELP palisade_http_requests_total HTTP requests answered, by method, route and status.');
    lines.push('# TYPE palisade_http_requests_total counter');
    for (const [labels, value] of this.requests) lines.push(`palisade_http_requests_total{${labels}} ${value}`);
    lines.push('# HELP palisade_http_request_duration_seconds Time from request to response, by method and route.');
    lines.push('# TYPE palisade_http_request_duration_seconds histogram');
    for (const h of this.latency.values()) {
      let cumulative = 0;
      for (let i = 0; i < kBuckets.length; i++) {
        cumulative += h.counts[i] as number;
        lines.push(`palisade_http_request_duration_seconds_bucket{${h.labels},le="${kBuckets[i]}"} ${cumulative}`);
      }
      lines.push(`palisade_http_request_duration_seconds_bucket{${h.labels},le="+Inf"} ${h.count}`);
      lines.push(`palisade_http_request_duration_seconds_sum{${h.labels}} ${h.sum}`);
      lines.push(`palisade_http_request_duration_seconds_count{${h.labels}} ${h.count}`);
    }
  }
}

function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

export interface MetricsOptions {
  readonly evaluator: Evaluator;
  /** The change-log revision the engine has applied (0: a world file). */
  readonly revision: () => number;
}

const WORLD_SIZES = [
  'businessUnits',
  'users',
  'teams',
  'tables',
  'roles',
  'records',
  'shares',
  'profiles',
  'compiledGrants',
  'businessUnitSets',
] as const;

async function metricsPlugin(app: FastifyInstance, options: MetricsOptions): Promise<void> {
  const { evaluator, revision } = options;
  const http = new HttpMetrics();
  const started = Date.now() / 1000 - process.uptime();

  // Callback style: this runs on every request and needs no promise.
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
    // Unmatched URLs share one label: arbitrary paths must not each make a series.
    const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched');
    http.record(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  // Server time on every reply (W3C Server-Timing), so a load generator can tell the server's
  // share of a latency from the network's and the client's.
  app.addHook('onSend', (_request: FastifyRequest, reply: FastifyReply, payload, done) => {
    reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(3)}`);
    done(null, payload);
  });

  app.get(
    '/metrics',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (admin scope)',
        security: [{ bearer: [] }],
        produces: ['text/plain'],
        response: { 200: { type: 'string' }, ...errorResponses },
      },
    },
    async (_request, reply) => {
      const lines: string[] = [];
      http.render(lines);
      const stats = evaluator.stats();
      lines.push('# HELP palisade_world_size Entities in the loaded world, by kind.');
      lines.push('# TYPE palisade_world_size gauge');
      for (const kind of WORLD_SIZES) lines.push(`palisade_world_size{kind="${kind}"} ${stats[kind]}`);
      lines.push('# HELP palisade_world_revision The change-log revision the engine has applied (0: a world file).');
      lines.push('# TYPE palisade_world_revision gauge');
      lines.push(`palisade_world_revision ${revision()}`);
      lines.push('# HELP palisade_pool_queue_depth Ranges of pooled questions waiting for a worker (0: none waiting).');
      lines.push('# TYPE palisade_pool_queue_depth gauge');
      lines.push(`palisade_pool_queue_depth ${evaluator.queueDepth()}`);
      const memory = process.memoryUsage();
      lines.push('# HELP process_resident_memory_bytes Resident memory size in bytes.');
      lines.push('# TYPE process_resident_memory_bytes gauge');
      lines.push(`process_resident_memory_bytes ${memory.rss}`);
      lines.push('# HELP nodejs_heap_used_bytes V8 heap in use, in bytes.');
      lines.push('# TYPE nodejs_heap_used_bytes gauge');
      lines.push(`nodejs_heap_used_bytes ${memory.heapUsed}`);
      lines.push('# HELP process_start_time_seconds Start time of the process since the Unix epoch, in seconds.');
      lines.push('# TYPE process_start_time_seconds gauge');
      lines.push(`process_start_time_seconds ${started}`);
      reply.type('text/plain; version=0.0.4; charset=utf-8');
      return `${lines.join('\n')}\n`;
    },
  );
}

export default fp(metricsPlugin, { name: 'palisade-metrics', fastify: '5.x' });
