import { Bench } from 'tinybench';
import { formatNs } from './harness.js';

export interface Timing {
  name: string;
  /** Median time of one call, formatted. */
  median: string;
  medianNs: number;
  /** Operations (rows, checks, calls) per second at the median. */
  perSecond: number;
  samples: number;
}

/**
 * Times `run` (sync or async) with tinybench and reports the median call; `ops` is how many
 * operations one call performs (rows filtered, checks answered), so throughput is per operation.
 */
export async function timeIt(
  name: string,
  ops: number,
  run: () => void | Promise<void>,
  options: { timeMs?: number } = {},
): Promise<Timing> {
  const bench = new Bench({ time: options.timeMs ?? 1500, warmupTime: 200, warmupIterations: 3 });
  bench.add(name, run);
  await bench.run();
  const result = bench.tasks[0]?.result;
  if (result === undefined || result.state !== 'completed')
    throw new Error(`${name}: ${result?.state ?? 'did not run'}`);
  const medianNs = result.latency.p50 * 1e6;
  const timing = {
    name,
    median: formatNs(medianNs),
    medianNs,
    perSecond: (ops * 1e9) / medianNs,
    samples: result.latency.samplesCount,
  };
  console.log(`  ${name}: ${timing.median} per call`);
  return timing;
}
