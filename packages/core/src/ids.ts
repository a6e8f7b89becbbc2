/**
 * Dense integer ids. The brand exists only at compile time: a `TableIdx` cannot be passed where a
 * `UserIdx` is expected, and only the engine mints them (through its resolvers).
 */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: { readonly [K in B]: true } };

/** A business unit, 0-based in load order. */
export type BuIdx = Brand<number, 'BuIdx'>;
/**
 * Users, teams and named default teams share one principal space, as their ids do in the world.
 * Index 0 is reserved for the `organization` share recipient.
 */
export type PrincipalIdx = Brand<number, 'PrincipalIdx'>;
/** A principal index known to be a user. */
export type UserIdx = PrincipalIdx & Brand<number, 'UserIdx'>;
export type TableIdx = Brand<number, 'TableIdx'>;
/** A record's index within its table. */
export type RecordIdx = Brand<number, 'RecordIdx'>;
export type RoleIdx = Brand<number, 'RoleIdx'>;
export type PositionIdx = Brand<number, 'PositionIdx'>;
/** Users with the same business unit, role assignments and teams share one profile. */
export type ProfileIdx = Brand<number, 'ProfileIdx'>;

export const ORGANIZATION_PRINCIPAL = 0 as PrincipalIdx;
/** Marks "no such item" in Int32Array columns (no parent, no manager, a deleted row). */
export const NONE = -1;
