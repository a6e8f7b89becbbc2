import { BatchCode, Engine, type FilterJob, PRIVILEGES, type WorldInput } from '@palisade/core';
import { checkColumns, Evaluator, filterRange } from '@palisade/core/internal';
import { rng } from '../reference/random-world.js';
import { codeOfReason } from './codes.js';
import type { Mismatch } from './differential.js';

/**
 * Every bulk path must give the answers `check` gives, question by question: checkBatch (columns
 * and objects), filter (all row forms, both outputs), lookup (ids and pages), filterSpec evaluated
 * on each row, and whoCanAccess. `check` itself is held to the reference by differential.ts.
 */
export function firstBulkMismatch(
  world: WorldInput,
  seed: number,
  engine: Engine = Engine.fromWorld(world),
): Mismatch | null {
  const random = rng(seed);
  const evaluator = new Evaluator(engine.sharedState());
  const users = (world.users ?? []).map((u) => u.id);
  const owners = [
    ...users,
    ...(world.teams ?? []).filter((t) => t.type !== 'access').map((t) => t.id),
    ...(world.businessUnits ?? []).flatMap((b) => (b.defaultTeamId === undefined ? [] : [b.defaultTeamId])),
  ];
  const bus = (world.businessUnits ?? []).map((b) => b.id);
  const differ = (question: string, a: unknown, b: unknown): Mismatch | null =>
    JSON.stringify(a) === JSON.stringify(b) ? null : { question, engine: a, reference: b };

  // Every column item of every table and privilege, to ask again as one batch larger than the
  // batch loop's chunk (4,096 items), so answers must not depend on where a chunk starts.
  const mixed = { users: [] as number[], tables: [] as number[], privileges: [] as number[], records: [] as number[] };
  const mixedCodes: number[] = [];

  for (const table of world.tables ?? []) {
    const t = engine.table(table.name);
    // Stored records: a deleted id keeps its old row's slot, and may be stored again at a new one.
    const store = engine.model.tables[t]?.records;
    const records = store?.ids.filter((id, row) => store.index.get(id) === row) ?? [];
    const rowLimit = store?.count ?? 0;
    const deleted = Array.from({ length: rowLimit }, (_, row) => row).filter((row) => store?.has(row) !== true);
    // Inline rows: stored ids with other owners, unknown ids, no id.
    const inline = Array.from({ length: owners.length > 0 && bus.length > 0 ? 6 : 0 }, (_, i) => ({
      id:
        i % 3 === 2
          ? null
          : i % 3 === 0 && records.length > 0
            ? (records[Math.floor(random() * records.length)] as string)
            : `inline-${i}`,
      ownerId: owners[Math.floor(random() * owners.length)] as string,
      owningBusinessUnitId: bus[Math.floor(random() * bus.length)] as string,
    }));
    for (const privilege of PRIVILEGES) {
      const p = engine.privilege(privilege);
      for (const user of users) {
        const u = engine.user(user);
        const expected = records.filter((r) => engine.check(user, table.name, privilege, r).allowed);
        const where = `${user} ${privilege} ${table.name}`;
        const positions = (allowed: readonly string[]) => records.flatMap((r, i) => (allowed.includes(r) ? [i] : []));

        let m = differ(`lookup ids of ${where}`, [...engine.lookup(u, t, p).ids()].sort(), [...expected].sort());
        if (m) return m;
        const paged: string[] = [];
        const lookup = engine.lookup(user, table.name, privilege);
        for (let page = lookup.page({ limit: 2 }); ; page = lookup.page({ limit: 2, cursor: page.cursor })) {
          paged.push(...page.ids);
          if (page.cursor === null) break;
        }
        m = differ(`lookup pages of ${where}`, paged, lookup.ids());
        if (m) return m;

        const want = Array.from(positions(expected));
        m = differ(`filter ids of ${where}`, Array.from(engine.filter(u, t, p, { ids: records })), want);
        if (m) return m;
        const indexes = Int32Array.from(records, (r) => engine.record(t, r));
        m = differ(`filter records of ${where}`, Array.from(engine.filter(u, t, p, { records: indexes })), want);
        if (m) return m;
        // Both ways of deciding record indexes, whichever `filter` chose for this list, on both
        // column types. Reversed, then rows that are no stored record and so never allowed: the
        // rows of deleted records, an index past the table and NONE (as a Uint32Array, 2^32 - 1).
        const reversed = [...indexes.slice().reverse(), ...deleted, rowLimit + 40, -1];
        const wantReversed = want.map((i) => records.length - 1 - i).reverse();
        for (const strategy of ['gather', 'mark'] as const) {
          for (const column of [Int32Array.from(reversed), Uint32Array.from(reversed, (r) => r >>> 0)]) {
            const job = engine.filterJob(u, t, p, { records: column }, { records: strategy });
            m = differ(
              `filter records (${strategy}, ${column.constructor.name}) of ${where}`,
              filtered(evaluator, job),
              wantReversed,
            );
            if (m) return m;
          }
        }
        const columns = {
          owners: Int32Array.from(indexes, (r) => store?.ownerOf(r) ?? -1),
          businessUnits: Int32Array.from(indexes, (r) => store?.buOf(r) ?? -1),
          records: indexes,
        };
        m = differ(`filter columns of ${where}`, Array.from(engine.filter(u, t, p, columns)), want);
        if (m) return m;
        // Columns as Uint32Arrays, then rows of values no owner, BU or record has (each column
        // type's negatives and values of 2^31 and up, -2 and 2^32 - 2 among them): allowed only
        // when every row is (an administrator, a global grant: the rows are not read).
        const junk = [-2, -1, -3, 0x7fffffff, -0x80000000];
        const unsigned = {
          owners: Uint32Array.from([...columns.owners, ...junk], (v) => v >>> 0),
          businessUnits: Uint32Array.from([...columns.businessUnits, ...junk.map(() => -1)], (v) => v >>> 0),
          records: Uint32Array.from([...indexes, ...junk.map(() => -1)], (v) => v >>> 0),
        };
        const everyRow = engine.filterJob(u, t, p, { records: new Int32Array(0) }).kind === 'all';
        const wantJunk = [...want, ...(everyRow ? junk.map((_, k) => indexes.length + k) : [])];
        m = differ(`filter Uint32 columns of ${where}`, Array.from(engine.filter(u, t, p, unsigned)), wantJunk);
        if (m) return m;
        const signed = {
          owners: Int32Array.from(unsigned.owners),
          businessUnits: Int32Array.from(unsigned.businessUnits),
          records: Int32Array.from(unsigned.records),
        };
        m = differ(`filter junk Int32 columns of ${where}`, Array.from(engine.filter(u, t, p, signed)), wantJunk);
        if (m) return m;
        const mask = engine.filter(u, t, p, columns, { output: 'bitmask' });
        const fromMask = records.flatMap((_, i) => (((mask[i >>> 5] as number) >>> (i & 31)) & 1 ? [i] : []));
        m = differ(`filter bitmask of ${where}`, fromMask, want);
        if (m) return m;

        const spec = engine.filterSpec(user, table.name, privilege);
        const bySpec = records.filter((r) => {
          const row = engine.model.tables[t]?.records;
          const index = row?.index.get(r) ?? -1;
          const ownerId = index === -1 ? undefined : engine.model.principals[row?.ownerOf(index) ?? -1]?.id;
          const buId = index === -1 ? undefined : engine.model.businessUnits[row?.buOf(index) ?? -1]?.id;
          return (
            spec.all ||
            (buId !== undefined && spec.businessUnitIds.includes(buId)) ||
            (ownerId !== undefined && spec.ownerIds.includes(ownerId)) ||
            spec.sharedRecordIds.includes(r)
          );
        });
        m = differ(`filterSpec of ${where}`, bySpec, expected);
        if (m) return m;

        if (inline.length > 0) {
          const inlineWant = inline.flatMap((row, i) => {
            const { id, ...rest } = row;
            return engine.check(user, table.name, privilege, id === null ? rest : { ...rest, id }).allowed ? [i] : [];
          });
          const inlineRows = {
            ownerIds: inline.map((r) => r.ownerId),
            businessUnitIds: inline.map((r) => r.owningBusinessUnitId),
            ids: inline.map((r) => r.id),
          };
          m = differ(
            `filter inline id columns of ${where}`,
            Array.from(engine.filter(user, table.name, privilege, inlineRows)),
            inlineWant,
          );
          if (m) return m;
        }
      }

      // checkBatch: every (user, record) of this (table, privilege), both forms, against check's reasons.
      const items = users.flatMap((user) => records.map((record) => ({ user, table: table.name, privilege, record })));
      const expectedCodes = items.map((i) => codeOfReason(engine.check(i.user, i.table, privilege, i.record)));
      let m = differ(
        `checkBatch items of ${table.name} ${privilege}`,
        Array.from(engine.checkBatch(items)),
        expectedCodes,
      );
      if (m) return m;
      const columns = {
        users: Int32Array.from(items, (i) => engine.user(i.user)),
        tables: Int32Array.from(items, () => t),
        privileges: Uint8Array.from(items, () => p),
        records: Int32Array.from(items, (i) => engine.record(t, i.record)),
      };
      m = differ(
        `checkBatch columns of ${table.name} ${privilege}`,
        Array.from(engine.checkBatch(columns)),
        expectedCodes,
      );
      if (m) return m;
      mixed.users.push(...columns.users);
      mixed.tables.push(...columns.tables);
      mixed.privileges.push(...columns.privileges);
      mixed.records.push(...columns.records);
      mixedCodes.push(...expectedCodes);

      // whoCanAccess: exactly the users check allows, with the same reason.
      for (const record of records) {
        const who = engine.whoCanAccess(table.name, record, privilege).map((h) => [h.user, h.reason]);
        const want = users.flatMap((user) => {
          const d = engine.check(user, table.name, privilege, record);
          return d.allowed ? [[user, d.reason]] : [];
        });
        const sort = (list: unknown[][]) => list.map((x) => JSON.stringify(x)).sort();
        m = differ(`whoCanAccess ${table.name} ${record} ${privilege}`, sort(who), sort(want));
        if (m) return m;
      }
    }
  }
  const m = mixedBatchMismatch(engine, mixed, mixedCodes, random);
  if (m) return m;

  // Bad items fail alone, in their own slot, beside good and inline ones in the same batch.
  const user = users[0];
  const table = (world.tables ?? [])[0]?.name;
  const record = (world.records ?? []).find((r) => r.table === table)?.id;
  if (user === undefined || table === undefined || record === undefined) return null;
  const inlineRow = { id: record, ownerId: owners[0] as string };
  const batch = [
    { user: 'nobody', table, privilege: 'read', record },
    { user, table: 'no-such-table', privilege: 'read', record },
    { user, table, privilege: 'READ', record },
    { user, table, privilege: 'read', record: 'no-such-record' },
    { user, table, privilege: 'read', record: { ownerId: 'nobody' } },
    { user, table, privilege: 'read', record },
    { user, table, privilege: 'write', record: inlineRow },
    // Not a user: a team's id, and what a caller outside TypeScript might send.
    { user: world.teams?.[0]?.id ?? 'no-team', table, privilege: 'read', record },
    { user: null as unknown as string, table, privilege: 'read', record },
    { user: 7 as unknown as string, table, privilege: 'read', record },
    { user, table, privilege: 'read', record: `${record}x` },
  ];
  const expected = [
    BatchCode.unknownUser,
    BatchCode.unknownTable,
    BatchCode.unknownPrivilege,
    BatchCode.unknownRecord,
    (world.tables ?? [])[0]?.ownership === 'organization'
      ? codeOfReason(engine.check(user, table, 'read', { ownerId: 'nobody' }))
      : BatchCode.unknownPrincipal,
    codeOfReason(engine.check(user, table, 'read', record)),
    codeOfReason(engine.check(user, table, 'write', inlineRow)),
    BatchCode.unknownUser,
    BatchCode.unknownUser,
    BatchCode.unknownUser,
    BatchCode.unknownRecord,
  ];
  return differ('checkBatch error slots', Array.from(engine.checkBatch(batch)), expected);
}

/** A filter job's allowed positions, as `filter` returns them. */
function filtered(evaluator: Evaluator, job: FilterJob): number[] {
  const out = new Uint32Array(job.length);
  return Array.from(out.subarray(0, filterRange(evaluator, job, 0, job.length, out)));
}

/** Items drawn from `pool` (and some with a bad index) until the batch spans three chunks. */
function mixedBatchMismatch(
  engine: Engine,
  pool: { users: number[]; tables: number[]; privileges: number[]; records: number[] },
  codes: readonly number[],
  random: () => number,
): Mismatch | null {
  if (codes.length === 0) return null;
  const length = 9_001;
  const batch = {
    users: new Int32Array(length),
    tables: new Int32Array(length),
    privileges: new Uint8Array(length),
    records: new Int32Array(length),
  };
  const expected: number[] = [];
  for (let i = 0; i < length; i++) {
    const k = Math.floor(random() * codes.length);
    batch.users[i] = pool.users[k] as number;
    batch.tables[i] = pool.tables[k] as number;
    batch.privileges[i] = pool.privileges[k] as number;
    batch.records[i] = pool.records[k] as number;
    let code = codes[k] as number;
    if (i % 499 === 3) {
      batch.users[i] = -1;
      code = BatchCode.unknownUser;
    } else if (i % 499 === 7) {
      batch.records[i] = 1 << 30;
      code = BatchCode.unknownRecord;
    }
    expected.push(code);
  }
  // The engine chooses how to gather per chunk; both ways must agree whatever it chooses here.
  const evaluator = new Evaluator(engine.sharedState());
  for (const gather of ['auto', 'together', 'passes'] as const) {
    const answers = new Uint8Array(length);
    if (gather === 'auto') answers.set(engine.checkBatch(batch));
    else checkColumns(evaluator, batch, answers, gather);
    const at = answers.findIndex((code, i) => code !== expected[i]);
    if (at >= 0) {
      return {
        question: `checkBatch (${gather}) of ${length} mixed items, item ${at}`,
        engine: answers[at],
        reference: expected[at],
      };
    }
  }
  return null;
}
