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

/**
 * One route and method's series: request counts by status and a latency histogram. Every field
 * set in the constructor, so all series share a shape.
 */
class RouteSeries {
  /** `method="…",route="…"`, made once when the series is first seen. */
  readonly labels: string;
  readonly statuses: Map<number, number>;
  readonly buckets: Float64Array;
  sum: number;
  count: number;

  constructor(labels: string) {
    this.labels = labels;
    this.statuses = new Map();
    this.buckets = new Float64Array(kBuckets.length);
    this.sum = 0;
    this.count = 0;
  }

  record(status: number, seconds: number): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    for (let i = 0; i < kBuckets.length; i++) {
      if (seconds <= (kBuckets[i] as number)) {
        this.buckets[i] = (this.buckets[i] as number) + 1;
        break;
      }
    }
    this.sum += seconds;
    this.count++;
  }
}

/** Request counters and latency histograms by route and method. */
export class HttpMetrics {
  /**
   * route → method → series. A request finds its series by the strings it already has: building
   * label strings per request was most of what recording a metric allocated.
   */
  private readonly routes = new Map<string, Map<string, RouteSeries>>();

  record(method: string, route: string, status: number, seconds: number): void {
    let methods = this.routes.get(route);
    if (methods === undefined) {
      methods = new Map();
      this.routes.set(route, methods);
    }
    let series = methods.get(method);
    if (series === undefined) {
      series = new RouteSeries(`method="${method}",route="${escapeLabel(route)}"`);
      methods.set(method, series);
    }
    series.record(status, seconds);
  }

  render(lines: string[]): void {
    const all = [...this.routes.values()].flatMap((methods) => [...methods.values()]);
    lines.push('# HELP palisade_http_requests_total HTTP requests answered, by method, route and status.');
    lines.push('# TYPE palisade_http_requests_total counter');
    for (const { labels, statuses } of all) {
      for (const [status, value] of statuses)
        lines.push(`palisade_http_requests_total{${labels},status="${status}"} ${value}`);
    }
    lines.push('# HELP palisade_http_request_duration_seconds Time from request to response, by method and route.');
    lines.push('# TYPE palisade_http_request_duration_seconds histogram');
    for (const h of all) {
      let cumulative = 0;
      for (let i = 0; i < kBuckets.length; i++) {
        cumulative += h.buckets[i] as number;
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
    // `is404` too: a handler that hands the request to the not-found handler (a missing static
    // file) leaves `routeConfig` on the route it came through.
    const route = request.is404 ? 'unmatched' : (request.routeConfig?.url ?? 'unmatched');
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

export default fp(metricsPlugin, {
  name: 'palisade-metrics',
  fastify: '5.x',
  dependencies: ['palisade-route-config'],
});
