import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '@palisade/core';
import { afterAll, describe, expect, it } from 'vitest';
import { runBenchCli } from '../src/cli.js';
import { generateWorld, PRESETS } from '../src/generate/world.js';
import { writeWorld } from '../src/generate/write.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-gen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('world generator', () => {
  const shape = { ...PRESETS.small, records: 3_000 };

  it('is deterministic for a shape, and different for another seed', () => {
    expect(generateWorld(shape)).toEqual(generateWorld(shape));
    expect(generateWorld({ ...shape, seed: 2 })).not.toEqual(generateWorld(shape));
  });

  it('makes worlds the loader accepts, with the counts asked for', () => {
    const engine = Engine.fromWorld(generateWorld(shape));
    expect(engine.stats()).toMatchObject({
      businessUnits: shape.businessUnits,
      users: shape.users,
      records: shape.records + 3,
    });
  });

  it.each(['json', 'msgpack'] as const)('writes %s that loads into the same engine', async (format) => {
    const world = generateWorld(shape);
    const file = join(dir, `world.${format}`);
    await writeWorld(world, file, format);
    const fromFile = Engine.fromWorld(await readFile(file));
    const direct = Engine.fromWorld(world);
    expect(fromFile.stats()).toEqual(direct.stats());
    for (const user of (world.users ?? []).slice(0, 20)) {
      for (const record of (world.records ?? []).slice(0, 50)) {
        expect(fromFile.check(user.id, record.table, 'read', record.id)).toBe(
          direct.check(user.id, record.table, 'read', record.id),
        );
      }
    }
  });

  it('the gen command writes a world from a preset with overrides', async () => {
    const file = join(dir, 'cli.msgpack');
    expect(await runBenchCli(['gen', '--preset', 'small', '--records', '500', '--users', '40', '--out', file])).toBe(0);
    expect(Engine.fromWorld(await readFile(file)).stats()).toMatchObject({ users: 40, records: 503 });
    expect(await runBenchCli(['gen', '--preset', 'nope', '--out', file])).toBe(2);
  });
});
