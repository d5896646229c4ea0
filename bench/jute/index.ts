// `npm run bench -- --only jute`: issue 7's apples-to-apples bench. The same Java load generator
// (bench/zk-driver/ZkDriver.java, ZooKeeper's own async client) drives zookooper on its jute port
// (--zk-port 0: any free port, read from the "serving" line) and Apache ZooKeeper 3.8, in one
// invocation: 1 KiB getData, setData and 90:10 at S x K (32 x 32), standalone (one JVM) and on a
// 3-server ensemble (sessions spread over the servers, several JVMs). Server CPU µs/op from /proc
// over the driver's window (summed over the ensemble's servers), the driver's own CPU beside it.
import path from 'node:path';
import { pidOf, currentLeader, withEnsemble, type BenchEnsemble } from '../lib/ensemble.js';
import { sleep } from '../lib/net.js';
import { startZooKeeper } from '../lib/zookeeper.js';
import { startZooKeeperEnsemble } from '../lib/zookeeper-ensemble.js';
import { startZookooperEnsemble } from '../lib/zookooper-ensemble.js';
import { startZookooper, zkPortOfLine } from '../lib/zookooper.js';
import { runEnsembleShapeZooKeeper } from '../ensemble/load.js';
import type { LoadFigures, System } from '../load/figures.js';
import type { Shape } from '../load/protocol.js';
import { runShapeZooKeeper } from '../load/zookeeper-load.js';
import type { LoadOptions } from '../load/zookooper-load.js';

export const juteTopologies = ['standalone', 'ensemble'] as const;
export type JuteTopology = (typeof juteTopologies)[number];

export interface JuteOptions {
  topologies: JuteTopology[];
  load: LoadOptions; // shapes, sessions x outstanding; procs = driver JVMs on the ensemble
  workers: number; // zookooper --workers (worker 0 serves the jute port)
  serverArgs: string[];
}

export interface JuteFigures extends LoadFigures {
  topology: JuteTopology;
  servers: number;
}

export interface JuteRatio {
  topology: JuteTopology;
  shape: Shape;
  opsRatio: number;
  p99Ratio: number;
  cpuPerOpRatio: number;
  zookooperDriverCores: number;
  zookeeperDriverCores: number;
}

export interface JuteResults {
  options: JuteOptions;
  load: JuteFigures[];
  ratios: JuteRatio[];
  errors: { part: string; system: string; message: string }[];
}

export function juteDefaults(quick: boolean): JuteOptions {
  return {
    topologies: [...juteTopologies],
    load: { shapes: ['get', 'set', 'mix'], sessions: 32, outstanding: 32, valueBytes: 1024, nodes: 64, warmupMs: quick ? 1_000 : 2_000, durationMs: quick ? 2_000 : 5_000, procs: 3 },
    workers: 1,
    serverArgs: ['--max-client-cnxns', '0'],
  };
}

/** zookooper / ZooKeeper per topology and shape, for every pair measured. */
export function juteRatios(load: JuteFigures[]): JuteRatio[] {
  const out: JuteRatio[] = [];
  for (const a of load.filter((f) => f.system === 'zookooper')) {
    const b = load.find((f) => f.system === 'zookeeper' && f.topology === a.topology && f.shape === a.shape);
    if (b === undefined) continue;
    out.push({
      topology: a.topology,
      shape: a.shape,
      opsRatio: a.opsPerSec / b.opsPerSec,
      p99Ratio: a.latencyMs.p99 / b.latencyMs.p99,
      cpuPerOpRatio: a.serverCpuUsPerOp / b.serverCpuUsPerOp,
      zookooperDriverCores: a.driverCpuCores,
      zookeeperDriverCores: b.driverCpuCores,
    });
  }
  return out;
}

type Log = (s: string) => void;

/** A zookooper ensemble seen through its jute ports: the ZkDriver connects there, CPU is the same pids. */
async function juteView(e: BenchEnsemble): Promise<BenchEnsemble> {
  const deadline = performance.now() + 30_000;
  const ports: number[] = [];
  for (const m of e.members) {
    for (;;) {
      const line = m.lines.find((l) => l.line.includes('"msg":"serving"'))?.line;
      const port = line === undefined ? null : zkPortOfLine(line);
      if (port !== null) {
        ports.push(port);
        break;
      }
      if (performance.now() > deadline) throw new Error(`zookooper server ${m.id}: no "serving" line with a zkPort`);
      await sleep(20);
    }
  }
  const list = (sep: string): string => ports.map((p) => `127.0.0.1:${p}`).join(sep);
  return { system: 'zookooper', members: e.members, root: e.root, connectString: () => list(','), spreadString: () => list('|') };
}

export const juteHeader = ['system', 'servers', 'shape', 'ops/s', 'p50 ms', 'p99 ms', 'p999 ms', 'srv µs/op', 'srv cores', 'driver JVMs', 'driver cores', 'driver µs/op', 'errors'];

export function juteRows(figs: JuteFigures[]): (string | number)[][] {
  const n = (x: number, d = 1): string => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '-');
  return figs.map((f) => [
    f.system,
    f.topology === 'standalone' ? 'standalone' : `x${f.servers}`,
    f.shape,
    n(f.opsPerSec, 0),
    n(f.latencyMs.p50),
    n(f.latencyMs.p99),
    n(f.latencyMs.p999),
    n(f.serverCpuUsPerOp),
    n(f.serverCpuCores, 2),
    f.driverProcs,
    n(f.driverCpuCores, 2),
    n(f.driverCpuUsPerOp),
    f.errors,
  ]);
}

export const juteRatioHeader = ['servers', 'shape', 'ops/s ratio', 'p99 ratio', 'srv µs/op ratio', 'driver cores zookooper', 'driver cores ZooKeeper'];

export function juteRatioRows(rs: JuteRatio[]): (string | number)[][] {
  return rs.map((x) => [x.topology, x.shape, x.opsRatio.toFixed(2), x.p99Ratio.toFixed(2), x.cpuPerOpRatio.toFixed(2), x.zookooperDriverCores.toFixed(2), x.zookeeperDriverCores.toFixed(2)]);
}

export function juteLine(f: JuteFigures): string {
  return `${f.system} ${f.topology} | ${f.shape} | ${Math.round(f.opsPerSec)} ops/s | p50 ${f.latencyMs.p50} p99 ${f.latencyMs.p99} ms | srv ${f.serverCpuUsPerOp.toFixed(1)} µs/op (${f.serverCpuCores.toFixed(2)} cores) | driver ${f.driverCpuCores.toFixed(2)} cores${f.errors ? ` | ${f.errors} errors: ${f.firstError ?? ''}` : ''}`;
}

export async function runJuteBench(o: JuteOptions, tmp: string, classpath: string, log: Log, skipZooKeeper: boolean): Promise<JuteResults> {
  const r: JuteResults = { options: o, load: [], ratios: [], errors: [] };
  const l = o.load;
  const keep = (f: LoadFigures, topology: JuteTopology, servers: number): void => {
    const j: JuteFigures = { ...f, topology, servers };
    r.load.push(j);
    log(`  ${juteLine(j)}`);
  };
  const attempt = async (part: string, system: System, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      r.errors.push({ part, system, message });
      log(`  jute/${part} / ${system}: FAILED: ${message}`);
    }
  };
  const systems: System[] = skipZooKeeper ? ['zookooper'] : ['zookooper', 'zookeeper'];
  if (o.topologies.includes('standalone')) {
    for (const system of systems)
      await attempt('standalone', system, async () => {
        const dir = path.join(tmp, `jute-${system}-standalone`);
        const server =
          system === 'zookooper'
            ? await startZookooper({ dataDir: dir, workers: o.workers, logFile: `${dir}.log`, extraArgs: [...o.serverArgs, '--zk-port', '0'] })
            : await startZooKeeper({ dir, dataDir: path.join(dir, 'data'), logFile: `${dir}.log` });
        const target =
          'zkPort' in server ? { pid: server.pid, connectString: `127.0.0.1:${server.zkPort ?? Number.NaN}` } : { pid: server.pid, connectString: server.connectString };
        if ('zkPort' in server && server.zkPort === null) throw new Error('zookooper logged no zkPort: the jute listener is off');
        try {
          for (const shape of l.shapes) keep(await runShapeZooKeeper(target, classpath, shape, l, tmp, system), 'standalone', 1);
        } finally {
          await server.managed.stop();
        }
      });
  }
  if (o.topologies.includes('ensemble')) {
    for (const system of systems)
      await attempt('ensemble', system, async () => {
        const root = path.join(tmp, `jute-${system}-ensemble`);
        const start = (): Promise<BenchEnsemble> =>
          system === 'zookooper'
            ? startZookooperEnsemble({ root, size: 3, workers: o.workers, label: 'jute', extraArgs: [...o.serverArgs, '--snap-count', '10000000', '--zk-port', '0'] })
            : startZooKeeperEnsemble({ root, size: 3, label: 'jute' });
        await withEnsemble(start, async (e) => {
          const view = system === 'zookooper' ? await juteView(e) : e;
          for (const shape of l.shapes) {
            const leader = await currentLeader(e);
            const f = await runEnsembleShapeZooKeeper(view, classpath, shape, l, root, leader);
            keep(f, 'ensemble', e.members.map(pidOf).length);
          }
        });
      });
  }
  r.ratios = juteRatios(r.load);
  return r;
}
