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
 * every access mask, create for every owner, assign and share of every record. `ghosts` are
 * record ids to ask about although the world may not have them (deleted, or about to be created):
 * by id (an error when absent) and as inline rows with that id (whose shares must be the stored
 * record's, if any).
 */
export function questions(world: WorldInput, ghosts: IdsByTable = new Map()): Question[] {
  const qs: Question[] = [];
  const users = (world.users ?? []).map((user) => user.id);
  const owners = [
    ...users,
    ...(world.teams ?? []).filter((team) => team.type !== 'access').map((team) => team.id),
    ...(world.businessUnits ?? []).flatMap((bu) => (bu.defaultTeamId === undefined ? [] : [bu.defaultTeamId])),
  ];
  const stored = recordIds(world);
  for (const table of world.tables ?? []) {
    const ids = [...new Set([...(stored.get(table.name) ?? []), ...(ghosts.get(table.name) ?? [])])];
    for (const user of users) {
      for (const id of ids) {
        for (const privilege of PRIVILEGES) {
          qs.push({
            text: `check(${user}, ${table.name}, ${privilege}, ${id})`,
            ask: (s) => s.check(user, table.name, privilege, id),
          });
        }
        qs.push({ text: `accessRights(${user}, ${table.name}, ${id})`, ask: (s) => s.accessRights(user, table.name, id) });
        qs.push({
          text: `canAssign(${user}, ${table.name}, ${id})`,
          ask: (s) => s.composite({ action: 'assign', user, table: table.name, record: id, allowed: false, reason: '' }),
        });
        qs.push({
          text: `canShare(${user}, ${table.name}, ${id}, all)`,
          ask: (s) =>
            s.composite({ action: 'share', user, table: table.name, record: id, rights: SHARE_RIGHTS, allowed: false, reason: '' }),
        });
      }
      for (const id of ghosts.get(table.name) ?? []) {
        for (const ownerId of owners.slice(0, 3)) {
          const row = { id, ownerId };
          for (const privilege of PRIVILEGES) {
            qs.push({
              text: `check(${user}, ${table.name}, ${privilege}, ${JSON.stringify(row)})`,
              ask: (s) => s.check(user, table.name, privilege, row),
            });
          }
        }
      }
      for (const ownerId of owners) {
        qs.push({
          text: `canCreate(${user}, ${table.name}, ${ownerId})`,
          ask: (s) => s.composite({ action: 'create', user, table: table.name, ownerId, allowed: false, reason: '' }),
        });
      }
    }
  }
  // every principal that can be named gets a trivial question, so that an id the engine loses or
  // keeps by mistake shows (an unknown owner is an error; organization is never an owner)
  for (const ownerId of [...owners, ORGANIZATION]) {
    const table = (world.tables ?? []).find((t) => t.ownership === 'user');
    const user = users[0];
    if (table === undefined || user === undefined) break;
    qs.push({
      text: `check(${user}, ${table.name}, read, {ownerId: ${ownerId}})`,
      ask: (s) => s.check(user, table.name, 'read', { ownerId }),
    });
  }
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
