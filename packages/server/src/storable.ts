/**
 * What a write must be before the engine sees it: plain JSON data the change log (a jsonb column)
 * can hold. A body decoded from MessagePack may carry msgpackr's extension values (BigInt, Date,
 * typed arrays, …) and any body may nest deeply or hold strings PostgreSQL refuses. Each of those
 * used to surface only after the engine had changed (a failed INSERT, a full reload) or as a 500.
 */

import { isPlainObject } from '@palisade/core/internal';

/** In `u` mode a surrogate pair is one code point, so this matches only a lone half. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Deeper than any operation (a role's privileges nest three levels) by a wide margin. */
const MAX_DEPTH = 32;

export interface StorableProblem {
  /** Where in the ops, as a JSON path from `ops` (`ops[0].id`). */
  readonly field: string;
  /** `no-nul` and `well-formed`: the store cannot hold the string; `plain-data`, `depth`: not JSON data. */
  readonly rule: 'no-nul' | 'well-formed' | 'plain-data' | 'depth';
}

/** The first value in `value` that is not storable JSON data, or null. */
export function storableProblem(value: unknown, field = 'ops', depth = 0): StorableProblem | null {
  if (value === null || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : { field, rule: 'plain-data' };
  if (typeof value === 'string') {
    if (value.includes('\u0000')) return { field, rule: 'no-nul' };
    return LONE_SURROGATE.test(value) ? { field, rule: 'well-formed' } : null;
  }
  if (depth >= MAX_DEPTH) return { field, rule: 'depth' };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = storableProblem(value[i], `${field}[${i}]`, depth + 1);
      if (problem !== null) return problem;
    }
    return null;
  }
  if (!isPlainObject(value)) return { field, rule: 'plain-data' };
  for (const key of Object.keys(value)) {
    const keyProblem = storableProblem(key, `${field}.${key}`, depth + 1);
    if (keyProblem !== null) return keyProblem;
    const problem = storableProblem(value[key], `${field}.${key}`, depth + 1);
    if (problem !== null) return problem;
  }
  return null;
}
