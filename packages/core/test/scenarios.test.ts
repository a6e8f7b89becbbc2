import { describe, expect, it } from 'vitest';
import { engineImplementation, type Outcome, referenceImplementation } from './support/implementations.js';
import { type ExpectedDecision, loadScenarios } from './support/scenarios.js';

const scenarios = loadScenarios();

function expected(e: ExpectedDecision): Outcome {
  if (e.reason === 'error') return { allowed: false, reason: 'error', code: e.code as string };
  if (e.reason === 'missing-privilege') return { allowed: e.allowed, reason: e.reason, missing: e.missing as string };
  return { allowed: e.allowed, reason: e.reason };
}

// The same corpus drives the compiled engine and the reference evaluator: each must match the
// hand-derived expectations, not merely each other.
describe.each([engineImplementation, referenceImplementation])('fixtures/scenarios with the $name', (impl) => {
  it('has scenarios to run', () => {
    expect(scenarios.length).toBeGreaterThan(5);
  });

  describe.each(scenarios)('$name', (scenario) => {
    const subject = impl.build(scenario.world);

    it.each(scenario.checks.map((c, i) => [i, c.description ?? '', c] as const))('check %i: %s', (_i, _d, c) => {
      expect(subject.check(c.user, c.table, c.privilege, c.record)).toEqual(expected(c));
    });

    it.each(scenario.accessRights.map((c, i) => [i, c.description ?? '', c] as const))(
      'accessRights %i: %s',
      (_i, _d, c) => {
        const got = subject.accessRights(c.user, c.table, c.record);
        if (c.code !== undefined) expect(got).toEqual({ code: c.code });
        else {
          expect('rights' in got ? got.rights : got).toEqual(c.rights ?? []);
          if (c.mask !== undefined) expect('mask' in got ? got.mask : got).toBe(c.mask);
        }
      },
    );

    it.each(scenario.columns.map((c, i) => [i, c.description ?? '', c] as const))('column %i: %s', (_i, _d, c) => {
      // A fixture that leaves a boolean out fails here rather than defaulting to false.
      const want = c.code === undefined ? { read: c.read, create: c.create, update: c.update } : { code: c.code };
      expect(subject.columnAccess(c.user, c.table, c.record, c.column)).toEqual(want);
    });

    it.each(scenario.hiddenColumns.map((c, i) => [i, c.description ?? '', c] as const))(
      'hiddenColumns %i: %s',
      (_i, _d, c) => {
        const want = c.code === undefined ? { hidden: (c.hidden ?? []).map((h) => [...h].sort()) } : { code: c.code };
        expect(subject.hiddenColumns(c.user, c.table, c.records)).toEqual(want);
      },
    );

    if (scenario.steps.length > 0) {
      // One test for the whole sequence: each step starts from the world the steps before it left.
      it('steps, in order', () => {
        let current = impl.build(scenario.world);
        for (const step of scenario.steps) {
          current = current.apply(step.apply);
          for (const c of step.checks ?? []) {
            const at = `${step.description}: ${c.description ?? ''}`;
            expect(current.check(c.user, c.table, c.privilege, c.record), at).toEqual(expected(c));
          }
          for (const c of step.accessRights ?? []) {
            const got = current.accessRights(c.user, c.table, c.record);
            expect('rights' in got ? got.rights : got, `${step.description}: ${c.description ?? ''}`).toEqual(
              c.rights ?? [],
            );
            if (c.mask !== undefined) expect('mask' in got ? got.mask : got).toBe(c.mask);
          }
        }
      });
    }

    it.each(scenario.composite.map((c, i) => [i, c.description ?? '', c] as const))('%i %s', (_i, _d, c) => {
      expect(subject.composite(c)).toEqual(expected(c));
    });
  });
});
