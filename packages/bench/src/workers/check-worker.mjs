// A pool worker in miniature: answers a range of a batch from the engine's shared memory (built
// core). Questions and answers are shared too, so a message carries only the range.
import { parentPort, workerData } from 'node:worker_threads';
import { checkColumns, Evaluator } from '@palisade/core/internal';

const evaluator = new Evaluator(workerData);
parentPort.on('message', ({ columns, out, from, to }) => {
  const range = {
    users: columns.users.subarray(from, to),
    tables: columns.tables.subarray(from, to),
    privileges: columns.privileges.subarray(from, to),
    records: columns.records.subarray(from, to),
  };
  checkColumns(evaluator, range, out.subarray(from, to));
  parentPort.postMessage(to - from);
});
