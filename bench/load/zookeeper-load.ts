// The same load shapes against a standalone Apache ZooKeeper, driven by bench/zk-driver/ZkDriver.java
// (ZooKeeper's async Java client). The driver marks its measurement window on stdout; we sample the
// server's and the driver's CPU from /proc at those marks, exactly as for zookooper.
import path from 'node:path';
import { histogramFromSparse, latencyCurve } from '../lib/histogram.js';
import { CpuWindow, memory } from '../lib/proc.js';
import { runDriver, type ZooKeeperServer } from '../lib/zookeeper.js';
import type { LoadFigures, System } from './figures.js';
import type { LoadOptions } from './zookooper-load.js';
import type { Shape } from './protocol.js';

/** `system` names the server the driver talks to: ZooKeeper, or zookooper on its jute port (bench/jute/). */
export async function runShapeZooKeeper(
  server: Pick<ZooKeeperServer, 'pid' | 'connectString'>,
  classpath: string,
  shape: Shape,
  o: LoadOptions,
  tmpDir: string,
  system: System = 'zookeeper',
): Promise<LoadFigures> {
  let cpu: CpuWindow | undefined;
  const { result, pid } = await runDriver(
    classpath,
    {
      mode: 'load',
      connect: server.connectString,
      shape,
      sessions: o.sessions,
      outstanding: o.outstanding,
      warmupMs: o.warmupMs,
      durationMs: o.durationMs,
      valueBytes: o.valueBytes,
      nodes: o.nodes,
    },
    {
      logFile: path.join(tmpDir, `zk-driver-${system}-${shape}.log`),
      timeoutMs: o.warmupMs + o.durationMs + 180_000,
      onEvent: (line, driverPid) => {
        if (line.event === 'measure-start') {
          cpu = new CpuWindow([server.pid, driverPid]);
          cpu.begin();
        } else if (line.event === 'measure-end') {
          cpu?.finish();
        }
      },
    },
  );
  if (cpu === undefined) throw new Error('ZooKeeper driver never started its window');
  const r = result as unknown as {
    ops: number;
    seconds: number;
    opsPerSec: number;
    errors: number;
    firstError: string | null;
    latencyUs: { p50: number; p99: number; p999: number; max: number };
    hist?: string;
  };
  const seconds = cpu.seconds();
  const serverCpu = cpu.usedMicros(server.pid);
  const driverCpu = cpu.usedMicros(pid);
  const mem = memory(server.pid);
  return {
    system,
    workers: null,
    shape,
    sessions: o.sessions,
    outstanding: o.outstanding,
    valueBytes: o.valueBytes,
    windowSec: r.seconds,
    ops: r.ops,
    opsPerSec: r.opsPerSec,
    errors: r.errors,
    firstError: r.firstError,
    latencyMs: {
      p50: r.latencyUs.p50 / 1000,
      p99: r.latencyUs.p99 / 1000,
      p999: r.latencyUs.p999 / 1000,
      max: r.latencyUs.max / 1000,
      mean: Number.NaN,
    },
    ...(r.hist ? { latencyCurveMs: latencyCurve(histogramFromSparse(r.hist)) } : {}),
    serverCpuUsPerOp: serverCpu / Math.max(1, r.ops),
    serverCpuCores: serverCpu / 1e6 / seconds,
    serverRssBytes: mem?.rssBytes ?? 0,
    serverPeakRssBytes: mem?.peakRssBytes ?? 0,
    driver: 'ZooKeeper 3.8 Java async client (bench/zk-driver/ZkDriver.java)',
    driverProcs: 1,
    driverCpuCores: driverCpu / 1e6 / seconds,
    driverCpuUsPerOp: driverCpu / Math.max(1, r.ops),
  };
}
