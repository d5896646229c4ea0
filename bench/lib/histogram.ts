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
