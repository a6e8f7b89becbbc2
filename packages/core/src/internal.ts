/**
 * What worker threads need to answer questions from shared memory: the engine posts
 * `engine.sharedState()`, a worker builds an `Evaluator` from it and runs the bulk loops. Not a
 * stable API: it follows the engine's internals.
 */
export { type CheckColumns, checkColumns, type GatherMode } from './bulk/batch.js';
export type { RowTest } from './bulk/filter.js';
export { toBitmask } from './bulk/filter.js';
export { filterRange } from './bulk/filter-job.js';
export { kernelMarked, kernelRows, kernelTests, type RowKernelUse, useRowKernels } from './bulk/kernel/rows-kernel.js';
export { GRANT_STRIDE } from './compile/grant-tables.js';
export { Evaluator } from './evaluate/evaluator.js';
export type { EvaluatorState, TableState } from './evaluate/state.js';
export { ROW_STRIDE, RowField } from './model/records.js';
export { decodeWorld, isJsonWorld } from './world/decode.js';
export { isPlainObject } from './world/reader.js';
