/** One step of the store's schema. Applied once, in version order, inside a transaction. */
export interface Migration {
  /** 1, 2, 3, …: no gaps; a version, once released, never changes. */
  readonly version: number;
  /** A short name for people (`palisade_migrations.name`). */
  readonly name: string;
  /** The statements, given the store's schema as a quoted identifier. */
  readonly sql: (schema: string) => string;
}
