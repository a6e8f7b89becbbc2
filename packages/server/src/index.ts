export type { Output } from './cli/run.js';
export { runCli, SAMPLE_WORLD } from './cli/run.js';
export type { ServerConfig, SettingName, Source, StoreMode } from './config.js';
export { DEFAULT_DRAIN_TIMEOUT_MS, describeConfig, resolveConfig, SETTINGS } from './config.js';
export type { ErrorBody, ErrorDetails, FailureCause, ServerErrorCode } from './errors.js';
export {
  FailureCauses,
  fromEngineError,
  isServerError,
  ServerError,
  ServerErrorCodes,
  STATUS_OF_CODE,
  serverError,
} from './errors.js';
export type {
  BatchAnswer,
  DecisionAnswer,
  ErrorInfo,
  Evaluator,
  FilterSpecAnswer,
  LookupAnswer,
  LookupFormat,
  LookupRequest,
  Question,
  RecordInput,
  RecordQuestion,
  ServiceStats,
} from './evaluator.js';
export { DEFAULT_PAGE_SIZE, decisionAnswer, InlineEvaluator } from './evaluator.js';
export type { ApiKey, ApiKeyEntry, Scope } from './keys.js';
export { allows, generateKey, KeyStore, parseKeysFile, SCOPES, sha256 } from './keys.js';
export type { RunningServer } from './main.js';
export { serve, serveUntilSignal } from './main.js';
export { AT_LEAST_REVISION_HEADER, REVISION_HEADER } from './plugins/revisions.js';
export type { PoolOptions } from './pool/pool-evaluator.js';
export {
  DEFAULT_COLUMN_POOL_THRESHOLD,
  DEFAULT_FILTER_POOL_THRESHOLD,
  DEFAULT_POOL_QUEUE_PER_THREAD,
  DEFAULT_POOL_TASK_TIMEOUT_MS,
  DEFAULT_POOL_THRESHOLD,
  defaultPoolMaxQueue,
  PoolEvaluator,
} from './pool/pool-evaluator.js';
export type { EmbeddedPostgresOptions, EmbeddedPostgresServer } from './postgres/embedded.js';
export {
  DATABASE_UNAVAILABLE,
  DatabaseUnavailableError,
  releaseEmbeddedSignalHooks,
  startEmbeddedPostgres,
} from './postgres/embedded.js';
export type { ReplicaOptions, WriteResult } from './replica.js';
export { DEFAULT_CATCH_UP_MS, DEFAULT_REVISION_WAIT_MS, Replica } from './replica.js';
export { PRIVILEGE_OF_ACTION } from './routes/authzen.js';
export type { ServerLimits } from './routes/options.js';
export { DEFAULT_LIMITS } from './routes/options.js';
export type { LoggerOptions, ServerOptions } from './server.js';
export { buildServer } from './server.js';
export type { Change, ChangeAuthor } from './store/changes.js';
export {
  appendChange,
  CHANGES_CHANNEL,
  isImportChange,
  lastImportRevision,
  lockForWrite,
  readChanges,
} from './store/changes.js';
export type { CompactResult } from './store/compact.js';
export { compact } from './store/compact.js';
export type { CurrentWorld, ExportFileResult } from './store/export.js';
export { currentWorld, exportWorld, exportWorldFile } from './store/export.js';
export type { ImportOptions, ImportResult } from './store/import.js';
export { IMPORT_OP, importWorld } from './store/import.js';
export type { ServingWorld, StoredWorld } from './store/load.js';
export { loadServing, loadStore, readRevision } from './store/load.js';
export type { MigrationResult } from './store/migrate.js';
export { migrate, SCHEMA_VERSION } from './store/migrate.js';
export type { Migration } from './store/migrations/index.js';
export { MIGRATIONS } from './store/migrations/index.js';
export { CHANGES_TABLE, DEFAULT_SCHEMA, MIGRATIONS_TABLE } from './store/names.js';
export type { ChangeListener, Store, StoreOptions } from './store/open.js';
export { DEFAULT_DATA_DIR, describeDatabaseUrl, openStore } from './store/open.js';
export type { WorldFileFormat } from './store/world-file.js';
export { arrayHeader, mapHeader, worldFileFormat, writeWorldFile } from './store/world-file.js';
export type { WorldSource } from './store/world-source.js';
export { readWorldFile, readWorldSource } from './store/world-source.js';
export type { Wire } from './wire.js';
export {
  decodeMsgpack,
  encodeMsgpack,
  indexesIn,
  indexesOut,
  JSON_TYPE,
  MSGPACK_TYPE,
  MSGPACK_TYPES,
  negotiate,
} from './wire.js';
export { authorizeWrite } from './write-auth.js';
