/**
 * `POST /v1/write` (admin scope): operations on the world as one transaction, made durable in the
 * PostgreSQL store's change log before the answer (replica.ts, docs/store.md "Writes").
 */
import type { UpdateOp } from '@palisade/core';
import type { FastifyInstance } from 'fastify';
import type { Replica } from '../replica.js';
import { writeSchema } from '../schemas.js';
import { apiRoute, type ServerLimits } from './options.js';

export interface WriteOptions {
  readonly replica: Replica;
  readonly limits: ServerLimits;
}

interface WriteBody {
  readonly ops: readonly UpdateOp[];
  readonly asUser?: string;
}

export async function writeRoutes(app: FastifyInstance, options: WriteOptions): Promise<void> {
  const { replica, limits } = options;
  const route = apiRoute(
    'admin',
    'writes',
    'Change the world: operations as one transaction, durable before the answer',
    writeSchema(limits),
  );
  app.post<{ Body: WriteBody }>(
    '/v1/write',
    { ...route, config: { ...route.config, write: true } },
    async (request) => {
      const { ops, asUser } = request.body;
      const result = await replica.write(ops, { keyId: request.keyId, asUser: asUser ?? null });
      request.revision = result.revision;
      return result;
    },
  );
}
