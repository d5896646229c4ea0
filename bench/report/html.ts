// The self-contained HTML report: every chart's SVG inline, the run's facts as text, no external
// reference (no script, stylesheet, font or image URL), so the file opens anywhere offline.
import { escapeXml } from './svg.js';
import type { Chart, ResultsLike } from './charts.js';

export interface ReportFacts {
  title: string;
  resultsFile: string;
  machine?: string;
}

export function reportHtml(r: ResultsLike, charts: Chart[], facts: ReportFacts): string {
  const rows = [
    ['command', r.command ?? '?'],
    ['date', r.date ?? '?'],
    ['machine', facts.machine ?? '?'],
    ['data', facts.resultsFile],
  ];
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeXml(facts.title)}</title>`,
    '<style>body{font-family:sans-serif;margin:24px;max-width:1600px}section{display:inline-block;margin:8px;vertical-align:top}td{padding:2px 10px 2px 0}</style>',
    '</head><body>',
    `<h1>${escapeXml(facts.title)}</h1>`,
    `<table>${rows.map(([k, v]) => `<tr><td><b>${escapeXml(k!)}</b></td><td>${escapeXml(v!)}</td></tr>`).join('')}</table>`,
    '<p>Figures from a shared machine (see the load average in the JSON): read ratios with the CPU columns of the results, not as absolutes.</p>',
    charts.length === 0 ? '<p>No load or watch figures in this results file.</p>' : '',
    // Each SVG carries its own title: no heading repeats it.
    ...charts.map((c) => `<section id="${escapeXml(c.id)}" title="${escapeXml(c.title)}">\n${c.svg}\n</section>`),
    '</body></html>',
    '',
  ].join('\n');
}
