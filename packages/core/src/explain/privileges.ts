import { collectGrants, profileInputs } from '../compile/grants.js';
import type { UserIdx } from '../ids.js';
import type { WorldModel } from '../model/world-model.js';
import { PRIVILEGE_COUNT, type Privilege, privilegeName } from '../privileges.js';
import { getOrCreate } from '../util/maps.js';
import type { PrivilegeName } from '../world/format.js';
import { buId, describeGrant, type GrantDescription, idOf } from './describe.js';

export interface TablePrivilege {
  readonly table: string;
  readonly privilege: PrivilegeName;
  readonly grants: readonly GrantDescription[];
}

export interface UserPrivileges {
  readonly user: string;
  readonly businessUnit: string;
  readonly disabled: boolean;
  readonly systemAdministrator: boolean;
  /** Every team the user is a member of, its BU's named default team included. */
  readonly teams: readonly string[];
  /** Each (table, privilege) with at least one grant, in table then privilege order. */
  readonly privileges: readonly TablePrivilege[];
}

export function describeUserPrivileges(model: WorldModel, user: UserIdx): UserPrivileges {
  const sources = collectGrants(model, profileInputs(model, user));
  const bySlot = new Map<number, GrantDescription[]>();
  for (const grant of sources.grants) {
    const slot = grant.table * PRIVILEGE_COUNT + grant.privilege;
    getOrCreate(bySlot, slot, () => []).push(describeGrant(model, grant));
  }
  const privileges = [...bySlot.entries()]
    .sort(([a], [b]) => a - b)
    .map(([slot, grants]) => ({
      table: model.tables[Math.floor(slot / PRIVILEGE_COUNT)]?.name ?? '',
      privilege: privilegeName((slot % PRIVILEGE_COUNT) as Privilege),
      grants,
    }));
  return {
    user: idOf(model, user),
    businessUnit: buId(model, model.principals[user]?.bu ?? -1),
    disabled: model.user(user).disabled,
    systemAdministrator: sources.systemAdministrator,
    teams: sources.teams.map((team) => idOf(model, team)),
    privileges,
  };
}
