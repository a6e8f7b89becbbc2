/**
 * The PostgreSQL baseline the benchmarks time must answer what the engine answers: for every
 * (user, table, privilege) of a few random worlds, its one-query filter returns `lookup`'s ids.
 */
import { Engine, PRIVILEGES } from '@palisade/core';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresDataverseBaseline } from '../../bench/src/baselines/postgres-dataverse.js';
import { randomWorld } from '../../core/test/reference/random-world.js';
import { usePostgres } from './support/postgres.js';

const postgres = usePostgres();
const SEEDS = Array.from({ length: 10 }, (_, i) => 9_101 + i);

describe('PostgresDataverseBaseline', () => {
  const open: PostgresDataverseBaseline[] = [];
  afterAll(async () => {
    for (const baseline of open) await baseline.close();
  });

  it.each(SEEDS)('filters like the engine on random world %i', async (seed) => {
    const world = randomWorld(seed, { hierarchy: false, columnSecurity: false, scale: 1.5 });
    const engine = Engine.fromWorld(world);
    const baseline = await PostgresDataverseBaseline.load(world, postgres.url, { schema: `world_${seed}` });
    open.push(baseline);
    const mismatches: string[] = [];
    for (const user of world.users ?? []) {
      for (const table of world.tables ?? []) {
        for (const privilege of PRIVILEGES) {
          const expected = [...engine.lookup(user.id, table.name, privilege).ids()].sort();
          for (const form of ['union', 'or'] as const) {
            const sql = (await baseline.filter(user.id, table.name, privilege, form)).sort();
            if (JSON.stringify(sql) !== JSON.stringify(expected))
              mismatches.push(`${form} ${user.id} ${table.name} ${privilege}: sql [${sql}] engine [${expected}]`);
          }
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('rejects unknown users and tables', async () => {
    const world = randomWorld(1, { hierarchy: false, columnSecurity: false });
    const baseline = await PostgresDataverseBaseline.load(world, postgres.url, { schema: 'unknown_ids' });
    open.push(baseline);
    await expect(baseline.filter('nobody', 'table0', 'read')).rejects.toThrow(/unknown user/);
    await expect(baseline.filter('u-0', 'nothing', 'read')).rejects.toThrow(/unknown table/);
  });
});
