import { parentPort, workerData } from 'node:worker_threads';
import { type CheckColumns, checkColumns, Evaluator, type EvaluatorState } from '@palisade/core/internal';

// Answers batches from the engine's shared memory: built once from the posted state, never copied.
const evaluator = new Evaluator(workerData as EvaluatorState);
parentPort?.on('message', (columns: CheckColumns) => {
  const out = new Uint8Array(columns.users.length);
  checkColumns(evaluator, columns, out);
  parentPort?.postMessage(out);
});
