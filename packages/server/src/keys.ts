/**
 * API keys: bearer tokens, each with an id (for logs; the key itself is never logged) and scopes.
 * Keys are held only as SHA-256 digests and compared with `timingSafeEqual`, so neither a
 * keys file nor the comparison's timing gives a key away.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { serverError } from './errors.js';

/** `check`: the decision and list routes. `admin`: also who-can-access, user privileges and metrics. */
export type Scope = 'check' | 'admin';
export const SCOPES: readonly Scope[] = ['check', 'admin'];

/** A key as a keys file lists it: the key's SHA-256 (hex) or, for development, the key itself. */
export interface ApiKeyEntry {
  readonly id: string;
  readonly sha256?: string;
  readonly key?: string;
  readonly scopes: readonly Scope[];
}

export interface ApiKey {
  readonly id: string;
  readonly scopes: readonly Scope[];
}

/** A plaintext key must be at least this long: shorter ones can be guessed. */
const MIN_KEY_LENGTH = 16;
/** What a bearer token can carry: printable ASCII, no spaces (HTTP headers are not UTF-8). */
const KEY_CHARACTERS = /^[\x21-\x7e]+$/;
const HEX_DIGEST = /^[0-9a-f]{64}$/;

interface StoredKey {
  readonly key: ApiKey;
  readonly digest: Buffer;
}

export function sha256(text: string): Buffer {
  return hash('sha256', text, 'buffer');
}

/**
 * One-shot `crypto.hash` (Node 20.12+, "release candidate" in Node 20's docs; the workspace needs
 * 20.19): unlike `createHash` it makes no native Hash object, whose weak handle each request left
 * for the young-generation GC to process (half of a scavenge's pause at 5,000 requests/s), and no
 * Buffer. Same digest: a string is hashed as UTF-8 either way.
 */
function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

/** The configured keys; `authenticate` finds the one a bearer token names. */
export class KeyStore {
  private readonly stored: readonly StoredKey[];
  /** The token's digest, written in place: a request allocates no buffer to authenticate. */
  private readonly digest = Buffer.alloc(32);

  constructor(entries: readonly ApiKeyEntry[]) {
    this.stored = entries.map((entry, i) => validEntry(entry, i));
    const ids = new Set<string>();
    for (const { key } of this.stored) {
      if (ids.has(key.id)) throw invalidKeys(`keys[].id \`${key.id}\` is listed twice`);
      ids.add(key.id);
    }
  }

  get size(): number {
    return this.stored.length;
  }

  /**
   * The key whose digest equals the token's, or null. Every stored digest is compared (no early
   * exit) with a constant-time comparison, so timing says nothing about which key came close.
   */
  authenticate(token: string): ApiKey | null {
    const digest = this.digest;
    digest.write(sha256Hex(token), 'hex');
    let found: ApiKey | null = null;
    for (const { key, digest: stored } of this.stored) {
      if (timingSafeEqual(digest, stored) && found === null) found = key;
    }
    return found;
  }
}

/** True when `key` may use a route that needs `scope`; `admin` includes `check`. */
export function allows(key: ApiKey, scope: Scope): boolean {
  return key.scopes.includes(scope) || key.scopes.includes('admin');
}

/** A new random key (`pal_` + 32 random bytes, base64url). */
export function generateKey(prefix = 'pal_'): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** Parses a keys file's text: `{ "keys": [ { "id", "sha256" | "key", "scopes" } ] }`. */
export function parseKeysFile(text: string, source: string): ApiKeyEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalidKeys(`${source} is not JSON: ${(error as Error).message}`);
  }
  const keys = isObject(parsed) ? parsed.keys : undefined;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw invalidKeys(`${source} must be an object with a non-empty \`keys\` array`);
  }
  return keys.map((entry, i) => {
    if (!isObject(entry)) throw invalidKeys(`keys[${i}] in ${source} must be an object`);
    const { id, sha256: digest, key, scopes } = entry;
    if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string')) {
      throw invalidKeys(`keys[${i}].scopes in ${source} must be an array of scope names`);
    }
    for (const field of ['id', 'sha256', 'key'] as const) {
      const value = entry[field];
      if (value !== undefined && typeof value !== 'string') {
        throw invalidKeys(`keys[${i}].${field} in ${source} must be a string`);
      }
    }
    return {
      id: id as string,
      scopes: scopes as Scope[],
      ...(digest === undefined ? {} : { sha256: digest as string }),
      ...(key === undefined ? {} : { key: key as string }),
    };
  });
}

function validEntry(entry: ApiKeyEntry, i: number): StoredKey {
  if (typeof entry.id !== 'string' || entry.id === '') throw invalidKeys(`keys[${i}].id must be a non-empty string`);
  const at = `keys[${i}] (\`${entry.id}\`)`;
  if (entry.scopes.length === 0) throw invalidKeys(`${at} needs at least one scope (${SCOPES.join(', ')})`);
  for (const scope of entry.scopes) {
    if (!SCOPES.includes(scope)) throw invalidKeys(`${at} has unknown scope \`${scope}\` (${SCOPES.join(', ')})`);
  }
  if ((entry.sha256 === undefined) === (entry.key === undefined)) {
    throw invalidKeys(`${at} needs exactly one of \`sha256\` (recommended) and \`key\``);
  }
  let digest: Buffer;
  if (entry.sha256 !== undefined) {
    const hex = entry.sha256.toLowerCase();
    if (!HEX_DIGEST.test(hex)) throw invalidKeys(`${at}.sha256 must be 64 hexadecimal digits`);
    digest = Buffer.from(hex, 'hex');
  } else {
    const key = entry.key as string;
    if (key.length < MIN_KEY_LENGTH) throw invalidKeys(`${at}.key must be at least ${MIN_KEY_LENGTH} characters`);
    if (!KEY_CHARACTERS.test(key)) {
      throw invalidKeys(`${at}.key must be printable ASCII without spaces: an authorization header carries it`);
    }
    digest = sha256(key);
  }
  return { key: Object.freeze({ id: entry.id, scopes: Object.freeze([...new Set(entry.scopes)]) }), digest };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidKeys(message: string) {
  return serverError('PALISADE_INVALID_CONFIG', `invalid API keys: ${message}`);
}
