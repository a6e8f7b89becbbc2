import { readdirSync, readFileSync } from 'node:fs';
import type { UpdateOp, WorldInput } from '@palisade/core';

/** The fixture formats of fixtures/README.md. */
export type FixtureRecord = string | { id?: string; ownerId?: string; owningBusinessUnitId?: string };

export interface ExpectedDecision {
  allowed: boolean;
  reason: string;
  missing?: string;
  code?: string;
}

export interface CheckCase extends ExpectedDecision {
  description?: string;
  user: string;
  table: string;
  privilege: string;
  record: FixtureRecord;
}

export interface AccessRightsCase {
  description?: string;
  user: string;
  table: string;
  record: string;
  rights?: string[];
  /** The mask as a number, worked out from the spec's bit values (not the code's constants). */
  mask?: number;
  code?: string;
}

/** columnAccess(user, table, record, column): the three booleans, or the error code it throws. */
export interface ColumnCase {
  description?: string;
  user: string;
  table: string;
  record: FixtureRecord;
  column: string;
  read?: boolean;
  create?: boolean;
  update?: boolean;
  code?: string;
}

/**
 * hiddenColumns(user, table, records): per record, the secured columns to null out before showing
 * it in a list (any order), or the error code it throws.
 */
export interface HiddenColumnsCase {
  description?: string;
  user: string;
  table: string;
  records: string[];
  hidden?: string[][];
  code?: string;
}

/**
 * One step of a scenario's `steps`: updates applied (after the steps before it), then decisions
 * worked out for the world they leave.
 */
export interface UpdateStep {
  description: string;
  apply: UpdateOp[];
  checks?: CheckCase[];
  accessRights?: AccessRightsCase[];
}

export type CompositeCase = ExpectedDecision & { description?: string; user: string } & (
    | { action: 'create'; table: string; ownerId?: string; businessUnitId?: string }
    | { action: 'assign'; table: string; record: string; newOwnerId?: string }
    | { action: 'share'; table: string; record: string; rights: string[] }
    | { action: 'associate'; childTable: string; child: string; parentTable: string; parent: string }
  );

export interface Scenario {
  name: string;
  description: string;
  world: WorldInput;
  checks: CheckCase[];
  accessRights: AccessRightsCase[];
  composite: CompositeCase[];
  columns: ColumnCase[];
  hiddenColumns: HiddenColumnsCase[];
  steps: UpdateStep[];
}

export interface InvalidWorld {
  name: string;
  description: string;
  rule: string;
  kind: string;
  /** Acceptable (path, id) pairs: when several items can fairly be blamed, any one of them. */
  blame: { path: string; id: string | null }[];
  world: unknown;
}

const FIXTURES = new URL('../../../../fixtures/', import.meta.url);

function readJson(url: URL): unknown {
  return JSON.parse(readFileSync(url, 'utf8'));
}

function jsonFiles(folder: string): string[] {
  return readdirSync(new URL(folder, FIXTURES))
    .filter((f) => f.endsWith('.json'))
    .sort();
}

export function sampleWorld(): WorldInput {
  return readJson(new URL('worlds/sample.json', FIXTURES)) as WorldInput;
}

export function loadScenarios(): Scenario[] {
  return jsonFiles('scenarios/').map((file) => {
    const url = new URL(`scenarios/${file}`, FIXTURES);
    const raw = readJson(url) as Partial<Scenario> & { worldFile?: string };
    const world = raw.worldFile === undefined ? raw.world : (readJson(new URL(raw.worldFile, url)) as WorldInput);
    if (world === undefined) throw new Error(`scenario ${file} has neither world nor worldFile`);
    return {
      name: file.replace(/\.json$/, ''),
      description: raw.description ?? '',
      world,
      checks: raw.checks ?? [],
      accessRights: raw.accessRights ?? [],
      composite: raw.composite ?? [],
      columns: raw.columns ?? [],
      hiddenColumns: raw.hiddenColumns ?? [],
      steps: raw.steps ?? [],
    };
  });
}

export function loadInvalidWorlds(): InvalidWorld[] {
  return jsonFiles('invalid/').map((file) => {
    const raw = readJson(new URL(`invalid/${file}`, FIXTURES)) as Omit<InvalidWorld, 'name' | 'blame'> & {
      id: string | null;
      ids?: (string | null)[];
      path?: string;
      paths?: string[];
    };
    const paths = raw.paths ?? (raw.path === undefined ? [] : [raw.path]);
    return {
      name: file.replace(/\.json$/, ''),
      description: raw.description,
      rule: raw.rule,
      kind: raw.kind,
      blame: paths.map((path, i) => ({ path, id: raw.ids?.[i] ?? raw.id })),
      world: raw.world,
    };
  });
}

/** Worlds that must load: each file is `{ description, world }`. */
export function loadValidWorlds(): { name: string; world: unknown }[] {
  return jsonFiles('valid/').map((file) => ({
    name: file.replace(/\.json$/, ''),
    world: (readJson(new URL(`valid/${file}`, FIXTURES)) as { world: unknown }).world,
  }));
}
/** Privilege names in mask order, as fixtures list rights. */
export const RIGHTS_ORDER = ['create', 'read', 'write', 'delete', 'append', 'appendTo', 'assign', 'share'] as const;
