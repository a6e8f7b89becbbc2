/**
 * The world format, version 1, as it travels in JSON or MessagePack.
 * Field meanings: shared/spec/world-format.md and shared/spec/semantics.md.
 * These types describe input that passed validation; `loadWorld` is what makes that true.
 */

export const PRIVILEGES = ['create', 'read', 'write', 'delete', 'append', 'appendTo', 'assign', 'share'] as const;
export type PrivilegeName = (typeof PRIVILEGES)[number];

export const DEPTHS = ['none', 'basic', 'local', 'deep', 'global'] as const;
export type DepthName = (typeof DEPTHS)[number];

export type TeamType = 'owner' | 'access' | 'group';
export type TableOwnership = 'user' | 'organization';
export type RoleInheritance = 'direct' | 'team';
export type HierarchyModel = 'manager' | 'position';
export type ShareRight = Exclude<PrivilegeName, 'create'>;
export type FieldRight = 'read' | 'update';
export type ColumnPermission = 'read' | 'create' | 'update';

/** The literal principal id that stands for "everyone in the organization" in shares. */
export const ORGANIZATION = 'organization';

export interface HierarchySettingsInput {
  enabled?: boolean;
  model?: HierarchyModel;
  depth?: number;
  managersMustBeInSameOrParentBusinessUnit?: boolean;
  excludedTables?: string[];
}

export interface SettingsInput {
  hierarchy?: HierarchySettingsInput;
  shareToPreviousOwnerOnAssign?: boolean;
  alwaysMoveRecordToOwnerBusinessUnit?: boolean;
}

export interface BusinessUnitInput {
  id: string;
  name?: string;
  parentId: string | null;
  defaultTeamId?: string;
}

export interface PositionInput {
  id: string;
  parentId?: string | null;
}

export interface UserInput {
  id: string;
  businessUnitId: string;
  managerId?: string | null;
  positionId?: string | null;
  disabled?: boolean;
}

export interface TeamInput {
  id: string;
  businessUnitId: string;
  type: TeamType;
  members: string[];
}

export interface TableInput {
  name: string;
  ownership: TableOwnership;
  securedColumns?: string[];
}

export interface RoleInput {
  id: string;
  name?: string;
  inheritance?: RoleInheritance;
  systemAdministrator?: boolean;
  /** table name → privilege → depth */
  privileges: Record<string, Partial<Record<PrivilegeName, DepthName>>>;
}

export interface RoleAssignmentInput {
  principalId: string;
  roleId: string;
  businessUnitId?: string;
}

export interface RecordInput {
  table: string;
  id: string;
  ownerId?: string;
  owningBusinessUnitId?: string;
}

export interface ShareInput {
  table: string;
  recordId: string;
  principalId: string;
  rights: ShareRight[];
}

export interface FieldSecurityProfileInput {
  id: string;
  members: string[];
  /** table name → column → permissions */
  permissions: Record<string, Record<string, ColumnPermission[]>>;
}

export interface FieldShareInput {
  table: string;
  recordId: string;
  column: string;
  principalId: string;
  rights: FieldRight[];
}

export interface WorldInput {
  formatVersion?: 1;
  settings?: SettingsInput;
  businessUnits?: BusinessUnitInput[];
  positions?: PositionInput[];
  users?: UserInput[];
  teams?: TeamInput[];
  tables?: TableInput[];
  roles?: RoleInput[];
  roleAssignments?: RoleAssignmentInput[];
  records?: RecordInput[];
  shares?: ShareInput[];
  fieldSecurityProfiles?: FieldSecurityProfileInput[];
  fieldShares?: FieldShareInput[];
}

/** Dataverse's AccessRights bit values, as RetrievePrincipalAccess reports them. */
export const ACCESS_RIGHT_BITS: Readonly<Record<PrivilegeName, number>> = Object.freeze({
  read: 1,
  write: 2,
  append: 4,
  appendTo: 16,
  create: 32,
  delete: 65536,
  share: 262144,
  assign: 524288,
});
