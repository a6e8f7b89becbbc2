/**
 * `buildServer`: the Fastify app, built but not listening (tests call `inject()`; `serve` listens).
 *
 * Plugins in order, one per concern: the route's config on the request (read once, by the hooks
 * after it), errors (the one error shape), encoding (JSON / MessagePack),
 * the shutdown gate, auth (bearer keys and scopes), revisions (consistency tokens), OpenAPI
 * (collects route schemas, so it comes before any route), metrics; then the routes: health,
 * native v1, writes, AuthZEN.
 */
import type { Engine } from '@palisade/core';
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import fp from 'fastify-plugin';
import { ServerErrorCodes, serverError } from './errors.js';
import { type Evaluator, InlineEvaluator } from './evaluator.js';
import { type ApiKeyEntry, KeyStore } from './keys.js';
import authPlugin from './plugins/auth.js';
import encodingPlugin from './plugins/encoding.js';
import errorsPlugin, { frameworkErrors } from './plugins/errors.js';
import metricsPlugin from './plugins/metrics.js';
import openapiPlugin from './plugins/openapi.js';
import revisionsPlugin from './plugins/revisions.js';
import routeConfigPlugin from './plugins/route-config.js';
import { Replica } from './replica.js';
import { authzenRoutes } from './routes/authzen.js';
import { healthRoutes } from './routes/health.js';
import { DEFAULT_LIMITS, DEFAULT_LISTEN, type ServerLimits } from './routes/options.js';
import { v1Routes } from './routes/v1.js';
import { writeRoutes } from './routes/write.js';
import { idListError, sharedSchemas } from './schemas.js';
import { isIndexBytes } from './wire.js';

/** Where log lines go: pino's JSON lines to stdout by default, or a test's stream. */
export interface LoggerOptions {
  readonly level?: string;
  readonly stream?: { write(line: string): void };
}

export interface ServerOptions {
  /** The world served from the PostgreSQL store (writes, revisions; `Replica.open`), or… */
  readonly replica?: Replica;
  /** …the engine of a world file to answer with (wrapped in an `InlineEvaluator`), or… */
  readonly engine?: Engine;
  /** …the evaluator itself (a worker pool, a test double). */
  readonly evaluator?: Evaluator;
  readonly keys: KeyStore | readonly ApiKeyEntry[];
  readonly limits?: Partial<ServerLimits>;
  /** false (default) for no logs. */
  readonly logger?: boolean | LoggerOptions;
  /** The public base URL for the AuthZEN metadata document; default: the listen address (`listen`). */
  readonly publicUrl?: string | null;
  /**
   * Where the server listens (`--host`, `--port`; default 127.0.0.1:8787). Only the AuthZEN metadata
   * reads it, when `publicUrl` is not set, with the port actually bound once listening.
   */
  readonly listen?: { readonly host: string; readonly port: number };
}

/**
 * Request logs at debug, not info: at tens of thousands of requests a second, two info lines per
 * request cost more than the answers. Errors are still logged by the errors plugin.
 */
class QuietLogController extends LogController {
  override incomingRequest(request: Parameters<LogController['incomingRequest']>[0]): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(
    error: Parameters<LogController['requestCompleted']>[0],
    request: Parameters<LogController['requestCompleted']>[1],
    reply: Parameters<LogController['requestCompleted']>[2],
  ): void {
    // The key's id (never the key) says who asked.
    const fields = { res: reply, responseTime: reply.elapsedTime, key: request.keyId };
    if (error !== null && error !== undefined) reply.log.error({ ...fields, err: error }, 'request errored');
    else reply.log.debug(fields, 'request completed');
  }
}

type AjvPlugin = Extract<
  NonNullable<NonNullable<FastifyServerOptions['ajv']>['plugins']>[number],
  (...args: never[]) => unknown
>;

/** The ajv keyword behind binary index lists (`x-index-bytes`); see schemas.ts `indexList`. */
const indexBytesKeyword: AjvPlugin = (ajv) =>
  ajv.addKeyword({ keyword: 'x-index-bytes', validate: (_schema: unknown, data: unknown) => isIndexBytes(data) });

/**
 * The ajv keyword behind long id lists (`x-id-list`; see schemas.ts `idListError`): the first
 * entry `idSchema` refuses is reported at its own path, with ajv's keyword, params and message, so
 * the answer is the one `items: idSchema` gave.
 */
const idListKeyword: AjvPlugin = (ajv) => {
  function validate(_schema: unknown, data: unknown, _parent?: unknown, context?: { instancePath: string }): boolean {
    const error = idListError(data as readonly unknown[]);
    if (error === null) return true;
    validate.errors = [
      {
        keyword: error.keyword,
        instancePath: `${context?.instancePath ?? ''}/${error.index}`,
        params: { ...error.params },
        message: error.message,
      },
    ];
    return false;
  }
  validate.errors = [] as { keyword: string; instancePath: string; params: object; message: string }[];
  return ajv.addKeyword({ keyword: 'x-id-list', type: 'array', errors: true, validate });
};

export function buildServer(options: ServerOptions): FastifyInstance {
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const given = options.evaluator ?? (options.engine === undefined ? null : new InlineEvaluator(options.engine));
  const replica = options.replica ?? (given === null ? null : Replica.serving(given));
  if (replica === null) throw new TypeError('buildServer needs a replica, an engine or an evaluator');
  const evaluator = replica.evaluator;
  const keys = options.keys instanceof KeyStore ? options.keys : new KeyStore(options.keys);
  const logger = options.logger ?? false;

  const fastifyOptions: FastifyServerOptions = {
    logger:
      logger === false
        ? false
        : {
            level: logger === true ? 'info' : (logger.level ?? 'info'),
            ...(logger === true || logger.stream === undefined ? {} : { stream: logger.stream }),
            // Fastify's request serializer logs no headers, but anything that logs a request's
            // headers must not write a key.
            redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' },
          },
    logController: new QuietLogController(),
    bodyLimit: limits.bodyLimit,
    // Our own gate answers during shutdown, in the one error shape (Fastify's own 503 has another).
    return503OnClosing: false,
    frameworkErrors,
    ajv: {
      // Strict types (no "1" for 1), unknown fields rejected rather than silently dropped,
      // `verbose` so an anyOf's error carries its schema's description.
      customOptions: {
        coerceTypes: false,
        removeAdditional: false,
        useDefaults: true,
        allErrors: false,
        verbose: true,
      },
      plugins: [indexBytesKeyword, idListKeyword],
    },
  };
  const app = Fastify(fastifyOptions);

  for (const schema of sharedSchemas) app.addSchema(schema);

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onClose', async () => replica.close());

  app.register(routeConfigPlugin);
  app.register(errorsPlugin);
  app.register(encodingPlugin);
  // Shutdown: requests already in flight finish; their answers say `connection: close`, so no
  // keep-alive connection outlives the drain (Node's server.close only ends connections idle at
  // that moment). A request that still arrives on an open connection is refused with 503. (A
  // plugin rather than bare hooks, so the 503 comes after the encoding plugin's hook and is encoded.)
  app.register(
    fp(async (instance) => {
      // Callback-style hooks: they run on every request, and skip an async hook's promise.
      instance.addHook('onRequest', (_request, reply, done) => {
        if (!closing) return done();
        reply.header('connection', 'close');
        done(serverError(ServerErrorCodes.UNAVAILABLE, 'the server is shutting down'));
      });
      instance.addHook('onSend', (_request, reply, payload, done) => {
        if (closing) reply.header('connection', 'close');
        done(null, payload);
      });
    }),
  );
  app.register(authPlugin, { keys });
  app.register(revisionsPlugin, { replica });
  app.register(openapiPlugin);
  app.register(metricsPlugin, { evaluator, revision: () => replica.revision });
  app.register(healthRoutes, { replica, closing: () => closing });
  app.register(v1Routes, { evaluator, limits });
  app.register(writeRoutes, { replica, limits });
  app.register(authzenRoutes, {
    evaluator,
    limits,
    publicUrl: options.publicUrl ?? null,
    listen: options.listen ?? DEFAULT_LISTEN,
  });
  return app;
}
