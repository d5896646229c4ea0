// The figures every load run reports, for zookooper and for the ZooKeeper baseline alike.
import type { LatencySummaryMs } from '../lib/histogram.js';
import type { Shape } from './protocol.js';

export type System = 'zookooper' | 'zookeeper';

export interface LoadFigures {
  system: System;
  workers: number | null; // zookooper's --workers; null for ZooKeeper
  shape: Shape;
  sessions: number;
  outstanding: number;
  valueBytes: number;
  windowSec: number;
  ops: number;
  opsPerSec: number;
  errors: number;
  firstError: string | null;
  latencyMs: Omit<LatencySummaryMs, 'count'>;
  /** [percentile, ms] pairs from the HDR histogram (bench/lib/histogram.ts latencyCurve), for the report's charts. */
  latencyCurveMs?: [number, number][];
  serverCpuUsPerOp: number;
  serverCpuCores: number; // CPU seconds per wall second in the window
  serverRssBytes: number;
  serverPeakRssBytes: number; // VmHWM since the server started (all shapes run so far)
  driver: string; // what generated the load
  driverProcs: number;
  driverCpuCores: number;
  driverCpuUsPerOp: number;
}

export interface WatchRound {
  allNotifiedMs: number | null; // null when some watcher was not notified in time
  firstMs: number;
  medianWatcherMs: number;
  missing: number;
}

export interface WatchFigures {
  system: System;
  workers: number | null;
  watchers: number;
  connectMs: number;
  rounds: WatchRound[];
  allNotifiedP50Ms: number | null;
  allNotifiedMaxMs: number | null;
}

export interface MemoryFigures {
  system: System;
  workers: number | null;
  znodes: number;
  valueBytes: number;
  avgPathBytes: number;
  populateSec: number;
  createsPerSec: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  bytesPerZnode: number; // RSS growth / znodes
  overheadBytesPerZnode: number; // bytesPerZnode - value - path
  treeBytesPerZnode: number | null; // the server's own tree accounting (zookooper /mntr), growth / znodes
  treeOverheadBytesPerZnode: number | null; // treeBytesPerZnode - value - path
  serverAccounting: unknown; // what the server itself reports (/mntr), if anything
  stopMs: number;
  restartMs: number; // spawn until serving
  restartProgressLines: string[];
  countAfterRestart: number | null;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor((s.length - 1) / 2)]!;
}

export function summarizeRounds(rounds: WatchRound[]): { allNotifiedP50Ms: number | null; allNotifiedMaxMs: number | null } {
  const ok = rounds.map((r) => r.allNotifiedMs).filter((x): x is number => x !== null);
  if (ok.length === 0) return { allNotifiedP50Ms: null, allNotifiedMaxMs: null };
  return { allNotifiedP50Ms: median(ok), allNotifiedMaxMs: ok.length === rounds.length ? Math.max(...ok) : null };
}
