// Writes <results>.html and <results>-<chart>.svg beside a results JSON (bench/results/).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chartsFor, type ResultsLike } from './charts.js';
import { reportHtml } from './html.js';

interface MachineLike {
  cpuModel?: string;
  cores?: number;
  loadAverage?: number[];
}

export function writeReport(jsonFile: string, r: ResultsLike & { machine?: MachineLike }): string[] {
  const base = jsonFile.replace(/\.json$/, '');
  const charts = chartsFor(r);
  const m = r.machine;
  const machine = m ? `${m.cpuModel ?? '?'}, ${m.cores ?? '?'} cores, load average at start ${(m.loadAverage ?? []).map((x) => x.toFixed(1)).join(' / ')}` : undefined;
  const written: string[] = [];
  for (const c of charts) {
    const f = `${base}-${c.id}.svg`;
    writeFileSync(f, `${c.svg}\n`);
    written.push(f);
  }
  const html = `${base}.html`;
  writeFileSync(html, reportHtml(r, charts, { title: `zookooper bench: ${r.name ?? path.basename(base)}`, resultsFile: path.basename(jsonFile), ...(machine ? { machine } : {}) }));
  return [html, ...written];
}

/** Markdown image links (relative to bench/) to a run's charts, for the README's charts section. */
export function readmeChartsMarkdown(jsonFileInBench: string, r: ResultsLike): string {
  const base = jsonFileInBench.replace(/\.json$/, '');
  const charts = chartsFor(r);
  const lines = [`Charts of \`${jsonFileInBench}\` (\`${r.command ?? '?'}\`, ${r.date?.slice(0, 16).replace('T', ' ') ?? '?'} UTC; full report: \`${base}.html\`):`, ''];
  for (const c of charts) lines.push(`![${c.title}](${base}-${c.id}.svg)`);
  return lines.join('\n');
}

/** Replaces the <!-- charts:start --> ... <!-- charts:end --> block of bench/README.md. */
export function updateReadmeCharts(readme: string, markdown: string): void {
  const start = '<!-- charts:start -->';
  const end = '<!-- charts:end -->';
  const text = readFileSync(readme, 'utf8');
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${readme} has no ${start} ... ${end} section`);
  writeFileSync(readme, `${text.slice(0, a + start.length)}\n${markdown}\n${text.slice(b)}`);
}
