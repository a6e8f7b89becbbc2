/**
 * Reading answers: the Server-Timing header, bodies in either encoding, the server's error shape
 * (`{ error: { code, message } }`), and the codes this tool gives failures that never reached an
 * answer.
 */
import { Unpackr } from 'msgpackr';

/** Codes for failures without a server answer (the server's own are `PALISADE_*`). */
export const LoadErrorCodes = {
  /** Connecting, or the connection closing or resetting under a request. */
  CONNECTION: 'LOAD_CONNECTION',
  /** No answer within `--timeout`. */
  TIMEOUT: 'LOAD_TIMEOUT',
  /** Open loop: the request was due but a whole second of requests was already waiting; not sent. */
  BACKLOG: 'LOAD_BACKLOG',
  /** Native generator: an answer it cannot read (not HTTP/1.1 with a length or chunks). */
  PROTOCOL: 'LOAD_PROTOCOL',
} as const;

// As the server reads MessagePack: plain objects, no extensions, 64-bit integers as numbers.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, structuredClone: false, int64AsType: 'number' });

/** The `app` metric's `dur` (milliseconds) of a Server-Timing header; null when absent. */
export function serverTimingMs(header: string | string[] | undefined): number | null {
  if (header === undefined) return null;
  const text = Array.isArray(header) ? header.join(',') : header;
  const match = /(?:^|,)\s*app\s*;(?:[^,]*;)?\s*dur=([\d.]+)/.exec(text);
  return match === null ? null : Number(match[1]);
}

export function isMsgpack(contentType: string | string[] | undefined): boolean {
  const type = Array.isArray(contentType) ? contentType[0] : contentType;
  return type?.includes('msgpack') === true;
}

/** A body by its content type: MessagePack, else JSON. Throws on a malformed one. */
export function decodeBody(contentType: string | string[] | undefined, bytes: Uint8Array): unknown {
  if (isMsgpack(contentType)) return unpackr.unpack(bytes);
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
}

/** The error an error status carries; `HTTP_<status>` when its body is not the server's error shape. */
export function errorOf(
  status: number,
  contentType: string | string[] | undefined,
  bytes: Uint8Array,
): { code: string; message: string } {
  try {
    const body = decodeBody(contentType, bytes) as { error?: { code?: unknown; message?: unknown } } | null;
    const code = body?.error?.code;
    if (typeof code === 'string') {
      return { code, message: typeof body?.error?.message === 'string' ? body.error.message : '' };
    }
  } catch {
    // Not JSON or MessagePack: fall through to the status.
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8').slice(0, 200);
  return { code: `HTTP_${status}`, message: text };
}

/** A transport failure's code and message (undici's error codes, or Node's socket errors). */
export function transportError(error: unknown): { code: string; message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const detail = typeof code === 'string' ? `${code}: ${message}` : message;
  if (typeof code === 'string' && /TIMEOUT/.test(code)) return { code: LoadErrorCodes.TIMEOUT, message: detail };
  return { code: LoadErrorCodes.CONNECTION, message: detail };
}
