/**
 * The benchmarks' use of the reference evaluator (src/baselines/reference.ts): the in-place world
 * editor must leave the world the test suite's `applyAllToWorld` makes (as far as any decision can
 * tell, and as the engine decides after `apply`), and the verification helpers must sample real
 * rows and throw on a difference.
 */
import { Engine, PRIVILEGES, type UpdateOp, type WorldInput } from '@palisade/core';
import { describe, expect, it } from 'vitest';
import { randomWorld, rng } from '../../core/test/reference/random-world.js';
import { applyAllToWorld, randomOpOfKind } from '../../core/test/support/world-updates.js';
import {
  type Question,
  ReferenceEvaluator,
  sampleRows,
  verifyQuestions,
  verifyRows,
  WorldEditor,
} from '../src/baselines/reference.js';
import { Picker } from '../src/generate/random.js';

const KINDS = [
  'createRecord',
  'grantShare',
  'addTeamMember',
  'removeTeamMember',
  'addRoleAssignment',
  'removeRoleAssignment',
  'setRolePrivileges',
  'createUser',
  'createBusinessUnit',
] as const satisfies readonly UpdateOp['op'][];

/** Every (user, table, privilege, record) of `world`. */
function everyQuestion(world: WorldInput): Question[] {
  const questions: Question[] = [];
  for (const user of world.users ?? [])
    for (const record of world.records ?? [])
      for (const privilege of PRIVILEGES)
        questions.push({ user: user.id, table: record.table, privilege, record: record.id });
  return questions;
}

describe('WorldEditor', () => {
  it.each(Array.from({ length: 25 }, (_, i) => 9_100 + i))(
    'edits a world in place as applyAllToWorld does, and as the engine decides after apply (world %i)',
    (seed) => {
      const world = randomWorld(seed, { hierarchy: true, columnSecurity: true });
      const random = rng(seed ^ 0x2545f491);
      // Valid operations of the supported kinds, each drawn against the world as it is by then.
      const ops: UpdateOp[] = [];
      let expected = world;
      for (let i = 0; i < 16; i++) {
        const op = randomOpOfKind(expected, random, KINDS[Math.floor(random() * KINDS.length)] as UpdateOp['op']);
        if (op === null) continue;
        ops.push(op);
        expected = applyAllToWorld(expected, [op]);
      }
      expect(ops.length).toBeGreaterThan(4);

      const engine = Engine.fromWorld(world);
      for (const op of ops) engine.apply([op]);
      const edited = structuredClone(world);
      new WorldEditor(edited).apply(ops);

      const want = new ReferenceEvaluator(expected);
      const got = new ReferenceEvaluator(edited);
      const mismatches: string[] = [];
      for (const q of everyQuestion(expected)) {
        const answer = want.decide(q.user, q.table, q.privilege, q.record).allowed;
        if (got.decide(q.user, q.table, q.privilege, q.record).allowed !== answer)
          mismatches.push(`editor: ${JSON.stringify(q)}`);
        if (engine.check(q.user, q.table, q.privilege, q.record).allowed !== answer)
          mismatches.push(`engine: ${JSON.stringify(q)}`);
      }
      expect(mismatches).toEqual([]);
    },
  );

  it('refuses operations it does not implement', () => {
    const world = randomWorld(9_001, { hierarchy: false, columnSecurity: false });
    const user = world.users?.[0]?.id as string;
    expect(() => new WorldEditor(world).apply([{ op: 'setUserDisabled', userId: user, disabled: true }])).toThrow(
      /not supported/,
    );
  });
});

describe('sampleRows', () => {
  it('draws distinct ascending rows, half of them allowed ones', () => {
    const allowed = Uint32Array.from({ length: 50 }, (_, i) => 1_000 + i * 7);
    const rows = sampleRows(allowed, 100_000, 24, new Picker(1));
    expect(rows).toHaveLength(24);
    expect([...rows].sort((a, b) => a - b)).toEqual(rows);
    expect(new Set(rows).size).toBe(24);
    const fromAllowed = rows.filter((row) => allowed.includes(row)).length;
    expect(fromAllowed).toBeGreaterThanOrEqual(12);
    expect(rows.every((row) => row >= 0 && row < 100_000)).toBe(true);
  });

  it('copes with no allowed rows and with tables smaller than the sample', () => {
    expect(sampleRows([], 1_000, 10, new Picker(2))).toHaveLength(10);
    expect(sampleRows([1, 2], 5, 10, new Picker(3))).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('verifyQuestions and verifyRows', () => {
  const world = randomWorld(9_002, { hierarchy: true, columnSecurity: false });
  const reference = new ReferenceEvaluator(world);
  const engine = Engine.fromWorld(world);
  const questions = everyQuestion(world).slice(0, 200);

  it('pass when the engine agrees, counting what the reference allowed', () => {
    const result = verifyQuestions(
      'check',
      reference,
      questions,
      (q) => engine.check(q.user, q.table, q.privilege, q.record).allowed,
    );
    const allowed = questions.filter((q) => reference.decide(q.user, q.table, q.privilege, q.record).allowed).length;
    expect(result).toEqual({ checked: questions.length, allowed });
  });

  it('throw on the first difference, naming the question', () => {
    const wrong = questions.findIndex((q) => reference.decide(q.user, q.table, q.privilege, q.record).allowed);
    expect(wrong).toBeGreaterThanOrEqual(0);
    expect(() =>
      verifyQuestions('check', reference, questions, (q, i) =>
        i === wrong
          ? !engine.check(q.user, q.table, q.privilege, q.record).allowed
          : engine.check(q.user, q.table, q.privilege, q.record).allowed,
      ),
    ).toThrow(/check disagrees with the reference evaluator/);
  });

  it('verifyRows asks about the rows given, by id', () => {
    const records = (world.records ?? []).filter((r) => r.table === world.records?.[0]?.table);
    const user = world.users?.[0]?.id as string;
    const question = { user, table: records[0]?.table as string, privilege: 'read' as const };
    const ids = (row: number) => records[row]?.id as string;
    const rows = records.map((_, i) => i);
    const truth = (row: number) => engine.check(user, question.table, 'read', ids(row)).allowed;
    expect(verifyRows('filter', reference, question, rows, ids, truth).checked).toBe(rows.length);
    expect(() => verifyRows('filter', reference, question, rows, ids, (row) => !truth(row))).toThrow(
      /filter disagrees/,
    );
  });
});
