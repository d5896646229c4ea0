// node dist/bench/report.js bench/results/<file>.json [...]: (re)writes the HTML report and SVG
// charts of existing results files, as `npm run bench` does for a new run.
import { readFileSync } from 'node:fs';
import { writeReport } from './report/write.js';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node dist/bench/report.js bench/results/<file>.json [...]');
  process.exit(2);
}
for (const f of files) {
  const written = writeReport(f, JSON.parse(readFileSync(f, 'utf8')) as Parameters<typeof writeReport>[1]);
  console.log(`${f}: ${written.join(', ')}`);
}
