export type { Output } from './cli/run.js';
export { runCli, SAMPLE_WORLD } from './cli/run.js';
