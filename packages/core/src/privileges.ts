import { ACCESS_RIGHT_BITS, DEPTHS, type DepthName, PRIVILEGES, type PrivilegeName } from './world/format.js';

/** Privileges as dense numbers, in the order of `PRIVILEGES`. */
export const Privilege = {
  create: 0,
  read: 1,
  write: 2,
  delete: 3,
  append: 4,
  appendTo: 5,
  assign: 6,
  share: 7,
} as const satisfies Record<PrivilegeName, number>;
export type Privilege = (typeof Privilege)[PrivilegeName];
export const PRIVILEGE_COUNT = 8;

/** Depths as ordered numbers: none < basic < local < deep < global. */
export const Depth = { none: 0, basic: 1, local: 2, deep: 3, global: 4 } as const satisfies Record<DepthName, number>;
export type Depth = (typeof Depth)[DepthName];

const PRIVILEGE_BY_NAME: ReadonlyMap<string, Privilege> = new Map(PRIVILEGES.map((name, i) => [name, i as Privilege]));
const DEPTH_BY_NAME: ReadonlyMap<string, Depth> = new Map(DEPTHS.map((name, i) => [name, i as Depth]));

export function privilegeFromName(name: string): Privilege | undefined {
  return PRIVILEGE_BY_NAME.get(name);
}

export function depthFromName(name: string): Depth | undefined {
  return DEPTH_BY_NAME.get(name);
}

export function privilegeName(privilege: Privilege): PrivilegeName {
  return PRIVILEGES[privilege] as PrivilegeName;
}

export function depthName(depth: Depth): DepthName {
  return DEPTHS[depth] as DepthName;
}

/** Bit `1 << privilege`: the form share rights are stored in. */
export function privilegeBit(privilege: Privilege): number {
  return 1 << privilege;
}

/** Dataverse AccessRights value per dense privilege. */
export const ACCESS_RIGHT_BY_PRIVILEGE: readonly number[] = PRIVILEGES.map((name) => ACCESS_RIGHT_BITS[name]);

/** The seven privileges a share may carry: all but create. */
export const SHAREABLE_MASK = 0xff & ~privilegeBit(Privilege.create);
