import { type Engine, ORGANIZATION, PRIVILEGES, type WorldInput } from '@palisade/core';
import { engineSubject, referenceImplementation, type Subject } from './implementations.js';

/** One question every engine (or the reference) can be asked. */
export interface Question {
  text: string;
  ask(subject: Subject): unknown;
}

const SHARE_RIGHTS = PRIVILEGES.filter((p) => p !== 'create');

/** Record ids by table. */
export type IdsByTable = ReadonlyMap<string, ReadonlySet<string>>;

/** The ids of every record of `world`, by table. */
export function recordIds(world: WorldInput): Map<string, Set<string>> {
  const ids = new Map<string, Set<string>>();
  for (const table of world.tables ?? []) ids.set(table.name, new Set());
  for (const record of world.records ?? []) ids.get(record.table)?.add(record.id);
  return ids;
}

/** Adds `more` into `into` (both by table). */
export function addIds(into: Map<string, Set<string>>, more: IdsByTable): void {
  for (const [table, ids] of more) {
    const set = into.get(table) ?? new Set<string>();
    for (const id of ids) set.add(id);
    into.set(table, set);
  }
}

/**
 * Every deterministic question about `world`: check of every user, table, record and privilege,
 * every access mask, create for every owner, assign and share of every record, plus
 * `ghostQuestions` about `ghosts`.
 */
export function questions(world: WorldInput, ghosts: IdsByTable = new Map()): Question[] {
  const qs: Question[] = [];
  const users = userIds(world);
  const owners = ownerIds(world);
  const stored = recordIds(world);
  const bus = (world.businessUnits ?? []).map((bu) => bu.id);
  const tables = world.tables ?? [];
  // arguments that vary with the question's position, so every owner, BU and parent comes up
  let turn = 0;
  const next = <T>(items: readonly T[]): T | undefined => items[turn++ % Math.max(1, items.length)];
  for (const table of tables) {
    const ghostIds = ghosts.get(table.name) ?? new Set<string>();
    const ids = [...(stored.get(table.name) ?? [])].filter((id) => !ghostIds.has(id));
    for (const user of users) {
      for (const id of ids) {
        qs.push(...byId(user, table.name, id));
        const newOwnerId = next(owners);
        if (newOwnerId !== undefined) {
          qs.push({
            text: `canAssign(${user}, ${table.name}, ${id}, to ${newOwnerId})`,
            ask: (s) =>
              s.composite({
                action: 'assign',
                user,
                table: table.name,
                record: id,
                newOwnerId,
                allowed: false,
                reason: '',
              }),
          });
        }
        const parentTable = next(tables);
        const parent = parentTable === undefined ? undefined : next([...(stored.get(parentTable.name) ?? [])]);
        if (parentTable !== undefined && parent !== undefined) {
          qs.push({
            text: `canAssociate(${user}, ${table.name}, ${id}, ${parentTable.name}, ${parent})`,
            ask: (s) =>
              s.composite({
                action: 'associate',
                user,
                childTable: table.name,
                child: id,
                parentTable: parentTable.name,
                parent,
                allowed: false,
                reason: '',
              }),
          });
        }
      }
      for (const ownerId of owners) {
        qs.push({
          text: `canCreate(${user}, ${table.name}, ${ownerId})`,
          ask: (s) => s.composite({ action: 'create', user, table: table.name, ownerId, allowed: false, reason: '' }),
        });
        const businessUnitId = next(bus);
        if (businessUnitId !== undefined) {
          qs.push({
            text: `canCreate(${user}, ${table.name}, ${ownerId}, ${businessUnitId})`,
            ask: (s) =>
              s.composite({
                action: 'create',
                user,
                table: table.name,
                ownerId,
                businessUnitId,
                allowed: false,
                reason: '',
              }),
          });
        }
      }
    }
  }
  qs.push(...ghostQuestions(world, ghosts));
  // every principal that can be named gets a trivial question, so that an id the engine loses or
  // keeps by mistake shows (an unknown owner is an error; organization is never an owner)
  const table = (world.tables ?? []).find((t) => t.ownership === 'user');
  const user = users[0];
  if (table !== undefined && user !== undefined) {
    for (const ownerId of [...owners, ORGANIZATION]) {
      qs.push({
        text: `check(${user}, ${table.name}, read, {ownerId: ${ownerId}})`,
        ask: (s) => s.check(user, table.name, 'read', { ownerId }),
      });
    }
  }
  return qs;
}

/**
 * Questions about record ids the world may not have (deleted, or about to be created): by id
 * (an error when absent) and as inline rows with that id, whose shares must be those of the
 * stored record with that id, if any.
 */
export function ghostQuestions(world: WorldInput, ghosts: IdsByTable): Question[] {
  const qs: Question[] = [];
  const users = userIds(world);
  const owners = ownerIds(world).slice(0, 3);
  for (const table of world.tables ?? []) {
    for (const user of users) {
      for (const id of ghosts.get(table.name) ?? []) {
        qs.push(...byId(user, table.name, id));
        for (const ownerId of owners) {
          const row = { id, ownerId };
          for (const privilege of PRIVILEGES) {
            qs.push({
              text: `check(${user}, ${table.name}, ${privilege}, ${JSON.stringify(row)})`,
              ask: (s) => s.check(user, table.name, privilege, row),
            });
          }
        }
      }
    }
  }
  return qs;
}

function userIds(world: WorldInput): string[] {
  return (world.users ?? []).map((user) => user.id);
}

/** Users, owner and group teams, named default teams. */
function ownerIds(world: WorldInput): string[] {
  return [
    ...userIds(world),
    ...(world.teams ?? []).filter((team) => team.type !== 'access').map((team) => team.id),
    ...(world.businessUnits ?? []).flatMap((bu) => (bu.defaultTeamId === undefined ? [] : [bu.defaultTeamId])),
  ];
}

/** The questions about one record given by id. */
function byId(user: string, table: string, id: string): Question[] {
  const qs: Question[] = PRIVILEGES.map((privilege) => ({
    text: `check(${user}, ${table}, ${privilege}, ${id})`,
    ask: (s: Subject) => s.check(user, table, privilege, id),
  }));
  qs.push({ text: `accessRights(${user}, ${table}, ${id})`, ask: (s) => s.accessRights(user, table, id) });
  qs.push({
    text: `canAssign(${user}, ${table}, ${id})`,
    ask: (s) => s.composite({ action: 'assign', user, table, record: id, allowed: false, reason: '' }),
  });
  qs.push({
    text: `canShare(${user}, ${table}, ${id}, all)`,
    ask: (s) =>
      s.composite({ action: 'share', user, table, record: id, rights: SHARE_RIGHTS, allowed: false, reason: '' }),
  });
  return qs;
}

/** The answers of `engine` to `qs`, as JSON strings. */
export function answers(engine: Engine, qs: readonly Question[]): string[] {
  const subject = engineSubject(engine);
  return qs.map((q) => JSON.stringify(q.ask(subject)));
}

/** The reference evaluator's answers on `world`. */
export function referenceAnswers(world: WorldInput, qs: readonly Question[]): string[] {
  const subject = referenceImplementation.build(world);
  return qs.map((q) => JSON.stringify(q.ask(subject)));
}

/** The first question two answer lists (to the same `qs`) disagree on, described; null when equal. */
export function answerDifference(
  qs: readonly Question[],
  actual: readonly string[],
  expected: readonly string[],
  labels: [string, string] = ['actual', 'expected'],
): string | null {
  for (let i = 0; i < qs.length; i++) {
    if (actual[i] !== expected[i]) {
      return `${qs[i]?.text}\n  ${labels[0]}: ${actual[i]}\n  ${labels[1]}: ${expected[i]}`;
    }
  }
  return null;
}
