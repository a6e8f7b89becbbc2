import type {
  AccessHolder,
  CheckItem,
  ColumnAccess,
  EngineStats,
  FilterOptions,
  FilterRows,
  HiddenColumns,
  PrivilegeRef,
  RecordRef,
  TableRef,
  UserRef,
} from './api.js';
import { type CheckColumns, checkColumns, checkColumnsLength } from './bulk/batch.js';
import { BatchCode, codeOfDecision } from './bulk/codes.js';
import { toBitmask } from './bulk/filter.js';
import { type FilterJob, type FilterJobOptions, filterJob, filterRange, type RowIds } from './bulk/filter-job.js';
import { buildFilterSpec, type FilterSpec } from './bulk/filter-spec.js';
import { type BatchColumns, itemsToColumns } from './bulk/items.js';
import { Lookup, lookupBitmap } from './bulk/lookup.js';
import { planFilter } from './bulk/plan.js';
import { whoCanAccess } from './bulk/who-can-access.js';
import { CompiledWorld } from './compile/compile.js';
import { collectGrants, profileInputs, type RoleSources } from './compile/grants.js';
import {
  ErrorCodes,
  invalidArgument,
  invalidOwner,
  PalisadeError,
  unknownBusinessUnit,
  unknownPrincipal,
  unknownPrivilege,
  unknownRecord,
  unknownTable,
  unknownUser,
  updateFailed,
} from './errors.js';
import { type AllowReason, type Decision, Decisions, errorDecision, missingPrivilege } from './evaluate/decision.js';
import { Evaluator } from './evaluate/evaluator.js';
import { type EvaluatorState, evaluatorState } from './evaluate/state.js';
import { type ColumnExplanation, explainColumn } from './explain/columns.js';
import { type Explanation, explainDecision } from './explain/explain.js';
import { describeUserPrivileges, type UserPrivileges } from './explain/privileges.js';
import { type BuIdx, NONE, type PrincipalIdx, type RecordIdx, type TableIdx, type UserIdx } from './ids.js';
import type { IdTable } from './model/id-table.js';
import { ListIdTable } from './model/list-ids.js';
import { sharesOf } from './model/mutations.js';
import type { BusinessUnit, Principal, Table, WorldModel } from './model/world-model.js';
import {
  ACCESS_RIGHT_BY_PRIVILEGE,
  PRIVILEGE_COUNT,
  Privilege,
  privilegeFromName,
  privilegeName,
} from './privileges.js';
import { applyOps } from './update/apply.js';
import type { UpdateOp } from './update/ops.js';
import type { Transaction } from './update/transaction.js';
import { getOrCreate } from './util/maps.js';
import { worldFromModel } from './world/export.js';
import { ORGANIZATION, type WorldInput } from './world/format.js';
import { loadWorld } from './world/load.js';

/** The decision a batch code stands for (allowing codes only). */
const DECISION_OF_CODE: Readonly<Record<number, Decision>> = {
  [BatchCode.role]: Decisions.role,
  [BatchCode.share]: Decisions.share,
  [BatchCode.hierarchy]: Decisions.hierarchy,
  [BatchCode.systemAdministrator]: Decisions.systemAdministrator,
};

// The composite actions' privilege lists, in the order docs/decisions.md reports the first missing one.
const ASSIGN_NEEDS = [Privilege.assign, Privilege.write, Privilege.read] as const;
const SHARE_NEEDS = [Privilege.share, Privilege.read] as const;
const SHAREABLE: ReadonlySet<string> = new Set(['read', 'write', 'delete', 'append', 'appendTo', 'assign', 'share']);

/**
 * Palisade's engine: a compiled world that answers access questions. Ids may be given as strings
 * (resolved per call) or as dense indexes from the resolvers (`user()`, `table()`, `record()`),
 * which is what hot callers should hold on to.
 *
 * Decision-returning calls never throw: bad input is a deny with reason `error` and the error.
 * Data-returning calls throw a `PalisadeError`.
 */
export class Engine {
  readonly model: WorldModel;
  /** Replaced whole only when a failed update is rolled back (`recover`). */
  private compiled: CompiledWorld;
  /** Rebuilt after every update: it holds the compiled arrays, which updates may reallocate. */
  private evaluator: Evaluator;
  private currentRevision: number;
  /** Scratch for the row being checked: resolving writes here instead of allocating a tuple. */
  private rowOwner: number;
  private rowBu: number;
  private rowRecord: number;
  /**
   * Ids for bulk resolution (`IdTable.getAll`, cheaper than the model's Maps for a batch's cold
   * lookups): users for batches, every principal and every BU for rows given as owner and BU ids.
   */
  private readonly userIds: ListIdTable<Principal>;
  private readonly principalIds: ListIdTable<Principal>;
  private readonly buIds: ListIdTable<BusinessUnit>;
  /** Resolves a filter's owner and BU id columns through those tables. */
  private readonly rowIds: RowIds;
  /** Set when a failed update could not be rolled back: every later update is refused with it. */
  private failure: PalisadeError | null;
  /**
   * Allowed positions of the last `filter`, reused: a fresh array per call costs more than the loop
   * for long lists (40 MB for 10M rows: a page fault per 4 KiB written, and the collector runs on
   * the external memory). Holds as many positions as the longest list asked.
   */
  private positions: Uint32Array;

  constructor(model: WorldModel) {
    this.model = model;
    this.compiled = new CompiledWorld(model);
    this.evaluator = new Evaluator(evaluatorState(this.compiled));
    this.currentRevision = 0;
    this.rowOwner = NONE;
    this.rowBu = NONE;
    this.rowRecord = NONE;
    this.userIds = new ListIdTable((p) => model.isUser(p));
    this.principalIds = new ListIdTable();
    this.buIds = new ListIdTable();
    this.rowIds = {
      owners: (ids) => this.principalIds.of(model.principals).getAll(ids, new Int32Array(ids.length)),
      businessUnits: (ids) => this.buIds.of(model.businessUnits).getAll(ids, new Int32Array(ids.length)),
    };
    this.failure = null;
    this.positions = new Uint32Array(0);
  }

  /** Loads (validating every rule) and compiles a world given as JSON text, JSON or MessagePack bytes, or a parsed object. */
  static fromWorld(input: unknown): Engine {
    return new Engine(loadWorld(input));
  }

  // ---- changes ----

  /** Updates applied since load: +1 per successful `apply`. */
  get revision(): number {
    return this.currentRevision;
  }

  /**
   * Applies `ops` in order as one transaction and recompiles only what they touch: records and
   * shares change columns and indexes in place; membership, role and BU changes recompile the
   * profiles involved. On the first invalid operation nothing is applied and a
   * `PALISADE_UPDATE_INVALID` error names its index, field and rule. Calls run to completion, so a
   * check never sees half an update. Should compiling a valid update fail (a defect, or memory), the
   * call is rolled back and fails with `PALISADE_UPDATE_FAILED`.
   */
  apply(ops: readonly UpdateOp[]): { revision: number } {
    if (this.failure !== null) throw this.failure;
    try {
      const tx = applyOps(this.model, ops);
      try {
        this.catchUp(tx);
      } catch (error) {
        throw this.recover(tx, error);
      }
      this.currentRevision++;
      return { revision: this.currentRevision };
    } finally {
      // Even a rolled-back transaction may have moved columns to larger arrays: the evaluator
      // must read the arrays the model holds now.
      this.evaluator = new Evaluator(evaluatorState(this.compiled));
    }
  }

  /**
   * After `catchUp` failed part way: the compiled state is a mix of before and after, and cannot
   * be unwound step by step. The model's undo log can, so undo the model and compile it afresh.
   */
  private recover(tx: Transaction, error: unknown): PalisadeError {
    try {
      tx.rollback();
      this.compiled = new CompiledWorld(this.model);
      return updateFailed(true, error);
    } catch (recoveryError) {
      // Both failures matter to whoever reads the log: the update's, and why undoing it failed.
      this.failure = updateFailed(
        false,
        new AggregateError([error, recoveryError], 'the update and its rollback failed'),
      );
      return this.failure;
    }
  }

  /** Recompiles what a transaction touched, and only that. */
  private catchUp(tx: Transaction): void {
    const { compiled, model } = this;
    // First: the grants later steps intern must find the coverages already renumbered.
    if (tx.structureChanged) compiled.reindexBusinessUnits();
    if (tx.teams.size > 0 || tx.roles.size > 0) compiled.recompileProfiles(tx);
    const columnUsers = new Set(tx.users);
    for (const principal of tx.columnPrincipals) for (const user of model.usersOf(principal)) columnUsers.add(user);
    for (const user of tx.users) compiled.refreshUser(user);
    for (const user of columnUsers) compiled.columns.refreshUser(user);
    if (tx.fieldSharesChanged) compiled.columns.refreshFieldShares();
    if (tx.hierarchySettingsChanged) compiled.hierarchy.rebuild();
    else if (tx.hierarchyUsers.size > 0) compiled.hierarchy.refresh(tx);
  }

  /**
   * The world as it stands after every update, as a world file that loads to the same answers (in
   * normal form: settings in full, owning BUs written out). Deleted records are left out, so an
   * engine loaded from it numbers records afresh.
   */
  toWorld(): WorldInput {
    return worldFromModel(this.model);
  }

  // ---- resolvers: string ids to dense indexes, throwing on unknown ids ----

  user(id: string): UserIdx {
    const principal = this.model.principalIndex.get(id);
    if (principal === undefined || !this.model.isUser(principal)) throw unknownUser(id);
    return principal;
  }

  table(name: string): TableIdx {
    const table = this.model.tableIndex.get(name);
    if (table === undefined) throw unknownTable(name);
    return table;
  }

  record(table: TableRef, id: string): RecordIdx {
    const t = this.tableOrThrow(table);
    const record = (this.model.tables[t] as Table).records.index.get(id);
    if (record === undefined) throw unknownRecord(this.tableName(t), id);
    return record;
  }

  privilege(name: string): Privilege {
    const privilege = privilegeFromName(name);
    if (privilege === undefined) throw unknownPrivilege(name);
    return privilege;
  }

  principal(id: string): PrincipalIdx {
    const principal = id === ORGANIZATION ? undefined : this.model.principalIndex.get(id);
    if (principal === undefined) throw unknownPrincipal(id);
    return principal;
  }

  businessUnit(id: string): BuIdx {
    const bu = this.model.buIndex.get(id);
    if (bu === undefined) throw unknownBusinessUnit(id);
    return bu;
  }

  // ---- bulk resolvers: a batch's ids at once, -1 (no throw) where an id names nothing ----
  // A batch reports unknown ids per item, so a miss is data here, not an exception: a throw and
  // catch per id costs more than the lookup itself.

  /** Each id's user index, or -1 where the id names no user. */
  userIndexes(ids: readonly string[]): Int32Array {
    return this.userIdTable().getAll(ids, new Int32Array(ids.length));
  }

  /** The users' ids as an `IdTable`, brought up to date first (see `ListIdTable`). */
  private userIdTable(): IdTable {
    return this.userIds.of(this.model.principals);
  }

  /** Each name's table index, or -1 where the name is no table. */
  tableIndexes(names: readonly string[]): Int32Array {
    const out = new Int32Array(names.length);
    for (let i = 0; i < names.length; i++) out[i] = this.model.tableIndex.get(names[i] as string) ?? NONE;
    return out;
  }

  /** Record `i` is `ids[i]` in table `tables[i]`: its record index, or -1 (also where the table is -1). */
  recordIndexes(tables: Int32Array, ids: readonly string[]): Int32Array {
    const out = new Int32Array(ids.length).fill(NONE);
    // A table's ids at a time, through `getAll`, which overlaps their cache misses.
    const byTable = new Map<number, number[]>();
    for (let i = 0; i < ids.length; i++) {
      const t = tables[i] as number;
      if (this.model.tables[t] === undefined) continue;
      const at = byTable.get(t);
      if (at === undefined) byTable.set(t, [i]);
      else at.push(i);
    }
    for (const [t, at] of byTable) {
      const rows = (this.model.tables[t] as Table).records.index.getAll(
        at.map((i) => ids[i] as string),
        new Int32Array(at.length),
      );
      for (let k = 0; k < at.length; k++) out[at[k] as number] = rows[k] as number;
    }
    return out;
  }

  // ---- decisions ----

  /** May `user` exercise `privilege` on `record`? semantics.md §3. */
  check(user: UserRef, table: TableRef, privilege: PrivilegeRef, record: RecordRef): Decision {
    const u = this.userOf(user);
    const t = this.tableOf(table);
    const p = this.privilegeOf(privilege);
    if (u === NONE || t === NONE || p === NONE) return errorDecision(this.refError(user, table, privilege));
    const error = this.loadRow(t, record);
    if (error !== null) return errorDecision(error);
    return this.evaluator.decide(u, t, p, this.rowOwner, this.rowBu, this.rowRecord);
  }

  /** The RetrievePrincipalAccess mask (Dataverse bit values) of `user` on `record`. Throws on bad input. */
  accessRights(user: UserRef, table: TableRef, record: RecordRef): number {
    const u = this.userOf(user);
    const t = this.tableOf(table);
    if (u === NONE || t === NONE) throw this.refError(user, table, Privilege.read);
    const error = this.loadRow(t, record);
    if (error !== null) throw error;
    return this.evaluator.accessRights(u, t, this.rowOwner, this.rowBu, this.rowRecord);
  }

  /**
   * §6: may the user read, create and update `column` of the record? A column the table does not
   * secure follows record access (read, the create bit, write); a secured one also needs a field
   * security profile or field share that allows it (or a system administrator). Throws on bad input.
   */
  columnAccess(user: UserRef, table: TableRef, record: RecordRef, column: string): ColumnAccess {
    const { read, create, update } = this.explainColumn(user, table, record, column);
    return { read, create, update };
  }

  /** `columnAccess` with the profiles and field shares behind it. Throws on bad input. */
  explainColumn(user: UserRef, table: TableRef, record: RecordRef, column: string): ColumnExplanation {
    const u = this.userOf(user);
    const t = this.tableOf(table);
    if (u === NONE || t === NONE) throw this.refError(user, table, Privilege.read);
    const error = this.loadRow(t, record);
    if (error !== null) throw error;
    const mask = this.evaluator.accessRights(u, t, this.rowOwner, this.rowBu, this.rowRecord);
    const has = (p: Privilege) => (mask & (ACCESS_RIGHT_BY_PRIVILEGE[p] as number)) !== 0;
    return explainColumn(this.model, this.compiled.columns, {
      user: u as UserIdx,
      administrator: this.evaluator.isSystemAdministrator(u),
      table: t,
      record: this.rowRecord,
      recordId: this.rowRecord === NONE ? null : ((this.model.tables[t] as Table).records.ids[this.rowRecord] ?? null),
      column,
      recordAccess: { read: has(Privilege.read), create: has(Privilege.create), update: has(Privilege.write) },
    });
  }

  /**
   * §6 for lists: per record, the secured columns of `table` the user may not read (null them out
   * before showing the row), as `words` 32-bit words per record, bit c for `columns[c]`. A record
   * the user may not read, or one the engine does not know, hides every secured column.
   * Throws on an unknown user or table.
   */
  hiddenColumns(user: UserRef, table: TableRef, records: Int32Array | Uint32Array | readonly string[]): HiddenColumns {
    const u = this.userOf(user);
    const t = this.tableOf(table);
    if (u === NONE || t === NONE) throw this.refError(user, table, Privilege.read);
    const store = (this.model.tables[t] as Table).records;
    const indexes = Array.isArray(records)
      ? store.index.getAll(records as readonly string[], new Int32Array(records.length))
      : (records as Int32Array | Uint32Array);
    // Which records the user may read, by the bulk filter rather than a check per record.
    const job = filterJob(
      this.evaluator,
      this.model,
      planFilter(this.evaluator, u, t, Privilege.read),
      t,
      Privilege.read,
      { records: indexes },
      this.rowIds,
      false,
    );
    const positions = this.positionScratch(indexes.length);
    const count = filterRange(this.evaluator, job, 0, indexes.length, positions);
    const readableRows = new Uint8Array(indexes.length);
    for (let k = 0; k < count; k++) {
      const i = positions[k] as number;
      readableRows[i] = store.has(indexes[i] as number) ? 1 : 0;
    }
    const readable = (i: number): boolean => readableRows[i] === 1;
    const { words, masks } = this.compiled.columns.hiddenColumns(
      u as UserIdx,
      this.evaluator.isSystemAdministrator(u),
      t,
      indexes,
      readable,
    );
    return { columns: this.compiled.columns.columns[t] ?? [], words, masks };
  }

  /**
   * May `user` create a record owned by `ownerId` (default: the user) in `businessUnitId`
   * (default: the owner's BU)? Create and read by the role path only (§4).
   */
  canCreate(user: UserRef, table: TableRef, ownerId?: string | null, businessUnitId?: string | null): Decision {
    const u = this.userOf(user);
    const t = this.tableOf(table);
    if (u === NONE || t === NONE) return errorDecision(this.refError(user, table, Privilege.create));
    let owner: number = NONE;
    let bu: number = NONE;
    if (!(this.model.tables[t] as Table).organizationOwned) {
      owner = ownerId == null ? u : this.ownerOf(ownerId);
      if (owner < 0) return errorDecision(this.ownerError(ownerId as string, owner));
      bu = businessUnitId == null ? (this.model.principals[owner]?.bu ?? NONE) : this.buOf(businessUnitId);
      if (bu === NONE) return errorDecision(unknownBusinessUnit(businessUnitId as string));
    }
    if (this.evaluator.isDisabled(u)) return Decisions.disabled;
    if (this.evaluator.isSystemAdministrator(u)) return Decisions.systemAdministrator;
    for (const p of [Privilege.create, Privilege.read] as const) {
      if (!this.evaluator.roleCovers(u, t, p, owner, bu)) return missingPrivilege(privilegeName(p));
    }
    return Decisions.role;
  }

  /** May `user` assign `record` (to `newOwnerId`, when given)? §4. */
  canAssign(user: UserRef, table: TableRef, record: RecordRef, newOwnerId?: string): Decision {
    const u = this.userOf(user);
    const t = this.tableOf(table);
    if (u === NONE || t === NONE) return errorDecision(this.refError(user, table, Privilege.assign));
    const error = this.loadRow(t, record);
    if (error !== null) return errorDecision(error);
    let recipient: number = NONE;
    if (newOwnerId !== undefined) {
      recipient = this.ownerOf(newOwnerId);
      if (recipient < 0) return errorDecision(this.ownerError(newOwnerId, recipient));
    }
    if (this.evaluator.isDisabled(u)) return Decisions.disabled;
    if ((this.model.tables[t] as Table).organizationOwned) return Decisions.organizationOwned;
    if (recipient !== NONE && this.evaluator.isDisabled(recipient)) return Decisions.recipientDisabled;
    return this.requireAll(u, t, ASSIGN_NEEDS);
  }

  /** May `user` share `record` granting `rights`? Share and read, and every right granted (§4, §7.2). */
  canShare(user: UserRef, table: TableRef, record: RecordRef, rights: readonly string[]): Decision {
    const u = this.userOf(user);
    const t = this.tableOf(table);
    if (u === NONE || t === NONE) return errorDecision(this.refError(user, table, Privilege.share));
    const error = this.loadRow(t, record);
    if (error !== null) return errorDecision(error);
    let requested = 0;
    for (const right of rights) {
      if (!SHAREABLE.has(right)) {
        return errorDecision(
          new PalisadeError(
            ErrorCodes.INVALID_SHARE_RIGHT,
            `\`${right}\` cannot be shared (only ${[...SHAREABLE].join(', ')})`,
          ),
        );
      }
      requested |= 1 << (privilegeFromName(right) as Privilege);
    }
    if (this.evaluator.isDisabled(u)) return Decisions.disabled;
    if ((this.model.tables[t] as Table).organizationOwned) return Decisions.organizationOwned;
    const first = this.requireAll(u, t, SHARE_NEEDS);
    if (!first.allowed) return first;
    for (let p = 0; p < PRIVILEGE_COUNT; p++) {
      if ((requested & (1 << p)) !== 0 && this.decideLoaded(u, t, p).allowed === false) {
        return missingPrivilege(privilegeName(p as Privilege));
      }
    }
    return first;
  }

  /** May `user` associate `child` to `parent`? Append on the child and appendTo on the parent (§4). */
  canAssociate(
    user: UserRef,
    childTable: TableRef,
    child: RecordRef,
    parentTable: TableRef,
    parent: RecordRef,
  ): Decision {
    const u = this.userOf(user);
    const ct = this.tableOf(childTable);
    const pt = this.tableOf(parentTable);
    if (u === NONE || ct === NONE) return errorDecision(this.refError(user, childTable, Privilege.append));
    if (pt === NONE) return errorDecision(this.refError(user, parentTable, Privilege.appendTo));
    const childError = this.loadRow(ct, child);
    if (childError !== null) return errorDecision(childError);
    const childDecision = this.decideLoaded(u, ct, Privilege.append);
    const parentError = this.loadRow(pt, parent);
    if (parentError !== null) return errorDecision(parentError);
    const parentDecision = this.decideLoaded(u, pt, Privilege.appendTo);
    if (childDecision.reason === 'disabled') return childDecision;
    if (!childDecision.allowed) return missingPrivilege('append');
    if (!parentDecision.allowed) return missingPrivilege('appendTo');
    return childDecision;
  }

  // ---- many questions at once ----

  /**
   * Answers many questions in one call, one `BatchCode` byte per item in input order. Items are
   * columns of dense indexes (fastest) or objects with string ids. A bad item gets its own error
   * code in its slot; the batch never fails as a whole.
   */
  checkBatch(items: CheckColumns | readonly CheckItem[], out?: Uint8Array): Uint8Array {
    if (Array.isArray(items)) {
      const list = items as readonly CheckItem[];
      const { columns, inline } = itemsToColumns(this.model, this.userIdTable(), list);
      const result = this.checkBatch(columns, out);
      for (const i of inline) {
        const item = list[i] as CheckItem;
        result[i] = codeOfDecision(this.check(item.user, item.table, item.privilege as PrivilegeRef, item.record));
      }
      return result;
    }
    const columns = items as CheckColumns;
    const length = checkColumnsLength(columns);
    if (length === NONE) throw invalidArgument('batch columns must all have the same length');
    const result = out ?? new Uint8Array(length);
    if (result.length < length) throw invalidArgument(`output holds ${result.length} answers, the batch has ${length}`);
    checkColumns(this.evaluator, columns, length === result.length ? result : result.subarray(0, length));
    return result;
  }

  /**
   * A batch of questions with string ids as dense columns in shared memory (for a worker pool to
   * answer ranges of with `checkColumns`), and the positions of items whose record is inline,
   * which `checkColumns` cannot answer: ask those with `check`.
   */
  batchColumns(items: readonly CheckItem[]): BatchColumns {
    return itemsToColumns(this.model, this.userIdTable(), items);
  }

  /**
   * The rows of a list the user may exercise `privilege` on: allowed row positions (ascending), or
   * with `output: 'bitmask'` one bit per row. Rows come as columns of dense indexes (owner, owning
   * BU, and record indexes for shares), as record indexes, or as the world's ids (converted once;
   * an id the engine does not know matches nothing). Throws on an unknown user, table or privilege.
   */
  filter(
    user: UserRef,
    table: TableRef,
    privilege: PrivilegeRef,
    rows: FilterRows,
    options: FilterOptions = {},
  ): Uint32Array {
    const job = this.filterJob(user, table, privilege, rows);
    const bitmask = options.output === 'bitmask';
    if (job.kind === 'none') return new Uint32Array(bitmask ? (job.length + 31) >>> 5 : 0);
    const out = this.positionScratch(job.length);
    const count = filterRange(this.evaluator, job, 0, job.length, out);
    return bitmask ? toBitmask(out, count, job.length) : out.slice(0, count);
  }

  private positionScratch(length: number): Uint32Array {
    if (this.positions.length < length) this.positions = new Uint32Array(length);
    return this.positions;
  }

  /**
   * A `filter` call resolved into plain data for `filterRange` (`@palisade/core/internal`); with
   * `shared`, every array lives in shared memory, for a worker pool that filters ranges of it.
   * `records` chooses how rows given as record indexes are decided (`auto`, as `filter` does, by
   * an estimate of the cost; tests force each way). Throws on bad input, as `filter` does.
   */
  filterJob(
    user: UserRef,
    table: TableRef,
    privilege: PrivilegeRef,
    rows: FilterRows,
    options: FilterJobOptions = {},
  ): FilterJob {
    const [u, t, p] = this.question(user, table, privilege);
    const plan = planFilter(this.evaluator, u, t, p);
    return filterJob(
      this.evaluator,
      this.model,
      plan,
      t,
      p,
      rows,
      this.rowIds,
      options.shared ?? false,
      options.records ?? 'auto',
    );
  }

  /** Every record of `table` the user may exercise `privilege` on, by bitmap algebra. Throws on bad input. */
  lookup(user: UserRef, table: TableRef, privilege: PrivilegeRef): Lookup {
    const [u, t, p] = this.question(user, table, privilege);
    const tableData = this.model.tables[t] as Table;
    return new Lookup(
      tableData,
      lookupBitmap(this.evaluator, this.compiled.tables, planFilter(this.evaluator, u, t, p), tableData, p),
    );
  }

  /** The decision as data for a database query; render it with `toSqlWhere`. Throws on bad input. */
  filterSpec(user: UserRef, table: TableRef, privilege: PrivilegeRef): FilterSpec {
    const [u, t, p] = this.question(user, table, privilege);
    const plan = planFilter(this.evaluator, u, t, p);
    return buildFilterSpec(this.evaluator, this.compiled.tables, this.model, plan, this.model.tables[t] as Table, p);
  }

  /** Every enabled user who may exercise `privilege` on the record, each with the paths that grant. Throws on bad input. */
  whoCanAccess(table: TableRef, record: RecordRef, privilege: PrivilegeRef): AccessHolder[] {
    const t = this.tableOf(table);
    const p = this.privilegeOf(privilege);
    if (t === NONE) throw unknownTable(String(table));
    if (p === NONE) throw unknownPrivilege(String(privilege));
    const error = this.loadRow(t, record);
    if (error !== null) throw error;
    const tableData = this.model.tables[t] as Table;
    const row = { owner: this.rowOwner, bu: this.rowBu, record: this.rowRecord };
    const shares = row.record === NONE ? [] : sharesOf(tableData, row.record as RecordIdx);
    const answers = whoCanAccess(this.evaluator, this.compiled.profiles.length, {
      table: t,
      privilege: p,
      ...row,
      shares,
    });
    const sourcesByProfile = new Map<number, RoleSources>();
    return answers.map(([user, code]) => {
      const profile = this.evaluator.userProfile[user] as number;
      const sources = getOrCreate(sourcesByProfile, profile, () =>
        collectGrants(this.model, profileInputs(this.model, user as UserIdx)),
      );
      const decision = DECISION_OF_CODE[code] as Decision;
      const subordinates =
        this.evaluator.hierarchyApplies[t] === 1 ? this.compiled.hierarchy.subordinates(user as UserIdx) : [];
      const q = { user: user as UserIdx, subordinates, table: t, privilege: p as Privilege, ...row };
      const { paths } = explainDecision(this.model, decision, q, sources);
      return { user: this.model.principals[user]?.id as string, reason: decision.reason as AllowReason, paths };
    });
  }

  // ---- explanations ----

  /** Every path that grants, or for a deny what is missing. Throws on bad input. */
  explain(user: UserRef, table: TableRef, privilege: PrivilegeRef, record: RecordRef): Explanation {
    const u = this.userOf(user);
    const t = this.tableOf(table);
    const p = this.privilegeOf(privilege);
    if (u === NONE || t === NONE || p === NONE) throw this.refError(user, table, privilege);
    const error = this.loadRow(t, record);
    if (error !== null) throw error;
    const decision = this.evaluator.decide(u, t, p, this.rowOwner, this.rowBu, this.rowRecord);
    return explainDecision(this.model, decision, {
      user: u as UserIdx,
      subordinates: this.compiled.hierarchy.subordinates(u as UserIdx),
      table: t,
      privilege: p as Privilege,
      owner: this.rowOwner,
      bu: this.rowBu,
      record: this.rowRecord,
    });
  }

  /** Each (table, privilege) the user holds, with its grants. Throws on an unknown user. */
  userPrivileges(user: UserRef): UserPrivileges {
    const u = this.userOf(user);
    if (u === NONE) throw unknownUser(String(user));
    return describeUserPrivileges(this.model, u as UserIdx);
  }

  /**
   * The compiled state as shared-memory typed arrays, for worker threads (`@palisade/core/internal`).
   * A snapshot of array references: after `apply` take a new one, since arrays may have grown.
   */
  sharedState(): EvaluatorState {
    return evaluatorState(this.compiled);
  }

  stats(): EngineStats {
    const { model, compiled } = this;
    let users = 0;
    for (let p = 0; p < model.principals.length; p++) if (model.isUser(p)) users++;
    let records = 0;
    let shares = 0;
    for (const table of model.tables) {
      records += table.records.liveCount();
      shares += table.shares.count;
    }
    return {
      businessUnits: model.businessUnits.length,
      users,
      teams: model.principals.length - 1 - users,
      tables: model.tables.length,
      roles: model.roles.length,
      records,
      shares,
      profiles: compiled.profiles.length,
      compiledGrants: compiled.tables.grantCount,
      businessUnitSets: compiled.tables.coverageCount,
    };
  }

  // ---- internals ----

  /** Resolves (user, table, privilege) or throws the error for whichever does not resolve. */
  private question(user: UserRef, table: TableRef, privilege: PrivilegeRef): [number, number, number] {
    const u = this.userOf(user);
    const t = this.tableOf(table);
    const p = this.privilegeOf(privilege);
    if (u === NONE || t === NONE || p === NONE) throw this.refError(user, table, privilege);
    return [u, t, p];
  }

  /** Any accepted form of rows, as dense columns (owners null: `records` are record indexes to gather from). */
  /** The decision for the row last loaded. */
  private decideLoaded(u: number, t: number, p: number): Decision {
    return this.evaluator.decide(u, t, p, this.rowOwner, this.rowBu, this.rowRecord);
  }

  /** Allowed iff every privilege in `needs` is; the reason is the first privilege's (docs/decisions.md). */
  private requireAll(u: number, t: number, needs: readonly Privilege[]): Decision {
    let first: Decision | null = null;
    for (const p of needs) {
      const decision = this.decideLoaded(u, t, p);
      if (!decision.allowed) return decision.reason === 'disabled' ? decision : missingPrivilege(privilegeName(p));
      first ??= decision;
    }
    return first ?? Decisions.role;
  }

  private userOf(ref: UserRef): number {
    if (typeof ref === 'number') return this.evaluator.isUser(ref) ? ref : NONE;
    const principal = this.model.principalIndex.get(ref);
    return principal !== undefined && this.evaluator.isUser(principal) ? principal : NONE;
  }

  private tableOf(ref: TableRef): number {
    if (typeof ref === 'number') return ref >= 0 && ref < this.model.tables.length ? ref : NONE;
    return this.model.tableIndex.get(ref) ?? NONE;
  }

  private tableOrThrow(ref: TableRef): TableIdx {
    const t = this.tableOf(ref);
    if (t === NONE) throw unknownTable(String(ref));
    return t as TableIdx;
  }

  private privilegeOf(ref: PrivilegeRef): number {
    if (typeof ref === 'number') return ref >= 0 && ref < PRIVILEGE_COUNT && Number.isInteger(ref) ? ref : NONE;
    return privilegeFromName(ref) ?? NONE;
  }

  private buOf(id: string): number {
    return this.model.buIndex.get(id) ?? NONE;
  }

  /** A principal that may own records, or NONE (unknown) / -2 (cannot own: an access team or `organization`). */
  private ownerOf(id: string): number {
    if (id === ORGANIZATION) return -2;
    const principal = this.model.principalIndex.get(id);
    if (principal === undefined) return NONE;
    return this.model.canOwnRecords(principal) ? principal : -2;
  }

  private ownerError(id: string, code: number): PalisadeError {
    return code === NONE
      ? unknownPrincipal(id)
      : new PalisadeError(
          ErrorCodes.INVALID_OWNER,
          `\`${id}\` cannot own records (an access team or the organization)`,
        );
  }

  /** Resolves a record reference of table `t` into the row scratch fields; returns an error instead of throwing. */
  private loadRow(t: number, ref: RecordRef): PalisadeError | null {
    const table = this.model.tables[t] as Table;
    const records = table.records;
    if (typeof ref === 'number' || typeof ref === 'string') {
      const row = typeof ref === 'number' ? ref : (records.index.get(ref) ?? NONE);
      if (!records.has(row)) return unknownRecord(table.name, String(ref));
      this.rowOwner = records.ownerOf(row);
      this.rowBu = records.buOf(row);
      this.rowRecord = row;
      return null;
    }
    this.rowRecord = ref.id === undefined ? NONE : (records.index.get(ref.id) ?? NONE);
    if (table.organizationOwned) {
      this.rowOwner = NONE;
      this.rowBu = NONE;
      return null;
    }
    if (ref.ownerId === undefined) {
      return invalidOwner(`a row of table \`${table.name}\` needs an ownerId`);
    }
    const owner = this.ownerOf(ref.ownerId);
    if (owner < 0) return this.ownerError(ref.ownerId, owner);
    const bu =
      ref.owningBusinessUnitId === undefined
        ? (this.model.principals[owner]?.bu ?? NONE)
        : this.buOf(ref.owningBusinessUnitId);
    if (bu === NONE) return unknownBusinessUnit(ref.owningBusinessUnitId ?? '');
    this.rowOwner = owner;
    this.rowBu = bu;
    return null;
  }

  /** The error for whichever of user, table or privilege did not resolve. */
  private refError(user: UserRef, table: TableRef, privilege: PrivilegeRef): PalisadeError {
    if (this.userOf(user) === NONE) return unknownUser(String(user));
    if (this.tableOf(table) === NONE) return unknownTable(String(table));
    return unknownPrivilege(String(privilege));
  }

  private tableName(t: number): string {
    return (this.model.tables[t] as Table).name;
  }
}
