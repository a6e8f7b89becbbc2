// The real pool worker, except that a range of exactly 13 items makes the thread die: a crash on cue.
import answerRange from '../../src/pool/worker.mjs';

export default function maybeCrash(task) {
  if (task.to - task.from === 13) process.exit(1);
  return answerRange(task);
}
