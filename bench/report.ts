// node dist/bench/report.js bench/results/<file>.json [...]: (re)writes the HTML report and SVG
// charts of existing results files, as `npm run bench` does for a new run; --update-readme also
// embeds the last file's charts in bench/README.md.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './lib/zookooper.js';
import { readmeChartsMarkdown, updateReadmeCharts, writeReport } from './report/write.js';

// --update-readme: also point bench/README.md's charts section at the (last) file's charts.
const updateReadme = process.argv.includes('--update-readme');
const files = process.argv.slice(2).filter((a) => a !== '--update-readme');
if (files.length === 0) {
  console.error('usage: node dist/bench/report.js bench/results/<file>.json [...]');
  process.exit(2);
}
for (const f of files) {
  const written = writeReport(f, JSON.parse(readFileSync(f, 'utf8')) as Parameters<typeof writeReport>[1]);
  console.log(`${f}: ${written.join(', ')}`);
}
if (updateReadme) {
  const last = files.at(-1)!;
  const r = JSON.parse(readFileSync(last, 'utf8')) as Parameters<typeof readmeChartsMarkdown>[1];
  updateReadmeCharts(path.join(repoRoot, 'bench', 'README.md'), readmeChartsMarkdown(path.relative(path.join(repoRoot, 'bench'), path.resolve(last)), r));
}
