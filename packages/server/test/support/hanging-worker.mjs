// The real pool worker, except that a range of exactly 13 items or rows never returns: a hung
// worker on cue. It keeps writing into its answers while it spins, as a runaway loop would, so a
// region handed to the next request before this thread is gone would show it. Each worker says
// when it is up on the BroadcastChannel below: a replacement takes a while to load the engine.
import { BroadcastChannel } from 'node:worker_threads';
import answerRange from '../../src/pool/worker.mjs';

const up = new BroadcastChannel('palisade-test-pool-up');
up.unref();
up.postMessage('up');

export default function maybeHang(task) {
  const size = task.kind === 'filter' ? task.out.length : task.to - task.from;
  if (size !== 13) return answerRange(task);
  const out = task.kind === 'filter' ? task.out : task.out.subarray(task.from, task.to);
  for (;;) out.fill(task.kind === 'filter' ? 0xffffffff : 0xee);
}
