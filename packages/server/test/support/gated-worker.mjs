// The real pool worker, except that every range waits until the test opens the gate (any message on
// the BroadcastChannel below): ranges held in flight on cue, so a test can fill the pool's queue.
import { BroadcastChannel } from 'node:worker_threads';
import answerRange from '../../src/pool/worker.mjs';

const gate = new BroadcastChannel('palisade-test-pool-gate');
gate.unref();
const opened = new Promise((resolve) => {
  gate.onmessage = () => resolve();
});

export default async function gated(task) {
  await opened;
  return answerRange(task);
}
