import { ErrorCodes, PalisadeError, type WorldRule } from '../errors.js';

/**
 * Small typed readers over untrusted input. Each takes the value and, for the error only, where
 * it sits; paths are built as strings only when something is wrong, so valid input costs no
 * string work.
 */
export class WorldReader {
  /** The item being read: set per item so every failure can name it. */
  itemKind = 'world';
  itemId: string | null = null;
  /** Where the item sits, `base[index]` (index -1: base itself); relative paths hang off it. */
  private base = '$';
  private index = -1;

  /**
   * The full path of `path`: absolute when it starts with `$`, else relative to the current item
   * (`''`, `.field`, `[3]`). Built only when something fails, so valid input costs no string work.
   */
  private resolve(path: string): string {
    if (path.startsWith('$')) return path;
    return `${this.index < 0 ? this.base : `${this.base}[${this.index}]`}${path}`;
  }

  fail(rule: WorldRule, relativePath: string, problem: string): never {
    const path = this.resolve(relativePath);
    const subject = this.itemId === null ? this.itemKind : `${this.itemKind} \`${this.itemId}\``;
    throw new PalisadeError(ErrorCodes.WORLD_INVALID, `${subject} at ${path}: ${problem} (${rule})`, {
      rule,
      kind: this.itemKind,
      id: this.itemId,
      path,
    });
  }

  at(kind: string, id: string | null): void {
    this.itemKind = kind;
    this.itemId = id;
  }

  /**
   * Starts reading item `base[index]`: any failure from here on names it by kind, by its id (when
   * it has a string one) and by its path.
   */
  begin(kind: string, value: unknown, idKey: string | null, base: string, index: number): void {
    const id = idKey !== null && isPlainObject(value) ? value[idKey] : undefined;
    this.at(kind, typeof id === 'string' ? id : null);
    this.base = base;
    this.index = index;
  }

  /** A plain object whose keys are all in `allowed` and which has every key in `required`. */
  object(
    value: unknown,
    path: string,
    allowed: ReadonlySet<string>,
    required: readonly string[] = [],
  ): Record<string, unknown> {
    if (!isPlainObject(value)) this.fail('shape', path, `expected an object, got ${describe(value)}`);
    for (const key in value) {
      if (!allowed.has(key)) this.fail('shape', field(path, key), `unknown field \`${key}\``);
    }
    for (const key of required) {
      if (value[key] === undefined) this.fail('shape', field(path, key), `missing required field \`${key}\``);
    }
    return value;
  }

  /** A record (map) of arbitrary keys; the caller checks the keys. */
  map(value: unknown, path: string): Record<string, unknown> {
    if (!isPlainObject(value)) this.fail('shape', path, `expected an object, got ${describe(value)}`);
    return value;
  }

  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.fail('shape', path, `expected an array, got ${describe(value)}`);
    return value;
  }

  /** An optional top-level or nested array: undefined reads as empty. */
  optionalArray(value: unknown, path: string): unknown[] {
    return value === undefined ? [] : this.array(value, path);
  }

  boolean(value: unknown, path: string, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') this.fail('shape', path, `expected true or false, got ${describe(value)}`);
    return value;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string') this.fail('shape', path, `expected a string, got ${describe(value)}`);
    return value;
  }

  optionalString(value: unknown, path: string): string | undefined {
    return value === undefined ? undefined : this.string(value, path);
  }

  /** An id or a reference to one: a non-empty string. */
  id(value: unknown, path: string): string {
    if (typeof value !== 'string') this.fail('shape', path, `expected an id string, got ${describe(value)}`);
    if (value.length === 0) this.fail('id-format', path, 'ids must be non-empty strings');
    return value;
  }

  /** A reference that may be null or absent (parentId, managerId, positionId). */
  nullableId(value: unknown, path: string): string | null {
    return value === null || value === undefined ? null : this.id(value, path);
  }

  /** A string that must be one of `words`. */
  word<W extends string>(value: unknown, path: string, words: readonly W[], what: string): W {
    const text = this.string(value, path);
    if (!(words as readonly string[]).includes(text)) {
      this.fail('exact-word', path, `\`${text}\` is not a ${what} (expected one of ${words.join(', ')})`);
    }
    return text as W;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `$.a.b` for plain keys, `$.a["b c"]` otherwise, so any key reads back unambiguously. */
export function field(path: string, key: string): string {
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

export function item(path: string, index: number): string {
  return `${path}[${index}]`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
