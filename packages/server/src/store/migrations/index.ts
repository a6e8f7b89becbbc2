import { worldMigration } from './001-world.js';
import { changeLogMigration } from './002-change-log.js';
import type { Migration } from './migration.js';

export type { Migration } from './migration.js';

/** Every migration, in version order. A new one is a new module appended here. */
export const MIGRATIONS: readonly Migration[] = [worldMigration, changeLogMigration];
