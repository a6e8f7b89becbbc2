import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type WorldInput } from '@palisade/core';
import { decodeWorld } from '@palisade/core/internal';
import { type EmbeddedPostgresServer, openStore, startEmbeddedPostgres } from '@palisade/server';
import { afterAll, describe, expect, it } from 'vitest';
import { runBenchCli } from '../src/cli.js';
import { generateOptions, runGenCli, writeGenerated } from '../src/generate/command.js';
import { Progress } from '../src/generate/progress.js';
import { buildTree, TREE_SHAPES, treeDepth } from '../src/generate/tree.js';
import { type GenerateOptions, generateWorld, PRESETS, planWorld } from '../src/generate/world.js';
import { writeWorld } from '../src/generate/write.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-gen-'));
// Under root the embedded PostgreSQL runs as the `postgres` user, which must reach its data directory.
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Levels below the root of a world's BU tree, from its parent ids. */
function depthOf(world: WorldInput): number {
  const index = new Map((world.businessUnits ?? []).map((bu, i) => [bu.id, i]));
  const parents = Int32Array.from(world.businessUnits ?? [], (bu) =>
    bu.parentId === null ? -1 : (index.get(bu.parentId) as number),
  );
  return treeDepth(parents);
}

/** A quiet progress sink that keeps what was printed. */
function capture(): { isTTY: false; text: string; write(s: string): void } {
  return {
    isTTY: false,
    text: '',
    write(s: string) {
      this.text += s;
    },
  };
}

/** The same decisions for a sample of users × records × two privileges. */
function expectSameAnswers(a: Engine, b: Engine, world: WorldInput): void {
  expect(b.stats()).toEqual(a.stats());
  const records = world.records ?? [];
  for (const user of (world.users ?? []).slice(0, 25)) {
    for (let r = 0; r < records.length; r += Math.max(1, Math.floor(records.length / 60))) {
      const record = records[r] as { table: string; id: string };
      for (const privilege of ['read', 'write'] as const) {
        expect(b.check(user.id, record.table, privilege, record.id).allowed).toBe(
          a.check(user.id, record.table, privilege, record.id).allowed,
        );
      }
    }
  }
}

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
    expect(await runGenCli(['--preset', 'small'], capture())).toBe(2); // neither --out nor --store
  });
});

describe('shapes and mixes', () => {
  it.each(TREE_SHAPES)('a %s tree has the BUs and the depth asked for', (tree) => {
    for (const [businessUnits, depth] of [
      [50, 4],
      [300, 8],
      [1_000, 16],
      [2_000, 3],
    ] as const) {
      const world = generateWorld({ ...PRESETS.small, businessUnits, depth, users: 100, records: 200 }, { tree });
      expect(world.businessUnits).toHaveLength(businessUnits);
      expect(depthOf(world)).toBe(depth);
      Engine.fromWorld(world);
    }
    // Too few BUs for the depth: as deep as they allow.
    expect(treeDepth(buildTree(tree, 4, 10))).toBe(3);
  });

  it('the shapes differ as named: wide spreads, deep chains, skewed leans on one child', () => {
    const children = (tree: 'wide' | 'deep' | 'skewed') => {
      const parents = buildTree(tree, 1_000, 8);
      const count = new Int32Array(parents.length);
      const sizes = new Int32Array(parents.length).fill(1);
      for (let i = parents.length - 1; i > 0; i--) {
        const parent = parents[i] as number;
        count[parent] = (count[parent] as number) + 1;
        sizes[parent] = (sizes[parent] as number) + (sizes[i] as number);
      }
      return { count, sizes, parents };
    };
    const wide = children('wide');
    expect(Math.max(...wide.count)).toBeLessThanOrEqual(4); // branching ≈ 2.2 for 1,000 BUs in 8 levels
    const deep = children('deep');
    expect(Math.max(...deep.count.slice(1))).toBe(1); // below the root, every BU has at most one child
    const skewed = children('skewed');
    expect(skewed.sizes[1]).toBeGreaterThanOrEqual(0.9 * 999 - 1); // the first child's subtree
  });

  it('team types, roles, tables and the matrix follow the mix asked for', () => {
    const options: GenerateOptions = {
      teams: 200,
      teamMix: { owner: 50, access: 25, group: 25 },
      teamSize: { min: 5, max: 5 },
      roleMix: { salesperson: 50, auditor: 50 },
      matrixRatio: 0,
      tables: ['lead', 'incident'],
      orgTables: ['currency', 'product'],
      orgRecords: 2,
    };
    const world = generateWorld({ ...PRESETS.small, users: 2_000, records: 1_000 }, options);
    const teams = world.teams ?? [];
    const byType = (type: string) => teams.filter((t) => t.type === type).length;
    expect([teams.length, byType('owner'), byType('access'), byType('group')]).toEqual([200, 100, 50, 50]);
    expect(teams.every((t) => t.members.length === 5)).toBe(true);
    const assignments = world.roleAssignments ?? [];
    const userRoles = assignments.filter((a) => a.principalId.startsWith('u-') && a.roleId !== 'role-admin');
    expect(userRoles).toHaveLength(2_000); // one each, no matrix assignments
    const auditors = userRoles.filter((a) => a.roleId === 'role-auditor').length;
    expect(auditors).toBeGreaterThan(900);
    expect(auditors).toBeLessThan(1_100);
    expect(userRoles.some((a) => a.roleId === 'role-sales-manager' || a.roleId === 'role-support')).toBe(false);
    expect(world.tables?.map((t) => [t.name, t.ownership])).toEqual([
      ['lead', 'user'],
      ['incident', 'user'],
      ['currency', 'organization'],
      ['product', 'organization'],
    ]);
    const perTable = (name: string) => (world.records ?? []).filter((r) => r.table === name).length;
    expect([perTable('lead'), perTable('incident'), perTable('currency'), perTable('product')]).toEqual([
      500, 500, 2, 2,
    ]);
    const engine = Engine.fromWorld(world);
    // An auditor reads every lead and every product.
    const auditor = userRoles.find((a) => a.roleId === 'role-auditor' && !isDisabled(world, a.principalId));
    expect(engine.check(auditor?.principalId as string, 'product', 'read', 'product-1').allowed).toBe(true);
    expect(engine.check(auditor?.principalId as string, 'lead', 'read', 'lead-998').allowed).toBe(true);
  });

  it('the default mixes hold roughly (salesperson 70, manager 20, support 7, auditor 3; 5% matrix)', () => {
    const world = generateWorld({ ...PRESETS.small, users: 5_000, records: 0 });
    const assignments = (world.roleAssignments ?? []).filter((a) => a.principalId.startsWith('u-'));
    const share = (role: string, bu = false) =>
      assignments.filter((a) => a.roleId === role && (a.businessUnitId !== undefined) === bu).length / 5_000;
    expect(share('role-salesperson')).toBeCloseTo(0.7, 1);
    expect(share('role-sales-manager')).toBeCloseTo(0.2, 1);
    expect(share('role-support')).toBeCloseTo(0.07, 1);
    expect(share('role-auditor')).toBeCloseTo(0.03, 1);
    expect(share('role-salesperson', true)).toBeCloseTo(0.05, 1);
    const teams = world.teams ?? [];
    expect(teams).toHaveLength(250);
    expect(teams.filter((t) => t.type === 'access')).toHaveLength(50);
  });

  it('hierarchy and column security are on when asked for', () => {
    const world = generateWorld(
      { ...PRESETS.small, records: 2_000 },
      { hierarchy: { span: 7, depth: 2 }, securedColumns: 4 },
    );
    expect(world.settings?.hierarchy).toMatchObject({ enabled: true, model: 'manager', depth: 2 });
    expect(world.users?.[8]?.managerId).toBe('u-1');
    expect(world.tables?.[0]?.securedColumns).toHaveLength(4);
    expect(world.fieldShares?.length).toBeGreaterThan(0);
    Engine.fromWorld(world);
    const plain = generateWorld({ ...PRESETS.small, records: 2_000 });
    expect(plain.settings).toBeUndefined();
    expect(plain.fieldShares).toEqual([]);
  });

  it('the flags become generator options', () => {
    expect(
      generateOptions({
        tree: 'skewed',
        teams: 'owner:60,group:40',
        'team-count': '12',
        'team-size': '2-9',
        roles: 'salesperson:1,manager:1',
        matrix: '0.1',
        tables: 'account,lead',
        'org-tables': 'none',
        'org-records': '5',
        hierarchy: '5:3',
        'secured-columns': '3',
      }),
    ).toEqual({
      tree: 'skewed',
      teamMix: { owner: 60, group: 40 },
      teams: 12,
      teamSize: { min: 2, max: 9 },
      roleMix: { salesperson: 1, manager: 1 },
      matrixRatio: 0.1,
      tables: ['account', 'lead'],
      orgTables: [],
      orgRecords: 5,
      hierarchy: { span: 5, depth: 3 },
      securedColumns: 3,
    });
    expect(generateOptions({ hierarchy: 'off' })).toEqual({});
    expect(() => generateOptions({ tree: 'tall' })).toThrow(/--tree/);
    expect(() => generateOptions({ roles: 'salesperson:70,ceo:30' })).toThrow(/ceo/);
    expect(() => generateOptions({ hierarchy: '7' })).toThrow(/span:depth/);
  });
});

describe('streaming', () => {
  const shape = { ...PRESETS.small, records: 4_000 };
  const options: GenerateOptions = { tree: 'skewed', hierarchy: { span: 5, depth: 2 }, securedColumns: 3 };

  it.each(['json', 'msgpack'] as const)('streams %s equal to the world generated in memory', async (format) => {
    const world = generateWorld(shape, options);
    const file = join(dir, `streamed.${format}`);
    await writeGenerated(planWorld(shape, options), file, format, new Progress(capture()));
    const bytes = await readFile(file);
    const decoded = format === 'json' ? JSON.parse(bytes.toString('utf8')) : decodeWorld(bytes);
    expect(decoded).toEqual(world);
    expectSameAnswers(Engine.fromWorld(world), Engine.fromWorld(bytes), world);
  });

  it('prints plain progress lines when not on a terminal', async () => {
    const out = capture();
    const file = join(dir, 'shaped.json');
    const args = ['--preset', 'small', '--records', '800', '--users', '60', '--tree', 'deep', '--out', file];
    expect(await runGenCli([...args, '--teams', 'owner:1', '--roles', 'manager:1'], out)).toBe(0);
    expect(out.text).toMatch(/^writing: deep tree of 50 BUs, depth 4; 60 users, 3 teams; seed 1: .* in /m);
    const world = JSON.parse(await readFile(file, 'utf8')) as WorldInput;
    expect(world.teams?.every((t) => t.type === 'owner')).toBe(true);
    expect(depthOf(world)).toBe(4);
  });
});

describe('gen --store', () => {
  let server: EmbeddedPostgresServer | undefined;
  afterAll(async () => {
    await server?.stop();
  }, 30_000);

  it('imports the generated world into the PostgreSQL store', async () => {
    server = await startEmbeddedPostgres({ dataDir: join(dir, 'postgres'), ephemeral: true });
    const out = capture();
    const file = join(dir, 'stored.json');
    const args = ['--preset', 'small', '--records', '1500', '--users', '80', '--secured-columns', '2'];
    expect(await runGenCli([...args, '--store', '--database-url', server.url, '--out', file], out)).toBe(0);
    expect(out.text).toMatch(/^importing: revision \d+: .*records 1503/m);
    const world = generateWorld(
      { ...PRESETS.small, records: 1_500, users: 80 },
      generateOptions({ 'secured-columns': '2' }),
    );
    const store = await openStore({ databaseUrl: server.url });
    try {
      const stored = await store.load();
      expectSameAnswers(Engine.fromWorld(world), Engine.fromWorld(stored.world), world);
      // Without --out the world goes through a temporary file.
      expect(
        await runGenCli(['--preset', 'small', '--records', '300', '--store', '--database-url', server.url], out),
      ).toBe(0);
      expect(Engine.fromWorld((await store.load()).world).stats()).toMatchObject({ records: 303 });
    } finally {
      await store.close();
    }
  }, 60_000);
});

function isDisabled(world: WorldInput, id: string): boolean {
  return world.users?.find((u) => u.id === id)?.disabled === true;
}
