// A Piscina worker: answers a range of a check batch from shared memory. The engine's compiled
// state arrives once, as workerData; each task names only the shared question and answer columns
// and a range, so nothing is copied per task.
import { workerData } from 'piscina';

const internal = await loadInternal();
const evaluator = new internal.Evaluator(workerData);

export default function answerRange({ columns, out, from, to }) {
  const range = {
    users: columns.users.subarray(from, to),
    tables: columns.tables.subarray(from, to),
    privileges: columns.privileges.subarray(from, to),
    records: columns.records.subarray(from, to),
  };
  internal.checkColumns(evaluator, range, out.subarray(from, to));
  return to - from;
}

/** The built core; or, run from the TypeScript sources (the workspace), through tsx's loader. */
async function loadInternal() {
  // Decide before importing: a failed import is cached, so it cannot be retried after registering.
  if (import.meta.resolve('@palisade/core/internal').endsWith('.ts')) {
    const { register } = await import('tsx/esm/api');
    register();
  }
  return import('@palisade/core/internal');
}
