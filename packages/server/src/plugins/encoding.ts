/**
 * Content negotiation: bodies in JSON (Fastify's own parser) or MessagePack (by Content-Type),
 * answers in the encoding the Accept header prefers (see `negotiate`). Only routes marked
 * `config.negotiate` answer in MessagePack; health, metrics and docs are fixed formats.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ServerErrorCodes, serverError } from '../errors.js';
import { refusedExtension } from '../msgpack-extensions.js';
import { decodeMsgpack, encodeMsgpack, MSGPACK_TYPE, MSGPACK_TYPES, negotiate, type Wire } from '../wire.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The response encoding chosen for this request. */
    wire: Wire;
  }
  interface FastifyContextConfig {
    /** Answer in JSON or MessagePack as the client asks (API routes). */
    negotiate?: boolean;
  }
}

async function encodingPlugin(app: FastifyInstance): Promise<void> {
  // Declared up front with a value of its type, so every request object has the same shape.
  app.decorateRequest('wire', 'json');

  // Only JSON and MessagePack: Fastify's default text/plain parser would hand a string to the schema.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser([...MSGPACK_TYPES], { parseAs: 'buffer' }, (_request, body, done) => {
    const bytes = body as Buffer;
    if (bytes.length === 0) {
      done(serverError(ServerErrorCodes.MALFORMED_BODY, 'the body is empty'), undefined);
      return;
    }
    // Before decoding: a record definition or a big integer costs the decoder work of its own.
    const refused = refusedExtension(bytes);
    if (refused?.malformed === true) {
      const where = refused.field === 'body' ? '' : ` (in \`${refused.field}\`)`;
      done(
        serverError(ServerErrorCodes.MALFORMED_BODY, `the body is not valid MessagePack: it holds 0xc1${where}`),
        undefined,
      );
      return;
    }
    if (refused !== null) {
      const { field, what } = refused;
      done(
        serverError(
          ServerErrorCodes.INVALID_REQUEST,
          `\`${field}\` must be plain data, not a MessagePack extension value (${what})`,
          { field, rule: 'plain-data' },
        ),
        undefined,
      );
      return;
    }
    let value: unknown;
    try {
      value = decodeMsgpack(bytes);
    } catch (error) {
      // Includes truncated input, trailing bytes, unknown extensions and nesting deep enough to
      // overflow the stack (a RangeError caught here like any other). msgpackr's message may quote
      // the decoded value (`… not reached {…}`): keep only its words.
      const words = error instanceof Error ? (error.message.split(' {', 1)[0] ?? '').slice(0, 120) : '';
      const reason = words === '' ? '' : `: ${words.toLowerCase()}`;
      done(serverError(ServerErrorCodes.MALFORMED_BODY, `the body is not valid MessagePack${reason}`), undefined);
      return;
    }
    done(null, value);
  });

  // Callback style: this runs on every request and needs no promise.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.routeConfig?.negotiate === true) {
      const wire = negotiate(request.headers.accept, request.headers['content-type']);
      request.wire = wire;
      // Fastify's typings say a serializer returns a string; it sends a Buffer just as well.
      if (wire === 'msgpack')
        reply.type(MSGPACK_TYPE).serializer(encodeMsgpack as unknown as (payload: unknown) => string);
    }
    done();
  });
}

export default fp(encodingPlugin, {
  name: 'palisade-encoding',
  fastify: '5.x',
  dependencies: ['palisade-route-config'],
});
