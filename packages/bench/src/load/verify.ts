/**
 * Correctness under load: the sampled answers, decoded and compared decision by decision with an
 * oracle. The compiled engine (in this process, on the same world) checks every decision of every
 * sampled answer; the reference evaluator — slow, plain, independent of the engine — re-checks a
 * smaller sample, so an engine bug shared by server and oracle still shows.
 */
import type { Engine, InlineRecord } from '@palisade/core';
import type { ReferenceEvaluator } from '../../../core/test/reference/reference.js';
import { seededRandom } from '../generate/random.js';
import type { BodySet, KindQuestion } from './bodies.js';
import type { Kind } from './options.js';
import type { CheckQuestion, FilterQuestion, Question } from './questions.js';
import { decodeBody } from './response.js';
import type { Sample } from './runner.js';

export interface Oracles {
  readonly engine: Engine;
  readonly reference: ReferenceEvaluator;
}

export interface Mismatch {
  readonly kind: Kind;
  /** Who disagreed with the server: the engine, the reference evaluator, or the answer's shape itself. */
  readonly against: 'engine' | 'reference' | 'shape';
  readonly question: string;
  readonly expected: string;
  readonly got: string;
}

export interface Verification {
  readonly status: 'passed' | 'failed' | 'skipped';
  /** Why verification was skipped. */
  readonly reason: string | null;
  readonly responses: number;
  /** Decisions compared with the engine (checks, batch items, filter rows, lookup pages). */
  readonly decisions: number;
  /** Decisions compared with the reference evaluator. */
  readonly referenceDecisions: number;
  readonly samplesDropped: number;
  readonly mismatchCount: number;
  /** The first mismatches (at most `MAX_REPORTED`). */
  readonly mismatches: readonly Mismatch[];
}

const MAX_REPORTED = 20;

/**
 * `/v1/checks/columns` answers one code per item; the API's table (README, the route's schema):
 * the decision's reason by code, allowed for 1 to 4. Codes from 16 are errors, named in `errors`.
 */
const REASON_OF_CODE: readonly string[] = [
  'no-access',
  'role',
  'share',
  'hierarchy',
  'system-administrator',
  'disabled',
];
const ALLOWED_CODES: ReadonlySet<number> = new Set([1, 2, 3, 4]);

export function skippedVerification(reason: string): Verification {
  return {
    status: 'skipped',
    reason,
    responses: 0,
    decisions: 0,
    referenceDecisions: 0,
    samplesDropped: 0,
    mismatchCount: 0,
    mismatches: [],
  };
}

type Row = string | InlineRecord;

interface DecisionLike {
  readonly allowed: boolean;
  readonly reason: string;
}

export function verifySamples(
  samples: readonly Sample[],
  sets: ReadonlyMap<Kind, BodySet>,
  oracles: Oracles,
  options: { referenceChecks: number; seed: number; samplesDropped: number },
): Verification {
  const random = seededRandom(options.seed ^ 0x85ebca6b);
  const mismatches: Mismatch[] = [];
  let mismatchCount = 0;
  let decisions = 0;
  let referenceDecisions = 0;
  let referenceLeft = options.referenceChecks;
  let answersLeft = samples.length;
  /** This answer's share of the reference evaluator's budget (see `referencePicks`). */
  let share = 0;

  const mismatch = (m: Mismatch) => {
    mismatchCount++;
    if (mismatches.length < MAX_REPORTED) mismatches.push(m);
  };
  const engineDecision = (q: Question, row: Row): DecisionLike => {
    const d = oracles.engine.check(q.user, q.table, q.privilege, row);
    return { allowed: d.allowed, reason: d.reason };
  };
  const referenceDecision = (q: Question, row: Row): DecisionLike => {
    try {
      const d = oracles.reference.decide(q.user, q.table, q.privilege, row);
      return { allowed: d.allowed, reason: d.reason };
    } catch (error) {
      return { allowed: false, reason: `error: ${(error as Error).message}` };
    }
  };
  /** Compares one decision with the engine, and with the reference when `withReference`. */
  const compare = (kind: Kind, q: Question, row: Row, got: DecisionLike, withReference: boolean) => {
    decisions++;
    const expected = engineDecision(q, row);
    if (expected.allowed !== got.allowed || expected.reason !== got.reason) {
      mismatch({ kind, against: 'engine', question: describe(q, row), expected: show(expected), got: show(got) });
    }
    if (!withReference) return;
    referenceDecisions++;
    const reference = referenceDecision(q, row);
    if (reference.allowed !== got.allowed || reference.reason !== got.reason) {
      mismatch({ kind, against: 'reference', question: describe(q, row), expected: show(reference), got: show(got) });
    }
  };
  /**
   * Which of `count` positions the reference evaluator re-checks for this answer: an even share of
   * what is left of its budget, so it is spread over the answers rather than spent on the first,
   * and what a one-decision answer cannot use passes to the next.
   */
  const referencePicks = (count: number): Set<number> => {
    const picks = new Set<number>();
    const wanted = Math.min(count, share);
    while (picks.size < wanted) picks.add(Math.floor(random() * count));
    referenceLeft -= picks.size;
    return picks;
  };

  for (const sample of samples) {
    share = Math.ceil(referenceLeft / answersLeft--);
    const asked = (sets.get(sample.kind) as BodySet).questions[sample.body] as KindQuestion;
    let answer: unknown;
    try {
      answer = decodeBody(sample.contentType, sample.bytes);
    } catch (error) {
      mismatch({
        kind: sample.kind,
        against: 'shape',
        question: 'the answer',
        expected: 'a readable body',
        got: (error as Error).message,
      });
      continue;
    }
    const shape = (expected: string) =>
      mismatch({ kind: sample.kind, against: 'shape', question: summary(asked), expected, got: preview(answer) });

    switch (asked.kind) {
      case 'noop':
        decisions++;
        if ((answer as { ok?: unknown } | null)?.ok !== true) shape('{ ok: true }');
        break;
      case 'check': {
        const q = asked.question;
        const got = decisionOf(answer);
        if (got === null) shape('a decision { allowed, reason }');
        else compare('check', q, q.record, got, referencePicks(1).size > 0);
        break;
      }
      case 'checks': {
        const items = asked.question.items;
        const results = (answer as { results?: unknown } | null)?.results;
        if (!Array.isArray(results) || results.length !== items.length) {
          shape(`{ results: [${items.length} results] }`);
          break;
        }
        const picks = referencePicks(items.length);
        items.forEach((item: CheckQuestion, i) => {
          const result = results[i] as { id?: unknown } | null;
          const got = decisionOf(result);
          if (got === null || result?.id !== String(i)) {
            mismatch({
              kind: 'checks',
              against: 'shape',
              question: `item ${i}`,
              expected: `{ id: '${i}', allowed, reason }`,
              got: preview(result),
            });
            return;
          }
          compare('checks', item, item.record, got, picks.has(i));
        });
        break;
      }
      case 'columns': {
        const { items, records } = asked.question;
        const a = answer as { count?: unknown; allowed?: unknown; codes?: unknown; errors?: unknown } | null;
        const codes = codeList(a?.codes);
        if (codes === null || codes.length !== items.length || a?.count !== items.length) {
          shape(`{ count: ${items.length}, allowed, codes: [${items.length} codes], errors }`);
          break;
        }
        let allowedCount = 0;
        for (const code of codes) allowedCount += ALLOWED_CODES.has(code) ? 1 : 0;
        if (a.allowed !== allowedCount) shape(`allowed: ${allowedCount} (the allowed codes counted)`);
        const errors = Array.isArray(a.errors) ? (a.errors as { index?: unknown; code?: unknown }[]) : [];
        const picks = referencePicks(items.length);
        items.forEach((item: CheckQuestion, i) => {
          // The body names the record by engine index: it must be the record the oracles are asked about.
          const index = records[i] as number;
          const expectedIndex = recordIndex(oracles.engine, item.table, item.record);
          if (expectedIndex !== index) {
            mismatch({
              kind: 'columns',
              against: 'engine',
              question: `${describe(item, item.record)} (item ${i})`,
              expected: `record index ${expectedIndex}`,
              got: `record index ${index} sent`,
            });
            return;
          }
          const code = codes[i] as number;
          const reason = REASON_OF_CODE[code];
          const got: DecisionLike =
            reason === undefined
              ? {
                  allowed: false,
                  reason: `code ${code}${errorNamed(errors, i)}`,
                }
              : { allowed: ALLOWED_CODES.has(code), reason };
          compare('columns', item, item.record, got, picks.has(i));
        });
        break;
      }
      case 'filter': {
        const q = asked.question;
        const allowed = allowedRows(answer, asked.output, q.ids.length);
        if (allowed === null) {
          shape(`{ rows, allowed, ${asked.output} }`);
          break;
        }
        const picks = referencePicks(q.ids.length);
        if (asked.form === 'records') {
          // The body names rows by engine index: each must be the record the oracles are asked about.
          const wrong = q.ids.findIndex((id, i) => recordIndex(oracles.engine, q.table, id) !== q.records[i]);
          if (wrong !== -1) {
            mismatch({
              kind: 'filter',
              against: 'engine',
              question: `${describe(q, q.ids[wrong] as string)} (row ${wrong})`,
              expected: `record index ${recordIndex(oracles.engine, q.table, q.ids[wrong] as string)}`,
              got: `record index ${q.records[wrong]} sent`,
            });
            break;
          }
        }
        for (let i = 0; i < q.ids.length; i++) {
          const row = filterRow(q, asked.form, i);
          const got = allowed.has(i);
          // Filter answers carry no reason: compare the verdict only.
          const expected = engineDecision(q, row).allowed;
          decisions++;
          if (expected !== got) {
            mismatch({
              kind: 'filter',
              against: 'engine',
              question: `${describe(q, row)} (row ${i})`,
              expected: verdict(expected),
              got: verdict(got),
            });
          }
          if (picks.has(i)) {
            referenceDecisions++;
            const reference = referenceDecision(q, row).allowed;
            if (reference !== got) {
              mismatch({
                kind: 'filter',
                against: 'reference',
                question: `${describe(q, row)} (row ${i})`,
                expected: verdict(reference),
                got: verdict(got),
              });
            }
          }
        }
        break;
      }
      case 'lookup': {
        const q = asked.question;
        const page = answer as { total?: unknown; ids?: unknown } | null;
        if (typeof page?.total !== 'number' || !Array.isArray(page.ids)) {
          shape('{ format: page, total, ids, cursor }');
          break;
        }
        const lookup = oracles.engine.lookup(q.user, q.table, q.privilege);
        const expectedIds = lookup.page({ limit: q.limit }).ids;
        decisions += 1 + page.ids.length;
        if (page.total !== lookup.size || JSON.stringify(page.ids) !== JSON.stringify(expectedIds)) {
          mismatch({
            kind: 'lookup',
            against: 'engine',
            question: `lookup ${q.user} ${q.table} ${q.privilege} (first ${q.limit})`,
            expected: `total ${lookup.size}, ids ${preview(expectedIds)}`,
            got: `total ${page.total}, ids ${preview(page.ids)}`,
          });
        }
        // Every id on the page must be one the reference evaluator allows.
        for (const i of referencePicks(page.ids.length)) {
          referenceDecisions++;
          const id = String(page.ids[i]);
          const reference = referenceDecision(q, id);
          if (!reference.allowed) {
            mismatch({
              kind: 'lookup',
              against: 'reference',
              question: `${describe(q, id)} (listed by lookup)`,
              expected: show(reference),
              got: 'listed',
            });
          }
        }
        break;
      }
    }
  }
  return {
    status: mismatchCount === 0 ? 'passed' : 'failed',
    reason: null,
    responses: samples.length,
    decisions,
    referenceDecisions,
    samplesDropped: options.samplesDropped,
    mismatchCount,
    mismatches,
  };
}

function decisionOf(value: unknown): DecisionLike | null {
  const d = value as { allowed?: unknown; reason?: unknown } | null;
  if (typeof d?.allowed !== 'boolean' || typeof d.reason !== 'string') return null;
  return { allowed: d.allowed, reason: d.reason };
}

/** The row as the server saw it: by id (ids, records) or inline with its columns (columns; `ids` brings its shares). */
function filterRow(q: FilterQuestion, form: 'columns' | 'ids' | 'records', i: number): Row {
  const id = q.ids[i] as string;
  if (form !== 'columns') return id;
  return { id, ownerId: q.ownerIds[i] as string, owningBusinessUnitId: q.businessUnitIds[i] as string };
}

/** The allowed row positions of a filter answer, from `indexes` or `bitmask` (numbers in JSON, `bin` in MessagePack). */
function allowedRows(answer: unknown, output: 'indexes' | 'bitmask', rows: number): Set<number> | null {
  const a = answer as { rows?: unknown; allowed?: unknown; indexes?: unknown; bitmask?: unknown } | null;
  const list = indexList(output === 'indexes' ? a?.indexes : a?.bitmask);
  if (list === null || a?.rows !== rows || typeof a.allowed !== 'number') return null;
  const allowed = new Set<number>();
  if (output === 'indexes') {
    for (const i of list) {
      if (!(i >= 0 && i < rows)) return null;
      allowed.add(i);
    }
  } else {
    for (let i = 0; i < rows; i++) if ((((list[i >>> 5] ?? 0) >>> (i & 31)) & 1) === 1) allowed.add(i);
  }
  return allowed.size === a.allowed ? allowed : null;
}

/** The engine's index of a record, or why it has none. */
function recordIndex(engine: Engine, table: string, record: string): number | string {
  try {
    return engine.record(table, record);
  } catch (error) {
    return `none (${(error as Error).message})`;
  }
}

/** A column batch's codes: numbers (JSON) or one byte each (MessagePack `bin`). */
function codeList(value: unknown): (ArrayLike<number> & Iterable<number>) | null {
  if (Array.isArray(value) && value.every((code) => Number.isInteger(code))) return value as number[];
  if (value instanceof Uint8Array) return value;
  return null;
}

/** The error the answer's `errors` lists for item `i`, as ` (CODE)`. */
function errorNamed(errors: readonly { index?: unknown; code?: unknown }[], i: number): string {
  const error = errors.find((e) => e?.index === i);
  return error === undefined ? '' : ` (${String(error.code)})`;
}

function indexList(value: unknown): (ArrayLike<number> & Iterable<number>) | null {
  if (Array.isArray(value)) return value as number[];
  if (value instanceof Uint32Array) return value;
  if (value instanceof Uint8Array && value.byteLength % 4 === 0) {
    const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
    return Uint32Array.from({ length: value.byteLength / 4 }, (_, i) => view.getUint32(i * 4, true));
  }
  return null;
}

function describe(q: Question, row: Row): string {
  return `${q.user} ${q.table} ${q.privilege} ${typeof row === 'string' ? row : JSON.stringify(row)}`;
}

function summary(asked: KindQuestion): string {
  switch (asked.kind) {
    case 'checks':
    case 'columns':
      return `a batch of ${asked.question.items.length}`;
    case 'filter':
      return `filter ${asked.question.user} ${asked.question.table} ${asked.question.privilege}, ${asked.question.ids.length} rows`;
    case 'lookup':
      return `lookup ${asked.question.user} ${asked.question.table} ${asked.question.privilege}`;
    default:
      return describe(asked.question, asked.question.record);
  }
}

function show(d: DecisionLike): string {
  return `${d.allowed ? 'allowed' : 'denied'} (${d.reason})`;
}

function verdict(allowed: boolean): string {
  return allowed ? 'allowed' : 'denied';
}

function preview(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => (v instanceof Uint8Array ? `<${v.byteLength} bytes>` : v));
  return text === undefined ? String(value) : text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
