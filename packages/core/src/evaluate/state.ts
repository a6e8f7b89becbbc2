import type { CompiledWorld } from '../compile/compile.js';

/** One table's columns as the evaluator reads them. */
export interface TableState {
  readonly organizationOwned: boolean;
  /** Rows ever created (deleted rows included): the bound for record indexes. */
  readonly count: number;
  /** ROW_STRIDE int32s per record: owner, owning BU, share list head, live (see `RowField`). */
  readonly rows: Int32Array;
  readonly shareNext: Int32Array;
  readonly sharePrincipal: Int32Array;
  readonly shareRights: Uint8Array;
}

/**
 * Everything a check reads, as plain typed arrays over SharedArrayBuffers: a worker thread that is
 * posted this object sees the same memory and builds its own `Evaluator` from it, with no copy of
 * the world. A state is a snapshot of array references: after an update the engine makes a new one.
 */
export interface EvaluatorState {
  readonly slots: number;
  readonly buCount: number;
  readonly userProfile: Int32Array;
  readonly userFlags: Uint8Array;
  readonly profileGrant: Int32Array;
  readonly grants: Int32Array;
  readonly buPool: Int32Array;
  readonly teamPool: Int32Array;
  readonly buPosition: Int32Array;
  readonly buAtPosition: Int32Array;
  readonly tables: readonly TableState[];
  readonly hierarchy: HierarchyState;
}

/** §5 compiled (see `HierarchyTables`): per table whether it applies, per manager two sorted runs of principals. */
export interface HierarchyState {
  readonly applies: Uint8Array;
  readonly start: Int32Array;
  readonly mid: Int32Array;
  readonly end: Int32Array;
  readonly pool: Int32Array;
}

export function evaluatorState(compiled: CompiledWorld): EvaluatorState {
  const t = compiled.tables;
  const { model, hierarchy } = compiled;
  return {
    slots: t.slots,
    buCount: model.businessUnits.length,
    userProfile: t.userProfile,
    userFlags: t.userFlags,
    profileGrant: t.profileGrant,
    grants: t.grants,
    buPool: t.buPool,
    teamPool: t.teamPool,
    buPosition: model.buPosition,
    buAtPosition: model.buAtPosition,
    tables: model.tables.map((table) => ({
      organizationOwned: table.organizationOwned,
      count: table.records.count,
      rows: table.records.rows,
      shareNext: table.shares.next,
      sharePrincipal: table.shares.principal,
      shareRights: table.shares.rights,
    })),
    hierarchy: {
      applies: hierarchy.applies,
      start: hierarchy.start,
      mid: hierarchy.mid,
      end: hierarchy.end,
      pool: hierarchy.pool,
    },
  };
}
