export type { Output } from './cli/run.js';
export { runCli, SAMPLE_WORLD } from './cli/run.js';
export type { EmbeddedPostgresOptions, EmbeddedPostgresServer } from './postgres/embedded.js';
export { DATABASE_UNAVAILABLE, DatabaseUnavailableError, startEmbeddedPostgres } from './postgres/embedded.js';
