// Tables for the terminal and for bench/README.md.
import type { LoadFigures, MemoryFigures, WatchFigures } from '../load/figures.js';
import { shapeTitles } from '../load/protocol.js';
import type { MicroRow } from '../micro/common.js';

export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]): string => r.map((x, c) => (c === 0 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const out = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) out.push(`| ${r.map(String).join(' | ')} |`);
  return out.join('\n');
}

export const fmt = {
  int: (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '-' : Math.round(x).toLocaleString('en-US')),
  n1: (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(1)),
  n2: (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(2)),
  mib: (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '-' : (x / 1_048_576).toFixed(0)),
  kops: (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '-' : `${(x / 1000).toFixed(1)}k`),
};

export function systemLabel(f: { system: string; workers: number | null }): string {
  return f.workers === null ? f.system : `${f.system} w=${f.workers}`;
}

export const loadHeader = ['system', 'shape', 'ops/s', 'p50 ms', 'p99 ms', 'p999 ms', 'srv µs/op', 'srv cores', 'srv peak MiB', 'gen cores', 'gen µs/op', 'errors'];

export function loadRows(figs: LoadFigures[]): (string | number)[][] {
  return figs.map((f) => [
    systemLabel(f),
    shapeTitles[f.shape],
    fmt.int(f.opsPerSec),
    fmt.n1(f.latencyMs.p50),
    fmt.n1(f.latencyMs.p99),
    fmt.n1(f.latencyMs.p999),
    fmt.n1(f.serverCpuUsPerOp),
    fmt.n2(f.serverCpuCores),
    fmt.mib(f.serverPeakRssBytes),
    fmt.n2(f.driverCpuCores),
    fmt.n1(f.driverCpuUsPerOp),
    f.errors,
  ]);
}

/** One line per figure while the run goes on (the tables come in the summary). */
export function loadLine(f: LoadFigures): string {
  return (
    `${systemLabel(f)} | ${shapeTitles[f.shape]} | ${fmt.int(f.opsPerSec)} ops/s | ` +
    `p50 ${fmt.n1(f.latencyMs.p50)} p99 ${fmt.n1(f.latencyMs.p99)} p999 ${fmt.n1(f.latencyMs.p999)} ms | ` +
    `server ${fmt.n1(f.serverCpuUsPerOp)} µs/op ${fmt.n2(f.serverCpuCores)} cores peak ${fmt.mib(f.serverPeakRssBytes)} MiB | ` +
    `generator ${fmt.n2(f.driverCpuCores)} cores${f.errors ? ` | ${f.errors} errors: ${f.firstError ?? ''}` : ''}`
  );
}

export const watchHeader = ['system', 'watchers', 'all notified p50 ms', 'all notified max ms', 'median watcher ms', 'missing', 'connect s'];

export function watchRows(figs: WatchFigures[]): (string | number)[][] {
  return figs.map((f) => [
    systemLabel(f),
    fmt.int(f.watchers),
    fmt.n1(f.allNotifiedP50Ms),
    fmt.n1(f.allNotifiedMaxMs),
    fmt.n1(f.rounds.length ? f.rounds.map((r) => r.medianWatcherMs).sort((a, b) => a - b)[Math.floor((f.rounds.length - 1) / 2)] : null),
    f.rounds.reduce((s, r) => s + r.missing, 0),
    fmt.n1(f.connectMs / 1000),
  ]);
}

export const memoryHeader = ['system', 'znodes', 'RSS B/znode', 'RSS overhead B/znode', 'tree B/znode', 'tree overhead B/znode', 'populate creates/s', 'restart ms', 'count after restart'];

export function memoryRows(figs: MemoryFigures[]): (string | number)[][] {
  return figs.map((f) => [
    systemLabel(f),
    fmt.int(f.znodes),
    fmt.int(f.bytesPerZnode),
    fmt.int(f.overheadBytesPerZnode),
    fmt.int(f.treeBytesPerZnode),
    fmt.int(f.treeOverheadBytesPerZnode),
    fmt.int(f.createsPerSec),
    fmt.int(f.restartMs),
    f.countAfterRestart === null ? '-' : fmt.int(f.countAfterRestart),
  ]);
}

export const microHeader = ['group', 'task', 'ops/s', 'mean µs', 'p99 µs', 'note'];

export function microRows(rows: MicroRow[]): (string | number)[][] {
  return rows.map((r) => [r.group, r.task, fmt.int(r.opsPerSec), r.meanUs === null ? '-' : r.meanUs.toFixed(2), r.p99Us === null ? '-' : r.p99Us.toFixed(2), r.note ?? '']);
}
