/**
 * Migration 2: the change log as the write path (docs/store.md, "Writes"). Each write records who
 * made it (the API key's id, never the key) and the user it was made as; a partial index finds the
 * last import (the snapshot a server starts from) without reading the whole log.
 */
import type { Migration } from './migration.js';

export const changeLogMigration: Migration = {
  version: 2,
  name: 'change-log',
  sql: (s) => `
ALTER TABLE ${s}.palisade_changes
  ADD COLUMN key_id text,
  ADD COLUMN as_user text;

CREATE INDEX palisade_changes_imports ON ${s}.palisade_changes (revision)
  WHERE ops @> '[{"op": "importWorld"}]'::jsonb;
`,
};
