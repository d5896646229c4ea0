// Load shapes against a real zookooper server process: S sessions x K outstanding requests, the
// sessions spread over forked load generator processes (bench/load/child.ts).
import path from 'node:path';
import { ensureNode, loadConnect } from '../lib/client.js';
import { decodeHistogram, latencyCurve, newHistogram, summarize } from '../lib/histogram.js';
import { sleep } from '../lib/net.js';
import { CpuWindow, memory } from '../lib/proc.js';
import { startZookooper, type ZookooperServer } from '../lib/zookooper.js';
import type { LoadFigures } from './figures.js';
import { GeneratorPool, split } from './pool.js';
import type { Shape } from './protocol.js';

export interface LoadOptions {
  shapes: Shape[];
  sessions: number;
  outstanding: number;
  valueBytes: number;
  nodes: number;
  warmupMs: number;
  durationMs: number;
  procs: number;
}

/** Creates /bench and its data znodes (valueBytes each) through one admin session. */
export async function prepareZookooper(connectString: string, o: LoadOptions): Promise<void> {
  const connect = await loadConnect();
  const zk = await connect(connectString, { sessionTimeoutMs: 30_000 });
  try {
    await ensureNode(zk, '/bench');
    const value = Buffer.alloc(o.valueBytes, 'x');
    await Promise.all(Array.from({ length: o.nodes }, (_, i) => ensureNode(zk, `/bench/n-${i}`, value)));
  } finally {
    await zk.close();
  }
}

export async function runShapeZookooper(server: ZookooperServer, shape: Shape, o: LoadOptions): Promise<LoadFigures> {
  const pool = new GeneratorPool(o.procs);
  try {
    const perProc = split(o.sessions, o.procs);
    perProc.forEach((sessions, i) =>
      pool.send(i, {
        type: 'load-setup',
        connectString: server.connectString,
        procIndex: i,
        sessions,
        outstanding: o.outstanding,
        shape,
        valueBytes: o.valueBytes,
        nodes: o.nodes,
        sessionTimeoutMs: 30_000,
      }),
    );
    await pool.all('ready', 120_000);
    pool.broadcast({ type: 'go' });
    await sleep(o.warmupMs);
    const cpu = new CpuWindow([server.pid, ...pool.pids]);
    cpu.begin();
    pool.broadcast({ type: 'measure-start' });
    await sleep(o.durationMs);
    pool.broadcast({ type: 'measure-end' });
    cpu.finish();
    const results = await pool.all('load-result', 60_000);

    const hist = newHistogram();
    let ops = 0;
    let opsPerSec = 0;
    let errors = 0;
    let firstError: string | null = null;
    for (const r of results) {
      hist.add(decodeHistogram(r.histogram));
      ops += r.ops;
      opsPerSec += r.ops / (r.windowMs / 1000); // each process over its own window
      errors += r.errors;
      firstError ??= r.firstError;
    }
    const seconds = cpu.seconds();
    const serverCpu = cpu.usedMicros(server.pid);
    const driverCpu = cpu.usedMicrosAll(pool.pids);
    const mem = memory(server.pid);
    const { count: _count, ...latencyMs } = summarize(hist);
    return {
      system: 'zookooper',
      workers: server.workers,
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
      serverCpuUsPerOp: serverCpu / Math.max(1, ops),
      serverCpuCores: serverCpu / 1e6 / seconds,
      serverRssBytes: mem?.rssBytes ?? 0,
      serverPeakRssBytes: mem?.peakRssBytes ?? 0,
      driver: 'zookooper Node client (bench/load/child.ts)',
      driverProcs: o.procs,
      driverCpuCores: driverCpu / 1e6 / seconds,
      driverCpuUsPerOp: driverCpu / Math.max(1, ops),
    };
  } finally {
    await pool.close();
  }
}

/** Every shape against one server (fresh data dir) with `workers` session workers. */
export async function runZookooperLoad(
  workers: number,
  o: LoadOptions,
  tmpDir: string,
  extraServerArgs: string[],
  onFigure: (f: LoadFigures) => void,
): Promise<void> {
  const server = await startZookooper({
    dataDir: path.join(tmpDir, `zookooper-load-w${workers}`),
    workers,
    logFile: path.join(tmpDir, `zookooper-load-w${workers}.log`),
    extraArgs: extraServerArgs,
  });
  try {
    await prepareZookooper(server.connectString, o);
    for (const shape of o.shapes) onFigure(await runShapeZookooper(server, shape, o));
  } finally {
    await server.managed.stop();
  }
}
