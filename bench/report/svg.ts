// Small SVG charts for the bench report (no charting dependency): grouped bars and line charts as
// pure functions from data to an SVG string. Everything drawn is text in the SVG (titles, axis
// values, legend), so a test can read it and a browser needs nothing else.

export interface BarSeries {
  name: string;
  values: (number | null)[]; // one per category; null = not measured (no bar, "n/a")
}

export interface BarChart {
  title: string;
  unit: string; // y axis label
  categories: string[];
  series: BarSeries[];
}

export interface LineSeries {
  name: string;
  points: [number, number][]; // [x, y] in data units
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  /** 'nines': x is a percentile drawn as -log10(1 - p/100), the usual latency-distribution axis. */
  xScale: 'linear' | 'log' | 'nines';
  yScale: 'linear' | 'log';
}

export const palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

const W = 760;
const H = 360;
const M = { left: 70, right: 20, top: 40, bottom: 90 };

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A compact axis value: 12,345 / 1.5 / 0.25 / 1.2M. */
export function axisValue(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 10 || v === 0) return String(Math.round(v * 10) / 10);
  return String(+v.toPrecision(2));
}

/** 4-8 round ticks from 0 (or min) to at least max. */
export function niceTicks(max: number, min = 0): number[] {
  const span = max - min;
  if (!(span > 0)) return [min, min + 1];
  const raw = span / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= 6) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.floor(min / step) * step; t < max + step * 0.999; t += step) out.push(+t.toPrecision(12));
  return out;
}

/** Powers of ten covering [min, max] (log axes). */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(Math.max(min, 1e-9)));
  const hi = Math.ceil(Math.log10(Math.max(max, min * 10)));
  const out: number[] = [];
  for (let e = lo; e <= hi; e++) out.push(10 ** e);
  return out;
}

const nines = (p: number): number => -Math.log10(Math.max(1e-6, 1 - Math.min(p, 99.9999) / 100));

function frame(title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    ...body,
    '</svg>',
  ].join('\n');
}

function legend(names: string[], y: number): string[] {
  let x = M.left;
  return names.map((n, i) => {
    const s = `<g class="legend"><rect x="${x}" y="${y - 10}" width="12" height="12" fill="${palette[i % palette.length]}"/><text x="${x + 16}" y="${y}">${escapeXml(n)}</text></g>`;
    x += 26 + n.length * 7;
    return s;
  });
}

export function barChartSvg(c: BarChart): string {
  const values = c.series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const ticks = niceTicks(Math.max(0, ...values));
  const top = ticks.at(-1)!;
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const y = (v: number): number => M.top + plotH - (v / top) * plotH;
  const body: string[] = [];
  for (const t of ticks) {
    body.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#ddd"/>`);
    body.push(`<text class="tick" x="${M.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${axisValue(t)}</text>`);
  }
  body.push(`<text x="16" y="${M.top + plotH / 2}" transform="rotate(-90 16 ${M.top + plotH / 2})" text-anchor="middle">${escapeXml(c.unit)}</text>`);
  const groupW = plotW / Math.max(1, c.categories.length);
  const barW = Math.min(40, (groupW * 0.8) / Math.max(1, c.series.length));
  c.categories.forEach((cat, ci) => {
    const x0 = M.left + ci * groupW + (groupW - barW * c.series.length) / 2;
    c.series.forEach((s, si) => {
      const v = s.values[ci] ?? null;
      const x = x0 + si * barW;
      if (v === null || !Number.isFinite(v)) {
        body.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${y(0) - 4}" text-anchor="middle" font-size="9" fill="#999">n/a</text>`);
        return;
      }
      body.push(
        `<rect class="bar" x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(y(0) - y(v)).toFixed(1)}" fill="${palette[si % palette.length]}"><title>${escapeXml(`${s.name} ${cat}: ${axisValue(v)} ${c.unit}`)}</title></rect>`,
      );
      body.push(`<text class="value" x="${(x + barW / 2 - 1).toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" text-anchor="middle" font-size="9">${axisValue(v)}</text>`);
    });
    body.push(`<text class="category" x="${(M.left + ci * groupW + groupW / 2).toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle">${escapeXml(cat)}</text>`);
  });
  body.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`);
  body.push(...legend(c.series.map((s) => s.name), H - 30));
  return frame(c.title, body);
}

export function lineChartSvg(c: LineChart): string {
  const fx = (x: number): number => (c.xScale === 'nines' ? nines(x) : c.xScale === 'log' ? Math.log10(Math.max(x, 1e-9)) : x);
  const fy = (v: number): number => (c.yScale === 'log' ? Math.log10(Math.max(v, 1e-9)) : v);
  const pts = c.series.flatMap((s) => s.points).filter(([x, v]) => Number.isFinite(x) && Number.isFinite(v) && (c.yScale !== 'log' || v > 0));
  const xs = pts.map(([x]) => x);
  const ys = pts.map(([, v]) => v);
  const xTicks =
    c.xScale === 'nines' ? [0, 50, 90, 99, 99.9, 99.99].filter((p) => p <= Math.max(...xs, 99)) : c.xScale === 'log' ? logTicks(Math.min(...xs, 1), Math.max(...xs, 10)) : niceTicks(Math.max(...xs, 1), Math.min(0, ...xs));
  const yTicks = c.yScale === 'log' ? logTicks(Math.min(...ys, 1), Math.max(...ys, 1)) : niceTicks(Math.max(...ys, 1));
  const [x0, x1] = [fx(xTicks[0]!), fx(xTicks.at(-1)!)];
  const [y0, y1] = [fy(yTicks[0]!), fy(yTicks.at(-1)!)];
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const px = (x: number): number => M.left + ((fx(x) - x0) / (x1 - x0 || 1)) * plotW;
  const py = (v: number): number => M.top + plotH - ((fy(v) - y0) / (y1 - y0 || 1)) * plotH;
  const body: string[] = [];
  for (const t of yTicks) {
    body.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" stroke="#ddd"/>`);
    body.push(`<text class="tick" x="${M.left - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${axisValue(t)}</text>`);
  }
  for (const t of xTicks) {
    body.push(`<line x1="${px(t).toFixed(1)}" x2="${px(t).toFixed(1)}" y1="${M.top}" y2="${M.top + plotH}" stroke="#eee"/>`);
    body.push(`<text class="tick" x="${px(t).toFixed(1)}" y="${M.top + plotH + 16}" text-anchor="middle">${c.xScale === 'nines' ? `${t}%` : axisValue(t)}</text>`);
  }
  body.push(`<rect x="${M.left}" y="${M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  body.push(`<text x="${M.left + plotW / 2}" y="${M.top + plotH + 36}" text-anchor="middle">${escapeXml(c.xLabel)}</text>`);
  body.push(`<text x="16" y="${M.top + plotH / 2}" transform="rotate(-90 16 ${M.top + plotH / 2})" text-anchor="middle">${escapeXml(c.yLabel)}</text>`);
  c.series.forEach((s, si) => {
    const ok = s.points.filter(([x, v]) => Number.isFinite(x) && Number.isFinite(v) && (c.yScale !== 'log' || v > 0));
    if (ok.length === 0) return;
    const color = palette[si % palette.length];
    const d = ok.map(([x, v], i) => `${i === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
    body.push(`<path class="line" d="${d}" fill="none" stroke="${color}" stroke-width="2"><title>${escapeXml(s.name)}</title></path>`);
    for (const [x, v] of ok) body.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(v).toFixed(1)}" r="2.5" fill="${color}"><title>${escapeXml(`${s.name}: ${axisValue(x)} → ${axisValue(v)}`)}</title></circle>`);
  });
  body.push(...legend(c.series.map((s) => s.name), H - 30));
  return frame(c.title, body);
}
