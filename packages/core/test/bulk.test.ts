import { describe, expect, it } from 'vitest';
import { randomWorld } from './reference/random-world.js';
import { firstBulkMismatch } from './support/bulk-differential.js';
import { sampleWorld } from './support/scenarios.js';

const OPTIONS = { hierarchy: true, columnSecurity: true } as const;
const WORLDS = Number(process.env.PALISADE_BULK_WORLDS ?? 400);

function expectAgreement(label: string, mismatch: ReturnType<typeof firstBulkMismatch>): void {
  if (mismatch !== null) {
    expect.fail(
      `${label}: ${mismatch.question}\n  bulk:  ${JSON.stringify(mismatch.engine)}\n  check: ${JSON.stringify(mismatch.reference)}`,
    );
  }
}

describe('bulk paths agree with check', () => {
  it('on the sample world', () => {
    expectAgreement('sample', firstBulkMismatch(sampleWorld(), 1));
  });

  it(`on ${WORLDS} random worlds`, { timeout: 120_000 }, () => {
    for (let seed = 1; seed <= WORLDS; seed++)
      expectAgreement(`seed ${seed}`, firstBulkMismatch(randomWorld(seed, OPTIONS), seed));
  });
});
