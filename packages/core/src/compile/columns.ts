import { NONE, type PrincipalIdx, type UserIdx } from '../ids.js';
import { COLUMN_PERMISSION_BITS, type WorldModel } from '../model/world-model.js';
import { getOrCreate } from '../util/maps.js';
import type { ColumnPermission } from '../world/format.js';

export const ColumnBit = COLUMN_PERMISSION_BITS;
const ALL_PERMISSIONS = ColumnBit.read | ColumnBit.create | ColumnBit.update;

/** The permission names of a ColumnBit mask, in the order read, create, update. */
export function permissionNames(bits: number): ColumnPermission[] {
  return (['read', 'create', 'update'] as const).filter((name) => (bits & ColumnBit[name]) !== 0);
}

/** A field share as the column checks read it: the record's column, who holds it, and its bits. */
export interface FieldShareEntry {
  readonly column: number;
  readonly principal: number;
  /** ColumnBit.read and/or ColumnBit.update. */
  readonly bits: number;
}

/**
 * Semantics §6 compiled. Each table's secured columns are numbered in declaration order (bit c of
 * a mask is column c). Per user and secured column, one byte holds the permissions its field
 * security profiles give (through the user or any of its teams); field shares, which are per
 * record, sit in a per-table map from record to its entries. Record access is not part of this:
 * a column permission counts only together with the matching record privilege.
 */
export class ColumnSecurity {
  /** Per table: its secured columns. */
  readonly columns: (readonly string[])[];
  private readonly columnIndex: Map<string, number>[];
  /** Per table: the first global column number; a user's bytes are at user * total + start + c. */
  private readonly start: Int32Array;
  private readonly total: number;
  private profileBits: Uint8Array;
  /** Per table: record → its field shares. */
  private fieldShares: Map<number, FieldShareEntry[]>[];
  private readonly model: WorldModel;

  constructor(model: WorldModel) {
    this.model = model;
    this.columns = model.tables.map((table) => table.securedColumns);
    this.columnIndex = this.columns.map((names) => new Map(names.map((name, c) => [name, c])));
    this.start = new Int32Array(model.tables.length);
    let total = 0;
    this.columns.forEach((names, t) => {
      this.start[t] = total;
      total += names.length;
    });
    this.total = total;
    this.profileBits = new Uint8Array(total === 0 ? 0 : model.principals.length * total);
    this.fieldShares = [];
    if (total === 0) return;
    for (let principal = 0; principal < model.principals.length; principal++) {
      if (model.isUser(principal)) this.refreshUser(principal);
    }
    this.refreshFieldShares();
  }

  /** The column's number in its table, or NONE when the table does not secure it. */
  column(table: number, name: string): number {
    return this.columnIndex[table]?.get(name) ?? NONE;
  }

  /** Re-derives a user's profile permissions: after its teams or BU (default team) change. */
  refreshUser(user: UserIdx): void {
    if (this.total === 0) return;
    const base = user * this.total;
    if (base + this.total > this.profileBits.length) {
      // A user created since: room for every principal (amortized doubling).
      const grown = new Uint8Array(Math.max(base + this.total, this.profileBits.length * 2));
      grown.set(this.profileBits);
      this.profileBits = grown;
    }
    this.profileBits.fill(0, base, base + this.total);
    const principals = new Set<number>([user, ...this.model.teamsOf(user)]);
    for (const profile of this.model.fieldSecurityProfiles) {
      if (![...profile.members].some((member) => principals.has(member))) continue;
      for (const [table, columns] of profile.permissions) {
        for (const [name, bits] of columns) {
          const at = base + (this.start[table] as number) + this.column(table, name);
          this.profileBits[at] = (this.profileBits[at] as number) | bits;
        }
      }
    }
  }

  /** Re-reads every field share from the model: after records with field shares were deleted or restored. */
  refreshFieldShares(): void {
    const byTable: Map<number, FieldShareEntry[]>[] = this.columns.map(() => new Map());
    for (const share of this.model.fieldShares) {
      let bits = 0;
      for (const right of share.rights) bits |= ColumnBit[right];
      const entries = getOrCreate(byTable[share.table] as Map<number, FieldShareEntry[]>, share.record, () => []);
      entries.push({ column: this.column(share.table, share.column), principal: share.principal, bits });
    }
    this.fieldShares = byTable;
  }

  /**
   * The column permissions (ColumnBit) the user holds on secured column `column` of the record,
   * before record access: all for a system administrator, else its profiles' and (for a stored
   * record, read and update only) the field shares to the user or one of its teams.
   */
  permissions(user: UserIdx, administrator: boolean, table: number, column: number, record: number): number {
    if (administrator) return ALL_PERMISSIONS;
    let bits = this.profileBits[user * this.total + (this.start[table] as number) + column] as number;
    const shares = record === NONE ? undefined : this.fieldShares[table]?.get(record);
    if (shares !== undefined) {
      const principals = this.principalsOf(user);
      for (const share of shares) {
        if (share.column === column && principals.has(share.principal)) bits |= share.bits;
      }
    }
    return bits;
  }

  /** The field shares of a record (for explanations). */
  sharesOf(table: number, record: number): readonly FieldShareEntry[] {
    return this.fieldShares[table]?.get(record) ?? [];
  }

  /**
   * Per record, the secured columns the user may not read, as `words` 32-bit words per record
   * (bit c of word c >> 5): `recordReadable[i]` says whether the user may read record i at all
   * (when not, every secured column is hidden).
   */
  hiddenColumns(
    user: UserIdx,
    administrator: boolean,
    table: number,
    records: ArrayLike<number>,
    recordReadable: (i: number) => boolean,
  ): { words: number; masks: Uint32Array } {
    const count = this.columns[table]?.length ?? 0;
    const words = (count + 31) >>> 5;
    const masks = new Uint32Array(records.length * words);
    if (count === 0) return { words, masks };
    // What the profiles hide for every record; field shares only ever reveal more, record by record.
    const hidden = new Uint32Array(words);
    const all = new Uint32Array(words);
    for (let c = 0; c < count; c++) {
      all[c >>> 5] = (all[c >>> 5] as number) | (1 << (c & 31));
      if (!administrator && (this.permissions(user, false, table, c, NONE) & ColumnBit.read) === 0) {
        hidden[c >>> 5] = (hidden[c >>> 5] as number) | (1 << (c & 31));
      }
    }
    const shared = this.fieldShares[table];
    const principals = shared === undefined || shared.size === 0 ? null : this.principalsOf(user);
    for (let i = 0; i < records.length; i++) {
      const at = i * words;
      if (!recordReadable(i)) {
        masks.set(all, at);
        continue;
      }
      masks.set(hidden, at);
      const entries = principals === null ? undefined : shared?.get(records[i] as number);
      if (entries === undefined) continue;
      for (const share of entries) {
        if ((share.bits & ColumnBit.read) !== 0 && principals?.has(share.principal) === true) {
          const word = at + (share.column >>> 5);
          masks[word] = (masks[word] as number) & ~(1 << (share.column & 31));
        }
      }
    }
    return { words, masks };
  }

  private principalsOf(user: UserIdx): Set<PrincipalIdx | number> {
    return new Set<number>([user, ...this.model.teamsOf(user)]);
  }
}
