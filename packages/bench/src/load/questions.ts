/**
 * Questions drawn with a seeded RNG from the world's own users and records, so every request
 * names real ids and a run is repeatable. Each question keeps every form of its rows (ids, owner
 * and BU columns, engine record indexes): the body uses one, the verifiers the others.
 */
import type { PrivilegeName, RecordInput, WorldInput } from '@palisade/core';
import { Picker } from '../generate/random.js';

export interface Question {
  readonly user: string;
  readonly table: string;
  readonly privilege: PrivilegeName;
}

export interface CheckQuestion extends Question {
  readonly record: string;
}

export interface ChecksQuestion {
  /** Item `i` travels with id `String(i)`. */
  readonly items: readonly CheckQuestion[];
}

/** A batch for `/v1/checks/columns`: the items, and each item's record as an engine record index. */
export interface ColumnsQuestion extends ChecksQuestion {
  /** `records[i]`: item `i`'s record as its position among its table's records (the engine record index). */
  readonly records: Uint32Array;
}

export interface FilterQuestion extends Question {
  readonly ids: readonly string[];
  readonly ownerIds: readonly string[];
  readonly businessUnitIds: readonly string[];
  /** Engine record indexes: a record's position among its table's records in the world (the loader's order). */
  readonly records: Uint32Array;
}

export interface LookupQuestion extends Question {
  readonly limit: number;
}

// Reads dominate real traffic; the other privileges keep every column of the grant tables busy.
const PRIVILEGES: readonly PrivilegeName[] = [
  'read',
  'read',
  'read',
  'read',
  'write',
  'write',
  'append',
  'appendTo',
  'delete',
  'share',
  'assign',
];

/** How often a check asks about a record the user owns, so allows are common and not only denies. */
const OWN_RECORD_SHARE = 0.3;

export class QuestionMaker {
  private readonly pick: Picker;
  private readonly users: readonly string[];
  private readonly records: readonly RecordInput[];
  /** Per table, its records in world order (position = engine record index). */
  private readonly byTable = new Map<string, RecordInput[]>();
  /** Per record (by its position in `records`), its position among its table's records. */
  private readonly indexInTable: Uint32Array;
  /** Tables with owners and records: what filter and lookup ask about. */
  private readonly ownedTables: readonly string[];
  private readonly buOfPrincipal = new Map<string, string>();
  private ownedBy: Map<string, number[]> | null = null;

  constructor(world: WorldInput, seed: number) {
    this.pick = new Picker(seed);
    this.users = (world.users ?? []).map((u) => u.id);
    this.records = world.records ?? [];
    if (this.users.length === 0) throw new Error('the world has no users to ask about');
    if (this.records.length === 0) throw new Error('the world has no records to ask about');
    this.indexInTable = new Uint32Array(this.records.length);
    this.records.forEach((record, i) => {
      const rows = this.byTable.get(record.table);
      if (rows === undefined) this.byTable.set(record.table, [record]);
      else rows.push(record);
      this.indexInTable[i] = (rows?.length ?? 1) - 1;
    });
    const userOwned = new Set((world.tables ?? []).filter((t) => t.ownership !== 'organization').map((t) => t.name));
    this.ownedTables = [...this.byTable.keys()].filter((t) => userOwned.has(t));
    for (const user of world.users ?? []) this.buOfPrincipal.set(user.id, user.businessUnitId);
    for (const team of world.teams ?? []) this.buOfPrincipal.set(team.id, team.businessUnitId);
    for (const bu of world.businessUnits ?? []) {
      if (bu.defaultTeamId !== undefined) this.buOfPrincipal.set(bu.defaultTeamId, bu.id);
    }
  }

  check(): CheckQuestion {
    return this.checkAt().question;
  }

  checks(size: number): ChecksQuestion {
    return { items: Array.from({ length: size }, () => this.check()) };
  }

  /** A batch drawn as `checks` draws it, with each record's engine record index beside its id. */
  columns(size: number): ColumnsQuestion {
    const items = new Array<CheckQuestion>(size);
    const records = new Uint32Array(size);
    for (let i = 0; i < size; i++) {
      const { question, at } = this.checkAt();
      items[i] = question;
      records[i] = this.indexInTable[at] as number;
    }
    return { items, records };
  }

  /** A check and its record's position in `records`. */
  private checkAt(): { question: CheckQuestion; at: number } {
    const user = this.pick.pick(this.users);
    const at = this.pick.chance(OWN_RECORD_SHARE) ? this.recordOwnedBy(user) : this.pick.int(this.records.length);
    const record = this.records[at] as RecordInput;
    return { question: { user, table: record.table, privilege: this.pick.pick(PRIVILEGES), record: record.id }, at };
  }

  /** `size` rows of one user-owned table, drawn with replacement (a table may have fewer rows). */
  filter(size: number): FilterQuestion {
    const table = this.ownedTable('filter');
    const rows = this.byTable.get(table) as RecordInput[];
    const ids = new Array<string>(size);
    const ownerIds = new Array<string>(size);
    const businessUnitIds = new Array<string>(size);
    const records = new Uint32Array(size);
    for (let i = 0; i < size; i++) {
      const index = this.pick.int(rows.length);
      const row = rows[index] as RecordInput;
      ids[i] = row.id;
      ownerIds[i] = row.ownerId as string;
      // §1: the owning BU defaults to the owner's.
      businessUnitIds[i] = row.owningBusinessUnitId ?? (this.buOfPrincipal.get(row.ownerId as string) as string);
      records[i] = index;
    }
    return {
      user: this.pick.pick(this.users),
      table,
      privilege: this.pick.pick(PRIVILEGES),
      ids,
      ownerIds,
      businessUnitIds,
      records,
    };
  }

  lookup(limit: number): LookupQuestion {
    return {
      user: this.pick.pick(this.users),
      table: this.ownedTable('lookup'),
      privilege: this.pick.pick(PRIVILEGES),
      limit,
    };
  }

  private ownedTable(kind: string): string {
    if (this.ownedTables.length === 0) throw new Error(`the world has no user-owned table with records to ${kind}`);
    return this.pick.pick(this.ownedTables);
  }

  /** The position in `records` of a record `user` owns (any record when they own none). */
  private recordOwnedBy(user: string): number {
    // Built on first use: one pass over the records, positions by owner.
    if (this.ownedBy === null) {
      const ownedBy = new Map<string, number[]>();
      this.records.forEach((record, i) => {
        if (record.ownerId === undefined) return;
        const list = ownedBy.get(record.ownerId);
        if (list === undefined) ownedBy.set(record.ownerId, [i]);
        else list.push(i);
      });
      this.ownedBy = ownedBy;
    }
    const owned = this.ownedBy.get(user);
    return owned === undefined ? this.pick.int(this.records.length) : this.pick.pick(owned);
  }
}
