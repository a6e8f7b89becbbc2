import type { PositionIdx, PrincipalIdx, UserIdx } from '../ids.js';
import { NONE } from '../ids.js';
import type { WorldModel } from '../model/world-model.js';
import { Depth, depthFromName, PRIVILEGE_COUNT, privilegeFromName } from '../privileges.js';
import { isPlainObject } from '../world/reader.js';
import type { OpReader } from './context.js';
import type { Transaction } from './transaction.js';

// Helpers the operation handlers of apply.ts, create.ts and column-ops.ts share.

/** Applies one operation to the model, logging its undo on the transaction. */
export type Handler = (r: OpReader) => void;

export const fields = (...names: string[]): ReadonlySet<string> => new Set(names);

/**
 * §5: a change to the user's manager, position, BU or teams changes what the managers above it
 * reach. Notes them as they are before the change; the engine adds those above it after.
 */
export function noteHierarchyChange(r: OpReader, user: UserIdx): void {
  const { model, tx } = r;
  const { depth } = model.settings.hierarchy;
  tx.hierarchyUsers.add(user);
  let manager = model.user(user).manager;
  for (let level = 1; level <= depth && manager !== NONE; level++) {
    tx.hierarchyManagers.add(manager as UserIdx);
    manager = model.user(manager as UserIdx).manager;
  }
  let position = model.user(user).position;
  for (let level = 1; level <= depth && position !== NONE; level++) {
    position = model.positions[position]?.parent ?? NONE;
    if (position !== NONE) tx.hierarchyPositions.add(position as PositionIdx);
  }
}

export function ownerBu(model: WorldModel, owner: number): number {
  return model.principals[owner]?.bu ?? NONE;
}

/** A role's whole privilege map, validated as the loader validates roles. */
export function readDepths(r: OpReader): Uint8Array {
  const model = r.model;
  const tx: Transaction = r.tx;
  const raw = r.raw('privileges');
  if (!isPlainObject(raw)) tx.fail('privileges', 'shape', 'expected an object of table → privilege → depth');
  const depths = new Uint8Array(model.tables.length * PRIVILEGE_COUNT);
  for (const [tableName, perTable] of Object.entries(raw)) {
    const table = model.tableIndex.get(tableName);
    if (table === undefined) tx.fail('privileges', 'reference-resolves', `unknown table \`${tableName}\``);
    if (!isPlainObject(perTable)) tx.fail('privileges', 'shape', `expected an object for table \`${tableName}\``);
    const organizationOwned = model.tables[table]?.organizationOwned === true;
    for (const [privilegeName, depthName] of Object.entries(perTable)) {
      const privilege = privilegeFromName(privilegeName);
      if (privilege === undefined) tx.fail('privileges', 'exact-word', `\`${privilegeName}\` is not a privilege`);
      if (typeof depthName !== 'string') tx.fail('privileges', 'shape', 'depths are strings');
      const depth = depthFromName(depthName);
      if (depth === undefined) tx.fail('privileges', 'exact-word', `\`${depthName}\` is not a depth`);
      if (organizationOwned && depth !== Depth.none && depth !== Depth.global) {
        tx.fail('privileges', 'org-table-depth', `depth \`${depthName}\` on organization-owned table \`${tableName}\``);
      }
      depths[table * PRIVILEGE_COUNT + privilege] = depth;
    }
  }
  return depths;
}

/** Adds the user to, or removes it from, the team's listed members (both sides of the relation). */
export function setMembership(model: WorldModel, team: PrincipalIdx, user: UserIdx, present: boolean): void {
  const members = model.teamMembers.get(team) as Set<UserIdx>;
  if (present) {
    members.add(user);
    model.user(user).teams.add(team);
  } else {
    members.delete(user);
    model.user(user).teams.delete(team);
  }
}
