import {
  type BuIdx,
  ORGANIZATION_PRINCIPAL,
  type PrincipalIdx,
  type RecordIdx,
  type RoleIdx,
  type TableIdx,
  type UserIdx,
} from '../ids.js';
import type { PrincipalKind, Table, WorldModel } from '../model/world-model.js';
import { type Privilege, privilegeBit, privilegeFromName } from '../privileges.js';
import { ORGANIZATION } from '../world/format.js';
import type { Transaction } from './transaction.js';

const SHARE_RIGHTS: ReadonlySet<string> = new Set(['read', 'write', 'delete', 'append', 'appendTo', 'assign', 'share']);

/** Reads one operation's fields against the current model, failing the transaction with the field and rule. */
export class OpReader {
  readonly model: WorldModel;
  readonly tx: Transaction;
  private readonly op: Record<string, unknown>;

  constructor(model: WorldModel, tx: Transaction, op: Record<string, unknown>) {
    this.model = model;
    this.tx = tx;
    this.op = op;
  }

  /** A field as given, unchecked. */
  raw(field: string): unknown {
    return this.op[field];
  }

  /** A field as given, or `fallback` when it is absent (`null` is a value: only nullable fields take it). */
  rawOr(field: string, fallback: unknown): unknown {
    const value = this.op[field];
    return value === undefined ? fallback : value;
  }

  /** A required id field: a non-empty string. */
  id(field: string): string {
    const value = this.op[field];
    if (typeof value !== 'string') this.tx.fail(field, 'shape', `expected an id string, got ${typeof value}`);
    if (value.length === 0) this.tx.fail(field, 'id-format', 'ids must be non-empty strings');
    return value;
  }

  optionalId(field: string): string | undefined {
    return this.op[field] === undefined ? undefined : this.id(field);
  }

  boolean(field: string, fallback?: boolean): boolean {
    const value = this.rawOr(field, fallback);
    if (typeof value !== 'boolean') this.tx.fail(field, 'shape', `expected true or false, got ${typeof value}`);
    return value;
  }

  table(field = 'table'): [TableIdx, Table] {
    const name = this.id(field);
    const index = this.model.tableIndex.get(name);
    if (index === undefined) this.tx.fail(field, 'reference-resolves', `unknown table \`${name}\``);
    return [index, this.model.tables[index] as Table];
  }

  record(table: Table, field: string): RecordIdx {
    const id = this.id(field);
    const row = table.records.index.get(id);
    if (row === undefined)
      this.tx.fail(field, 'reference-resolves', `unknown record \`${id}\` in table \`${table.name}\``);
    return row;
  }

  /** A user or team (listed or named default team). */
  principal(field: string): PrincipalIdx {
    const id = this.id(field);
    const principal = id === ORGANIZATION ? undefined : this.model.principalIndex.get(id);
    if (principal === undefined) this.tx.fail(field, 'reference-resolves', `unknown user or team \`${id}\``);
    return principal;
  }

  /** A share recipient: a user, any team, or `organization`. */
  recipient(field: string): PrincipalIdx {
    return this.op[field] === ORGANIZATION ? ORGANIZATION_PRINCIPAL : this.principal(field);
  }

  user(field: string): UserIdx {
    const principal = this.principal(field);
    if (!this.model.isUser(principal)) this.tx.fail(field, 'reference-resolves', `\`${this.op[field]}\` is not a user`);
    return principal;
  }

  team(field: string): PrincipalIdx {
    const principal = this.principal(field);
    if (this.model.isUser(principal)) this.tx.fail(field, 'reference-resolves', `\`${this.op[field]}\` is not a team`);
    return principal;
  }

  /** A principal that can own records: not an access team. */
  owner(field: string): PrincipalIdx {
    const principal = this.principal(field);
    if (!this.model.canOwnRecords(principal)) {
      this.tx.fail(field, 'access-team-no-records', `access team \`${this.op[field]}\` cannot own records`);
    }
    return principal;
  }

  role(field = 'roleId'): RoleIdx {
    const id = this.id(field);
    const role = this.model.roleIndex.get(id);
    if (role === undefined) this.tx.fail(field, 'reference-resolves', `unknown role \`${id}\``);
    return role;
  }

  businessUnit(field: string): BuIdx {
    const id = this.id(field);
    const bu = this.model.buIndex.get(id);
    if (bu === undefined) this.tx.fail(field, 'reference-resolves', `unknown business unit \`${id}\``);
    return bu;
  }

  /** Share rights as a bitmask of `1 << Privilege`. */
  shareRights(field = 'rights'): number {
    const value = this.op[field];
    if (!Array.isArray(value)) this.tx.fail(field, 'shape', 'expected an array of rights');
    let mask = 0;
    for (const right of value) {
      if (typeof right !== 'string') this.tx.fail(field, 'shape', 'rights are strings');
      if (!SHARE_RIGHTS.has(right)) this.tx.fail(field, 'share-rights', `\`${right}\` cannot be shared`);
      mask |= privilegeBit(privilegeFromName(right) as Privilege);
    }
    return mask;
  }

  /** A shareable record: records of organization-owned tables cannot be shared or assigned. */
  userOwnedTable(table: Table, field = 'table'): void {
    if (table.organizationOwned) {
      this.tx.fail(field, 'org-record-unowned', `records of organization-owned table \`${table.name}\` have no owner`);
    }
  }

  isKind(principal: PrincipalIdx, kind: PrincipalKind): boolean {
    return this.model.principals[principal]?.kind === kind;
  }
}
