import { Engine, PRIVILEGES } from '@palisade/core';
import { describe, expect, it } from 'vitest';
import { Picker } from '../src/generate/random.js';
import { generateWorld } from '../src/generate/world.js';
import { bareBatchPasses, bareBatchReads } from '../src/harness.js';

describe('checkBatch floors', () => {
  it('read the same values whether in one loop or in separate loops', () => {
    const world = generateWorld({ seed: 3, businessUnits: 40, depth: 4, users: 300, records: 5_000, shareRatio: 0.05 });
    const engine = Engine.fromWorld(world);
    const pick = new Picker(5);
    const records = world.records ?? [];
    const users = world.users ?? [];
    const n = 2_000;
    const columns = {
      users: new Int32Array(n),
      tables: new Int32Array(n),
      privileges: new Uint8Array(n),
      records: new Int32Array(n),
    };
    for (let i = 0; i < n; i++) {
      const record = pick.pick(records);
      columns.users[i] = engine.user(pick.pick(users).id);
      columns.tables[i] = engine.table(record.table);
      columns.privileges[i] = engine.privilege(pick.pick([...PRIVILEGES]));
      columns.records[i] = engine.record(record.table, record.id);
    }
    const state = engine.sharedState();
    const oneLoop = new Uint8Array(n);
    const passes = new Uint8Array(n);
    const allowed = bareBatchReads(state, columns, oneLoop);
    expect(bareBatchPasses(state, columns, passes)).toBe(allowed);
    expect(passes).toEqual(oneLoop);
    // Both answers depend on the items: neither is all zeros or all ones.
    expect(allowed).toBeGreaterThan(0);
    expect(allowed).toBeLessThan(n);
  });
});
