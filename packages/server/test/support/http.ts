import { readFileSync } from 'node:fs';
import { Engine } from '@palisade/core';
import {
  type ApiKeyEntry,
  buildServer,
  decodeMsgpack,
  encodeMsgpack,
  SAMPLE_WORLD,
  type ServerOptions,
} from '@palisade/server';
import type { FastifyInstance } from 'fastify';
import { assertStandardMsgpack } from './standard-msgpack.js';

/** Keys every test app accepts: one per scope, and one that can do nothing but authenticate. */
export const CHECK_KEY = 'test-check-key-0123456789';
export const ADMIN_KEY = 'test-admin-key-0123456789';
export const TEST_KEYS: readonly ApiKeyEntry[] = [
  { id: 'checker', key: CHECK_KEY, scopes: ['check'] },
  { id: 'operator', key: ADMIN_KEY, scopes: ['admin'] },
];

export const sampleWorld = readFileSync(SAMPLE_WORLD);

/** A fresh engine on the sample world (tests that update it must not share one). */
export function sampleEngine(): Engine {
  return Engine.fromWorld(sampleWorld);
}

/** An app on the sample world with the test keys; options override. */
export function testApp(options: Partial<ServerOptions> = {}): FastifyInstance {
  return buildServer({ engine: sampleEngine(), keys: TEST_KEYS, ...options });
}

export interface Answer {
  readonly status: number;
  /** Decoded by the response's content type (JSON, MessagePack, else the text). */
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string | string[] | number | undefined>>;
}

export interface CallOptions {
  /** Request body encoding (default json). */
  readonly wire?: 'json' | 'msgpack';
  /** Accept header (default: none). */
  readonly accept?: string;
  /** Bearer key; null for none (default: the admin key). */
  readonly key?: string | null;
  readonly headers?: Readonly<Record<string, string>>;
}

export function decodeBody(contentType: string | undefined, raw: Buffer): unknown {
  if (contentType?.includes('msgpack')) {
    assertStandardMsgpack(raw);
    return decodeMsgpack(raw);
  }
  if (contentType?.includes('json')) return JSON.parse(raw.toString('utf8'));
  return raw.toString('utf8');
}

/** POSTs `body` (an object, encoded per `wire`; or raw bytes / text as given) with `inject`. */
export async function post(
  app: FastifyInstance,
  url: string,
  body: unknown,
  options: CallOptions = {},
): Promise<Answer> {
  const wire = options.wire ?? 'json';
  const payload =
    typeof body === 'string' || Buffer.isBuffer(body)
      ? body
      : wire === 'msgpack'
        ? encodeMsgpack(body)
        : JSON.stringify(body);
  return call(
    app,
    'POST',
    url,
    payload,
    {
      'content-type': wire === 'msgpack' ? 'application/msgpack' : 'application/json',
      ...options.headers,
    },
    options,
  );
}

export async function get(app: FastifyInstance, url: string, options: CallOptions = {}): Promise<Answer> {
  return call(app, 'GET', url, undefined, { ...options.headers }, options);
}

async function call(
  app: FastifyInstance,
  method: 'GET' | 'POST',
  url: string,
  payload: string | Buffer | undefined,
  headers: Record<string, string>,
  options: CallOptions,
): Promise<Answer> {
  const key = options.key === undefined ? ADMIN_KEY : options.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (options.accept !== undefined) headers.accept = options.accept;
  const response = await app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
  const contentType = response.headers['content-type'];
  return {
    status: response.statusCode,
    body: decodeBody(typeof contentType === 'string' ? contentType : undefined, response.rawPayload),
    headers: response.headers,
  };
}

/** The `{ error: { code, message } }` of an error answer (throws if the body has another shape). */
export function errorOf(answer: Answer): { code: string; message: string; details?: Record<string, unknown> } {
  const body = answer.body as { error?: { code: string; message: string; details?: Record<string, unknown> } };
  if (body === null || typeof body !== 'object' || body.error === undefined) {
    throw new Error(`not an error body: ${JSON.stringify(answer.body)}`);
  }
  return body.error;
}

/** A `bin` of little-endian uint32s. */
export function u32Bytes(values: readonly number[]): Buffer {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => {
    bytes.writeUInt32LE(v, i * 4);
  });
  return bytes;
}

export function fromU32Bytes(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getUint32(i * 4, true));
}

/** The sample world's simplest write: read on `recordId` shared with u-sam. */
export const shareToSam = (recordId: string) => ({
  op: 'grantShare',
  table: 'account',
  recordId,
  principalId: 'u-sam',
  rights: ['read'],
});
