/**
 * Request bodies, encoded before the run: each kind gets a rotating set of bodies, so the load
 * generator spends its time sending, not encoding. Each body keeps the question it encodes, for
 * the verifiers.
 */
import { Packr } from 'msgpackr';
import type { Encoding, FilterForm, FilterOutput, Kind } from './options.js';
import type {
  CheckQuestion,
  ChecksQuestion,
  ColumnsQuestion,
  FilterQuestion,
  LookupQuestion,
  QuestionMaker,
} from './questions.js';

export type KindQuestion =
  | { readonly kind: 'check' | 'noop'; readonly question: CheckQuestion }
  | { readonly kind: 'checks'; readonly question: ChecksQuestion }
  | { readonly kind: 'columns'; readonly question: ColumnsQuestion }
  | {
      readonly kind: 'filter';
      readonly question: FilterQuestion;
      readonly form: FilterForm;
      readonly output: FilterOutput;
    }
  | { readonly kind: 'lookup'; readonly question: LookupQuestion };

export interface BodySet {
  readonly kind: Kind;
  readonly path: string;
  /** Encoded bodies; request `n` of this kind sends `bodies[n % bodies.length]`. */
  readonly bodies: readonly Buffer[];
  /** `questions[i]` is what `bodies[i]` asks. */
  readonly questions: readonly KindQuestion[];
  /** Decisions per request: 1, the batch size, or the rows. */
  readonly items: number;
  /** What an item is, for throughput: `checks/s`, `rows/s`. */
  readonly itemUnit: string;
}

export interface BodyShape {
  readonly encoding: Encoding;
  readonly batch: number;
  readonly rows: number;
  readonly filterForm: FilterForm;
  readonly filterOutput: FilterOutput;
  readonly lookupLimit: number;
  /** At most this many bodies per kind. */
  readonly bodies: number;
}

export const PATHS: Readonly<Record<Kind, string>> = {
  check: '/v1/check',
  checks: '/v1/checks',
  columns: '/v1/checks/columns',
  filter: '/v1/filter',
  lookup: '/v1/lookup',
  noop: '/v1/noop',
};

/** What one item of each kind is, for throughput (`checks/s`, `rows/s`). */
const ITEM_UNITS: Readonly<Record<Kind, string>> = {
  check: 'checks',
  checks: 'checks',
  columns: 'checks',
  filter: 'rows',
  lookup: 'lookups',
  noop: 'noops',
};

/** Large bodies get fewer copies: a kind's set stays under this many bytes (but has at least 2 bodies). */
const BYTES_PER_KIND = 64 * 2 ** 20;
const MIN_BODIES = 2;

// Standard MessagePack (no record extension), as the server reads it.
const packr = new Packr({ useRecords: false });

export function buildBodies(kind: Kind, maker: QuestionMaker, shape: BodyShape): BodySet {
  const draw = (): KindQuestion => {
    switch (kind) {
      case 'check':
      case 'noop':
        return { kind, question: maker.check() };
      case 'checks':
        return { kind, question: maker.checks(shape.batch) };
      case 'columns':
        return { kind, question: maker.columns(shape.batch) };
      case 'filter':
        return { kind, question: maker.filter(shape.rows), form: shape.filterForm, output: shape.filterOutput };
      case 'lookup':
        return { kind, question: maker.lookup(shape.lookupLimit) };
    }
  };
  const first = draw();
  const firstBody = encode(requestBody(first), shape.encoding);
  const count = Math.max(MIN_BODIES, Math.min(shape.bodies, Math.floor(BYTES_PER_KIND / firstBody.length)));
  const questions = [first];
  const bodies = [firstBody];
  while (bodies.length < count) {
    const next = draw();
    questions.push(next);
    bodies.push(encode(requestBody(next), shape.encoding));
  }
  const items = kind === 'checks' || kind === 'columns' ? shape.batch : kind === 'filter' ? shape.rows : 1;
  const itemUnit = ITEM_UNITS[kind];
  return { kind, path: PATHS[kind], bodies, questions, items, itemUnit };
}

/** The request as the API takes it (before encoding). */
export function requestBody(q: KindQuestion): Record<string, unknown> {
  switch (q.kind) {
    case 'check':
    case 'noop': {
      const { user, table, privilege, record } = q.question;
      return { user, table, privilege, record };
    }
    case 'checks':
      return {
        items: q.question.items.map((item, i) => ({
          id: String(i),
          user: item.user,
          table: item.table,
          privilege: item.privilege,
          record: item.record,
        })),
      };
    case 'columns':
      return columnsBody(q.question);
    case 'filter': {
      const { user, table, privilege, ids, ownerIds, businessUnitIds, records } = q.question;
      const base = { user, table, privilege, output: q.output };
      if (q.form === 'ids') return { ...base, ids };
      if (q.form === 'columns') return { ...base, ownerIds, businessUnitIds, ids };
      return { ...base, records: new IndexList(records) };
    }
    case 'lookup': {
      const { user, table, privilege, limit } = q.question;
      return { user, table, privilege, format: 'page', limit };
    }
  }
}

/**
 * `/v1/checks/columns`: each distinct user, table and privilege once (in order of first use), and
 * per item its positions in those lists and its engine record index.
 */
function columnsBody(q: ColumnsQuestion): Record<string, unknown> {
  const length = q.items.length;
  const dictionary = () => {
    const names: string[] = [];
    const positions = new Map<string, number>();
    const column = new Uint32Array(length);
    return {
      names,
      column,
      set(i: number, name: string) {
        let at = positions.get(name);
        if (at === undefined) {
          at = names.length;
          positions.set(name, at);
          names.push(name);
        }
        column[i] = at;
      },
    };
  };
  const users = dictionary();
  const tables = dictionary();
  const privileges = dictionary();
  q.items.forEach((item, i) => {
    users.set(i, item.user);
    tables.set(i, item.table);
    privileges.set(i, item.privilege);
  });
  return {
    users: users.names,
    tables: tables.names,
    privileges: privileges.names,
    items: {
      user: new IndexList(users.column),
      table: new IndexList(tables.column),
      privilege: new IndexList(privileges.column),
      record: new IndexList(q.records),
    },
  };
}

/** A list of 32-bit indexes, which each encoding writes its own way (see `encode`). */
export class IndexList {
  constructor(readonly values: Uint32Array) {}

  /** JSON: an array of numbers. */
  toJSON(): number[] {
    return Array.from(this.values);
  }
}

export function encode(body: Record<string, unknown>, encoding: Encoding): Buffer {
  if (encoding === 'json') return Buffer.from(JSON.stringify(body), 'utf8');
  // A copy: msgpackr may reuse its output buffer on the next call.
  return Buffer.from(packr.pack(forMsgpack(body)));
}

/** Each `IndexList` as `bin`, in the body and in its nested objects (`items` of a column batch). */
function forMsgpack(value: unknown): unknown {
  if (value instanceof IndexList) return littleEndian(value.values);
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, forMsgpack(inner)]));
}

/**
 * MessagePack: `bin` of little-endian uint32s, as the server's wire format says (msgpackr's own
 * typed-array extension is not standard MessagePack).
 */
function littleEndian(values: Uint32Array): Buffer {
  const bytes = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) bytes.writeUInt32LE(values[i] as number, i * 4);
  return bytes;
}
