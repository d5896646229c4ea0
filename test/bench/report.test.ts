// The bench report's SVG charts and HTML (bench/report/): pure functions from figures to text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chartsFor } from '../../bench/report/charts.js';
import { reportHtml } from '../../bench/report/html.js';
import { axisValue, barChartSvg, lineChartSvg, niceTicks } from '../../bench/report/svg.js';
import { juteRatios, type JuteFigures } from '../../bench/jute/index.js';

const count = (s: string, re: RegExp): number => (s.match(re) ?? []).length;

test('a bar chart has one bar per measured value, its category and series labels, and axis values up to the largest value', () => {
  const svg = barChartSvg({
    title: 'throughput <1 KiB>',
    unit: 'ops/s',
    categories: ['getData', 'setData'],
    series: [
      { name: 'zookooper', values: [36_593, 2_047] },
      { name: 'zookeeper', values: [18_232, null] },
    ],
  });
  assert.equal(count(svg, /<rect class="bar"/g), 3);
  assert.match(svg, /n\/a/);
  for (const label of ['getData', 'setData', 'zookooper', 'zookeeper', '36,593', '2,047', '18,232', 'ops/s']) assert.ok(svg.includes(label), label);
  assert.ok(svg.includes('throughput &lt;1 KiB&gt;'), 'the title is escaped');
  const ticks = [...svg.matchAll(/class="tick"[^>]*>([^<]+)</g)].map((m) => Number(m[1]!.replace(/,/g, '')));
  assert.equal(ticks[0], 0);
  assert.ok(ticks.at(-1)! >= 36_593, `top tick ${ticks.at(-1)} covers the largest bar`);
  // Bars go category by category, series within: heights are proportional to the values.
  const heights = [...svg.matchAll(/class="bar"[^>]*height="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.equal(Math.max(...heights), heights[0]);
  assert.ok(Math.abs(heights[0]! / heights[1]! - 36_593 / 18_232) < 0.01);
});

test('a latency-distribution line chart draws one path per series on a percentile axis with log latency ticks', () => {
  const svg = lineChartSvg({
    title: 'dist',
    xLabel: 'percentile',
    yLabel: 'ms',
    xScale: 'nines',
    yScale: 'log',
    series: [
      { name: 'a', points: [[50, 2], [99, 20], [99.9, 150]] },
      { name: 'b', points: [[50, 5], [99, 40]] },
    ],
  });
  assert.equal(count(svg, /<path class="line"/g), 2);
  assert.equal(count(svg, /<circle /g), 5);
  for (const t of ['50%', '99%', '99.9%', '1', '10', '100', '1,000']) assert.ok(svg.includes(`>${t}<`), t);
});

test('axis values and ticks are round and cover the data', () => {
  assert.deepEqual(niceTicks(9), [0, 2, 4, 6, 8, 10]);
  assert.ok(niceTicks(36_593).at(-1)! >= 36_593);
  assert.equal(axisValue(12_345), '12,345');
  assert.equal(axisValue(0.25), '0.25');
  assert.equal(axisValue(2_500_000), '2.5M');
});

const fig = (system: 'zookooper' | 'zookeeper', shape: 'get' | 'set', ops: number, p99: number, cpu: number): JuteFigures =>
  ({ system, shape, topology: 'standalone', servers: 1, opsPerSec: ops, latencyMs: { p50: p99 / 4, p99, p999: p99, max: p99, mean: 0 }, latencyCurveMs: [[50, p99 / 4], [99, p99]], serverCpuUsPerOp: cpu, driverCpuCores: 0.5 }) as unknown as JuteFigures;

test('the report of a results file embeds every chart inline and references nothing outside the file', () => {
  const r = { name: 'x', command: 'npm run bench', date: '2026-12-02', jute: { load: [fig('zookooper', 'get', 30_000, 60, 20), fig('zookeeper', 'get', 15_000, 120, 60)] }, watch: [{ system: 'zookooper', workers: 2, watchers: 1000, allNotifiedP50Ms: 40 }, { system: 'zookooper', workers: 2, watchers: 10_000, allNotifiedP50Ms: 300 }] };
  const charts = chartsFor(r);
  assert.deepEqual(charts.map((c) => c.id), ['watch', 'jute-standalone-throughput', 'jute-standalone-latency', 'jute-standalone-dist-get']);
  const html = reportHtml(r, charts, { title: 't', resultsFile: 'x.json' });
  assert.equal(count(html, /<svg /g), charts.length);
  assert.doesNotMatch(html, /(src|href)=|url\(|<script|<link|@import/i);
  assert.match(html, /npm run bench/);
  assert.equal(count(charts[0]!.svg, /<path class="line"/g), 1, 'two watcher counts: a curve');
});

test('a watch fan-out of one size per system is drawn as bars, one per system', () => {
  const [c] = chartsFor({ watch: [{ system: 'zookooper', watchers: 10_000, allNotifiedP50Ms: 620 }, { system: 'zookeeper', watchers: 10_000, allNotifiedP50Ms: 2_600 }] });
  assert.equal(count(c!.svg, /<rect class="bar"/g), 2);
  assert.ok(c!.svg.includes('10,000 watchers') && c!.svg.includes('2,600') && c!.svg.includes('620'));
});

test('jute ratios pair zookooper and ZooKeeper by topology and shape', () => {
  const rs = juteRatios([fig('zookooper', 'get', 30_000, 60, 20), fig('zookeeper', 'get', 15_000, 120, 60), fig('zookooper', 'set', 5_000, 200, 100)]);
  assert.equal(rs.length, 1);
  assert.equal(rs[0]!.shape, 'get');
  assert.equal(rs[0]!.opsRatio, 2);
  assert.equal(rs[0]!.p99Ratio, 0.5);
  assert.ok(Math.abs(rs[0]!.cpuPerOpRatio - 1 / 3) < 1e-9);
});

test('the latency curve kept in the JSON is the histogram read at fixed percentiles, non-decreasing, min to max', async () => {
  const { histogramFromSparse, latencyCurve, curvePercentiles } = await import('../../bench/lib/histogram.js');
  // ZkDriver's sparse form: 900 requests of 1 ms, 90 of 10 ms, 10 of 100 ms.
  const curve = latencyCurve(histogramFromSparse('1000:900,10000:90,100000:10'));
  assert.deepEqual(curve.map(([p]) => p), [...curvePercentiles]);
  const at = (p: number): number => curve.find(([q]) => q === p)![1];
  assert.ok(Math.abs(at(50) - 1) < 0.01, `p50 ${at(50)}`);
  assert.ok(Math.abs(at(95) - 10) < 0.05, `p95 ${at(95)}`);
  assert.ok(Math.abs(at(99.5) - 100) < 0.5, `p99.5 ${at(99.5)}`);
  assert.ok(Math.abs(at(0) - 1) < 0.01 && Math.abs(at(100) - 100) < 0.5);
  for (let i = 1; i < curve.length; i++) assert.ok(curve[i]![1] >= curve[i - 1]![1]);
});
