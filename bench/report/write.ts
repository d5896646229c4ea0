// Writes <results>.html and <results>-<chart>.svg beside a results JSON (bench/results/).
import { writeFileSync } from 'node:fs';
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
