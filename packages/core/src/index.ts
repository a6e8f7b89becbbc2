export type {
  AccessHolder,
  CheckItem,
  ColumnAccess,
  EngineStats,
  FilterOptions,
  FilterRows,
  HiddenColumns,
  InlineRecord,
  PrivilegeRef,
  RecordRef,
  TableRef,
  UserRef,
} from './api.js';
export type { CheckColumns } from './bulk/batch.js';
export { BatchCode, errorOfCode, isAllowedCode } from './bulk/codes.js';
export type { RowColumns } from './bulk/filter.js';
export type { FilterJob, FilterJobOptions } from './bulk/filter-job.js';
export type { FilterSpec, SqlColumns, SqlFilter } from './bulk/filter-spec.js';
export { toSqlWhere } from './bulk/filter-spec.js';
export type { BatchColumns } from './bulk/items.js';
export type { LookupPage } from './bulk/lookup.js';
export { Lookup } from './bulk/lookup.js';
export type { RecordStrategy } from './bulk/record-bits.js';
export { Engine } from './engine.js';
export type {
  ErrorCode,
  ErrorDetail,
  UpdateErrorDetail,
  UpdateFailedDetail,
  UpdateRule,
  WorldErrorDetail,
  WorldRule,
} from './errors.js';
export { ErrorCodes, isPalisadeError, PalisadeError, UPDATE_RULES, WORLD_RULES } from './errors.js';
export type { AllowReason, Decision, DenyReason } from './evaluate/decision.js';
export type { EvaluatorState, TableState } from './evaluate/state.js';
export type { ColumnExplanation, ColumnPath } from './explain/columns.js';
export type { GrantDescription, RoleSummary } from './explain/describe.js';
export type { ExplainPath, Explanation, RoleMatch } from './explain/explain.js';
export type { TablePrivilege, UserPrivileges } from './explain/privileges.js';
export type { BuIdx, PrincipalIdx, RecordIdx, RoleIdx, TableIdx, UserIdx } from './ids.js';
export type { WorldModel } from './model/world-model.js';
export { Depth, Privilege } from './privileges.js';
export { UPDATE_OPS } from './update/apply.js';
export type { UpdateOp, UpdateOpName } from './update/ops.js';
export type {
  BusinessUnitInput,
  ColumnPermission,
  DepthName,
  FieldRight,
  FieldSecurityProfileInput,
  FieldShareInput,
  HierarchyModel,
  HierarchySettingsInput,
  PositionInput,
  PrivilegeName,
  RecordInput,
  RoleAssignmentInput,
  RoleInheritance,
  RoleInput,
  SettingsInput,
  ShareInput,
  ShareRight,
  TableInput,
  TableOwnership,
  TeamInput,
  TeamType,
  UserInput,
  WorldInput,
} from './world/format.js';
export { ACCESS_RIGHT_BITS, DEPTHS, ORGANIZATION, PRIVILEGES } from './world/format.js';
export { loadWorld } from './world/load.js';
