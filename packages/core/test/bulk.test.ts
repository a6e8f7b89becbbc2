import { Engine, PRIVILEGES } from '@palisade/core';
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

describe('filter answers', () => {
  it("are the caller's: a later call, longer or shorter, leaves an earlier answer as it was", () => {
    const engine = Engine.fromWorld(sampleWorld());
    const table = engine.model.tables[engine.table('account')];
    const records = Int32Array.from(table?.records.ids.keys() ?? []);
    const users = engine.model.principals.filter((_, i) => engine.model.isUser(i)).map((p) => p.id);
    // Two unknown rows first: every allowed row of a later call sits two positions further on.
    const shifted = Int32Array.from([-1, -1, ...records]);
    const longest = Int32Array.from([...shifted, ...records]);
    // The longest list first, so that any buffer the engine keeps is already as long as any later call needs.
    engine.filter(users[0] as string, 'account', 'read', { records: longest });
    const answers = users.map((user) => engine.filter(user, 'account', 'read', { records }));
    const copies = answers.map((answer) => Array.from(answer));
    expect(copies.some((copy) => copy.length > 0)).toBe(true);
    for (const user of users) {
      engine.filter(user, 'account', 'write', { records: longest });
      engine.filter(user, 'account', 'read', { records: shifted.subarray(0, 3) });
    }
    expect(answers.map((answer) => Array.from(answer))).toEqual(copies);
  });
});

describe('bulk paths after deletes', () => {
  it('a deleted or unknown record index is never an allowed row, for any user (administrators and global readers too)', () => {
    const engine = Engine.fromWorld(sampleWorld());
    const table = engine.model.tables.find((t) => t.name === 'account');
    const ids = [...(table?.records.ids ?? [])];
    engine.apply([{ op: 'deleteRecord', table: 'account', id: ids[0] as string }]);
    const records = Int32Array.from([...ids.keys(), ids.length + 5]);
    const users = engine.model.principals.filter((_, i) => engine.model.isUser(i)).map((p) => p.id);
    let administrators = 0;
    for (const user of users) {
      if (engine.check(user, 'account', 'delete', ids[1] as string).reason === 'system-administrator') administrators++;
      for (const privilege of PRIVILEGES) {
        const expected = Array.from(records.keys()).filter((i) => {
          const r = records[i] as number;
          return (
            engine.model.tables[engine.table('account')]?.records.has(r) === true &&
            engine.check(user, 'account', privilege, r as never).allowed
          );
        });
        expect(Array.from(engine.filter(user, 'account', privilege, { records }))).toEqual(expected);
        expect(Array.from(engine.lookup(user, 'account', privilege).bitmap.toUint32Array())).not.toContain(0);
      }
    }
    expect(administrators).toBeGreaterThan(0);
  });
});
