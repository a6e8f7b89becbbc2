import type { Scope } from '../keys.js';
import { API_MEDIA_TYPES } from '../plugins/openapi.js';
import { documented, errorResponses } from '../schemas.js';

/** The limits every route reads, in one object. */
export interface ServerLimits {
  /** Largest body accepted, in bytes (413 `PALISADE_BODY_TOO_LARGE` beyond). */
  readonly bodyLimit: number;
  /** Most items in `/v1/checks` and AuthZEN `evaluations`. */
  readonly maxBatchItems: number;
  /** Most rows in one `/v1/filter`. */
  readonly maxFilterRows: number;
  /** Largest page of `/v1/lookup` and AuthZEN resource search. */
  readonly maxPageSize: number;
  /** Most ids `/v1/lookup` returns with format `ids` (422 `PALISADE_RESULT_TOO_LARGE` beyond: page instead). */
  readonly maxLookupIds: number;
}

/** The address the server listens on unless told otherwise (`--host`, `--port`). */
export const DEFAULT_LISTEN = { host: '127.0.0.1', port: 8787 } as const;

/** `http://host:port`, an IPv6 host in brackets. */
export function httpOrigin(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export const DEFAULT_LIMITS: ServerLimits = {
  bodyLimit: 8 * 1024 * 1024,
  maxBatchItems: 10_000,
  maxFilterRows: 1_000_000,
  maxPageSize: 1_000,
  maxLookupIds: 100_000,
};

interface RouteSchema {
  readonly response?: Readonly<Record<string | number, unknown>>;
  readonly [key: string]: unknown;
}

/** `?atLeastRevision=N` (plugins/revisions.ts), accepted by every API route. */
const revisionQuery = {
  type: 'object',
  properties: {
    atLeastRevision: {
      type: 'string',
      pattern: '^[0-9]{1,15}$',
      description:
        'answer only once this server has applied this change-log revision (waits up to --revision-wait ms, ' +
        'else 503 PALISADE_REVISION_NOT_READY); also the header `palisade-at-least-revision`',
    },
  },
} as const;

/**
 * Options of an API route: its key scope, content negotiation, and its documented schema. A schema
 * validated by one of our own ajv keywords (`x-id-list`) is documented with the standard keywords
 * it stands for (schemas.ts `documented`).
 */
export function apiRoute<S extends RouteSchema>(scope: Scope, tag: string, summary: string, schema: S) {
  const routeSchema = {
    tags: [tag],
    summary,
    security: [{ bearer: [] }],
    ...API_MEDIA_TYPES,
    querystring: revisionQuery,
    ...schema,
    response: { ...schema.response, ...errorResponses },
  };
  // Only routes with such a keyword get a transform; the others are documented as they are.
  const swaggerTransform =
    documented(routeSchema) === routeSchema
      ? {}
      : {
          swaggerTransform: <T>({ schema, url }: { schema: T; url: string }) => ({ schema: documented(schema), url }),
        };
  return { config: { scope, negotiate: true, ...swaggerTransform }, schema: routeSchema };
}
