import { Engine, type UpdateOp } from '@palisade/core';
import { describe, expect, it } from 'vitest';
import { IdTable } from '../src/model/id-table.js';
import { ListIdTable } from '../src/model/list-ids.js';
import { randomWorld, rng } from './reference/random-world.js';
import { sampleWorld } from './support/scenarios.js';

describe('IdTable', () => {
  const random = rng(7);
  // Near misses of each other: prefixes, one unit changed, surrogate pairs, long ids, the empty id.
  const makeId = (i: number) => {
    const base = `u-${Math.floor(random() * 1e9).toString(36)}`;
    switch (i % 5) {
      case 0:
        return base;
      case 1:
        return `${base}-é😀`;
      case 2:
        return base.repeat(40);
      case 3:
        return `${base}${String.fromCharCode(0xd800 + (i % 64))}`;
      default:
        return i === 4 ? '' : `team ${i}`;
    }
  };

  /** Every id, a near miss of each, one at a time and in bulk (sorted probes and not), against the Map. */
  function expectFinds(table: IdTable, ids: ReadonlyMap<string, number>) {
    const asked: string[] = [];
    for (const id of ids.keys()) asked.push(id, `${id}x`, id.slice(0, -1), `x${id}`);
    const expected = asked.map((id) => ids.get(id) ?? -1);
    expect(asked.map((id) => table.get(id))).toEqual(expected);
    expect([...table.getAll(asked, new Int32Array(asked.length))]).toEqual(expected);
    const few = asked.slice(0, 100);
    expect([...table.getAll(few, new Int32Array(few.length))]).toEqual(expected.slice(0, 100));
    expect(expected.filter((index) => index === -1).length).toBeGreaterThan(ids.size);
  }

  it('finds every id added (through its growth) and nothing else, one at a time and in bulk', () => {
    const table = new IdTable();
    const ids = new Map<string, number>();
    let index = 0;
    const addSome = (count: number) => {
      for (let added = 0; added < count; index += 1 + (index % 3)) {
        const id = makeId(index);
        if (ids.has(id)) continue;
        ids.set(id, index);
        table.add(id, index);
        added++;
      }
    };
    addSome(3);
    expectFinds(table, ids);
    addSome(12_000);
    expectFinds(table, ids);
    // Added after the last growth: their units go at the end, out of slot order.
    addSome(100);
    expectFinds(table, ids);
  });
});

describe('Engine.userIndexes', () => {
  it('agrees with engine.user for every principal of random worlds, and gives -1 for teams and unknown ids', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const engine = Engine.fromWorld(randomWorld(seed));
      const ids = engine.model.principals.map((p) => p.id);
      const asked = [...ids, 'nobody', '', ...ids.slice(0, 3).map((id) => `${id}-not`)];
      const expected = asked.map((id) => {
        try {
          return engine.user(id) as number;
        } catch {
          return -1;
        }
      });
      expect([...engine.userIndexes(asked)], `seed ${seed}`).toEqual(expected);
      expect(expected.some((index) => index === -1)).toBe(true);
    }
  });

  it('follows updates: users created later are found, a failed transaction leaves nothing behind', () => {
    const engine = Engine.fromWorld(sampleWorld());
    const bu = engine.model.businessUnits[0]?.id as string;
    // Built on this first call; the updates below must reach it.
    expect([...engine.userIndexes(['u-new', 'u-wendy'])]).toEqual([-1, engine.user('u-wendy')]);
    engine.apply([{ op: 'createUser', id: 'u-new', businessUnitId: bu }]);
    expect([...engine.userIndexes(['u-new'])]).toEqual([engine.user('u-new')]);
    // The user is created, then the transaction fails on its last operation: rolled back whole.
    const failing: UpdateOp[] = [
      { op: 'createUser', id: 'u-gone', businessUnitId: bu },
      { op: 'createUser', id: 'u-gone-too', businessUnitId: 'no-such-bu' },
    ];
    expect(() => engine.apply(failing)).toThrow();
    expect([...engine.userIndexes(['u-gone', 'u-gone-too'])]).toEqual([-1, -1]);
    // The index the failed transaction used goes to the next principal created: a team, not a user.
    engine.apply([{ op: 'createTeam', id: 'team-new', businessUnitId: bu, type: 'owner' }]);
    engine.apply([{ op: 'createUser', id: 'u-later', businessUnitId: bu }]);
    expect([...engine.userIndexes(['team-new', 'u-later', 'u-gone', 'u-new'])]).toEqual([
      -1,
      engine.user('u-later'),
      -1,
      engine.user('u-new'),
    ]);
  });
});

describe('ListIdTable', () => {
  it('follows an append-only list through pops and regrowth: no id of a popped entry survives', () => {
    const list: { id: string }[] = [{ id: 'a' }, { id: 'b' }];
    const ids = new ListIdTable<{ id: string }>();
    const all = (names: (string | null)[]) => [...ids.of(list).getAll(names, new Int32Array(names.length))];
    expect(all(['a', 'b', 'c', null])).toEqual([0, 1, -1, -1]);
    list.push({ id: 'c' });
    expect(all(['c'])).toEqual([2]);
    // Popped after it was asked (a failed transaction), then other entries take the indexes.
    list.pop();
    list.pop();
    list.push({ id: 'x' }, { id: 'y' });
    expect(all(['b', 'c', 'x', 'y'])).toEqual([-1, -1, 1, 2]);
    // Popped before it was asked: nothing to forget.
    list.push({ id: 'z' });
    list.pop();
    expect(all(['z', 'a'])).toEqual([-1, 0]);
  });

  it('holds only the entries it is told to include', () => {
    const list = [{ id: 'user' }, { id: 'team' }, { id: 'user-2' }];
    const users = new ListIdTable<{ id: string }>((i) => i !== 1);
    expect([...users.of(list).getAll(['user', 'team', 'user-2'], new Int32Array(3))]).toEqual([0, -1, 2]);
  });
});

describe('filter on owner and BU ids', () => {
  it('resolves them through the id tables, kept up to date, with unknown ids and nulls matching nothing', () => {
    const engine = Engine.fromWorld(sampleWorld());
    const bu = engine.model.businessUnits[0]?.id as string;
    const rows = (ownerIds: (string | null)[], businessUnitIds: (string | null)[]) => ({ ownerIds, businessUnitIds });
    // u-wendy reads her own records (sample world): her id as the owner allows the row by owner.
    const own = (id: string | null) => [...engine.filter('u-wendy', 'account', 'read', rows([id], ['no-such-bu']))];
    expect(own('u-wendy')).toEqual([0]);
    expect(own('nobody')).toEqual([]);
    expect(own(null)).toEqual([]);
    // A team created later (after the tables were built) resolves; a failed one does not.
    engine.apply([{ op: 'createTeam', id: 'team-later', businessUnitId: bu, type: 'owner' }]);
    expect(engine.filterJob('u-wendy', 'account', 'read', rows(['team-later'], [bu])).owners?.[0]).toBe(
      engine.principal('team-later'),
    );
    expect(() =>
      engine.apply([
        { op: 'createBusinessUnit', id: 'bu-gone', parentId: bu },
        { op: 'createTeam', id: 'team-gone', businessUnitId: 'no-such-bu', type: 'owner' },
      ]),
    ).toThrow();
    const job = engine.filterJob('u-wendy', 'account', 'read', rows(['team-gone', null], ['bu-gone', bu]));
    expect([...(job.owners ?? [])]).toEqual([-1, -1]);
    expect([...(job.businessUnits ?? [])]).toEqual([-1, engine.businessUnit(bu)]);
  });
});
