import { runCli } from '@palisade/server';
import { describe, expect, it } from 'vitest';

function run(...argv: string[]): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const code = runCli(argv, { log: (l) => out.push(l), error: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('palisade command line', () => {
  it('demo loads the sample world and answers questions', () => {
    const { code, out } = run();
    expect(code).toBe(0);
    expect(out).toMatch(/loaded .*sample\.json/);
    expect(out).toMatch(/10 users/);
    expect(out).toMatch(/allow \(role\)/);
  });

  it('check explains an allow and exits 0', () => {
    const { code, out } = run('check', 'u-wendy', 'account', 'read', 'acc-litware');
    expect(code).toBe(0);
    expect(out).toContain('`u-wendy` may read account `acc-litware`');
  });

  it('check exits 1 on a deny and prints what is missing', () => {
    const { code, out } = run('check', 'u-wendy', 'account', 'delete', 'acc-litware');
    expect(code).toBe(1);
    expect(out).toContain('may not delete');
  });

  it('reports bad input with its code and exits 2', () => {
    const { code, err } = run('check', 'u-nobody', 'account', 'read', 'acc-litware');
    expect(code).toBe(2);
    expect(err).toContain('[PALISADE_UNKNOWN_USER]');
  });

  it('privileges --json prints the user privileges document', () => {
    const { code, out } = run('privileges', 'u-wendy', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ user: 'u-wendy', businessUnit: 'bu-sales-west' });
  });
});
