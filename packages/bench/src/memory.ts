import { Engine } from '@palisade/core';
import { generateWorld, type WorldShape } from './generate/world.js';

/** Heap plus off-heap (typed arrays, roaring's native memory) after a full collection. */
function used(): number {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('run with --expose-gc to measure memory');
  collect();
  collect();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** Builds an engine and measures its load + compile time and the memory it holds (the world input excluded). */
export function engineMemory(build: () => Engine): { engine: Engine; compileMs: number; bytes: number } {
  const before = used();
  const started = performance.now();
  const engine = build();
  const compileMs = performance.now() - started;
  return { engine, compileMs, bytes: used() - before };
}

/**
 * The memory `touch` leaves behind once its garbage is collected: what an engine builds on first
 * use and keeps (per-table record indexes, their bitmaps, the user id table).
 */
export function retainedBy(touch: () => void): number {
  const before = used();
  touch();
  return used() - before;
}

/**
 * What a server holds after its first bulk queries: one lookup of every table for the first
 * `users` users (each table's record index and the bitmaps those users' queries make) and the
 * user id table that `userIndexes` builds.
 */
export function buildLazyIndexes(engine: Engine, users = 8): void {
  const ids = engine.model.principals.flatMap((principal, i) =>
    principal !== undefined && engine.model.isUser(i) ? [principal.id] : [],
  );
  engine.userIndexes(ids);
  for (const table of engine.model.tables) {
    if (table === undefined) continue;
    for (const id of ids.slice(0, users)) engine.lookup(id, table.name, 'read');
  }
}

/**
 * Memory per record and per user as slopes: worlds that differ only in record count (or user
 * count) are compiled and the difference divided, so fixed costs fall out. `lazy` is the same
 * slopes with the lazily built indexes made (`buildLazyIndexes`).
 */
export function memoryPerItem(shape: WorldShape): {
  perRecord: number;
  perUser: number;
  lazy: { perRecord: number; perUser: number };
} {
  const base = { ...shape, users: Math.min(shape.users, 10_000), records: Math.min(shape.records, 100_000) };
  const measure = (s: WorldShape) => {
    const world = generateWorld(s);
    const { engine, bytes } = engineMemory(() => Engine.fromWorld(world));
    return { compiled: bytes, lazy: bytes + retainedBy(() => buildLazyIndexes(engine)) };
  };
  const baseBytes = measure(base);
  const moreRecords = measure({ ...base, records: base.records * 2 });
  const moreUsers = measure({ ...base, users: base.users * 2 });
  const slope = (which: 'compiled' | 'lazy') => ({
    perRecord: (moreRecords[which] - baseBytes[which]) / base.records,
    perUser: (moreUsers[which] - baseBytes[which]) / base.users,
  });
  return { ...slope('compiled'), lazy: slope('lazy') };
}
