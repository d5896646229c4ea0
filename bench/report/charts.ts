// Which charts a results JSON gets: throughput and p50/p99 per workload (zookooper beside the
// ZooKeeper baseline), latency distributions from the kept HDR percentiles, watch fan-out curves.
// Reads the shapes of bench/run.ts's Results loosely, so older results files get reports too.
import { barChartSvg, lineChartSvg, type BarSeries, type LineSeries } from './svg.js';

interface Fig {
  system: string;
  workers?: number | null;
  shape: string;
  opsPerSec: number;
  latencyMs: { p50: number; p99: number; p999?: number };
  latencyCurveMs?: [number, number][];
  topology?: string;
}

interface WatchFig {
  system: string;
  workers?: number | null;
  watchers: number;
  allNotifiedP50Ms: number | null;
}

export interface ResultsLike {
  name?: string;
  date?: string;
  command?: string;
  load?: Fig[];
  watch?: WatchFig[];
  ensemble?: { load?: Fig[]; watch?: WatchFig[]; standalone?: Fig[] };
  jute?: { load?: Fig[] };
}

export interface Chart {
  id: string; // file name part: <results>-<id>.svg
  title: string;
  svg: string;
}

const shapeNames: Record<string, string> = { get: 'getData', set: 'setData', mix: '90:10', eph: 'ephemeral' };

/** One group of load figures (a section) as throughput, p50/p99 and distribution charts. */
export function loadCharts(id: string, what: string, figs: Fig[], series: (f: Fig) => string): Chart[] {
  if (figs.length === 0) return [];
  const shapes = [...new Set(figs.map((f) => f.shape))];
  const names = [...new Set(figs.map(series))];
  const pick = (name: string, shape: string): Fig | undefined => figs.find((f) => series(f) === name && f.shape === shape);
  const cats = shapes.map((s) => shapeNames[s] ?? s);
  const bars = (v: (f: Fig) => number): BarSeries[] => names.map((n) => ({ name: n, values: shapes.map((s) => (pick(n, s) === undefined ? null : v(pick(n, s)!))) }));
  const out: Chart[] = [
    { id: `${id}-throughput`, title: `${what}: throughput`, svg: barChartSvg({ title: `${what}: throughput`, unit: 'ops/s', categories: cats, series: bars((f) => f.opsPerSec) }) },
    {
      id: `${id}-latency`,
      title: `${what}: p50 / p99 latency`,
      svg: barChartSvg({
        title: `${what}: p50 / p99 latency`,
        unit: 'ms',
        categories: shapes.flatMap((s) => [`${shapeNames[s] ?? s} p50`, `${shapeNames[s] ?? s} p99`]),
        series: names.map((n) => ({ name: n, values: shapes.flatMap((s) => [pick(n, s)?.latencyMs.p50 ?? null, pick(n, s)?.latencyMs.p99 ?? null]) })),
      }),
    },
  ];
  for (const s of shapes) {
    const lines: LineSeries[] = names.flatMap((n) => {
      const c = pick(n, s)?.latencyCurveMs;
      return c && c.length ? [{ name: n, points: c.filter(([p]) => p > 0 && p < 100) }] : [];
    });
    if (lines.length === 0) continue;
    const title = `${what}: ${shapeNames[s] ?? s} latency distribution`;
    out.push({ id: `${id}-dist-${s}`, title, svg: lineChartSvg({ title, xLabel: 'percentile', yLabel: 'latency ms (log)', series: lines, xScale: 'nines', yScale: 'log' }) });
  }
  return out;
}

export function watchChart(id: string, what: string, figs: WatchFig[]): Chart[] {
  const ok = figs.filter((f) => f.allNotifiedP50Ms !== null);
  if (ok.length === 0) return [];
  const label = (f: WatchFig): string => (f.workers ? `${f.system} w=${f.workers}` : f.system);
  const names = [...new Set(ok.map(label))];
  const series = names.map((n) => ({ name: n, points: ok.filter((f) => label(f) === n).sort((a, b) => a.watchers - b.watchers).map((f): [number, number] => [f.watchers, f.allNotifiedP50Ms!]) }));
  const title = `${what}: time until the last watcher is notified (p50 of rounds)`;
  const sizes = [...new Set(ok.map((f) => f.watchers))].sort((a, b) => a - b);
  if (sizes.length < 2) {
    // One size: a curve would be a lone dot on the frame's edge; bars read better.
    const cats = sizes.map((w) => `${w.toLocaleString('en-US')} watchers`);
    return [{ id, title, svg: barChartSvg({ title, unit: 'ms', categories: cats, series: names.map((n) => ({ name: n, values: sizes.map((w) => ok.find((f) => label(f) === n && f.watchers === w)?.allNotifiedP50Ms ?? null) })) }) }];
  }
  const log = ok.some((f) => f.watchers >= 10 * Math.min(...ok.map((g) => g.watchers)));
  return [{ id, title, svg: lineChartSvg({ title, xLabel: 'watchers', yLabel: 'ms', series, xScale: log ? 'log' : 'linear', yScale: 'linear' }) }];
}

const sysWorkers = (f: Fig): string => (f.workers ? `${f.system} w=${f.workers}` : f.system);

export function chartsFor(r: ResultsLike): Chart[] {
  const out: Chart[] = [];
  out.push(...loadCharts('load', 'Standalone load (zookooper client / ZkDriver)', r.load ?? [], sysWorkers));
  out.push(...watchChart('watch', 'Watch fan-out', r.watch ?? []));
  const j = r.jute?.load ?? [];
  out.push(...loadCharts('jute-standalone', 'Jute, same Java driver: standalone', j.filter((f) => f.topology === 'standalone'), (f) => f.system));
  out.push(...loadCharts('jute-ensemble', 'Jute, same Java driver: 3 servers', j.filter((f) => f.topology === 'ensemble'), (f) => `${f.system} x3`));
  out.push(...loadCharts('ensemble', 'Ensemble load (3 servers)', r.ensemble?.load ?? [], (f) => `${f.system} x3`));
  out.push(...watchChart('ensemble-watch', 'Ensemble watch fan-out', r.ensemble?.watch ?? []));
  out.push(...loadCharts('ensemble-standalone', 'Standalone writes (ensemble section)', r.ensemble?.standalone ?? [], sysWorkers));
  return out;
}
