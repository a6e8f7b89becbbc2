/** Liveness and readiness: public, JSON only, and cheap enough to poll every second. */
import type { FastifyInstance } from 'fastify';
import { ServerErrorCodes, serverError } from '../errors.js';
import type { Evaluator } from '../evaluator.js';

export interface HealthOptions {
  readonly evaluator: Evaluator;
  /** True once shutdown has begun: readiness fails so load balancers stop sending work. */
  readonly closing: () => boolean;
}

const okSchema = {
  type: 'object',
  properties: { status: { type: 'string' } },
} as const;

export async function healthRoutes(app: FastifyInstance, options: HealthOptions): Promise<void> {
  const { evaluator, closing } = options;

  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the process answers',
        response: { 200: okSchema },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: a world is loaded and the server is not shutting down',
        response: {
          200: {
            type: 'object',
            properties: { status: { type: 'string' }, revision: { type: 'integer' }, records: { type: 'integer' } },
          },
          503: { $ref: 'Error#' },
        },
      },
    },
    async () => {
      if (closing()) throw serverError(ServerErrorCodes.UNAVAILABLE, 'the server is shutting down');
      if (!evaluator.ready()) throw serverError(ServerErrorCodes.UNAVAILABLE, 'no world is loaded yet');
      const stats = evaluator.stats();
      return { status: 'ready', revision: stats.revision, records: stats.records };
    },
  );
}
