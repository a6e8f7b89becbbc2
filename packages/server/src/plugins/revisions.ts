/**
 * Consistency tokens. Every reply carries `palisade-revision: <n>`, the change-log revision the
 * answer was computed at (for a write, the revision it committed as; 0 for a world file). Every
 * API route accepts `atLeastRevision` (`?atLeastRevision=N`, or the header
 * `palisade-at-least-revision: N`): the server first catches up from the store, waiting up to
 * `--revision-wait` ms, and answers 503 `PALISADE_REVISION_NOT_READY` if it still has not applied
 * revision N. A client that wrote through one replica reads its own write through any other by
 * passing the revision the write answered.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ServerErrorCodes, serverError } from '../errors.js';
import type { Replica } from '../replica.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The revision the answer is computed at (-1 until known). */
    revision: number;
  }
  interface FastifyContextConfig {
    /** A write route: it catches up and sets `request.revision` itself. */
    write?: boolean;
  }
}

export interface RevisionsOptions {
  readonly replica: Replica;
}

export const REVISION_HEADER = 'palisade-revision';
export const AT_LEAST_REVISION_HEADER = 'palisade-at-least-revision';

const REVISION = /^\d{1,15}$/;

/** The revision the request asks for at least (the larger of query and header), or -1. */
function requestedRevision(request: FastifyRequest): number {
  const query = (request.query as Record<string, unknown> | undefined)?.atLeastRevision;
  const header = request.headers[AT_LEAST_REVISION_HEADER];
  return Math.max(revisionIn('atLeastRevision', query), revisionIn(AT_LEAST_REVISION_HEADER, header));
}

/** The revision a query field or header asks for, or -1 when it is absent. */
function revisionIn(field: string, value: unknown): number {
  if (value === undefined) return -1;
  if (typeof value !== 'string' || !REVISION.test(value)) {
    throw serverError(ServerErrorCodes.INVALID_REQUEST, `\`${field}\` must be a revision: a non-negative integer`, {
      field,
      rule: 'pattern',
    });
  }
  return Number(value);
}

async function revisionsPlugin(app: FastifyInstance, options: RevisionsOptions): Promise<void> {
  const { replica } = options;
  app.decorateRequest('revision', -1);

  // After authentication and validation: a request that fails those does not wait.
  app.addHook('preHandler', (request, _reply, done) => {
    const config = request.routeConfig;
    if (config?.negotiate !== true || config.write === true) return done();
    let wanted: number;
    try {
      wanted = requestedRevision(request);
    } catch (error) {
      return done(error as Error);
    }
    if (replica.consistent && replica.revision >= wanted) {
      request.revision = replica.revision;
      return done();
    }
    if (!replica.consistent && wanted < 0) {
      return done(
        serverError(
          ServerErrorCodes.UNAVAILABLE,
          'the server is reloading its world from the store after a failed write',
        ),
      );
    }
    replica.waitFor(wanted).then(
      () => {
        request.revision = replica.revision;
        done();
      },
      (error: Error) => done(error),
    );
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header(REVISION_HEADER, String(request.revision >= 0 ? request.revision : replica.revision));
    done(null, payload);
  });
}

export default fp(revisionsPlugin, {
  name: 'palisade-revisions',
  fastify: '5.x',
  dependencies: ['palisade-route-config'],
});
