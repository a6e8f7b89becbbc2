/**
 * Migration 1: the whole world and the change log. Every loading rule of world-format.md that a
 * row, a reference or a uniqueness can express is a constraint here; docs/store.md lists which
 * rules only the engine checks (cycles, the single BU tree, …) and why.
 *
 * Conventions: ids are non-empty text; the exact words of the world format are CHECKed; every list
 * of the world keeps its order in an `ordinal` column (records: their position within their table,
 * which is the engine's record index), so a world read back compiles to the same dense indexes.
 * Small `*_kind` / `*_ownership` columns repeat an immutable fact of the row they reference, so
 * that a composite foreign key can check a rule that depends on it (a team member's team is a
 * named team, an access team holds no roles, an organization-owned table's records have no owner).
 */
import type { Migration } from './migration.js';

const PRIVILEGES = `'create', 'read', 'write', 'delete', 'append', 'appendTo', 'assign', 'share'`;
const SHARE_RIGHTS = `'read', 'write', 'delete', 'append', 'appendTo', 'assign', 'share'`;
const DEPTHS = `'none', 'basic', 'local', 'deep', 'global'`;
/** Principals that may own records and hold roles: users, owner and group teams, default teams. */
const OWNER_KINDS = `'user', 'owner', 'group', 'default'`;

export const worldMigration: Migration = {
  version: 1,
  name: 'world',
  sql: (s) => `
CREATE TABLE ${s}.settings (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  hierarchy_enabled boolean NOT NULL DEFAULT false,
  hierarchy_model text NOT NULL DEFAULT 'manager' CHECK (hierarchy_model IN ('manager', 'position')),
  -- any integer ≥ 1 the world format allows (a JavaScript number), hence double precision
  hierarchy_depth double precision NOT NULL DEFAULT 3
    CHECK (hierarchy_depth >= 1 AND hierarchy_depth = floor(hierarchy_depth)),
  managers_must_be_in_same_or_parent_business_unit boolean NOT NULL DEFAULT true,
  share_to_previous_owner_on_assign boolean NOT NULL DEFAULT false,
  always_move_record_to_owner_business_unit boolean NOT NULL DEFAULT true
);
INSERT INTO ${s}.settings DEFAULT VALUES;

CREATE TABLE ${s}.tables (
  name text PRIMARY KEY CHECK (name <> ''),
  ownership text NOT NULL CHECK (ownership IN ('user', 'organization')),
  ordinal integer NOT NULL,
  UNIQUE (name, ownership)
);

CREATE TABLE ${s}.secured_columns (
  table_name text NOT NULL REFERENCES ${s}.tables (name) ON DELETE CASCADE,
  column_name text NOT NULL CHECK (column_name <> ''),
  ordinal integer NOT NULL,
  PRIMARY KEY (table_name, column_name)
);

CREATE TABLE ${s}.hierarchy_excluded_tables (
  table_name text PRIMARY KEY REFERENCES ${s}.tables (name) ON DELETE CASCADE,
  ordinal integer NOT NULL
);

CREATE TABLE ${s}.business_units (
  id text PRIMARY KEY CHECK (id <> ''),
  name text,
  parent_id text REFERENCES ${s}.business_units (id),
  ordinal integer NOT NULL,
  CHECK (parent_id <> id)
);
-- bu-single-tree, the part SQL can say: at most one root.
CREATE UNIQUE INDEX business_units_one_root ON ${s}.business_units ((true)) WHERE parent_id IS NULL;

CREATE TABLE ${s}.positions (
  id text PRIMARY KEY CHECK (id <> ''),
  parent_id text REFERENCES ${s}.positions (id),
  ordinal integer NOT NULL,
  CHECK (parent_id <> id)
);

-- The one id space of users, teams and default teams (id-unique), plus the row 'organization'
-- that organization-wide shares name (id-reserved: no other principal may take that id).
-- kind: 'user', a team type ('owner', 'access', 'group'), 'default' (a BU's default team) or
-- 'organization'. ordinal: the position in the world's users or teams list (default teams: their BU's).
CREATE TABLE ${s}.principals (
  id text PRIMARY KEY CHECK (id <> ''),
  kind text NOT NULL CHECK (kind IN ('organization', 'user', 'owner', 'access', 'group', 'default')),
  business_unit_id text REFERENCES ${s}.business_units (id),
  ordinal integer NOT NULL,
  UNIQUE (id, kind),
  CHECK ((kind = 'organization') = (id = 'organization')),
  CHECK ((kind = 'organization') = (business_unit_id IS NULL))
);
CREATE UNIQUE INDEX principals_one_default_team ON ${s}.principals (business_unit_id) WHERE kind = 'default';
INSERT INTO ${s}.principals (id, kind, business_unit_id, ordinal) VALUES ('organization', 'organization', NULL, 0);

CREATE TABLE ${s}.users (
  id text PRIMARY KEY,
  kind text NOT NULL DEFAULT 'user' CHECK (kind = 'user'),
  manager_id text REFERENCES ${s}.users (id),
  position_id text REFERENCES ${s}.positions (id),
  disabled boolean NOT NULL DEFAULT false,
  FOREIGN KEY (id, kind) REFERENCES ${s}.principals (id, kind) ON DELETE CASCADE,
  CHECK (manager_id <> id)
);

-- Members of named teams only: a default team's members are computed (its BU's users).
CREATE TABLE ${s}.team_members (
  team_id text NOT NULL,
  team_kind text NOT NULL CHECK (team_kind IN ('owner', 'access', 'group')),
  user_id text NOT NULL REFERENCES ${s}.users (id) ON DELETE CASCADE,
  ordinal integer NOT NULL,
  PRIMARY KEY (team_id, user_id),
  FOREIGN KEY (team_id, team_kind) REFERENCES ${s}.principals (id, kind) ON DELETE CASCADE
);

CREATE TABLE ${s}.roles (
  id text PRIMARY KEY CHECK (id <> ''),
  name text,
  inheritance text NOT NULL DEFAULT 'direct' CHECK (inheritance IN ('direct', 'team')),
  system_administrator boolean NOT NULL DEFAULT false,
  ordinal integer NOT NULL
);

CREATE TABLE ${s}.role_privileges (
  role_id text NOT NULL REFERENCES ${s}.roles (id) ON DELETE CASCADE,
  table_name text NOT NULL,
  table_ownership text NOT NULL,
  privilege text NOT NULL CHECK (privilege IN (${PRIVILEGES})),
  depth text NOT NULL CHECK (depth IN (${DEPTHS})),
  PRIMARY KEY (role_id, table_name, privilege),
  FOREIGN KEY (table_name, table_ownership) REFERENCES ${s}.tables (name, ownership) ON DELETE CASCADE,
  CHECK (table_ownership = 'user' OR depth IN ('none', 'global'))
);

-- business_unit_id: the BU the user's assignment names explicitly (matrix access); NULL means the
-- user's own BU, following the user when it moves. A team's assignment is always in the team's BU
-- (team-assignment-bu), stored as NULL.
CREATE TABLE ${s}.role_assignments (
  principal_id text NOT NULL,
  principal_kind text NOT NULL CHECK (principal_kind IN (${OWNER_KINDS})),
  role_id text NOT NULL REFERENCES ${s}.roles (id) ON DELETE CASCADE,
  business_unit_id text REFERENCES ${s}.business_units (id),
  ordinal integer NOT NULL,
  FOREIGN KEY (principal_id, principal_kind) REFERENCES ${s}.principals (id, kind) ON DELETE CASCADE,
  CHECK (principal_kind = 'user' OR business_unit_id IS NULL)
);
CREATE UNIQUE INDEX role_assignments_unique
  ON ${s}.role_assignments (principal_id, role_id, coalesce(business_unit_id, ''));

-- owning_business_unit_id is stored resolved (the owner's BU when the world left it out).
-- ordinal: the record's position among its table's records, the engine's record index.
CREATE TABLE ${s}.records (
  table_name text NOT NULL,
  id text NOT NULL CHECK (id <> ''),
  ordinal integer NOT NULL,
  owner_id text,
  owner_kind text CHECK (owner_kind IN (${OWNER_KINDS})),
  owning_business_unit_id text REFERENCES ${s}.business_units (id),
  table_ownership text NOT NULL,
  PRIMARY KEY (table_name, id),
  FOREIGN KEY (table_name, table_ownership) REFERENCES ${s}.tables (name, ownership) ON DELETE CASCADE,
  FOREIGN KEY (owner_id, owner_kind) REFERENCES ${s}.principals (id, kind),
  CHECK ((table_ownership = 'organization') = (owner_id IS NULL)),
  CHECK ((owner_id IS NULL) = (owner_kind IS NULL)),
  CHECK ((owner_id IS NULL) = (owning_business_unit_id IS NULL))
);

-- One row per (record, principal): several shares of a world to the same pair are one, rights ORed.
CREATE TABLE ${s}.shares (
  table_name text NOT NULL,
  record_id text NOT NULL,
  principal_id text NOT NULL REFERENCES ${s}.principals (id) ON DELETE CASCADE,
  rights text[] NOT NULL CHECK (rights <@ ARRAY[${SHARE_RIGHTS}]::text[]),
  ordinal integer NOT NULL,
  table_ownership text NOT NULL DEFAULT 'user' CHECK (table_ownership = 'user'),
  PRIMARY KEY (table_name, record_id, principal_id),
  FOREIGN KEY (table_name, record_id) REFERENCES ${s}.records (table_name, id) ON DELETE CASCADE,
  FOREIGN KEY (table_name, table_ownership) REFERENCES ${s}.tables (name, ownership) ON DELETE CASCADE
);

CREATE TABLE ${s}.field_security_profiles (
  id text PRIMARY KEY CHECK (id <> ''),
  ordinal integer NOT NULL
);

CREATE TABLE ${s}.field_security_profile_members (
  profile_id text NOT NULL REFERENCES ${s}.field_security_profiles (id) ON DELETE CASCADE,
  principal_id text NOT NULL REFERENCES ${s}.principals (id) ON DELETE CASCADE
    CHECK (principal_id <> 'organization'),
  ordinal integer NOT NULL,
  PRIMARY KEY (profile_id, principal_id)
);

CREATE TABLE ${s}.field_permissions (
  profile_id text NOT NULL REFERENCES ${s}.field_security_profiles (id) ON DELETE CASCADE,
  table_name text NOT NULL,
  column_name text NOT NULL,
  permissions text[] NOT NULL CHECK (permissions <@ ARRAY['read', 'create', 'update']::text[]),
  ordinal integer NOT NULL,
  PRIMARY KEY (profile_id, table_name, column_name),
  FOREIGN KEY (table_name, column_name) REFERENCES ${s}.secured_columns (table_name, column_name) ON DELETE CASCADE
);

-- One row per (record, column, principal): duplicates of a world are one, rights united.
CREATE TABLE ${s}.field_shares (
  table_name text NOT NULL,
  record_id text NOT NULL,
  column_name text NOT NULL,
  principal_id text NOT NULL REFERENCES ${s}.principals (id) ON DELETE CASCADE
    CHECK (principal_id <> 'organization'),
  rights text[] NOT NULL CHECK (rights <@ ARRAY['read', 'update']::text[]),
  ordinal integer NOT NULL,
  PRIMARY KEY (table_name, record_id, column_name, principal_id),
  FOREIGN KEY (table_name, record_id) REFERENCES ${s}.records (table_name, id) ON DELETE CASCADE,
  FOREIGN KEY (table_name, column_name) REFERENCES ${s}.secured_columns (table_name, column_name) ON DELETE CASCADE
);

-- The change log. Every committed change appends one row; revision only grows. An import is a
-- change too: its row's ops is [{"op": "importWorld", …}], telling followers to reload everything.
CREATE TABLE ${s}.palisade_changes (
  revision bigserial PRIMARY KEY,
  ops jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
`,
};
