// A Piscina worker: answers a range of a check batch, or filters a range of rows, from shared
// memory. The engine's compiled state arrives as workerData; each task names only shared columns
// (questions and answers, or a filter job) and a range, so nothing is copied per task. After the
// world changed, tasks also carry the new state and its generation (pool-evaluator.ts): the
// worker builds a new evaluator when the generation is not the one it holds.
import { workerData } from 'piscina';

const internal = await loadInternal();
let evaluator = new internal.Evaluator(workerData);
let generation = 0;

export default function answer(task) {
  if (task.generation !== undefined && task.generation !== generation) {
    evaluator = new internal.Evaluator(task.state);
    generation = task.generation;
  }
  return task.kind === 'filter' ? filterRange(task) : checkRange(task);
}

/** Answers items [from, to) of a check batch into the shared answer column. */
function checkRange({ columns, out, from, to }) {
  const range = {
    users: columns.users.subarray(from, to),
    tables: columns.tables.subarray(from, to),
    privileges: columns.privileges.subarray(from, to),
    records: columns.records.subarray(from, to),
  };
  internal.checkColumns(evaluator, range, out.subarray(from, to));
  return to - from;
}

/** Filters rows [from, from + out.length) of a job; writes allowed positions (absolute) at the start of `out`. */
function filterRange({ job, out, from }) {
  const count = internal.filterRange(evaluator, job, from, from + out.length, out);
  for (let k = 0; k < count; k++) out[k] += from;
  return count;
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
