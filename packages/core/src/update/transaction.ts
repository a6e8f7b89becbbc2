import { ErrorCodes, PalisadeError, type UpdateRule } from '../errors.js';
import type { PositionIdx, PrincipalIdx, RoleIdx, UserIdx } from '../ids.js';

/**
 * One `apply` call. Operations change the model right away and log how to undo each change; the
 * compiled grants of whatever they touched are refreshed once, at commit. On the first invalid
 * operation the log is replayed backwards and nothing (model or compiled state) has changed.
 */
export class Transaction {
  /** Users whose own inputs changed: teams, role assignments, BU, disabled. */
  readonly users = new Set<UserIdx>();
  /** Teams whose role assignments changed: every profile holding them is recompiled. */
  readonly teams = new Set<PrincipalIdx>();
  /** Roles whose privileges changed. */
  readonly roles = new Set<RoleIdx>();
  /** The (table, privilege) slots whose depth those changes touched: only these are recompiled. */
  readonly roleSlots = new Set<number>();
  /** §5: users whose manager, position, BU or teams changed (their managers and they themselves are recompiled). */
  readonly hierarchyUsers = new Set<UserIdx>();
  /** §5: managers above those users before the change (manager model). */
  readonly hierarchyManagers = new Set<UserIdx>();
  /** §5: positions above those users before the change: their holders were managers (position model). */
  readonly hierarchyPositions = new Set<PositionIdx>();
  /** The BU tree changed shape: preorder positions moved, so everything is recompiled. */
  structureChanged = false;
  /** §6: principals whose field security profiles changed: their users' column bits are recompiled. */
  readonly columnPrincipals = new Set<PrincipalIdx>();
  /** Field shares were added, changed or removed (alone or with their record). */
  fieldSharesChanged = false;
  /** The hierarchy settings changed: everything is recompiled. */
  hierarchySettingsChanged = false;
  private readonly undoLog: (() => void)[] = [];
  /** The operation being applied, for error details. */
  index = 0;
  op = '';

  /** Records how to undo a change that was just made. */
  onUndo(undo: () => void): void {
    this.undoLog.push(undo);
  }

  rollback(): void {
    for (let i = this.undoLog.length - 1; i >= 0; i--) (this.undoLog[i] as () => void)();
    this.undoLog.length = 0;
  }

  fail(field: string, rule: UpdateRule, problem: string): never {
    throw new PalisadeError(
      ErrorCodes.UPDATE_INVALID,
      `operation ${this.index} (${this.op}) field \`${field}\`: ${problem} (${rule})`,
      { rule, index: this.index, op: this.op, field },
    );
  }
}
