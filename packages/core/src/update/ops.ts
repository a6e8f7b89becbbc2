import type { ColumnPermission, FieldRight, PrivilegeName, ShareRight, TeamType } from '../world/format.js';

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
    }
  /** §4 assign settings: changes the named ones; the others keep their values. */
  | { op: 'setAssignSettings'; shareToPreviousOwnerOnAssign?: boolean; alwaysMoveRecordToOwnerBusinessUnit?: boolean }
  /** A business unit under `parentId`, with an optional named default team. The tree is numbered
   * again, so every coverage's intervals are recomputed (no profile is). */
  | { op: 'createBusinessUnit'; id: string; parentId: string; name?: string; defaultTeamId?: string }
  /** A position (§5 position model) under `parentId`, or a new root. */
  | { op: 'createPosition'; id: string; parentId?: string | null }
  /** A user in `businessUnitId`: a member of its named default team, holding no roles yet. */
  | {
      op: 'createUser';
      id: string;
      businessUnitId: string;
      managerId?: string | null;
      positionId?: string | null;
      disabled?: boolean;
    }
  /** An owner, access or group team of `businessUnitId`, with its listed members. */
  | { op: 'createTeam'; id: string; businessUnitId: string; type: TeamType; members?: string[] }
  /** A role with its whole privilege map (as `setRolePrivileges`); nobody holds it yet. */
  | {
      op: 'createRole';
      id: string;
      name?: string;
      inheritance?: 'direct' | 'team';
      systemAdministrator?: boolean;
      privileges: Record<string, Partial<Record<PrivilegeName, string>>>;
    }
  /** §6: a field security profile; members are users or teams. */
  | {
      op: 'createFieldSecurityProfile';
      id: string;
      members?: string[];
      permissions?: Record<string, Record<string, ColumnPermission[]>>;
    }
  /** §6: replaces the profile's whole permission map (table → secured column → permissions). */
  | {
      op: 'setFieldSecurityPermissions';
      profileId: string;
      permissions: Record<string, Record<string, ColumnPermission[]>>;
    }
  | { op: 'addFieldSecurityProfileMember'; profileId: string; principalId: string }
  | { op: 'removeFieldSecurityProfileMember'; profileId: string; principalId: string }
  /** §6: ORs the rights into the field share of (record, column, principal), creating it. */
  | {
      op: 'grantFieldShare';
      table: string;
      recordId: string;
      column: string;
      principalId: string;
      rights: FieldRight[];
    }
  /** §6: replaces the rights of an existing field share. */
  | {
      op: 'modifyFieldShare';
      table: string;
      recordId: string;
      column: string;
      principalId: string;
      rights: FieldRight[];
    }
  /** §6: removes an existing field share. */
  | { op: 'revokeFieldShare'; table: string; recordId: string; column: string; principalId: string };

export type UpdateOpName = UpdateOp['op'];
