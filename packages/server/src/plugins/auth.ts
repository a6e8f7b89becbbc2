/**
 * Authentication: routes marked with `config.scope` need `authorization: Bearer <key>` naming a
 * configured key that holds the scope. 401 (`PALISADE_UNAUTHENTICATED`) for a missing or unknown
 * key, 403 (`PALISADE_FORBIDDEN`) for a known key without the scope. Runs in `onRequest`, before
 * the body is read, so an unauthenticated client costs no parsing.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ServerErrorCodes, serverError } from '../errors.js';
import { allows, type KeyStore, type Scope } from '../keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The id of the API key that authenticated the request ('' when none was needed). Never the key. */
    keyId: string;
  }
  interface FastifyContextConfig {
    /** The scope a key needs for this route; absent: the route is public. */
    scope?: Scope;
  }
}

export interface AuthOptions {
  readonly keys: KeyStore;
}

const BEARER = /^bearer +(\S+) *$/i;

async function authPlugin(app: FastifyInstance, options: AuthOptions): Promise<void> {
  const { keys } = options;
  app.decorateRequest('keyId', '');

  // Callback style: this runs on every request and needs no promise.
  app.addHook('onRequest', (request, _reply, done) => {
    // Fails closed: were the route's config not read yet, Fastify's own is (so a scoped route never goes public).
    const scope = (request.routeConfig ?? request.routeOptions.config).scope;
    if (scope === undefined) return done();
    const header = request.headers.authorization;
    if (header === undefined || header === '') {
      return done(
        serverError(ServerErrorCodes.UNAUTHENTICATED, 'an API key is required: `authorization: Bearer <key>`'),
      );
    }
    const token = BEARER.exec(header)?.[1];
    if (token === undefined) {
      return done(serverError(ServerErrorCodes.UNAUTHENTICATED, 'the authorization header must be `Bearer <key>`'));
    }
    const key = keys.authenticate(token);
    if (key === null) return done(serverError(ServerErrorCodes.UNAUTHENTICATED, 'unknown API key'));
    if (!allows(key, scope)) {
      return done(
        serverError(ServerErrorCodes.FORBIDDEN, `API key \`${key.id}\` lacks the \`${scope}\` scope`, {
          scope,
          key: key.id,
        }),
      );
    }
    request.keyId = key.id;
    done();
  });
}

// Fastify refuses to start without the route-config plugin registered first: this hook reads its field.
export default fp(authPlugin, { name: 'palisade-auth', fastify: '5.x', dependencies: ['palisade-route-config'] });
