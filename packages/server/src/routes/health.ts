/** Liveness and readiness: public, JSON only, and cheap enough to poll every second. */
import type { FastifyInstance } from 'fastify';
import { ServerErrorCodes, serverError } from '../errors.js';
import type { Replica } from '../replica.js';

export interface HealthOptions {
  readonly replica: Replica;
  /** True once shutdown has begun: readiness fails so load balancers stop sending work. */
  readonly closing: () => boolean;
}

const okSchema = {
  type: 'object',
  properties: { status: { type: 'string' } },
} as const;

export async function healthRoutes(app: FastifyInstance, options: HealthOptions): Promise<void> {
  const { replica, closing } = options;
  const evaluator = replica.evaluator;

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
        summary: 'Readiness: a world is loaded and the server is not shutting down; its change-log revision',
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
      if (!replica.ready()) {
        throw serverError(ServerErrorCodes.UNAVAILABLE, 'reloading the world from the store after a failed write');
      }
      return { status: 'ready', revision: replica.revision, records: evaluator.stats().records };
    },
  );
}
