import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { Engine } from '@palisade/core';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleWorld } from './support/scenarios.js';

const world = sampleWorld();
const engine = Engine.fromWorld(world);
const state = engine.sharedState();
const worker = new Worker(new URL('./support/batch-worker.mjs', import.meta.url), {
  workerData: state,
  execArgv: ['--conditions=@palisade/source'],
});
afterAll(() => worker.terminate());

async function askWorker(columns: object): Promise<Uint8Array> {
  worker.postMessage(columns);
  const [answer] = (await once(worker, 'message')) as [Uint8Array];
  return answer;
}

/** Every (user, record, privilege) of the account table as columns. */
function everyQuestion() {
  const t = engine.table('account');
  const users = (world.users ?? []).map((u) => engine.user(u.id));
  const records = (world.records ?? []).filter((r) => r.table === 'account').map((r) => engine.record(t, r.id));
  const items = users.flatMap((u) => records.flatMap((r) => [0, 1, 2, 3, 4, 5, 6, 7].map((p) => [u, r, p] as const)));
  return {
    users: Int32Array.from(items, ([u]) => u),
    tables: Int32Array.from(items, () => t),
    privileges: Uint8Array.from(items, ([, , p]) => p),
    records: Int32Array.from(items, ([, r]) => r),
  };
}

describe('compiled state in shared memory', () => {
  it('lives in SharedArrayBuffers', () => {
    expect(state.userProfile.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(state.profileGrant.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(state.tables[0]?.rows.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(state.tables[0]?.shareNext.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('a worker built from the posted state answers exactly as the engine', async () => {
    const columns = everyQuestion();
    expect(Array.from(await askWorker(columns))).toEqual(Array.from(engine.checkBatch(columns)));
  });

  it('the worker reads the same memory: a change made in place is visible without a new state', async () => {
    const columns = everyQuestion();
    const before = await askWorker(columns);
    // Disabling a user rewrites its flag byte in place; no array is reallocated.
    engine.apply([{ op: 'setUserDisabled', userId: 'u-wendy', disabled: true }]);
    const after = await askWorker(columns);
    expect(Array.from(after)).toEqual(Array.from(engine.checkBatch(columns)));
    expect(Array.from(after)).not.toEqual(Array.from(before));
  });
});
