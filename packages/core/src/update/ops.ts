import type { PrivilegeName, ShareRight } from '../world/format.js';

/**
 * Changes to a loaded world, applied incrementally by `Engine.apply`. A list of operations is one
 * transaction: all apply or none (the engine rolls back on the first invalid one). Ids are the
 * world's string ids.
 */
export type UpdateOp =
  /** A record of a user-owned table needs `ownerId`; `owningBusinessUnitId` defaults to the owner's BU. */
  | { op: 'createRecord'; table: string; id: string; ownerId?: string; owningBusinessUnitId?: string }
  /** Removes the record and its shares. */
  | { op: 'deleteRecord'; table: string; id: string }
  /** semantics §4 assign side effects: the owning BU follows the new owner unless
   * `settings.alwaysMoveRecordToOwnerBusinessUnit` is false; shares stay; with
   * `settings.shareToPreviousOwnerOnAssign` the previous owner gets a share of all seven rights. */
  | { op: 'assignRecord'; table: string; id: string; ownerId: string }
  /** ORs the rights into the share of (record, principal), creating it (§7.3). */
  | { op: 'grantShare'; table: string; recordId: string; principalId: string; rights: ShareRight[] }
  /** Replaces the rights of an existing share (§7.3). */
  | { op: 'modifyShare'; table: string; recordId: string; principalId: string; rights: ShareRight[] }
  /** Removes an existing share (§7.3). */
  | { op: 'revokeShare'; table: string; recordId: string; principalId: string }
  | { op: 'addTeamMember'; teamId: string; userId: string }
  | { op: 'removeTeamMember'; teamId: string; userId: string }
  /** For a user `businessUnitId` defaults to the user's BU (and then follows the user when it moves). */
  | { op: 'addRoleAssignment'; principalId: string; roleId: string; businessUnitId?: string }
  | { op: 'removeRoleAssignment'; principalId: string; roleId: string; businessUnitId?: string }
  /** Replaces the role's whole privilege map (table → privilege → depth). */
  | { op: 'setRolePrivileges'; roleId: string; privileges: Record<string, Partial<Record<PrivilegeName, string>>> }
  /** Moves the user (Dataverse SetBusinessSystemUser): its default team follows its BU, role
   * assignments made without an explicit BU follow the user, and every record it owns moves to the
   * new BU unless `doNotMoveRecords` (Dataverse's DoNotMoveAllRecords). */
  | { op: 'moveUser'; userId: string; businessUnitId: string; doNotMoveRecords?: boolean }
  | { op: 'setUserDisabled'; userId: string; disabled: boolean }
  /** §5 manager model: the user's manager (null: none); a change that makes a cycle is refused. */
  | { op: 'setManager'; userId: string; managerId: string | null }
  /** §5 position model: the user's position (null: none). */
  | { op: 'setPosition'; userId: string; positionId: string | null }
  /** §5: changes the named hierarchy settings; the others keep their values. */
  | {
      op: 'setHierarchySettings';
      enabled?: boolean;
      model?: 'manager' | 'position';
      depth?: number;
      managersMustBeInSameOrParentBusinessUnit?: boolean;
      excludedTables?: string[];
    };

export type UpdateOpName = UpdateOp['op'];
