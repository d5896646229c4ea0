// Ensemble load: S sessions x K outstanding spread evenly over the servers of a running 3-server
// ensemble (session i of the run on server i % 3), from several load processes. zookooper: the
// forked Node generators (bench/load/child.ts); ZooKeeper: several ZkDriver JVMs (mode=load), their
// latencies merged from the drivers' sparse histograms. Server CPU is summed over every server
// process of the ensemble (/proc/<pid>/stat), the drivers' over every load process.
import path from 'node:path';
import { ensureNode, loadConnect } from '../lib/client.js';
import { pidOf, type BenchEnsemble } from '../lib/ensemble.js';
import { decodeHistogram, latencyCurve, newHistogram, summarize, type Histogram } from '../lib/histogram.js';
import { sleep } from '../lib/net.js';
import { CpuWindow, cpuMicros, memory } from '../lib/proc.js';
import { fetchState } from '../lib/zookooper.js';
import type { Managed } from '../lib/process.js';
import { runDriver, type DriverLine } from '../lib/zookeeper.js';
import type { LoadFigures } from '../load/figures.js';
import { GeneratorPool, split } from '../load/pool.js';
import type { Shape } from '../load/protocol.js';
import type { LoadOptions } from '../load/zookooper-load.js';

export interface EnsembleLoadFigures extends LoadFigures {
  servers: number;
  /** CPU cores of each server process over the window, in member order (s1, s2, s3). */
  perServerCpuCores: number[];
  leaderId: number | null;
  /** CPU cores of each load process over the window. */
  driverProcCores: number[];
  /** The rule of bench/lib/compare.ts: a driver taking >= 0.8 cores (one process or all) is a bottleneck suspect. */
  driverBound: boolean;
  /**
   * zookooper only (else absent): per server, in member order, over the window, from /mntr: log
   * fdatasyncs per second and txns committed per fdatasync (the group-commit batch), null if a
   * page could not be read.
   */
  logSyncsPerSec?: (number | null)[];
  txnsPerLogSync?: (number | null)[];
}

interface LogCounters {
  syncs: number;
  txns: number;
}

/** zk_log_syncs and zk_committed_txns of each member's /mntr (null where the page is unreadable). */
async function logCounters(e: BenchEnsemble): Promise<(LogCounters | null)[]> {
  return await Promise.all(
    e.members.map(async (m) => {
      const page = (await fetchState(m.clientPort, 'mntr')) as { zk_log_syncs?: unknown; zk_committed_txns?: unknown } | null;
      if (page === null || typeof page !== 'object' || typeof page.zk_log_syncs !== 'number' || typeof page.zk_committed_txns !== 'number') return null;
      return { syncs: page.zk_log_syncs, txns: page.zk_committed_txns };
    }),
  );
}

export const driverBoundCores = 0.8;

/** What figures() needs of a CPU window: CpuWindow, or SnapWindow between two event snapshots. */
interface Window {
  seconds(): number;
  usedMicros(pid: number): number;
  usedMicrosAll(pids: number[]): number;
}

/** CPU of every pid at one moment (a driver's measure-start or measure-end line). */
interface Snapshot {
  ms: number;
  micros: Map<number, number>;
}

function snapshot(pids: number[]): Snapshot {
  return { ms: performance.now(), micros: new Map(pids.map((pid) => [pid, cpuMicros(pid) ?? Number.NaN])) };
}

class SnapWindow implements Window {
  constructor(
    private readonly a: Snapshot,
    private readonly b: Snapshot,
  ) {}

  seconds(): number {
    return (this.b.ms - this.a.ms) / 1000;
  }

  usedMicros(pid: number): number {
    return (this.b.micros.get(pid) ?? Number.NaN) - (this.a.micros.get(pid) ?? Number.NaN);
  }

  usedMicrosAll(pids: number[]): number {
    return pids.reduce((s, pid) => s + this.usedMicros(pid), 0);
  }
}

function figures(
  e: BenchEnsemble,
  shape: Shape,
  o: LoadOptions,
  cpu: Window,
  serverPids: number[],
  driverPids: number[],
  hist: Histogram,
  ops: number,
  opsPerSec: number,
  errors: number,
  firstError: string | null,
  driver: string,
  leaderId: number | null,
): EnsembleLoadFigures {
  const seconds = cpu.seconds();
  // Each load process counts ops over its own window; per-op CPU uses the rate over the CPU window.
  const windowOps = Math.max(1, opsPerSec * seconds);
  const serverCpu = cpu.usedMicrosAll(serverPids);
  const driverCpu = cpu.usedMicrosAll(driverPids);
  const mems = serverPids.map((pid) => memory(pid));
  const { count: _count, ...latencyMs } = summarize(hist);
  const driverProcCores = driverPids.map((pid) => cpu.usedMicros(pid) / 1e6 / seconds);
  const driverCpuCores = driverCpu / 1e6 / seconds;
  return {
    system: e.system,
    workers: null,
    shape,
    sessions: o.sessions,
    outstanding: o.outstanding,
    valueBytes: o.valueBytes,
    windowSec: seconds,
    ops,
    opsPerSec,
    errors,
    firstError,
    latencyMs,
    latencyCurveMs: latencyCurve(hist),
    serverCpuUsPerOp: serverCpu / windowOps,
    serverCpuCores: serverCpu / 1e6 / seconds,
    serverRssBytes: mems.reduce((s, m) => s + (m?.rssBytes ?? 0), 0),
    serverPeakRssBytes: Math.max(...mems.map((m) => m?.peakRssBytes ?? 0)),
    driver,
    driverProcs: driverPids.length,
    driverCpuCores,
    driverCpuUsPerOp: driverCpu / windowOps,
    servers: serverPids.length,
    perServerCpuCores: serverPids.map((pid) => cpu.usedMicros(pid) / 1e6 / seconds),
    leaderId,
    driverProcCores,
    driverBound: driverCpuCores >= driverBoundCores || driverProcCores.some((c) => c >= driverBoundCores),
  };
}

export async function prepareEnsembleData(e: BenchEnsemble, o: LoadOptions): Promise<void> {
  const connect = await loadConnect();
  const zk = await connect(e.connectString(), { sessionTimeoutMs: 30_000 });
  try {
    await ensureNode(zk, '/bench');
    const value = Buffer.alloc(o.valueBytes, 'x');
    await Promise.all(Array.from({ length: o.nodes }, (_, i) => ensureNode(zk, `/bench/n-${i}`, value)));
  } finally {
    await zk.close();
  }
}

export async function runEnsembleShapeZookooper(e: BenchEnsemble, shape: Shape, o: LoadOptions, leaderId: number | null): Promise<EnsembleLoadFigures> {
  const pool = new GeneratorPool(o.procs);
  try {
    let offset = 0;
    split(o.sessions, o.procs).forEach((sessions, i) => {
      pool.send(i, {
        type: 'load-setup',
        connectString: e.spreadString(),
        procIndex: i,
        sessions,
        outstanding: o.outstanding,
        shape,
        valueBytes: o.valueBytes,
        nodes: o.nodes,
        sessionTimeoutMs: 30_000,
        sessionOffset: offset,
      });
      offset += sessions;
    });
    await pool.all('ready', 120_000);
    pool.broadcast({ type: 'go' });
    await sleep(o.warmupMs);
    const serverPids = e.members.map(pidOf);
    const logBefore = await logCounters(e);
    const cpu = new CpuWindow([...serverPids, ...pool.pids]);
    cpu.begin();
    pool.broadcast({ type: 'measure-start' });
    await sleep(o.durationMs);
    pool.broadcast({ type: 'measure-end' });
    cpu.finish();
    const logAfter = await logCounters(e);
    const results = await pool.all('load-result', 60_000);
    const hist = newHistogram();
    let ops = 0;
    let opsPerSec = 0;
    let errors = 0;
    let firstError: string | null = null;
    for (const r of results) {
      hist.add(decodeHistogram(r.histogram));
      ops += r.ops;
      opsPerSec += r.ops / (r.windowMs / 1000);
      errors += r.errors;
      firstError ??= r.firstError;
    }
    const f = figures(e, shape, o, cpu, serverPids, pool.pids, hist, ops, opsPerSec, errors, firstError, `zookooper Node client, ${o.procs} processes (bench/load/child.ts)`, leaderId);
    const deltas = logAfter.map((a, i) => {
      const b = logBefore[i];
      return a === null || b === null || b === undefined ? null : { syncs: a.syncs - b.syncs, txns: a.txns - b.txns };
    });
    // The window the counters span is a little longer than the CPU window (two page reads).
    f.logSyncsPerSec = deltas.map((d) => (d === null ? null : d.syncs / cpu.seconds()));
    f.txnsPerLogSync = deltas.map((d) => (d === null || d.syncs === 0 ? null : d.txns / d.syncs));
    return f;
  } finally {
    await pool.close();
  }
}

interface DriverResult {
  ops: number;
  seconds: number;
  opsPerSec: number;
  errors: number;
  firstError: string | null;
  hist: string;
}

/** Several ZkDriver JVMs in parallel; each marks its window; the CPU window spans all of them. */
export async function runEnsembleShapeZooKeeper(e: BenchEnsemble, classpath: string, shape: Shape, o: LoadOptions, tmpDir: string, leaderId: number | null): Promise<EnsembleLoadFigures> {
  const serverPids = e.members.map(pidOf);
  const driverPids: number[] = [];
  const drivers: Managed[] = [];
  const starts: Snapshot[] = [];
  const ends: Snapshot[] = [];
  let ready = 0;
  const procs = o.procs;
  // All JVMs start their load on one "go" once every one is connected, so their warm-ups and
  // windows coincide; the CPU window is from the last measure-start to the first measure-end
  // (CPU sampled at every such line, so a JVM that lags cannot leave the window open).
  const onEvent = (line: DriverLine, pid: number): void => {
    if (line.event === 'ready') {
      driverPids.push(pid);
      if (++ready === procs) for (const d of drivers) d.child.stdin?.write('go\n');
    } else if (line.event === 'measure-start') starts.push(snapshot([...serverPids, ...driverPids]));
    else if (line.event === 'measure-end') ends.push(snapshot([...serverPids, ...driverPids]));
  };
  let offset = 0;
  const runs = split(o.sessions, procs).map((sessions, i) => {
    const args = {
      mode: 'load',
      connect: e.spreadString(),
      sessionOffset: offset,
      setup: i === 0 ? 1 : 0,
      waitGo: 1,
      shape,
      sessions,
      outstanding: o.outstanding,
      warmupMs: o.warmupMs,
      durationMs: o.durationMs,
      valueBytes: o.valueBytes,
      nodes: o.nodes,
    };
    offset += sessions;
    return runDriver(classpath, args, {
      logFile: path.join(tmpDir, `zk-ens-driver-${shape}-${i}.log`),
      timeoutMs: o.warmupMs + o.durationMs + 180_000,
      onEvent,
      onSpawn: (m) => drivers.push(m),
    });
  });
  const done = await Promise.all(runs);
  if (starts.length < procs || ends.length < procs) throw new Error('ZooKeeper drivers did not all report their windows');
  const lastStart = starts.at(-1)!;
  const firstEnd = ends[0]!;
  // Windows that do not overlap (a JVM that lagged by more than the window): the union, said so.
  const window = firstEnd.ms > lastStart.ms ? new SnapWindow(lastStart, firstEnd) : new SnapWindow(starts[0]!, ends.at(-1)!);
  const hist = newHistogram();
  let ops = 0;
  let opsPerSec = 0;
  let errors = 0;
  let firstError: string | null = null;
  for (const { result } of done) {
    const r = result as unknown as DriverResult;
    ops += r.ops;
    opsPerSec += r.opsPerSec;
    errors += r.errors;
    firstError ??= r.firstError;
    for (const pair of r.hist.split(',').filter(Boolean)) {
      const [v, c] = pair.split(':').map(Number);
      hist.recordValueWithCount(v!, c!);
    }
  }
  if (firstEnd.ms <= lastStart.ms) firstError ??= 'driver windows did not overlap: CPU over their union';
  return figures(e, shape, o, window, serverPids, driverPids, hist, ops, opsPerSec, errors, firstError, `ZooKeeper 3.8 Java async client, ${procs} JVMs (bench/zk-driver/ZkDriver.java)`, leaderId);
}
