import { NONE, type PositionIdx, type PrincipalIdx, type UserIdx } from '../ids.js';
import type { WorldModel } from '../model/world-model.js';
import { Privilege } from '../privileges.js';
import { ensureInt32, sharedInt32, sharedUint8 } from '../util/growable.js';
import { getOrCreate } from '../util/maps.js';

/**
 * Semantics §5 compiled. Through subordinate S at level L, manager M reaches the records owned by
 * S or a team of S, and the records shared with them; level 1 gives read, write, append and
 * appendTo, deeper levels read. Level rights nest (level 1's include read), so the union over all
 * subordinates only needs, per principal M reaches, the best level it is reached at.
 *
 * So each manager gets one sorted run of principals per class, in `pool`:
 *
 *   pool[start[m] .. mid[m])   principals reached at level 1: read, write, append, appendTo
 *   pool[mid[m] .. end[m])     principals reached only at levels ≥ 2: read
 *
 * and a hierarchy check is a binary search of one or two runs (for the owner, then each share
 * recipient), after the gate: M holds grants of (t, read) and (t, p) at any depth. Runs are
 * rebuilt per manager when something below it changes; replaced runs are garbage in the pool
 * until a full rebuild compacts it.
 */
export class HierarchyTables {
  /** 1 per table where the hierarchy path applies: enabled, user-owned, not excluded. */
  applies: Uint8Array;
  start: Int32Array;
  mid: Int32Array;
  end: Int32Array;
  pool: Int32Array;
  private used: number;
  private garbage: number;
  private readonly model: WorldModel;
  /** Direct reports per manager (manager model) and holders per position (position model). */
  private reports: Map<UserIdx, Set<UserIdx>>;
  private holders: Map<PositionIdx, Set<UserIdx>>;
  private positionChildren: Map<PositionIdx, PositionIdx[]>;
  /** Scratch: best level per principal for the manager being compiled (0: not reached). */
  private readonly level: Map<PrincipalIdx, number>;

  constructor(model: WorldModel) {
    this.model = model;
    this.applies = sharedUint8(model.tables.length);
    this.start = sharedInt32(model.principals.length, NONE);
    this.mid = sharedInt32(model.principals.length, NONE);
    this.end = sharedInt32(model.principals.length, NONE);
    this.pool = sharedInt32(0);
    this.used = 0;
    this.garbage = 0;
    this.reports = new Map();
    this.holders = new Map();
    this.positionChildren = new Map();
    this.level = new Map();
    this.rebuild();
  }

  /** Everything from the model: at load, and after a settings change. */
  rebuild(): void {
    const { model } = this;
    const { hierarchy } = model.settings;
    this.applies = sharedUint8(model.tables.length);
    model.tables.forEach((table, t) => {
      this.applies[t] =
        hierarchy.enabled && !table.organizationOwned && !hierarchy.excludedTables.includes(t as never) ? 1 : 0;
    });
    this.start = sharedInt32(model.principals.length, NONE);
    this.mid = sharedInt32(model.principals.length, NONE);
    this.end = sharedInt32(model.principals.length, NONE);
    this.pool = sharedInt32(0);
    this.used = 0;
    this.garbage = 0;
    this.indexStructure();
    if (!hierarchy.enabled) return;
    for (let user = 0; user < model.principals.length; user++) {
      if (model.isUser(user)) this.compileManager(user);
    }
  }

  /**
   * Recompiles the managers whose reach may have changed: the changed users themselves (their own
   * subordinates may differ), every manager above them now, and those that were above them before
   * the change (given as users for the manager model, as positions for the position model).
   */
  refresh(change: {
    readonly hierarchyUsers: ReadonlySet<UserIdx>;
    readonly hierarchyManagers: ReadonlySet<UserIdx>;
    readonly hierarchyPositions: ReadonlySet<PositionIdx>;
  }): void {
    // Users created since: every principal has a slot (NONE until it manages anyone).
    const count = this.model.principals.length;
    this.start = ensureInt32(this.start, count, NONE);
    this.mid = ensureInt32(this.mid, count, NONE);
    this.end = ensureInt32(this.end, count, NONE);
    if (!this.model.settings.hierarchy.enabled) return;
    this.indexStructure();
    const managers = new Set<UserIdx>(change.hierarchyManagers);
    for (const position of change.hierarchyPositions)
      for (const holder of this.holdersOf(position)) managers.add(holder);
    for (const user of change.hierarchyUsers) {
      managers.add(user);
      for (const manager of this.managersOf(user)) managers.add(manager);
    }
    for (const manager of managers) {
      const start = this.start[manager] as number;
      if (start !== NONE) this.garbage += (this.end[manager] as number) - start;
      this.compileManager(manager);
    }
    // Replaced runs stay in the pool until they outweigh the live ones.
    if (this.garbage > this.used / 2 + 1024) this.rebuild();
  }

  /** The users S is a subordinate of, at levels 1..depth: the managers whose runs S's changes touch. */
  managersOf(subordinate: UserIdx): UserIdx[] {
    const { model } = this;
    const { depth, model: kind } = model.settings.hierarchy;
    const managers: UserIdx[] = [];
    if (kind === 'manager') {
      let current = model.user(subordinate).manager;
      for (let level = 1; level <= depth && current !== NONE; level++) {
        managers.push(current as UserIdx);
        current = model.user(current as UserIdx).manager;
      }
      return managers;
    }
    let position = model.user(subordinate).position;
    for (let level = 1; level <= depth && position !== NONE; level++) {
      position = model.positions[position]?.parent ?? NONE;
      if (position === NONE) break;
      for (const holder of this.holdersOf(position as PositionIdx)) managers.push(holder);
    }
    return managers;
  }

  /** Whether the hierarchy path can carry `privilege` at all (§5: level 1 rights are the widest). */
  static carries(privilege: number): boolean {
    return (
      privilege === Privilege.read ||
      privilege === Privilege.write ||
      privilege === Privilege.append ||
      privilege === Privilege.appendTo
    );
  }

  private compileManager(manager: UserIdx): void {
    const { level } = this;
    level.clear();
    this.visitSubordinates(manager, (subordinate, at) => {
      this.reach(subordinate, at);
      for (const team of this.model.teamsOf(subordinate)) this.reach(team, at);
    });
    if (level.size === 0) {
      this.start[manager] = NONE;
      this.mid[manager] = NONE;
      this.end[manager] = NONE;
      return;
    }
    const first: number[] = [];
    const deeper: number[] = [];
    for (const [principal, at] of level) (at === 1 ? first : deeper).push(principal);
    first.sort((a, b) => a - b);
    deeper.sort((a, b) => a - b);
    const start = this.used;
    this.pool = ensureInt32(this.pool, start + first.length + deeper.length);
    this.pool.set(first, start);
    this.pool.set(deeper, start + first.length);
    this.used = start + first.length + deeper.length;
    this.start[manager] = start;
    this.mid[manager] = start + first.length;
    this.end[manager] = this.used;
  }

  /** The subordinates of M that count, with their levels (for explanations; not a hot path). */
  subordinates(manager: UserIdx): [UserIdx, number][] {
    const found: [UserIdx, number][] = [];
    if (this.model.settings.hierarchy.enabled) this.visitSubordinates(manager, (s, level) => found.push([s, level]));
    return found;
  }

  private reach(principal: PrincipalIdx, at: number): void {
    const known = this.level.get(principal);
    if (known === undefined || at < known) this.level.set(principal, at);
  }

  /** Calls `visit(S, level)` for each subordinate of M at levels 1..depth that counts (§5, §7.4). */
  private visitSubordinates(manager: UserIdx, visit: (subordinate: UserIdx, level: number) => void): void {
    const { model } = this;
    const { depth, model: kind, managersMustBeInSameOrParentBusinessUnit } = model.settings.hierarchy;
    if (kind === 'position') {
      const top = model.user(manager).position;
      if (top === NONE) return;
      let positions: PositionIdx[] = [top as PositionIdx];
      for (let at = 1; at <= depth && positions.length > 0; at++) {
        const next: PositionIdx[] = [];
        for (const position of positions) next.push(...(this.positionChildren.get(position) ?? []));
        for (const position of next) for (const holder of this.holdersOf(position)) visit(holder, at);
        positions = next;
      }
      return;
    }
    const managerBu = model.principals[manager]?.bu ?? NONE;
    let level: UserIdx[] = [manager];
    for (let at = 1; at <= depth && level.length > 0; at++) {
      const next: UserIdx[] = [];
      for (const user of level) for (const report of this.reports.get(user) ?? []) next.push(report);
      for (const subordinate of next) {
        // The BU rule compares M with S directly; a subordinate that fails it still links M to those below.
        if (managersMustBeInSameOrParentBusinessUnit) {
          const bu = model.principals[subordinate]?.bu ?? NONE;
          const parent = bu === NONE ? NONE : (model.businessUnits[bu]?.parent ?? NONE);
          if (managerBu !== bu && managerBu !== parent) continue;
        }
        visit(subordinate, at);
      }
      level = next;
    }
  }

  private holdersOf(position: PositionIdx): Iterable<UserIdx> {
    return this.holders.get(position) ?? [];
  }

  /** Reverse links of the manager and position trees, from the model as it is now. */
  private indexStructure(): void {
    const { model } = this;
    const reports = new Map<UserIdx, Set<UserIdx>>();
    const holders = new Map<PositionIdx, Set<UserIdx>>();
    for (let user = 0; user < model.principals.length; user++) {
      if (!model.isUser(user)) continue;
      const state = model.user(user);
      if (state.manager !== NONE) getOrCreate(reports, state.manager as UserIdx, () => new Set()).add(user);
      if (state.position !== NONE) getOrCreate(holders, state.position as PositionIdx, () => new Set()).add(user);
    }
    const children = new Map<PositionIdx, PositionIdx[]>();
    model.positions.forEach((position, index) => {
      if (position.parent === NONE) return;
      const list = children.get(position.parent as PositionIdx) ?? [];
      list.push(index as PositionIdx);
      children.set(position.parent as PositionIdx, list);
    });
    this.reports = reports;
    this.holders = holders;
    this.positionChildren = children;
  }
}
