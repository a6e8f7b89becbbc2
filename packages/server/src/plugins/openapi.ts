/**
 * The OpenAPI 3.1 document (`GET /openapi.json`) and a Swagger UI page (`GET /docs`), both
 * generated from the route schemas by @fastify/swagger. Registered before the routes, whose
 * schemas it collects as they are added. Both are public: they describe the API, not the world.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { JSON_TYPE, MSGPACK_TYPES } from '../wire.js';

export const API_VERSION = '0.1.0';

async function openapiPlugin(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Palisade',
        version: API_VERSION,
        description:
          'Access checks for the Microsoft Dataverse security model. Bodies and answers in JSON or ' +
          'MessagePack (`application/msgpack`, also `application/x-msgpack`) by Content-Type and Accept. ' +
          'Every error is `{ error: { code, message, details? } }` (docs/errors.md). Every reply carries ' +
          '`palisade-revision`, the change-log revision it was computed at; every API route accepts ' +
          '`?atLeastRevision=N` (or the header `palisade-at-least-revision`).',
      },
      tags: [
        { name: 'decisions', description: 'yes/no questions, one or many' },
        { name: 'lists', description: 'which rows or records a user may access' },
        { name: 'explanations', description: 'why, and who' },
        { name: 'writes', description: 'changes to the world, durable in the PostgreSQL store' },
        { name: 'authzen', description: 'OpenID AuthZEN Authorization API 1.0' },
        { name: 'operations', description: 'health, readiness, metrics' },
      ],
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API key' } },
      },
    },
    // Shared schemas become components named by their `$id` (`#/components/schemas/Error`).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/** What API routes declare they read and write. */
export const API_MEDIA_TYPES = { consumes: [JSON_TYPE, ...MSGPACK_TYPES], produces: [JSON_TYPE, MSGPACK_TYPES[0]] };

export default fp(openapiPlugin, { name: 'palisade-openapi', fastify: '5.x' });
