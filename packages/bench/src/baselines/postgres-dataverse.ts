import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ACCESS_RIGHT_BITS, type PrivilegeName, type WorldInput } from '@palisade/core';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * The baseline a Dataverse-style system gives: the security model stored as normalized tables in
 * PostgreSQL, and every list query joined against them at read time, as Dataverse's own SQL does
 * (no precompiled per-user state). It answers semantics §3 (role and share paths, administrators,
 * disabled users, organization-owned tables); hierarchy and column security are out of scope.
 *
 * Schema `<schema>` (default `dataverse`), named after Dataverse's own tables:
 *
 *   businessunit(id, parentid)                   systemuser(id, businessunitid, isdisabled)
 *   team(id, businessunitid, teamtype, isdefault) teammembership(teamid, systemuserid)
 *   role(id, inheritance, issysadmin)            roleprivilege(roleid, tablename, privilege, depth)
 *   principalrole(principalid, roleid, businessunitid)
 *   principalobjectaccess(objectid, tablename, principalid, accessrightsmask)
 *   entity(name, ownershiptype)
 *
 * and schema `<schema>_records` with one table per world table: (id, ownerid, owningbusinessunit),
 * in its own schema because a world may name a table `team` or `role`. Loading resolves what the
 * world format leaves implicit, as Dataverse stores it: default teams' members (the users of their
 * BU) are rows of teammembership; a record's owning BU defaults to its owner's; a role assignment's
 * BU defaults to the user's (a team's is always the team's); depths are Dataverse's 1 basic,
 * 2 local, 3 deep, 4 global (`none` is no row); several shares of one record with one principal
 * are one POA row with the rights ORed, in Dataverse's AccessRights bits.
 *
 * The filter, one statement per (user, table, privilege) — $1 user, $2 table, $3 privilege,
 * $4 the privilege's AccessRights bit:
 *
 *   WITH RECURSIVE
 *   me     = the user, if enabled (a disabled user holds nothing, so everything below is empty)
 *   myteam = every team the user is a member of (all types; default teams included)
 *   holder = (roleid, anchor BU, team): the user's own role assignments (team NULL) and its
 *            teams' (team = that team)
 *   grants = (depth, anchor, team) per holder whose role has (t, p) at depth > 0, plus
 *            (basic, -, NULL) for each `direct` team role (semantics §2: team NULL means the scope
 *            is the user, its teams and the organization; otherwise the scope is {team})
 *   flags  = everything: a system administrator holder, or a global grant;
 *            userowned: the table is user-owned (organization-owned tables answer `everything` only)
 *   deep   = recursive: each deep grant's anchor and every BU below it
 *   bu     = local grants' anchors ∪ deep
 *   scope  = every principal some grant's scope contains: the owners the basic path matches and the
 *            share recipients the share path accepts
 *   shared = POA rows of t to a principal in scope whose mask has bit $4
 *   SELECT id FROM t WHERE everything
 *   UNION SELECT id FROM t JOIN bu ON owningbusinessunit      WHERE NOT everything AND userowned
 *   UNION SELECT id FROM t JOIN scope ON ownerid              WHERE NOT everything AND userowned
 *   UNION SELECT id FROM t JOIN shared ON id                  WHERE NOT everything AND userowned
 *
 * The three filtered branches are a UNION rather than one WHERE with ORs so that each can use its
 * index (owningbusinessunit, ownerid, the primary key); `flags` are scalar subqueries, so PostgreSQL
 * evaluates them once and skips the branches they rule out.
 */
export class PostgresDataverseBaseline {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly statements: ReadonlyMap<string, { name: string; text: string }>,
    private readonly users: ReadonlySet<string>,
  ) {}

  /**
   * Loads `world` (valid by the world format; not checked again here) into `schema` of the database
   * at `url`, replacing what that schema held, and returns a baseline querying it through a pool of
   * `connections` (default 1).
   */
  static async load(
    world: WorldInput,
    url: string,
    options: { schema?: string; connections?: number } = {},
  ): Promise<PostgresDataverseBaseline> {
    const schema = options.schema ?? 'dataverse';
    const pool = new pg.Pool({ connectionString: url, max: options.connections ?? 1 });
    // An idle connection that drops (the server shutting down) fails the next query; without a
    // listener it would also crash the process as an unhandled 'error' event.
    pool.on('error', () => {});
    try {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const tables = await loadWorld(client, world, schema);
        await client.query('COMMIT');
        // The maintenance autovacuum would start on its own after a load this size (the visibility
        // map that index-only scans need, and planner statistics), done now: otherwise it runs
        // during the timed queries, on the same two cores as both sides of the comparison.
        await client.query(`VACUUM (ANALYZE) ${tables.join(', ')}`);
        // Needs superuser or pg_checkpoint: a DATABASE_URL user without either simply skips it.
        await client.query('CHECKPOINT').catch(() => undefined);
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end();
      throw error;
    }
    const statements = new Map<string, { name: string; text: string }>();
    for (const table of world.tables ?? []) {
      for (const form of ['union', 'or'] as const) {
        // Named, so each pooled connection plans a table's filter once and reuses the plan.
        const text = filterSql(schema, table.name, form);
        statements.set(`${form}:${table.name}`, { name: `palisade_filter_${++statementCount}`, text });
      }
    }
    return new PostgresDataverseBaseline(pool, statements, new Set((world.users ?? []).map((u) => u.id)));
  }

  /** Ids of the records of `table` that `user` may exercise `privilege` on, in no particular order. */
  async filter(user: string, table: string, privilege: PrivilegeName, form: FilterForm = 'union'): Promise<string[]> {
    const statement = this.statements.get(`${form}:${table}`);
    if (statement === undefined) throw new Error(`unknown table: ${table}`);
    if (!this.users.has(user)) throw new Error(`unknown user: ${user}`);
    const bit = ACCESS_RIGHT_BITS[privilege];
    if (bit === undefined) throw new Error(`unknown privilege: ${privilege}`);
    const result = await this.pool.query<{ id: string }>({ ...statement, values: [user, table, privilege, bit] });
    return result.rows.map((row) => row.id);
  }

  /** The SQL `filter` runs for `table` (for EXPLAIN and for reading). */
  sql(table: string, form: FilterForm = 'union'): string {
    const statement = this.statements.get(`${form}:${table}`);
    if (statement === undefined) throw new Error(`unknown table: ${table}`);
    return statement.text;
  }

  /** Closes every connection; resolves once they are closed, so the server may be stopped right after. */
  async close(): Promise<void> {
    // pool.end() resolves before its connections have ended; wait for each 'remove' too.
    let open = this.pool.totalCount;
    const closed = new Promise<void>((resolve) => {
      if (open === 0) resolve();
      this.pool.on('remove', () => {
        if (--open === 0) resolve();
      });
    });
    await this.pool.end();
    await closed;
  }
}

let statementCount = 0;
const DEPTH: Readonly<Record<string, number>> = { basic: 1, local: 2, deep: 3, global: 4 };

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * How the final SELECT combines the three paths. `or` is the shape Dataverse generates: one scan
 * of the table with the paths OR'd as IN-subqueries. `union` is a PostgreSQL-tuned rewrite that
 * lets each path use its own index, so it reads only the rows it returns.
 */
export type FilterForm = 'or' | 'union';

function filterSql(schema: string, table: string, form: FilterForm): string {
  const s = ident(schema);
  const t = `${ident(`${schema}_records`)}.${ident(table)}`;
  const filtered = 'NOT (SELECT everything FROM flags) AND (SELECT userowned FROM flags)';
  return `WITH RECURSIVE
me AS (SELECT id FROM ${s}.systemuser WHERE id = $1 AND NOT isdisabled),
myteam AS (SELECT tm.teamid FROM ${s}.teammembership tm JOIN me ON tm.systemuserid = me.id),
holder AS (
  SELECT pr.roleid, pr.businessunitid AS anchor, NULL::text AS team
    FROM ${s}.principalrole pr JOIN me ON pr.principalid = me.id
  UNION ALL
  SELECT pr.roleid, pr.businessunitid, pr.principalid
    FROM ${s}.principalrole pr JOIN myteam ON pr.principalid = myteam.teamid
),
grants AS (
  SELECT rp.depth, h.anchor, h.team
    FROM holder h JOIN ${s}.roleprivilege rp ON rp.roleid = h.roleid
   WHERE rp.tablename = $2 AND rp.privilege = $3
  UNION ALL
  SELECT 1, NULL, NULL
    FROM holder h JOIN ${s}.role r ON r.id = h.roleid JOIN ${s}.roleprivilege rp ON rp.roleid = h.roleid
   WHERE h.team IS NOT NULL AND r.inheritance = 'direct' AND rp.tablename = $2 AND rp.privilege = $3
),
flags AS (
  SELECT EXISTS (SELECT 1 FROM holder h JOIN ${s}.role r ON r.id = h.roleid WHERE r.issysadmin)
           OR EXISTS (SELECT 1 FROM grants WHERE depth = 4) AS everything,
         EXISTS (SELECT 1 FROM ${s}.entity WHERE name = $2 AND ownershiptype = 'user') AS userowned
),
deep(id) AS (
  SELECT anchor FROM grants WHERE depth = 3
  UNION
  SELECT b.id FROM ${s}.businessunit b JOIN deep ON b.parentid = deep.id
),
bu(id) AS (SELECT anchor FROM grants WHERE depth = 2 UNION SELECT id FROM deep),
scope(id) AS (
  SELECT team FROM grants WHERE team IS NOT NULL
  UNION SELECT id FROM me WHERE EXISTS (SELECT 1 FROM grants WHERE team IS NULL)
  UNION SELECT teamid FROM myteam WHERE EXISTS (SELECT 1 FROM grants WHERE team IS NULL)
  UNION SELECT 'organization'::text WHERE EXISTS (SELECT 1 FROM grants WHERE team IS NULL)
),
shared(id) AS (
  SELECT poa.objectid FROM ${s}.principalobjectaccess poa JOIN scope ON poa.principalid = scope.id
   WHERE poa.tablename = $2 AND poa.accessrightsmask & $4::integer <> 0
)
${
  form === 'union'
    ? `SELECT r.id FROM ${t} r WHERE (SELECT everything FROM flags)
UNION SELECT r.id FROM ${t} r JOIN bu ON r.owningbusinessunit = bu.id WHERE ${filtered}
UNION SELECT r.id FROM ${t} r JOIN scope ON r.ownerid = scope.id WHERE ${filtered}
UNION SELECT r.id FROM ${t} r JOIN shared ON r.id = shared.id WHERE ${filtered}`
    : `SELECT r.id FROM ${t} r
 WHERE (SELECT everything FROM flags)
    OR ((SELECT userowned FROM flags)
        AND (r.owningbusinessunit IN (SELECT id FROM bu)
             OR r.ownerid IN (SELECT id FROM scope)
             OR r.id IN (SELECT id FROM shared)))`
}`;
}

type Cell = string | number | boolean | null;

/** COPY's text format: tab-separated, `\N` for null, backslash escapes. */
function copyLine(row: readonly Cell[]): string {
  return `${row
    .map((cell) => {
      if (cell === null) return '\\N';
      if (typeof cell !== 'string') return String(cell);
      return cell.replace(/[\\\t\n\r]/g, (c) =>
        c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
      );
    })
    .join('\t')}\n`;
}

async function copyRows(client: pg.PoolClient, target: string, columns: string, rows: Iterable<readonly Cell[]>) {
  function* chunks(): Generator<string> {
    // Batched so a world of millions of records streams without one giant string.
    let chunk = '';
    let count = 0;
    for (const row of rows) {
      chunk += copyLine(row);
      if (++count === 5000) {
        yield chunk;
        chunk = '';
        count = 0;
      }
    }
    if (chunk !== '') yield chunk;
  }
  await pipeline(Readable.from(chunks()), client.query(copyFrom(`COPY ${target} (${columns}) FROM STDIN`)));
}

/** Creates and fills the tables; returns the ones to vacuum and analyze once committed. */
async function loadWorld(client: pg.PoolClient, world: WorldInput, schema: string): Promise<string[]> {
  const s = ident(schema);
  const r = ident(`${schema}_records`);
  await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE; DROP SCHEMA IF EXISTS ${r} CASCADE;
    CREATE SCHEMA ${s}; CREATE SCHEMA ${r};
    CREATE TABLE ${s}.businessunit (id text PRIMARY KEY, parentid text);
    CREATE TABLE ${s}.systemuser (id text PRIMARY KEY, businessunitid text NOT NULL, isdisabled boolean NOT NULL);
    CREATE TABLE ${s}.team (id text PRIMARY KEY, businessunitid text NOT NULL, teamtype text NOT NULL,
      isdefault boolean NOT NULL);
    CREATE TABLE ${s}.teammembership (teamid text NOT NULL, systemuserid text NOT NULL);
    CREATE TABLE ${s}.role (id text PRIMARY KEY, inheritance text NOT NULL, issysadmin boolean NOT NULL);
    CREATE TABLE ${s}.roleprivilege (roleid text NOT NULL, tablename text NOT NULL, privilege text NOT NULL,
      depth smallint NOT NULL);
    CREATE TABLE ${s}.principalrole (principalid text NOT NULL, roleid text NOT NULL, businessunitid text NOT NULL);
    CREATE TABLE ${s}.principalobjectaccess (objectid text NOT NULL, tablename text NOT NULL,
      principalid text NOT NULL, accessrightsmask integer NOT NULL);
    CREATE TABLE ${s}.entity (name text PRIMARY KEY, ownershiptype text NOT NULL);`);

  const businessUnits = world.businessUnits ?? [];
  const users = world.users ?? [];
  const teams = world.teams ?? [];
  const principalBu = new Map<string, string>();
  for (const user of users) principalBu.set(user.id, user.businessUnitId);
  for (const team of teams) principalBu.set(team.id, team.businessUnitId);
  for (const bu of businessUnits) if (bu.defaultTeamId !== undefined) principalBu.set(bu.defaultTeamId, bu.id);

  await copyRows(
    client,
    `${s}.businessunit`,
    'id, parentid',
    businessUnits.map((bu) => [bu.id, bu.parentId]),
  );
  await copyRows(
    client,
    `${s}.systemuser`,
    'id, businessunitid, isdisabled',
    users.map((u) => [u.id, u.businessUnitId, u.disabled === true]),
  );
  await copyRows(client, `${s}.team`, 'id, businessunitid, teamtype, isdefault', [
    ...teams.map((t): Cell[] => [t.id, t.businessUnitId, t.type, false]),
    ...businessUnits.flatMap((bu): Cell[][] =>
      bu.defaultTeamId === undefined ? [] : [[bu.defaultTeamId, bu.id, 'owner', true]],
    ),
  ]);
  const defaultTeamOf = new Map(businessUnits.flatMap((bu) => (bu.defaultTeamId ? [[bu.id, bu.defaultTeamId]] : [])));
  await copyRows(client, `${s}.teammembership`, 'teamid, systemuserid', [
    ...teams.flatMap((t) => [...new Set(t.members)].map((m) => [t.id, m])),
    ...users.flatMap((u) => {
      const team = defaultTeamOf.get(u.businessUnitId);
      return team === undefined ? [] : [[team, u.id]];
    }),
  ]);
  const roles = world.roles ?? [];
  await copyRows(
    client,
    `${s}.role`,
    'id, inheritance, issysadmin',
    roles.map((role) => [role.id, role.inheritance ?? 'direct', role.systemAdministrator === true]),
  );
  await copyRows(
    client,
    `${s}.roleprivilege`,
    'roleid, tablename, privilege, depth',
    roles.flatMap((role) =>
      Object.entries(role.privileges).flatMap(([table, depths]) =>
        Object.entries(depths).flatMap(([privilege, depth]) => {
          const value = depth === undefined ? undefined : DEPTH[depth];
          return value === undefined ? [] : [[role.id, table, privilege, value]];
        }),
      ),
    ),
  );
  const userIds = new Set(users.map((u) => u.id));
  await copyRows(
    client,
    `${s}.principalrole`,
    'principalid, roleid, businessunitid',
    (world.roleAssignments ?? []).map((a) => {
      const own = principalBu.get(a.principalId) ?? null;
      // Matrix access: a user's role may be anchored in another BU; a team's never is.
      return [a.principalId, a.roleId, userIds.has(a.principalId) ? (a.businessUnitId ?? own) : own];
    }),
  );
  const masks = new Map<string, { table: string; recordId: string; principal: string; mask: number }>();
  for (const share of world.shares ?? []) {
    const key = JSON.stringify([share.table, share.recordId, share.principalId]);
    const entry = masks.get(key) ?? {
      table: share.table,
      recordId: share.recordId,
      principal: share.principalId,
      mask: 0,
    };
    for (const right of share.rights) entry.mask |= ACCESS_RIGHT_BITS[right] ?? 0;
    masks.set(key, entry);
  }
  await copyRows(
    client,
    `${s}.principalobjectaccess`,
    'objectid, tablename, principalid, accessrightsmask',
    [...masks.values()].map((e) => [e.recordId, e.table, e.principal, e.mask]),
  );
  const tables = world.tables ?? [];
  await copyRows(
    client,
    `${s}.entity`,
    'name, ownershiptype',
    tables.map((t) => [t.name, t.ownership]),
  );

  const analyze = [
    'businessunit',
    'systemuser',
    'team',
    'teammembership',
    'role',
    'roleprivilege',
    'principalrole',
    'principalobjectaccess',
    'entity',
  ].map((name) => `${s}.${name}`);
  const byTable = new Map<string, Cell[][]>(tables.map((t) => [t.name, []]));
  for (const record of world.records ?? []) {
    const owner = record.ownerId ?? null;
    const bu = record.owningBusinessUnitId ?? (owner === null ? null : (principalBu.get(owner) ?? null));
    byTable.get(record.table)?.push([record.id, owner, bu]);
  }
  for (const [name, rows] of byTable) {
    const t = `${r}.${ident(name)}`;
    await client.query(`CREATE TABLE ${t} (id text PRIMARY KEY, ownerid text, owningbusinessunit text)`);
    await copyRows(client, t, 'id, ownerid, owningbusinessunit', rows);
    // Dataverse indexes every owned table on both; the filter's BU and owner branches probe them.
    await client.query(`CREATE INDEX ON ${t} (owningbusinessunit); CREATE INDEX ON ${t} (ownerid)`);
    analyze.push(t);
  }

  await client.query(`CREATE INDEX ON ${s}.businessunit (parentid);
    CREATE INDEX ON ${s}.systemuser (businessunitid);
    CREATE INDEX ON ${s}.teammembership (systemuserid, teamid);
    CREATE INDEX ON ${s}.teammembership (teamid);
    CREATE INDEX ON ${s}.principalrole (principalid);
    CREATE INDEX ON ${s}.roleprivilege (roleid, tablename, privilege);
    CREATE INDEX ON ${s}.principalobjectaccess (principalid, tablename) INCLUDE (objectid, accessrightsmask);
    CREATE INDEX ON ${s}.principalobjectaccess (objectid, tablename);`);
  return analyze;
}
