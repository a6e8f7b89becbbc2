/**
 * The SQL push-down of an access decision: `toSqlWhere(engine.filterSpec(…))` run by a real
 * PostgreSQL must return exactly the rows `engine.lookup` returns, record by record as `check` decides.
 */
import { readFileSync } from 'node:fs';
import { Engine, type FilterSpec, PRIVILEGES, type PrivilegeName, toSqlWhere, type WorldInput } from '@palisade/core';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { randomWorld } from '../../core/test/reference/random-world.js';
import { usePostgres } from './support/postgres.js';

const postgres = usePostgres();

const SAMPLE: WorldInput = JSON.parse(
  readFileSync(new URL('../../../fixtures/worlds/sample.json', import.meta.url), 'utf8'),
) as WorldInput;
const SEEDS = Array.from({ length: 40 }, (_, i) => 7_001 + i);

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Creates schema `schema` with one table per world table and the world's records in it. */
async function loadRecords(client: pg.Client, world: WorldInput, schema: string): Promise<void> {
  const principalBu = new Map<string, string>();
  for (const user of world.users ?? []) principalBu.set(user.id, user.businessUnitId);
  for (const team of world.teams ?? []) principalBu.set(team.id, team.businessUnitId);
  for (const bu of world.businessUnits ?? [])
    if (bu.defaultTeamId !== undefined) principalBu.set(bu.defaultTeamId, bu.id);

  const tables = world.tables ?? [];
  await client.query(
    [
      `DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`,
      `CREATE SCHEMA ${ident(schema)}`,
      ...tables.map(
        (t) =>
          `CREATE TABLE ${ident(schema)}.${ident(t.name)} (id text PRIMARY KEY, ownerid text, owningbusinessunit text)`,
      ),
    ].join(';\n'),
  );
  // One round trip: a data-modifying CTE per table, each inserting from three parallel arrays.
  const inserts: string[] = [];
  const params: (string | null)[][] = [];
  for (const table of tables) {
    const records = (world.records ?? []).filter((r) => r.table === table.name);
    if (records.length === 0) continue;
    const owners = records.map((r) => r.ownerId ?? null);
    params.push(
      records.map((r) => r.id),
      owners,
      records.map((r, i) => r.owningBusinessUnitId ?? principalBu.get(owners[i] ?? '') ?? null),
    );
    const n = params.length;
    inserts.push(
      `i${inserts.length} AS (INSERT INTO ${ident(schema)}.${ident(table.name)} ` +
        `SELECT * FROM unnest($${n - 2}::text[], $${n - 1}::text[], $${n}::text[]))`,
    );
  }
  if (inserts.length > 0) await client.query(`WITH ${inserts.join(',\n')} SELECT 1`, params);
}

interface Question {
  user: string;
  table: string;
  privilege: PrivilegeName;
}

/**
 * Asks every (user, table, privilege) of `world` in one statement: each question's filter becomes
 * one branch of a UNION ALL, its parameters numbered on from the previous branch's.
 */
async function compare(world: WorldInput, schema: string): Promise<{ questions: number; mismatches: string[] }> {
  const client = postgres.client;
  await loadRecords(client, world, schema);
  const engine = Engine.fromWorld(world);
  const questions: Question[] = [];
  const branches: string[] = [];
  const params: string[][] = [];
  for (const user of world.users ?? []) {
    for (const table of world.tables ?? []) {
      for (const privilege of PRIVILEGES) {
        const where = toSqlWhere(engine.filterSpec(user.id, table.name, privilege), {}, params.length + 1);
        params.push(...where.params);
        branches.push(
          `SELECT ${questions.length} AS q, id FROM ${ident(schema)}.${ident(table.name)} WHERE ${where.sql}`,
        );
        questions.push({ user: user.id, table: table.name, privilege });
      }
    }
  }
  const rows =
    branches.length === 0
      ? []
      : (await client.query<{ q: number; id: string }>(branches.join('\nUNION ALL\n'), params)).rows;
  const found = questions.map(() => [] as string[]);
  for (const row of rows) found[row.q]?.push(row.id);

  const mismatches: string[] = [];
  const recordsOf = new Map<string, string[]>();
  for (const record of world.records ?? [])
    recordsOf.set(record.table, [...(recordsOf.get(record.table) ?? []), record.id]);
  questions.forEach(({ user, table, privilege }, q) => {
    const sql = (found[q] ?? []).sort();
    const lookup = [...engine.lookup(user, table, privilege).ids()].sort();
    if (JSON.stringify(sql) !== JSON.stringify(lookup))
      mismatches.push(`${user} ${table} ${privilege}: sql [${sql}] lookup [${lookup}]`);
    const allowed = new Set(sql);
    for (const id of recordsOf.get(table) ?? []) {
      if (engine.check(user, table, privilege, id).allowed !== allowed.has(id))
        mismatches.push(`${user} ${table} ${privilege} ${id}: sql ${allowed.has(id)}, check disagrees`);
    }
  });
  await client.query(`DROP SCHEMA ${ident(schema)} CASCADE`);
  return { questions: questions.length, mismatches };
}

describe('toSqlWhere(engine.filterSpec(…)) in PostgreSQL', () => {
  it('returns the rows lookup returns, for the sample world', async () => {
    const { questions, mismatches } = await compare(SAMPLE, 'sample');
    expect(questions).toBeGreaterThan(100);
    expect(mismatches).toEqual([]);
  });

  it.each(SEEDS)('returns the rows lookup returns, for random world %i', async (seed) => {
    const world = randomWorld(seed, { hierarchy: false, columnSecurity: false });
    const { mismatches } = await compare(world, `random_${seed}`);
    expect(mismatches).toEqual([]);
  });
});

describe('toSqlWhere', () => {
  const spec: FilterSpec = {
    all: false,
    businessUnitIds: ['bu-east'],
    ownerIds: ["o'brien", 'u-2'],
    sharedRecordIds: ['r-9', "x'); DROP TABLE x; --"],
  };
  const rows = [
    ['r-1', 'u-1', 'bu-east'],
    ['r-2', "o'brien", 'bu-west'],
    ['r-3', 'u-2', 'bu-west'],
    ['r-9', 'u-9', 'bu-west'],
    ['r-10', 'u-9', 'bu-west'],
    ['r-11', 'u-3', 'bu-east'],
  ];
  const allowed = ['r-1', 'r-11', 'r-2', 'r-3', 'r-9'];
  const columns = { id: 'Record Id', owner: 'OwnerId', owningBusinessUnit: 'owning"bu' };

  async function createOddTable(): Promise<void> {
    await postgres.client.query(`DROP SCHEMA IF EXISTS "Odd" CASCADE; CREATE SCHEMA "Odd";
      CREATE TABLE "Odd"."Acc""ounts" ("Record Id" text PRIMARY KEY, "OwnerId" text, "owning""bu" text, "Tenant" text)`);
    await postgres.client.query(
      `INSERT INTO "Odd"."Acc""ounts" SELECT *, 't1' FROM unnest($1::text[], $2::text[], $3::text[])`,
      [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
    );
  }

  async function ids(sql: string, params: unknown[]): Promise<string[]> {
    const result = await postgres.client.query<{ id: string }>(sql, params);
    return result.rows.map((r) => r.id).sort();
  }

  it('quotes mixed-case column names and names with a double quote inside', async () => {
    await createOddTable();
    const where = toSqlWhere(spec, columns);
    expect(where.sql).toBe(
      '("owning""bu" = ANY($1::text[]) OR "OwnerId" = ANY($2::text[]) OR "Record Id" = ANY($3::text[]))',
    );
    expect(await ids(`SELECT "Record Id" AS id FROM "Odd"."Acc""ounts" WHERE ${where.sql}`, where.params)).toEqual(
      allowed,
    );
  });

  it('quotes each part of qualified column names', async () => {
    await createOddTable();
    const qualified = toSqlWhere(spec, {
      id: 'Odd.Acc"ounts.Record Id',
      owner: 'Odd.Acc"ounts.OwnerId',
      owningBusinessUnit: 'Odd.Acc"ounts.owning"bu',
    });
    expect(qualified.sql).toContain('"Odd"."Acc""ounts"."OwnerId" = ANY($2::text[])');
    expect(
      await ids(`SELECT "Record Id" AS id FROM "Odd"."Acc""ounts" WHERE ${qualified.sql}`, qualified.params),
    ).toEqual(allowed);
    const aliased = toSqlWhere(spec, { id: 'a.Record Id', owner: 'a.OwnerId', owningBusinessUnit: 'a.owning"bu' });
    expect(
      await ids(
        `SELECT a."Record Id" AS id FROM "Odd"."Acc""ounts" a JOIN "Odd"."Acc""ounts" b USING ("Record Id") WHERE ${aliased.sql}`,
        aliased.params,
      ),
    ).toEqual(allowed);
  });

  it('numbers its parameters from firstParameter, composed into a bigger query', async () => {
    await createOddTable();
    const where = toSqlWhere(spec, columns, 2);
    expect(where.sql).toBe(
      '("owning""bu" = ANY($2::text[]) OR "OwnerId" = ANY($3::text[]) OR "Record Id" = ANY($4::text[]))',
    );
    const onlyOwners = toSqlWhere(
      { all: false, businessUnitIds: [], ownerIds: ['u-9'], sharedRecordIds: [] },
      columns,
      6,
    );
    expect(onlyOwners).toEqual({ sql: '"OwnerId" = ANY($6::text[])', params: [['u-9']] });
    const sql = `SELECT "Record Id" AS id FROM "Odd"."Acc""ounts"
      WHERE "Tenant" = $1 AND ${where.sql} AND "Record Id" <> $5
      UNION SELECT "Record Id" FROM "Odd"."Acc""ounts" WHERE ${onlyOwners.sql}`;
    expect(await ids(sql, ['t1', ...where.params, 'r-11', ...onlyOwners.params])).toEqual([
      'r-1',
      'r-10',
      'r-2',
      'r-3',
      'r-9',
    ]);
    expect(await ids(sql, ['t2', ...where.params, 'r-11', ...onlyOwners.params])).toEqual(['r-10', 'r-9']);
  });

  it('renders everything as TRUE and nothing as FALSE, both valid SQL without parameters', async () => {
    await createOddTable();
    const all = toSqlWhere({ all: true, businessUnitIds: ['x'], ownerIds: [], sharedRecordIds: [] }, columns, 3);
    const none = toSqlWhere({ all: false, businessUnitIds: [], ownerIds: [], sharedRecordIds: [] }, columns, 3);
    expect(all).toEqual({ sql: 'TRUE', params: [] });
    expect(none).toEqual({ sql: 'FALSE', params: [] });
    expect(await ids(`SELECT "Record Id" AS id FROM "Odd"."Acc""ounts" WHERE ${all.sql}`, [])).toHaveLength(
      rows.length,
    );
    expect(await ids(`SELECT "Record Id" AS id FROM "Odd"."Acc""ounts" WHERE ${none.sql}`, [])).toEqual([]);
  });
});
