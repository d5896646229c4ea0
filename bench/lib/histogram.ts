// Latency histograms (hdr-histogram-js) recorded in microseconds, shipped between processes as
// compressed base64 and merged in the orchestrator.
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

export function newHistogram(): Histogram {
  // 1 µs .. 120 s, 3 significant digits: enough for p999 of a saturated server.
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(s: string): Histogram {
  return hdr.decodeFromCompressedBase64(s);
}

export interface LatencySummaryMs {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  count: number;
}

export function summarize(h: Histogram): LatencySummaryMs {
  const ms = (us: number): number => Math.round(us) / 1000;
  return {
    p50: ms(h.getValueAtPercentile(50)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
    mean: ms(h.mean),
    count: h.totalCount,
  };
}

/** Percentiles kept in the results JSON for latency-distribution charts (bench/report/). */
export const curvePercentiles = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100] as const;

/**
 * [percentile, ms] at curvePercentiles: the histogram's distribution, small enough for the JSON.
 * Every point, p100 included, is getValueAtPercentile (a bucket's highest equivalent value): the
 * raw maxValue can be below the p99.99 bucket's top, which would draw a curve that goes down.
 */
export function latencyCurve(h: Histogram): [number, number][] {
  return curvePercentiles.map((p) => [p, Math.round(p === 0 ? h.minNonZeroValue : h.getValueAtPercentile(p)) / 1000]);
}

/** A histogram from ZkDriver's sparse "µs:count,..." pairs. */
export function histogramFromSparse(s: string): Histogram {
  const h = newHistogram();
  for (const pair of s.split(',').filter(Boolean)) {
    const [v, c] = pair.split(':').map(Number);
    if (Number.isFinite(v) && Number.isFinite(c)) h.recordValueWithCount(v!, c!);
  }
  return h;
}
