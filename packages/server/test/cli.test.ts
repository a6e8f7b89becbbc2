import { runCli } from '@palisade/server';
import { describe, expect, it } from 'vitest';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { log: (l) => out.push(l), error: (l) => err.push(l) }, {});
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('palisade command line', () => {
  it('demo loads the sample world and answers questions', async () => {
    const { code, out } = await run('demo');
    expect(code).toBe(0);
    expect(out).toMatch(/loaded .*sample\.json/);
    expect(out).toMatch(/10 users/);
    expect(out).toMatch(/allow \(role\)/);
  });

  it('check explains an allow and exits 0', async () => {
    const { code, out } = await run('check', 'u-wendy', 'account', 'read', 'acc-litware');
    expect(code).toBe(0);
    expect(out).toContain('`u-wendy` may read account `acc-litware`');
  });

  it('check exits 1 on a deny and prints what is missing', async () => {
    const { code, out } = await run('check', 'u-wendy', 'account', 'delete', 'acc-litware');
    expect(code).toBe(1);
    expect(out).toContain('may not delete');
  });

  it('reports bad input with its code and exits 2', async () => {
    const { code, err } = await run('check', 'u-nobody', 'account', 'read', 'acc-litware');
    expect(code).toBe(2);
    expect(err).toContain('[PALISADE_UNKNOWN_USER]');
  });

  it('privileges --json prints the user privileges document', async () => {
    const { code, out } = await run('privileges', 'u-wendy', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ user: 'u-wendy', businessUnit: 'bu-sales-west' });
  });
});
