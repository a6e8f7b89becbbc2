import { Engine, type Explanation, PRIVILEGES, type WorldInput } from '@palisade/core';
import { rng } from '../reference/random-world.js';
import { ReferenceEvaluator } from '../reference/reference.js';
import { engineSubject, referenceImplementation } from './implementations.js';
import type { CompositeCase, FixtureRecord } from './scenarios.js';

/** The first disagreement found, described well enough to reproduce by hand. */
export interface Mismatch {
  question: string;
  engine: unknown;
  reference: unknown;
}

const SHARE_RIGHTS = PRIVILEGES.filter((p) => p !== 'create');

/**
 * Asks the compiled engine and the reference evaluator every (user, table, privilege, record)
 * question of `world`, every access mask, inline rows, composite actions and explain's paths,
 * and returns the first disagreement (null when they agree everywhere). `seed` drives the
 * sampled questions (inline rows, composite arguments). `engine` defaults to a fresh compile of
 * `world`; pass one changed by updates to check it still equals the reference on `world`.
 */
export function firstMismatch(
  world: WorldInput,
  seed: number,
  engine: Engine = Engine.fromWorld(world),
): Mismatch | null {
  const fast = engineSubject(engine);
  const plain = referenceImplementation.build(world);
  const ref = new ReferenceEvaluator(world);
  const random = rng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

  const users = (world.users ?? []).map((u) => u.id);
  const tables = world.tables ?? [];
  const owners = [
    ...users,
    ...(world.teams ?? []).map((t) => t.id),
    ...(world.businessUnits ?? []).flatMap((b) => (b.defaultTeamId === undefined ? [] : [b.defaultTeamId])),
  ];
  const bus = (world.businessUnits ?? []).map((b) => b.id);
  const recordsOf = (table: string) => (world.records ?? []).filter((r) => r.table === table).map((r) => r.id);

  const compare = (question: string, a: unknown, b: unknown): Mismatch | null =>
    JSON.stringify(a) === JSON.stringify(b) ? null : { question, engine: a, reference: b };

  for (const user of users) {
    for (const table of tables) {
      const records = recordsOf(table.name);
      const rows: FixtureRecord[] = [...records];
      // Inline rows: stored ids with another owner/BU (their shares still apply), and unknown ids.
      for (let i = 0; i < 3 && owners.length > 0 && bus.length > 0; i++) {
        const id = random() < 0.5 && records.length > 0 ? pick(records) : `inline-${i}`;
        rows.push(
          random() < 0.3
            ? { id, ownerId: pick(owners) }
            : { id, ownerId: pick(owners), owningBusinessUnitId: pick(bus) },
        );
      }
      for (const record of rows) {
        for (const privilege of PRIVILEGES) {
          const q = `check(${user}, ${table.name}, ${privilege}, ${JSON.stringify(record)})`;
          const mismatch = compare(
            q,
            fast.check(user, table.name, privilege, record),
            plain.check(user, table.name, privilege, record),
          );
          if (mismatch !== null) return mismatch;
          if (typeof record === 'string') {
            const paths = explainKinds(engine.explain(user, table.name, privilege, record));
            const refPaths = [...new Set(ref.decide(user, table.name, privilege, record).paths)].sort();
            const pathMismatch = compare(`explain paths of ${q}`, paths, refPaths);
            if (pathMismatch !== null) return pathMismatch;
          }
        }
      }
      for (const record of records) {
        const q = `accessRights(${user}, ${table.name}, ${record})`;
        const mismatch = compare(
          q,
          fast.accessRights(user, table.name, record),
          plain.accessRights(user, table.name, record),
        );
        if (mismatch !== null) return mismatch;
      }
      // §6: every secured column and one the table does not secure, on stored records and inline rows.
      const columns = [...(table.securedColumns ?? []), 'unsecured-column'];
      for (const record of rows) {
        for (const column of columns) {
          const q = `columnAccess(${user}, ${table.name}, ${JSON.stringify(record)}, ${column})`;
          // Bad input (an inline row owned by an access team) throws in both: compare that it does.
          const mismatch = compare(
            q,
            attempt(() => engine.columnAccess(user, table.name, record, column)),
            attempt(() => ref.columnAccess(user, table.name, record, column)),
          );
          if (mismatch !== null) return mismatch;
        }
      }
      if (records.length > 0) {
        const hidden = engine.hiddenColumns(user, table.name, records);
        const expected = records.map((record) =>
          hidden.columns.map((column) => !ref.columnAccess(user, table.name, record, column).read),
        );
        const got = records.map((_, i) =>
          hidden.columns.map(
            (_, c) => (((hidden.masks[i * hidden.words + (c >>> 5)] as number) >>> (c & 31)) & 1) === 1,
          ),
        );
        const mismatch = compare(`hiddenColumns(${user}, ${table.name})`, got, expected);
        if (mismatch !== null) return mismatch;
      }
      for (const c of compositeCases(user, table.name, records, owners, bus, tables, recordsOf, pick, random)) {
        const mismatch = compare(`composite ${JSON.stringify(c)}`, fast.composite(c), plain.composite(c));
        if (mismatch !== null) return mismatch;
      }
    }
  }
  return null;
}

function attempt<T>(run: () => T): T | 'throws' {
  try {
    return run();
  } catch {
    return 'throws';
  }
}

/** The distinct kinds of path explain lists, sorted: the reference's `paths` in the same form. */
function explainKinds(explanation: Explanation): string[] {
  return [...new Set(explanation.paths.map((p) => p.kind))].sort();
}

function compositeCases(
  user: string,
  table: string,
  records: string[],
  owners: string[],
  bus: string[],
  tables: readonly { name: string }[],
  recordsOf: (table: string) => string[],
  pick: <T>(items: readonly T[]) => T,
  random: () => number,
): CompositeCase[] {
  const cases: CompositeCase[] = [{ action: 'create', user, table, allowed: false, reason: '' }];
  for (let i = 0; i < 3 && owners.length > 0; i++) {
    const c: CompositeCase = { action: 'create', user, table, ownerId: pick(owners), allowed: false, reason: '' };
    if (random() < 0.6 && bus.length > 0) c.businessUnitId = pick(bus);
    cases.push(c);
  }
  for (const record of records) {
    cases.push({ action: 'assign', user, table, record, allowed: false, reason: '' });
    if (owners.length > 0)
      cases.push({ action: 'assign', user, table, record, newOwnerId: pick(owners), allowed: false, reason: '' });
    const rights = SHARE_RIGHTS.filter(() => random() < 0.3);
    cases.push({ action: 'share', user, table, record, rights, allowed: false, reason: '' });
    const parentTable = pick(tables).name;
    const parents = recordsOf(parentTable);
    if (parents.length > 0) {
      cases.push({
        action: 'associate',
        user,
        childTable: table,
        child: record,
        parentTable,
        parent: pick(parents),
        allowed: false,
        reason: '',
      });
    }
  }
  return cases;
}
