import type { RowColumns } from './bulk/filter.js';
import type { AllowReason } from './evaluate/decision.js';
import type { ExplainPath } from './explain/explain.js';
import type { RecordIdx, TableIdx, UserIdx } from './ids.js';
import type { Privilege } from './privileges.js';
import type { PrivilegeName } from './world/format.js';

// The engine's argument and result types.

/** A row the engine need not store: owner and owning BU by id; shares are found by `id`. */
export interface InlineRecord {
  readonly id?: string;
  readonly ownerId?: string;
  /** Defaults to the owner's business unit. */
  readonly owningBusinessUnitId?: string;
}

export type UserRef = UserIdx | string;
export type TableRef = TableIdx | string;
export type PrivilegeRef = Privilege | PrivilegeName;
export type RecordRef = RecordIdx | string | InlineRecord;

/** A question for `checkBatch` with the world's ids. */
export interface CheckItem {
  readonly user: string;
  readonly table: string;
  readonly privilege: string;
  readonly record: string | InlineRecord;
}

/** Rows for `filter`: dense columns, record indexes, record ids, or id columns. */
export type FilterRows =
  | RowColumns
  | { readonly records: Int32Array | Uint32Array }
  | { readonly ids: readonly string[] }
  | {
      readonly ownerIds: readonly (string | null)[];
      readonly businessUnitIds: readonly (string | null)[];
      readonly ids?: readonly (string | null)[];
    };

export interface FilterOptions {
  /** `indexes` (default): allowed row positions; `bitmask`: bit i of word i >> 5 set when row i is allowed. */
  readonly output?: 'indexes' | 'bitmask';
}

/** A user who may, and how. */
export interface AccessHolder {
  readonly user: string;
  readonly reason: AllowReason;
  readonly paths: readonly ExplainPath[];
}

/** §6: what a user may do with one column of a record. */
export interface ColumnAccess {
  readonly read: boolean;
  readonly create: boolean;
  readonly update: boolean;
}

/** §6 for lists: per record, `words` 32-bit words; bit c set when `columns[c]` must be nulled out. */
export interface HiddenColumns {
  readonly columns: readonly string[];
  readonly words: number;
  readonly masks: Uint32Array;
}

export interface EngineStats {
  readonly businessUnits: number;
  readonly users: number;
  readonly teams: number;
  readonly tables: number;
  readonly roles: number;
  readonly records: number;
  readonly shares: number;
  /** Distinct compiled profiles: users with the same BU, roles and teams share one. */
  readonly profiles: number;
  readonly compiledGrants: number;
  readonly businessUnitSets: number;
}
