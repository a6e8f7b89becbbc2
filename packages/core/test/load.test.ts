import {
  Engine,
  ErrorCodes,
  isPalisadeError,
  loadWorld,
  type PalisadeError,
  WORLD_RULES,
  type WorldErrorDetail,
} from '@palisade/core';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { randomWorld } from './reference/random-world.js';
import { loadInvalidWorlds, loadValidWorlds, sampleWorld } from './support/scenarios.js';

const invalid = loadInvalidWorlds();

function loadError(world: unknown): PalisadeError {
  try {
    loadWorld(world);
  } catch (error) {
    if (isPalisadeError(error)) return error;
    throw error;
  }
  throw new Error('the world loaded');
}

describe('loadWorld rejects a world that breaks a loading rule', () => {
  it('has an invalid-world fixture for every rule of world-format.md', () => {
    const covered = new Set(invalid.map((w) => w.rule));
    expect(WORLD_RULES.filter((rule) => !covered.has(rule))).toEqual([]);
  });

  it.each(invalid.map((w) => [w.name, w] as const))('%s', (_name, fixture) => {
    const error = loadError(fixture.world);
    expect(error.code).toBe(ErrorCodes.WORLD_INVALID);
    const details = error.details as WorldErrorDetail;
    expect(details.rule).toBe(fixture.rule);
    expect(details.kind).toBe(fixture.kind);
    expect(fixture.blame).toContainEqual({ path: details.path, id: details.id });
    // The message names the rule and the path, lowercase first, for people reading logs.
    expect(error.message).toContain(`(${fixture.rule})`);
    expect(error.message).toContain(details.path);
    expect(error.message[0]).toBe(error.message[0]?.toLowerCase());
  });

  it('rejects a world that is not an object', () => {
    for (const world of [null, 42, 'null', [], 'x']) {
      const error = loadError(world);
      expect([ErrorCodes.WORLD_INVALID, ErrorCodes.WORLD_MALFORMED]).toContain(error.code);
    }
  });
});

describe('loadWorld accepts', () => {
  it.each(loadValidWorlds().map((w) => [w.name, w.world] as const))('%s', (_name, world) => {
    expect(() => loadWorld(world)).not.toThrow();
  });

  it('every generated random world', () => {
    for (let seed = 1; seed <= 300; seed++) expect(() => loadWorld(randomWorld(seed)), `seed ${seed}`).not.toThrow();
  });
});

describe('world encodings', () => {
  const world = sampleWorld();
  const reference = Engine.fromWorld(world);
  const sameAnswers = (engine: Engine) => {
    for (const user of world.users ?? []) {
      for (const record of world.records ?? []) {
        const a = engine.check(user.id, record.table, 'read', record.id);
        const b = reference.check(user.id, record.table, 'read', record.id);
        expect(a).toEqual(b);
      }
    }
  };

  it('reads JSON text and JSON bytes', () => {
    const text = JSON.stringify(world);
    sameAnswers(Engine.fromWorld(text));
    sameAnswers(Engine.fromWorld(new TextEncoder().encode(`\n  ${text}`)));
  });

  it('reads standard MessagePack bytes', () => {
    const bytes = new Packr({ useRecords: false }).pack(world);
    sameAnswers(Engine.fromWorld(bytes));
  });

  it('reports unreadable bytes as malformed, naming the encoding', () => {
    const json = loadError(new TextEncoder().encode('{"users": ['));
    expect(json.code).toBe(ErrorCodes.WORLD_MALFORMED);
    expect(json.message).toMatch(/json/);
    // A map16 header announcing five entries, then nothing.
    const msgpack = loadError(Uint8Array.of(0xde, 0x00, 0x05));
    expect(msgpack.code).toBe(ErrorCodes.WORLD_MALFORMED);
  });

  it('keeps nothing of a rejected world: the same input fails the same way twice', () => {
    const broken = { ...world, records: [...(world.records ?? []), { table: 'nope', id: 'x', ownerId: 'y' }] };
    const first = loadError(broken);
    const second = loadError(broken);
    expect(second.details).toEqual(first.details);
  });
});
