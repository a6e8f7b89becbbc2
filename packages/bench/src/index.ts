export { MapEvaluator } from './baselines/map-evaluator.js';
export { PostgresDataverseBaseline } from './baselines/postgres-dataverse.js';
export { Picker, seededRandom } from './generate/random.js';
export type { WorldShape } from './generate/world.js';
export { generateWorld, PRESETS } from './generate/world.js';
