/**
 * The matched route's `config` on the request, read once. Fastify's `request.routeOptions` builds
 * a new object of a dozen fields on every read, and four hooks per request want the route's
 * config; at thousands of requests a second those objects were a noticeable share of a single
 * check's garbage. Registered before every plugin whose hooks read it (they name it as a
 * dependency, so Fastify refuses to start otherwise).
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The matched route's config (`url`, `method` and our own flags; the not-found handler's has
     * no `url`), or null before the first hook (a request Fastify refused before routing it).
     * Shared by every request of the route: read it, never change it. It stays the route's after
     * `reply.callNotFound()` (use `request.is404` to tell).
     */
    routeConfig: Readonly<FastifyContextConfig & { readonly url?: string }> | null;
  }
}

async function routeConfigPlugin(app: FastifyInstance): Promise<void> {
  app.decorateRequest('routeConfig', null);
  // Callback style: this runs on every request and needs no promise.
  app.addHook('onRequest', (request, _reply, done) => {
    request.routeConfig = request.routeOptions.config;
    done();
  });
}

export default fp(routeConfigPlugin, { name: 'palisade-route-config', fastify: '5.x' });
