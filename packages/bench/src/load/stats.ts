/**
 * Latency statistics on HDR histograms (hdr-histogram-js): values are recorded in whole
 * microseconds with 3 significant digits, so percentiles are within 0.1% of the exact ones at any
 * scale while the histogram stays a fixed, small array.
 */
import { Int32Histogram, type JsHistogram } from 'hdr-histogram-js';

/** One microsecond to one hour; larger values grow the histogram (autoResize) rather than throw. */
const LOWEST_US = 1;
const HIGHEST_US = 3_600_000_000;
const DIGITS = 3;

export function newHistogram(): JsHistogram {
  const histogram = new Int32Histogram(LOWEST_US, HIGHEST_US, DIGITS);
  histogram.autoResize = true;
  return histogram;
}

/** Records a duration given in milliseconds (the resolution of `performance.now()` and Server-Timing). */
export function recordMs(histogram: JsHistogram, ms: number): void {
  histogram.recordValue(Math.max(LOWEST_US, Math.round(ms * 1000)));
}

/** A distribution's summary, in milliseconds. */
export interface Percentiles {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export const EMPTY_PERCENTILES: Percentiles = { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };

export function percentiles(histogram: JsHistogram): Percentiles {
  if (histogram.totalCount === 0) return EMPTY_PERCENTILES;
  // A percentile is its bucket's highest equivalent value, which can pass the largest value recorded.
  const max = histogram.maxValue;
  const at = (p: number) => Math.min(histogram.getValueAtPercentile(p), max) / 1000;
  return {
    count: histogram.totalCount,
    mean: histogram.mean / 1000,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    max: max / 1000,
  };
}

/** One bar of the latency histogram chart. */
export interface Bucket {
  readonly fromMs: number;
  readonly toMs: number;
  readonly count: number;
}

/**
 * The recorded values in logarithmic buckets (`perDecade` per power of ten): what a latency
 * histogram chart draws. Empty buckets between the smallest and largest value are kept, so the
 * bars sit on an even log axis.
 */
export function logBuckets(histogram: JsHistogram, perDecade = 10): Bucket[] {
  if (histogram.totalCount === 0) return [];
  const counts = new Map<number, number>();
  const iterator = histogram.recordedValuesIterator;
  iterator.reset();
  while (iterator.hasNext()) {
    const value = iterator.next();
    const slot = Math.floor(Math.log10(Math.max(1, value.valueIteratedTo)) * perDecade);
    counts.set(slot, (counts.get(slot) ?? 0) + value.countAtValueIteratedTo);
  }
  const slots = [...counts.keys()];
  const first = Math.min(...slots);
  const last = Math.max(...slots);
  const buckets: Bucket[] = [];
  for (let slot = first; slot <= last; slot++) {
    buckets.push({
      fromMs: 10 ** (slot / perDecade) / 1000,
      toMs: 10 ** ((slot + 1) / perDecade) / 1000,
      count: counts.get(slot) ?? 0,
    });
  }
  return buckets;
}
