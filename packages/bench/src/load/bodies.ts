/**
 * Request bodies, encoded before the run: each kind gets a rotating set of bodies, so the load
 * generator spends its time sending, not encoding. Each body keeps the question it encodes, for
 * the verifiers.
 */
import { Packr } from 'msgpackr';
import type { Encoding, FilterForm, FilterOutput, Kind } from './options.js';
import type { CheckQuestion, ChecksQuestion, FilterQuestion, LookupQuestion, QuestionMaker } from './questions.js';

export type KindQuestion =
  | { readonly kind: 'check' | 'noop'; readonly question: CheckQuestion }
  | { readonly kind: 'checks'; readonly question: ChecksQuestion }
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
  filter: '/v1/filter',
  lookup: '/v1/lookup',
  noop: '/v1/noop',
};

/** What one item of each kind is, for throughput (`checks/s`, `rows/s`). */
const ITEM_UNITS: Readonly<Record<Kind, string>> = {
  check: 'checks',
  checks: 'checks',
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
  const items = kind === 'checks' ? shape.batch : kind === 'filter' ? shape.rows : 1;
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
  const plain = Object.fromEntries(
    Object.entries(body).map(([key, value]) => [key, value instanceof IndexList ? littleEndian(value.values) : value]),
  );
  // A copy: msgpackr may reuse its output buffer on the next call.
  return Buffer.from(packr.pack(plain));
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
