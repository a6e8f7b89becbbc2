/**
 * Names of the store's schema and tables. Every world table lives in one PostgreSQL schema
 * (default `palisade`), so a database shared with other software keeps them apart; every statement
 * names its tables schema-qualified and never relies on `search_path`.
 */

/** The schema the store uses unless told otherwise. */
export const DEFAULT_SCHEMA = 'palisade';

/** Versions of the schema this code has applied, one row each (migrations.ts). */
export const MIGRATIONS_TABLE = 'palisade_migrations';
/** The change log: one row per committed change, `revision` increasing (migrations/001-world.ts). */
export const CHANGES_TABLE = 'palisade_changes';

/**
 * The world tables, parents before children. Import truncates them in one statement and load locks
 * them in one statement, both in this order, so the two never wait on each other in a cycle.
 */
export const WORLD_TABLES = [
  'settings',
  'tables',
  'secured_columns',
  'hierarchy_excluded_tables',
  'business_units',
  'positions',
  'principals',
  'users',
  'team_members',
  'roles',
  'role_privileges',
  'role_assignments',
  'records',
  'shares',
  'field_security_profiles',
  'field_security_profile_members',
  'field_permissions',
  'field_shares',
] as const;

export type WorldTable = (typeof WORLD_TABLES)[number];

/** `name` as a quoted SQL identifier. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `schema.table`, both quoted. */
export function qualified(schema: string, table: string): string {
  return `${ident(schema)}.${ident(table)}`;
}

/** Every world table of `schema`, qualified, comma-separated, in `WORLD_TABLES` order. */
export function worldTableList(schema: string): string {
  return WORLD_TABLES.map((table) => qualified(schema, table)).join(', ');
}

/** The change-log entry an import appends: a follower that reads it reloads the whole world. */
export const IMPORT_OP = 'importWorld';
