import {
  ACCESS_RIGHT_BITS,
  type Decision,
  Engine,
  isPalisadeError,
  type PrivilegeName,
  type UpdateOp,
  type WorldInput,
} from '@palisade/core';
import { ReferenceEvaluator } from '../reference/reference.js';
import { type CompositeCase, type FixtureRecord, RIGHTS_ORDER } from './scenarios.js';
import { applyAllToWorld } from './world-updates.js';

/** A decision as fixtures state it: errors compare by code only. */
export interface Outcome {
  allowed: boolean;
  reason: string;
  missing?: string;
  code?: string;
}

/** One implementation of the semantics, driven through the fixture corpus (Cedar's CedarTestImplementation idea). */
export interface Subject {
  check(user: string, table: string, privilege: string, record: FixtureRecord): Outcome;
  /** The privileges in the mask, in `RIGHTS_ORDER`, or the error code. */
  accessRights(user: string, table: string, record: string): { rights: string[]; mask: number } | { code: string };
  composite(c: CompositeCase): Outcome;
  /** §6: what the user may do with one column of the record, or the error code. */
  columnAccess(user: string, table: string, record: FixtureRecord, column: string): ColumnOutcome | { code: string };
  /** The subject after `ops` (a valid batch): the same engine updated, or a reference on the updated world. */
  apply(ops: readonly UpdateOp[]): Subject;
  /** §6 for lists: per record, the secured columns hidden from the user (sorted), or the error code. */
  hiddenColumns(user: string, table: string, records: string[]): { hidden: string[][] } | { code: string };
}

/** The three column permissions as fixtures state them. */
export interface ColumnOutcome {
  read: boolean;
  create: boolean;
  update: boolean;
}

export interface Implementation {
  name: string;
  build(world: WorldInput): Subject;
}

export function rightsOfMask(mask: number): string[] {
  return RIGHTS_ORDER.filter((p) => (mask & ACCESS_RIGHT_BITS[p]) !== 0);
}

function fromDecision(d: Decision): Outcome {
  if (d.reason === 'error') return { allowed: false, reason: 'error', code: d.error.code };
  if (d.reason === 'missing-privilege') return { allowed: false, reason: d.reason, missing: d.missing };
  return { allowed: d.allowed, reason: d.reason };
}

/** Drives an engine that already exists, e.g. one changed by incremental updates. */
export function engineSubject(engine: Engine): Subject {
  return {
    check: (user, table, privilege, record) => fromDecision(engine.check(user, table, privilege as never, record)),
    accessRights(user, table, record) {
      try {
        const mask = engine.accessRights(user, table, record);
        return { rights: rightsOfMask(mask), mask };
      } catch (error) {
        if (isPalisadeError(error)) return { code: error.code };
        throw error;
      }
    },
    apply(ops) {
      engine.apply(ops);
      return this;
    },
    hiddenColumns(user, table, records) {
      try {
        const { columns, words, masks } = engine.hiddenColumns(user, table, records);
        const hidden = records.map((_, i) =>
          columns.filter((_, c) => (((masks[i * words + (c >>> 5)] as number) >>> (c & 31)) & 1) === 1).sort(),
        );
        return { hidden };
      } catch (error) {
        if (isPalisadeError(error)) return { code: error.code };
        throw error;
      }
    },
    columnAccess(user, table, record, column) {
      try {
        const { read, create, update } = engine.columnAccess(user, table, record, column);
        return { read, create, update };
      } catch (error) {
        if (isPalisadeError(error)) return { code: error.code };
        throw error;
      }
    },
    composite(c) {
      switch (c.action) {
        case 'create':
          return fromDecision(engine.canCreate(c.user, c.table, c.ownerId, c.businessUnitId));
        case 'assign':
          return fromDecision(engine.canAssign(c.user, c.table, c.record, c.newOwnerId));
        case 'share':
          return fromDecision(engine.canShare(c.user, c.table, c.record, c.rights));
        case 'associate':
          return fromDecision(engine.canAssociate(c.user, c.childTable, c.child, c.parentTable, c.parent));
      }
    },
  };
}

export const engineImplementation: Implementation = {
  name: 'engine',
  build: (world) => engineSubject(Engine.fromWorld(world)),
};

/** The reference evaluator throws plain errors whose message starts with what went wrong. */
const REFERENCE_ERRORS: [string, string][] = [
  ['unknown user', 'PALISADE_UNKNOWN_USER'],
  ['unknown table', 'PALISADE_UNKNOWN_TABLE'],
  ['unknown record', 'PALISADE_UNKNOWN_RECORD'],
  ['unknown privilege', 'PALISADE_UNKNOWN_PRIVILEGE'],
  ['unknown principal', 'PALISADE_UNKNOWN_PRINCIPAL'],
  ['unknown business unit', 'PALISADE_UNKNOWN_BUSINESS_UNIT'],
  ['invalid owner', 'PALISADE_INVALID_OWNER'],
  ['invalid share right', 'PALISADE_INVALID_SHARE_RIGHT'],
];

function referenceCode(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const found = REFERENCE_ERRORS.find(([prefix]) => message.startsWith(prefix));
  if (found === undefined) throw error;
  return found[1];
}

function guarded(run: () => { allowed: boolean; reason: string; missing: string | null }): Outcome {
  try {
    const d = run();
    return d.missing === null
      ? { allowed: d.allowed, reason: d.reason }
      : { allowed: d.allowed, reason: d.reason, missing: d.missing };
  } catch (error) {
    return { allowed: false, reason: 'error', code: referenceCode(error) };
  }
}

export const referenceImplementation: Implementation = {
  name: 'reference',
  build(world) {
    const ref = new ReferenceEvaluator(world);
    return {
      check: (user, table, privilege, record) =>
        guarded(() => ref.decide(user, table, privilege as PrivilegeName, record)),
      accessRights(user, table, record) {
        try {
          const mask = ref.accessRights(user, table, record);
          return { rights: rightsOfMask(mask), mask };
        } catch (error) {
          return { code: referenceCode(error) };
        }
      },
      apply(ops) {
        return referenceImplementation.build(applyAllToWorld(world, ops));
      },
      hiddenColumns(user, table, records) {
        // A column of a record is hidden when the user may not read it (§6); a record the world
        // does not hold has nothing to show, so every secured column is hidden.
        try {
          const secured = world.tables?.find((t) => t.name === table)?.securedColumns ?? [];
          ref.grants(user, table, 'read'); // throws on an unknown user or table, as hiddenColumns does
          const hidden = records.map((id) =>
            (world.records ?? []).some((r) => r.table === table && r.id === id)
              ? secured.filter((column) => !ref.columnAccess(user, table, id, column).read).sort()
              : [...secured].sort(),
          );
          return { hidden };
        } catch (error) {
          return { code: referenceCode(error) };
        }
      },
      columnAccess(user, table, record, column) {
        try {
          const { read, create, update } = ref.columnAccess(user, table, record, column);
          return { read, create, update };
        } catch (error) {
          return { code: referenceCode(error) };
        }
      },
      composite(c) {
        switch (c.action) {
          case 'create':
            return guarded(() => ref.canCreate(c.user, c.table, c.ownerId, c.businessUnitId));
          case 'assign':
            return guarded(() => ref.canAssign(c.user, c.table, c.record, c.newOwnerId));
          case 'share':
            return guarded(() => ref.canShare(c.user, c.table, c.record, c.rights));
          case 'associate':
            return guarded(() => ref.canAssociate(c.user, c.childTable, c.child, c.parentTable, c.parent));
        }
      },
    };
  },
};
