import { readFileSync } from 'node:fs';
import { ErrorCodes, PalisadeError } from '@palisade/core';
import { describe, expect, it } from 'vitest';

const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

/** The codes in the table under `## <heading>` of docs/errors.md. */
function documentedCodes(heading: string): string[] {
  const section = docs.split('\n## ').find((s) => s.startsWith(heading)) ?? '';
  return [...section.matchAll(/^\| `(PALISADE_[A-Z_]+)` \|/gm)].map((m) => m[1] as string);
}

describe('error codes', () => {
  it('are the codes docs/errors.md lists for core, no more and no fewer', () => {
    expect(documentedCodes('@palisade/core').sort()).toEqual(Object.values(ErrorCodes).sort());
  });

  it('are unique and carry the PALISADE_ prefix', () => {
    const codes = Object.values(ErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^PALISADE_[A-Z_]+$/);
  });

  it('travel on PalisadeError with the code as a field', () => {
    const error = new PalisadeError(ErrorCodes.UNKNOWN_USER, 'unknown user `x`');
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('PALISADE_UNKNOWN_USER');
    expect(error.details).toBeNull();
  });
});
