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
 * Memory per record and per user as slopes: worlds that differ only in record count (or user
 * count) are compiled and the difference divided, so fixed costs fall out.
 */
export function memoryPerItem(shape: WorldShape): { perRecord: number; perUser: number } {
  const base = { ...shape, users: Math.min(shape.users, 10_000), records: Math.min(shape.records, 100_000) };
  const measure = (s: WorldShape) => {
    const world = generateWorld(s);
    return engineMemory(() => Engine.fromWorld(world)).bytes;
  };
  const baseBytes = measure(base);
  const perRecord = (measure({ ...base, records: base.records * 2 }) - baseBytes) / base.records;
  const perUser = (measure({ ...base, users: base.users * 2 }) - baseBytes) / base.users;
  return { perRecord, perUser };
}
