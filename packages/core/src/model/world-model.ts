import type { BuIdx, PositionIdx, PrincipalIdx, RoleIdx, TableIdx, UserIdx } from '../ids.js';
import { sharedInt32 } from '../util/growable.js';
import type { ColumnPermission, FieldRight, HierarchyModel, TeamType } from '../world/format.js';
import type { RecordStore } from './records.js';
import type { ShareStore } from './shares.js';
import type { TableIndex } from './table-index.js';

export const PrincipalKind = {
  organization: 0,
  user: 1,
  ownerTeam: 2,
  accessTeam: 3,
  groupTeam: 4,
  defaultTeam: 5,
} as const;
export type PrincipalKind = (typeof PrincipalKind)[keyof typeof PrincipalKind];

export const TEAM_KIND_BY_TYPE: Readonly<Record<TeamType, PrincipalKind>> = {
  owner: PrincipalKind.ownerTeam,
  access: PrincipalKind.accessTeam,
  group: PrincipalKind.groupTeam,
};

export interface Settings {
  readonly hierarchy: {
    readonly enabled: boolean;
    readonly model: HierarchyModel;
    readonly depth: number;
    readonly managersMustBeInSameOrParentBusinessUnit: boolean;
    readonly excludedTables: readonly TableIdx[];
  };
  readonly shareToPreviousOwnerOnAssign: boolean;
  readonly alwaysMoveRecordToOwnerBusinessUnit: boolean;
}

export interface BusinessUnit {
  readonly id: string;
  readonly name: string;
  parent: BuIdx | -1;
  readonly children: BuIdx[];
  /** The named default team's principal, or -1 when the BU names none. */
  defaultTeam: PrincipalIdx | -1;
  /** Users whose BU this is: the computed members of its default team. */
  readonly users: Set<UserIdx>;
}

export interface Principal {
  readonly id: string;
  readonly kind: PrincipalKind;
  /** The user's or team's BU; the organization principal has none (-1). */
  bu: BuIdx | -1;
}

export interface UserState {
  disabled: boolean;
  manager: UserIdx | -1;
  position: PositionIdx | -1;
  /** Owner, access and group teams the user is listed in (default teams are computed from `bu`). */
  readonly teams: Set<PrincipalIdx>;
}

export interface RoleAssignment {
  readonly role: RoleIdx;
  /** The anchor BU: for a user the assignment's BU (default the user's), for a team the team's BU. */
  bu: BuIdx;
  /** False when the world named no BU: the anchor is the holder's own BU and follows a user who moves. */
  readonly explicit: boolean;
}

export interface Role {
  readonly id: string;
  readonly name: string;
  readonly inheritance: 'direct' | 'team';
  readonly systemAdministrator: boolean;
  /** Depth per (table, privilege) at `table * PRIVILEGE_COUNT + privilege`; 0 = none. */
  depths: Uint8Array;
}

export interface Table {
  readonly name: string;
  readonly organizationOwned: boolean;
  readonly securedColumns: readonly string[];
  readonly records: RecordStore;
  readonly shares: ShareStore;
  /** Bitmaps of records by BU, owner and share: built on first bulk query (`tableIndex`), then kept current. */
  index: TableIndex | null;
}

export interface FieldSecurityProfile {
  readonly id: string;
  readonly members: Set<PrincipalIdx>;
  /** table → column → bitmask of read 1, create 2, update 4 */
  readonly permissions: Map<TableIdx, Map<string, number>>;
}

export interface FieldShare {
  readonly table: TableIdx;
  readonly record: number;
  readonly column: string;
  readonly principal: PrincipalIdx;
  readonly rights: readonly FieldRight[];
}

export interface Position {
  readonly id: string;
  parent: PositionIdx | -1;
}

export const COLUMN_PERMISSION_BITS: Readonly<Record<ColumnPermission, number>> = { read: 1, create: 2, update: 4 };

/**
 * The world after validation, with every id interned to a dense index. It is the source the
 * compiler reads and the state incremental updates change; it is not read on the check path.
 */
export class WorldModel {
  /** Replaced whole by a settings change (never mutated in place: undo keeps the old object). */
  settings: Settings;
  readonly businessUnits: BusinessUnit[];
  readonly buIndex: Map<string, BuIdx>;
  readonly root: BuIdx;
  readonly positions: Position[];
  readonly positionIndex: Map<string, PositionIdx>;
  readonly principals: Principal[];
  readonly principalIndex: Map<string, PrincipalIdx>;
  /** Per principal index; undefined for non-users. */
  readonly users: (UserState | undefined)[];
  /** Listed members per team principal (default teams have none listed). */
  readonly teamMembers: Map<PrincipalIdx, Set<UserIdx>>;
  readonly tables: Table[];
  readonly tableIndex: Map<string, TableIdx>;
  readonly roles: Role[];
  readonly roleIndex: Map<string, RoleIdx>;
  /** Role assignments per principal. */
  readonly assignments: Map<PrincipalIdx, RoleAssignment[]>;
  readonly fieldSecurityProfiles: FieldSecurityProfile[];
  readonly fieldShares: FieldShare[];
  /**
   * The BU tree in preorder: `buPosition[bu]` is bu's position, and bu's subtree is exactly the
   * positions [buPosition[bu], buSubtreeEnd[bu]). So a deep grant covers one interval of positions.
   * BU indexes themselves never change (records store them); only these arrays follow the tree.
   */
  buPosition: Int32Array;
  buSubtreeEnd: Int32Array;
  /** The BU at each preorder position. */
  buAtPosition: Int32Array;

  constructor(init: {
    settings: Settings;
    businessUnits: BusinessUnit[];
    buIndex: Map<string, BuIdx>;
    root: BuIdx;
    positions: Position[];
    positionIndex: Map<string, PositionIdx>;
    principals: Principal[];
    principalIndex: Map<string, PrincipalIdx>;
    users: (UserState | undefined)[];
    teamMembers: Map<PrincipalIdx, Set<UserIdx>>;
    tables: Table[];
    tableIndex: Map<string, TableIdx>;
    roles: Role[];
    roleIndex: Map<string, RoleIdx>;
    assignments: Map<PrincipalIdx, RoleAssignment[]>;
    fieldSecurityProfiles: FieldSecurityProfile[];
    fieldShares: FieldShare[];
  }) {
    this.settings = init.settings;
    this.businessUnits = init.businessUnits;
    this.buIndex = init.buIndex;
    this.root = init.root;
    this.positions = init.positions;
    this.positionIndex = init.positionIndex;
    this.principals = init.principals;
    this.principalIndex = init.principalIndex;
    this.users = init.users;
    this.teamMembers = init.teamMembers;
    this.tables = init.tables;
    this.tableIndex = init.tableIndex;
    this.roles = init.roles;
    this.roleIndex = init.roleIndex;
    this.assignments = init.assignments;
    this.fieldSecurityProfiles = init.fieldSecurityProfiles;
    this.fieldShares = init.fieldShares;
    this.buPosition = sharedInt32(0);
    this.buSubtreeEnd = sharedInt32(0);
    this.buAtPosition = sharedInt32(0);
    this.indexTree();
  }

  /** Numbers the BU tree in preorder (iteratively: trees may be deep). */
  indexTree(): void {
    const count = this.businessUnits.length;
    this.buPosition = sharedInt32(count);
    this.buSubtreeEnd = sharedInt32(count);
    this.buAtPosition = sharedInt32(count);
    if (count === 0) return;
    let next = 0;
    // Each stack entry is a BU; a negative entry -(bu + 1) marks its subtree as finished.
    const stack: number[] = [this.root];
    while (stack.length > 0) {
      const entry = stack.pop() as number;
      if (entry < 0) {
        this.buSubtreeEnd[-entry - 1] = next;
        continue;
      }
      this.buPosition[entry] = next;
      this.buAtPosition[next] = entry;
      next++;
      stack.push(-entry - 1);
      const children = this.businessUnits[entry]?.children ?? [];
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as number);
    }
  }

  isUser(principal: number): principal is UserIdx {
    return this.principals[principal]?.kind === PrincipalKind.user;
  }

  user(user: UserIdx): UserState {
    return this.users[user] as UserState;
  }

  /** Every team the user is a member of: listed teams plus its BU's named default team. */
  teamsOf(user: UserIdx): PrincipalIdx[] {
    const state = this.user(user);
    const teams = [...state.teams];
    const bu = this.principals[user]?.bu ?? -1;
    const defaultTeam = bu === -1 ? -1 : (this.businessUnits[bu]?.defaultTeam ?? -1);
    if (defaultTeam !== -1) teams.push(defaultTeam);
    return teams.sort((a, b) => a - b);
  }

  /** The users a principal stands for: a user itself, a team's listed members, a default team's BU users. */
  usersOf(principal: PrincipalIdx): Iterable<UserIdx> {
    if (this.isUser(principal)) return [principal];
    const listed = this.teamMembers.get(principal);
    if (listed !== undefined) return listed;
    const bu = this.principals[principal]?.bu ?? -1;
    const unit = bu === -1 ? undefined : this.businessUnits[bu];
    return unit !== undefined && unit.defaultTeam === principal ? unit.users : [];
  }

  /** Whether `bu` is `ancestor` or lies below it. */
  isInSubtree(bu: BuIdx, ancestor: BuIdx): boolean {
    const position = this.buPosition[bu] as number;
    return position >= (this.buPosition[ancestor] as number) && position < (this.buSubtreeEnd[ancestor] as number);
  }

  canHoldRoles(principal: PrincipalIdx): boolean {
    const kind = this.principals[principal]?.kind;
    return (
      kind === PrincipalKind.user ||
      kind === PrincipalKind.ownerTeam ||
      kind === PrincipalKind.groupTeam ||
      kind === PrincipalKind.defaultTeam
    );
  }

  /** Users, owner teams, group teams and named default teams may own records; access teams may not. */
  canOwnRecords(principal: PrincipalIdx): boolean {
    return this.canHoldRoles(principal);
  }
}
