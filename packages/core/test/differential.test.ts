import { describe, expect, it } from 'vitest';
import { randomWorld } from './reference/random-world.js';
import { firstMismatch } from './support/differential.js';

// Every section of the semantics is on: hierarchy (§5) and column security (§6) included.
const OPTIONS = { hierarchy: true, columnSecurity: true } as const;
const WORLDS = Number(process.env.PALISADE_DIFFERENTIAL_WORLDS ?? 2000);
const CHUNK = 250;

const chunks: [number, number][] = [];
for (let first = 1; first <= WORLDS; first += CHUNK) chunks.push([first, Math.min(first + CHUNK - 1, WORLDS)]);

describe('compiled engine agrees with the reference evaluator on every question', () => {
  it.each(chunks)('random worlds of seeds %i to %i', { timeout: 120_000 }, (first, last) => {
    for (let seed = first; seed <= last; seed++) {
      const mismatch = firstMismatch(randomWorld(seed, OPTIONS), seed);
      if (mismatch !== null) {
        expect.fail(
          `seed ${seed}: ${mismatch.question}\n  engine:    ${JSON.stringify(mismatch.engine)}\n  reference: ${JSON.stringify(mismatch.reference)}`,
        );
      }
    }
  });
});
