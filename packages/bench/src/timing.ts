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

export interface TimeOptions {
  /** Time budget (default 1500 ms). */
  timeMs?: number;
  /**
   * Minimum samples (tinybench's default, 64, unless given): tinybench runs until both the budget
   * and this count are met, so a case of hundreds of milliseconds a call (a compile, the reference
   * evaluator on a large world) asks for fewer.
   */
  iterations?: number;
}

/**
 * Times `run` (sync or async) with tinybench and reports the median call; `ops` is how many
 * operations one call performs (rows filtered, checks answered), so throughput is per operation.
 */
export async function timeIt(
  name: string,
  ops: number,
  run: () => void | Promise<void>,
  options: TimeOptions = {},
): Promise<Timing> {
  const bench = new Bench({
    time: options.timeMs ?? 1500,
    warmupTime: 200,
    warmupIterations: 3,
    ...(options.iterations === undefined ? {} : { iterations: options.iterations }),
  });
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

export interface Case {
  name: string;
  /** Operations one call of `run` performs: each sample spans many, so timer cost stays negligible. */
  opsPerCall: number;
  run: () => void;
  /** Shorter runs for slow baselines. */
  timeMs?: number;
  /** Fewer samples for calls of hundreds of milliseconds (see `TimeOptions.iterations`). */
  iterations?: number;
}

export interface CaseResult {
  name: string;
  /** Median nanoseconds per operation. */
  medianNs: number;
  /** Operations per second at the median. */
  opsPerSecond: number;
  samples: number;
}

/** Times each case in turn, reporting the median per operation (not per call). */
export async function measure(cases: readonly Case[], timeMs = 1500): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const c of cases) {
    const timing = await timeIt(c.name, c.opsPerCall, c.run, {
      timeMs: c.timeMs ?? timeMs,
      ...(c.iterations === undefined ? {} : { iterations: c.iterations }),
    });
    results.push({
      name: c.name,
      medianNs: timing.medianNs / c.opsPerCall,
      opsPerSecond: timing.perSecond,
      samples: timing.samples,
    });
  }
  return results;
}
