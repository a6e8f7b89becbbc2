import type { Grant } from '../compile/grants.js';
import type { WorldModel } from '../model/world-model.js';
import { depthName } from '../privileges.js';
import type { DepthName } from '../world/format.js';

export interface RoleSummary {
  readonly id: string;
  readonly name: string;
}

/** A grant as people read it: which role, at what depth, anchored where, and through which team. */
export interface GrantDescription {
  readonly role: RoleSummary;
  readonly depth: DepthName;
  /** The anchor BU id; null for the anchorless basic grant a `direct` team role adds. */
  readonly businessUnit: string | null;
  /** `user`: scope userScope(U) (the user, its teams, the organization); `team`: only `team`. */
  readonly scope: 'user' | 'team';
  /** The team whose role this is, or null for a role assigned to the user. */
  readonly team: string | null;
  /** True for the basic grant that a `direct`-inheritance team role gives members in their own right. */
  readonly inherited: boolean;
}

export function describeGrant(model: WorldModel, grant: Grant): GrantDescription {
  const role = model.roles[grant.role];
  return {
    role: { id: role?.id ?? '', name: role?.name ?? '' },
    depth: depthName(grant.depth),
    businessUnit: grant.anchor === -1 ? null : (model.businessUnits[grant.anchor]?.id ?? null),
    scope: grant.scopeTeam === -1 ? 'user' : 'team',
    team: grant.viaTeam === -1 ? null : (model.principals[grant.viaTeam]?.id ?? null),
    inherited: grant.viaTeam !== -1 && grant.scopeTeam === -1,
  };
}

/** "role `Salesperson` at local from `bu-east` (via team `t-1`)" */
export function grantText(grant: GrantDescription): string {
  const from = grant.businessUnit === null ? '' : ` from business unit \`${grant.businessUnit}\``;
  const via =
    grant.team === null
      ? ' assigned to the user'
      : grant.inherited
        ? ` inherited as basic through team \`${grant.team}\``
        : ` held by team \`${grant.team}\``;
  return `role \`${grant.role.name}\` at ${grant.depth}${from}${via}`;
}

export function idOf(model: WorldModel, principal: number): string {
  return model.principals[principal]?.id ?? String(principal);
}

export function buId(model: WorldModel, bu: number): string {
  return model.businessUnits[bu]?.id ?? String(bu);
}
