/**
 * The test suite's reference evaluator as a benchmark baseline and oracle, with what the suites
 * need around it: samples of rows and questions to verify the engine on (the reference walks the
 * world's arrays per question, so a large world is verified on a sample, never skipped), and a
 * world editor that applies update operations to the `WorldInput` in place, so the reference sees
 * the same world as an engine that `apply`-ed them.
 */
import type {
  BusinessUnitInput,
  PrivilegeName,
  RoleInput,
  TeamInput,
  UpdateOp,
  UserInput,
  WorldInput,
} from '@palisade/core';
import { ReferenceEvaluator } from '../../../core/test/reference/reference.js';
import type { Picker } from '../generate/random.js';

export { ReferenceEvaluator };

/** One question for `check` and the reference's `decide`. */
export interface Question {
  user: string;
  table: string;
  privilege: PrivilegeName;
  record: string;
}

/**
 * Up to `count` distinct rows of `0 … rowCount-1`, ascending: half drawn from `allowed` (so a
 * wrongly allowed row is caught even where allowed rows are rare), the rest uniformly.
 */
export function sampleRows(allowed: ArrayLike<number>, rowCount: number, count: number, pick: Picker): number[] {
  const rows = new Set<number>();
  const fromAllowed = Math.min(allowed.length, Math.ceil(count / 2));
  for (let tries = 0; rows.size < fromAllowed && tries < count * 8; tries++)
    rows.add(allowed[pick.int(allowed.length)] as number);
  for (let tries = 0; rows.size < Math.min(count, rowCount) && tries < count * 8; tries++) rows.add(pick.int(rowCount));
  return [...rows].sort((a, b) => a - b);
}

/**
 * Asks the reference about every question and throws on the first one where `engineAllows`
 * differs. Returns how many were checked and how many the reference allowed.
 */
export function verifyQuestions(
  what: string,
  reference: ReferenceEvaluator,
  questions: readonly Question[],
  engineAllows: (question: Question, index: number) => boolean,
): { checked: number; allowed: number } {
  let allowed = 0;
  questions.forEach((q, i) => {
    const expected = reference.decide(q.user, q.table, q.privilege, q.record).allowed;
    const actual = engineAllows(q, i);
    if (actual !== expected) {
      throw new Error(
        `${what} disagrees with the reference evaluator: ${q.user} ${q.privilege} ${q.table}/${q.record}: ` +
          `engine ${actual ? 'allows' : 'denies'}, reference ${expected ? 'allows' : 'denies'}`,
      );
    }
    if (expected) allowed++;
  });
  return { checked: questions.length, allowed };
}

/** `verifyQuestions` over rows of one table for one user: `ids(row)` is the row's record id. */
export function verifyRows(
  what: string,
  reference: ReferenceEvaluator,
  question: { user: string; table: string; privilege: PrivilegeName },
  rows: readonly number[],
  ids: (row: number) => string,
  engineAllows: (row: number) => boolean,
): { checked: number; allowed: number } {
  const questions = rows.map((row) => ({ ...question, record: ids(row) }));
  return verifyQuestions(what, reference, questions, (_, i) => engineAllows(rows[i] as number));
}

/**
 * Applies update operations to a world value in place, as `Engine.apply` applies them to the
 * engine, for the operations the suites time: createRecord, grantShare, addTeamMember,
 * removeTeamMember, addRoleAssignment, removeRoleAssignment, setRolePrivileges, createUser,
 * createBusinessUnit. Same rules as the
 * test suite's `applyToWorld` (packages/core/test/support/world-updates.ts), which copies the whole
 * world per operation — too slow for a million records. Several share rows of one (record,
 * principal) are kept as rows: the semantics union them, as `applyToWorld`'s merged row does.
 * The operations are assumed valid (the engine accepted them).
 */
export class WorldEditor {
  private readonly principalBu = new Map<string, string>();
  private readonly teams = new Map<string, TeamInput>();
  private readonly roles = new Map<string, RoleInput>();

  constructor(private readonly world: WorldInput) {
    for (const user of world.users ?? []) this.principalBu.set(user.id, user.businessUnitId);
    for (const team of world.teams ?? []) {
      this.principalBu.set(team.id, team.businessUnitId);
      this.teams.set(team.id, team);
    }
    for (const bu of world.businessUnits ?? [])
      if (bu.defaultTeamId !== undefined) this.principalBu.set(bu.defaultTeamId, bu.id);
    for (const role of world.roles ?? []) this.roles.set(role.id, role);
  }

  apply(ops: readonly UpdateOp[]): void {
    for (const op of ops) this.applyOne(op);
  }

  private applyOne(op: UpdateOp): void {
    const w = this.world;
    switch (op.op) {
      case 'createRecord': {
        w.records ??= [];
        const table = (w.tables ?? []).find((t) => t.name === op.table);
        if (table === undefined) throw new Error(`WorldEditor: unknown table ${op.table}`);
        if (table.ownership === 'organization') {
          w.records.push({ table: op.table, id: op.id });
        } else {
          const ownerId = op.ownerId ?? fail('createRecord without ownerId');
          // Written down, as applyToWorld does, so a later move of the owner leaves it.
          const owningBusinessUnitId =
            op.owningBusinessUnitId ?? this.principalBu.get(ownerId) ?? fail(`unknown principal ${ownerId}`);
          w.records.push({ table: op.table, id: op.id, ownerId, owningBusinessUnitId });
        }
        return;
      }
      case 'grantShare':
        w.shares ??= [];
        w.shares.push({ table: op.table, recordId: op.recordId, principalId: op.principalId, rights: [...op.rights] });
        return;
      case 'addTeamMember': {
        const team = this.teams.get(op.teamId) ?? fail(`no team ${op.teamId}`);
        if (!team.members.includes(op.userId)) team.members.push(op.userId);
        return;
      }
      case 'removeTeamMember': {
        const team = this.teams.get(op.teamId) ?? fail(`no team ${op.teamId}`);
        team.members = team.members.filter((member) => member !== op.userId);
        return;
      }
      case 'addRoleAssignment': {
        w.roleAssignments ??= [];
        const same = (a: { principalId: string; roleId: string; businessUnitId?: string }) =>
          a.principalId === op.principalId && a.roleId === op.roleId && a.businessUnitId === op.businessUnitId;
        if (!w.roleAssignments.some(same)) {
          w.roleAssignments.push(
            op.businessUnitId === undefined
              ? { principalId: op.principalId, roleId: op.roleId }
              : { principalId: op.principalId, roleId: op.roleId, businessUnitId: op.businessUnitId },
          );
        }
        return;
      }
      case 'removeRoleAssignment':
        w.roleAssignments = (w.roleAssignments ?? []).filter(
          (a) =>
            !(a.principalId === op.principalId && a.roleId === op.roleId && a.businessUnitId === op.businessUnitId),
        );
        return;
      case 'setRolePrivileges': {
        const role = this.roles.get(op.roleId) ?? fail(`no role ${op.roleId}`);
        role.privileges = structuredClone(op.privileges) as RoleInput['privileges'];
        return;
      }
      case 'createUser': {
        const user: UserInput = { id: op.id, businessUnitId: op.businessUnitId };
        if (op.managerId !== undefined) user.managerId = op.managerId;
        if (op.positionId !== undefined) user.positionId = op.positionId;
        if (op.disabled !== undefined) user.disabled = op.disabled;
        w.users ??= [];
        w.users.push(user);
        this.principalBu.set(op.id, op.businessUnitId);
        return;
      }
      case 'createBusinessUnit': {
        const bu: BusinessUnitInput = { id: op.id, parentId: op.parentId };
        if (op.name !== undefined) bu.name = op.name;
        if (op.defaultTeamId !== undefined) {
          bu.defaultTeamId = op.defaultTeamId;
          this.principalBu.set(op.defaultTeamId, op.id);
        }
        w.businessUnits ??= [];
        w.businessUnits.push(bu);
        return;
      }
      default:
        throw new Error(`WorldEditor: ${op.op} is not supported`);
    }
  }
}

function fail(message: string): never {
  throw new Error(`WorldEditor: ${message}`);
}
