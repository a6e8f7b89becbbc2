/**
 * `palisade-bench gen`: a world from a preset, a seed and a shape, streamed to a JSON or
 * MessagePack file and/or imported into the PostgreSQL store. Records, shares and field shares
 * are generated lazily while they are written, so a 10M-record world never sits in memory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DATA_DIR, openStore } from '@palisade/server';
import { count, Progress, type ProgressOutput } from './progress.js';
import { type WorldFormat, writeWorldStream } from './stream.js';
import { TREE_SHAPES, type TreeShape } from './tree.js';
import { GEN_USAGE } from './usage.js';
import {
  type GeneratedWorld,
  type GenerateOptions,
  type Mix,
  PRESETS,
  planWorld,
  TEAM_TYPES,
  USER_ROLES,
  type WorldShape,
  worldEntries,
} from './world.js';

/** Runs `gen` with its arguments (after the word `gen`); progress and results go to `out`. */
export async function runGenCli(args: readonly string[], out: ProgressOutput = process.stderr): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    allowPositionals: false,
    options: {
      preset: { type: 'string', default: 'small' },
      seed: { type: 'string' },
      bus: { type: 'string' },
      depth: { type: 'string' },
      users: { type: 'string' },
      records: { type: 'string' },
      'share-ratio': { type: 'string' },
      tree: { type: 'string' },
      teams: { type: 'string' },
      'team-count': { type: 'string' },
      'team-size': { type: 'string' },
      roles: { type: 'string' },
      matrix: { type: 'string' },
      tables: { type: 'string' },
      'org-tables': { type: 'string' },
      'org-records': { type: 'string' },
      hierarchy: { type: 'string' },
      'secured-columns': { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
      store: { type: 'boolean', default: false },
      'database-url': { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    out.write(`${GEN_USAGE}\n`);
    return 0;
  }
  if (values.out === undefined && !values.store) {
    out.write(`gen: say where the world goes: --out <file> and/or --store\n\n${GEN_USAGE}\n`);
    return 2;
  }
  const preset = PRESETS[values.preset as keyof typeof PRESETS];
  if (preset === undefined) {
    out.write(`gen: unknown preset \`${values.preset}\` (${Object.keys(PRESETS).join(', ')})\n`);
    return 2;
  }
  const shape: WorldShape = {
    seed: integer(values.seed, preset.seed, 'seed'),
    businessUnits: Math.max(1, integer(values.bus, preset.businessUnits, 'bus')),
    depth: Math.max(1, integer(values.depth, preset.depth, 'depth')),
    users: integer(values.users, preset.users, 'users'),
    records: integer(values.records, preset.records, 'records'),
    shareRatio: ratio(values['share-ratio'], preset.shareRatio, 'share-ratio'),
  };
  const options = generateOptions(values);
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const file = values.out === undefined ? null : resolve(cwd, values.out);
  const format = (values.format ??
    (file !== null && /\.(msgpack|mpk)$/i.test(file) ? 'msgpack' : 'json')) as WorldFormat;
  if (format !== 'json' && format !== 'msgpack') {
    out.write(`gen: unknown format \`${format}\` (json or msgpack)\n`);
    return 2;
  }

  const progress = new Progress(out);
  const world = planWorld(shape, options);
  const temp = file === null ? await mkdtemp(join(tmpdir(), 'palisade-gen-')) : null;
  try {
    // The store reads MessagePack fastest; a temporary file is MessagePack whatever --format says.
    const target = file ?? join(temp as string, 'world.msgpack');
    await writeGenerated(world, target, file === null ? 'msgpack' : format, progress, describe(shape, options, world));
    if (values.store) {
      await importIntoStore(world, target, progress, {
        databaseUrl: values['database-url'] ?? process.env.DATABASE_URL,
        dataDir: values['data-dir'] === undefined ? undefined : resolve(cwd, values['data-dir']),
        out,
      });
    }
  } finally {
    if (temp !== null) await rm(temp, { recursive: true, force: true });
  }
  return 0;
}

/** Streams `world` to `path`, with a counting step for the shares and a progress bar for the writing. */
export async function writeGenerated(
  world: GeneratedWorld,
  path: string,
  format: WorldFormat,
  progress: Progress = new Progress(),
  description = '',
): Promise<void> {
  const counting = progress.step('shares', 1);
  const shares = world.shares.count();
  const fieldShares = world.fieldShares.count();
  counting.done(`${count(shares)} shares and ${count(fieldShares)} field shares counted`);
  const writing = progress.step('writing', 1);
  const { items, bytes } = await writeWorldStream(worldEntries(world), path, format, (written, total) =>
    writing.update(written, total),
  );
  writing.done(`${description}${count(items)} items, ${(bytes / 2 ** 20).toFixed(1)} MiB of ${format} to ${path}`);
}

/** Imports the world file into the store (replacing what it held), with a progress step over its rows. */
async function importIntoStore(
  world: GeneratedWorld,
  file: string,
  progress: Progress,
  where: { databaseUrl: string | undefined; dataDir: string | undefined; out: ProgressOutput },
): Promise<void> {
  const opening = progress.step('store', 1);
  const store = await openStore({
    databaseUrl: where.databaseUrl === '' ? undefined : where.databaseUrl,
    dataDir: where.dataDir ?? DEFAULT_DATA_DIR,
  });
  opening.done(`opened ${store.location}`);
  try {
    const total = world.records.count() + world.shares.count() + world.fieldShares.count();
    const importing = progress.step('importing', total);
    let rows = 0;
    const result = await store.importWorld(
      { file },
      {
        afterTable: (_table, written) => {
          rows += written;
          importing.update(Math.min(rows, total));
        },
      },
    );
    importing.done(
      `revision ${result.revision}: ${Object.entries(result.rows)
        .filter(([, n]) => n > 0)
        .map(([table, n]) => `${table} ${count(n)}`)
        .join(', ')}`,
    );
  } finally {
    await store.close();
  }
}

function describe(shape: WorldShape, options: GenerateOptions, world: GeneratedWorld): string {
  const head = world.head;
  return (
    `${options.tree ?? 'wide'} tree of ${count(head.businessUnits?.length ?? 0)} BUs, depth ${world.treeDepth}; ` +
    `${count(head.users?.length ?? 0)} users, ${count(head.teams?.length ?? 0)} teams; seed ${shape.seed}: `
  );
}

type GenValues = Partial<Record<string, string | boolean | undefined>>;

/** The generator options the flags ask for (the defaults stay undefined, so `planWorld` applies them). */
export function generateOptions(values: GenValues): GenerateOptions {
  const text = (name: string) => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  const options: { -readonly [K in keyof GenerateOptions]: GenerateOptions[K] } = {};
  const tree = text('tree');
  if (tree !== undefined) {
    if (!(TREE_SHAPES as readonly string[]).includes(tree))
      throw new Error(`--tree must be ${TREE_SHAPES.join(', ')}, got \`${tree}\``);
    options.tree = tree as TreeShape;
  }
  const teams = text('teams');
  if (teams !== undefined) options.teamMix = parseMix(teams, TEAM_TYPES, 'teams');
  const teamCount = text('team-count');
  if (teamCount !== undefined) options.teams = integer(teamCount, 0, 'team-count');
  const teamSize = text('team-size');
  if (teamSize !== undefined) {
    const [min, max = min] = teamSize.split('-');
    options.teamSize = { min: integer(min, 0, 'team-size'), max: integer(max, 0, 'team-size') };
    if (options.teamSize.max < options.teamSize.min) throw new Error(`--team-size: ${teamSize} is empty`);
  }
  const roles = text('roles');
  if (roles !== undefined) options.roleMix = parseMix(roles, USER_ROLES, 'roles');
  const matrix = text('matrix');
  if (matrix !== undefined) options.matrixRatio = ratio(matrix, 0, 'matrix');
  const tables = text('tables');
  if (tables !== undefined) options.tables = list(tables);
  const orgTables = text('org-tables');
  if (orgTables !== undefined) options.orgTables = orgTables === 'none' ? [] : list(orgTables);
  const orgRecords = text('org-records');
  if (orgRecords !== undefined) options.orgRecords = integer(orgRecords, 0, 'org-records');
  const hierarchy = text('hierarchy');
  if (hierarchy !== undefined && hierarchy !== 'off') {
    const match = /^(\d+):(\d+)$/.exec(hierarchy);
    if (match === null) throw new Error(`--hierarchy must be span:depth (e.g. 7:2) or off, got \`${hierarchy}\``);
    options.hierarchy = { span: Number(match[1]), depth: Number(match[2]) };
    if (options.hierarchy.span < 1 || options.hierarchy.depth < 1)
      throw new Error('--hierarchy: span and depth are at least 1');
  }
  const secured = text('secured-columns');
  if (secured !== undefined) options.securedColumns = Math.max(1, integer(secured, 1, 'secured-columns'));
  return options;
}

/** `name:weight,name:weight` → weights by name, every name one of `names`. */
export function parseMix<K extends string>(text: string, names: readonly K[], flag: string): Mix<K> {
  const mix: Mix<K> = {};
  for (const part of list(text)) {
    const match = /^([a-z]+):(\d+(?:\.\d+)?)$/i.exec(part);
    if (match === null) throw new Error(`--${flag}: \`${part}\` is not name:weight`);
    const name = match[1] as K;
    if (!names.includes(name)) throw new Error(`--${flag}: unknown \`${name}\` (${names.join(', ')})`);
    mix[name] = Number(match[2]);
  }
  return mix;
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function integer(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const parsed = Number(value.replaceAll('_', ''));
  if (!Number.isSafeInteger(parsed) || parsed < 0)
    throw new Error(`--${name} must be a non-negative integer, got \`${value}\``);
  return parsed;
}

function ratio(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1)
    throw new Error(`--${name} must be a number from 0 to 1, got \`${value}\``);
  return parsed;
}
