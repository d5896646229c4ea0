// zookooper / ZooKeeper ratios and the issue's targets, computed from figures of one invocation.
import type { LoadFigures, MemoryFigures, WatchFigures } from '../load/figures.js';
import type { Shape } from '../load/protocol.js';

export interface Ratio {
  shape: Shape;
  workers: number;
  opsRatio: number; // zookooper ops/s / ZooKeeper ops/s
  cpuPerOpRatio: number; // zookooper server µs/op / ZooKeeper's
  p99Ratio: number; // zookooper p99 / ZooKeeper's
}

export function ratios(load: LoadFigures[]): Ratio[] {
  const out: Ratio[] = [];
  for (const zk of load.filter((f) => f.system === 'zookeeper')) {
    for (const ours of load.filter((f) => f.system === 'zookooper' && f.shape === zk.shape)) {
      out.push({
        shape: zk.shape,
        workers: ours.workers ?? 0,
        opsRatio: ours.opsPerSec / zk.opsPerSec,
        cpuPerOpRatio: ours.serverCpuUsPerOp / zk.serverCpuUsPerOp,
        p99Ratio: ours.latencyMs.p99 / zk.latencyMs.p99,
      });
    }
  }
  return out;
}

/**
 * The issue's reference figures: Apache ZooKeeper 3.8.0 standalone, fsync on, 32 sessions x 32
 * outstanding, 1 KiB values, a Java async load generator, on this kind of 2-core machine.
 */
export const issueReference = { getOps: 48_800, getCpuUs: 15.7, getP99Ms: 36, setOps: 36_100, setCpuUs: 27.5, setP99Ms: 49, mixOps: 39_300 } as const;

export interface TargetCheck {
  target: string;
  figure: string;
  met: boolean | null; // null: not measured in this run
}

/** The targets of issue 2 ("Bench"), checked against the best zookooper --workers setting. */
export function targets(load: LoadFigures[], watch: WatchFigures[], memory: MemoryFigures[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const rs = ratios(load);
  const best = (shape: Shape): Ratio | undefined => rs.filter((r) => r.shape === shape).sort((a, b) => b.opsRatio - a.opsRatio)[0];
  const get = best('get');
  const set = best('set');
  const f2 = (x: number): string => x.toFixed(2);
  // A ZooKeeper driver that takes most of a core is itself the bottleneck (the issue asks for one
  // that is not): then the same-invocation ratios overstate zookooper, and the rows against the
  // issue's published reference below are the ones to read.
  const zkDriver = load.filter((f) => f.system === 'zookeeper');
  const driverBound = zkDriver.some((f) => f.driverCpuCores >= 0.8);
  const caveat = driverBound ? ` [ZooKeeper driver-bound: ${Math.max(...zkDriver.map((f) => f.driverCpuCores)).toFixed(2)} cores]` : '';
  out.push({ target: 'reads >= 2x ZooKeeper ops/s', figure: get ? `${f2(get.opsRatio)}x (w=${get.workers})${caveat}` : 'not measured', met: get ? get.opsRatio >= 2 : null });
  out.push({ target: 'reads <= 0.5x ZooKeeper server CPU/op', figure: get ? `${f2(get.cpuPerOpRatio)}x${caveat}` : 'not measured', met: get ? get.cpuPerOpRatio <= 0.5 : null });
  out.push({ target: 'writes >= 1.5x ZooKeeper ops/s', figure: set ? `${f2(set.opsRatio)}x (w=${set.workers})${caveat}` : 'not measured', met: set ? set.opsRatio >= 1.5 : null });
  out.push({ target: 'writes <= 0.5x ZooKeeper server CPU/op', figure: set ? `${f2(set.cpuPerOpRatio)}x${caveat}` : 'not measured', met: set ? set.cpuPerOpRatio <= 0.5 : null });
  // Against the issue's reference run of ZooKeeper 3.8.0 on this kind of machine (32 x 32, 1 KiB).
  const ours = (shape: Shape): LoadFigures | undefined =>
    load.filter((f) => f.system === 'zookooper' && f.shape === shape && f.sessions === 32 && f.outstanding === 32).sort((a, b) => b.opsPerSec - a.opsPerSec)[0];
  const oGet = ours('get');
  const oSet = ours('set');
  const ref = issueReference;
  out.push({ target: `reads >= 2x reference ZooKeeper (${ref.getOps / 1000}k/s)`, figure: oGet ? `${f2(oGet.opsPerSec / ref.getOps)}x (${Math.round(oGet.opsPerSec)}/s)` : 'not measured', met: oGet ? oGet.opsPerSec >= 2 * ref.getOps : null });
  out.push({ target: `reads <= 0.5x reference CPU/op (${ref.getCpuUs} µs)`, figure: oGet ? `${f2(oGet.serverCpuUsPerOp / ref.getCpuUs)}x (${oGet.serverCpuUsPerOp.toFixed(1)} µs)` : 'not measured', met: oGet ? oGet.serverCpuUsPerOp <= 0.5 * ref.getCpuUs : null });
  out.push({ target: `writes >= 1.5x reference ZooKeeper (${ref.setOps / 1000}k/s)`, figure: oSet ? `${f2(oSet.opsPerSec / ref.setOps)}x (${Math.round(oSet.opsPerSec)}/s)` : 'not measured', met: oSet ? oSet.opsPerSec >= 1.5 * ref.setOps : null });
  out.push({ target: `writes <= 0.5x reference CPU/op (${ref.setCpuUs} µs)`, figure: oSet ? `${f2(oSet.serverCpuUsPerOp / ref.setCpuUs)}x (${oSet.serverCpuUsPerOp.toFixed(1)} µs)` : 'not measured', met: oSet ? oSet.serverCpuUsPerOp <= 0.5 * ref.setCpuUs : null });
  out.push({
    target: `p99 no worse than reference (reads ${ref.getP99Ms} ms, writes ${ref.setP99Ms} ms)`,
    figure: oGet && oSet ? `reads ${oGet.latencyMs.p99.toFixed(1)} ms, writes ${oSet.latencyMs.p99.toFixed(1)} ms` : 'not measured',
    met: oGet && oSet ? oGet.latencyMs.p99 <= ref.getP99Ms && oSet.latencyMs.p99 <= ref.setP99Ms : null,
  });
  const p99s = rs.filter((r) => r.workers === (get?.workers ?? r.workers));
  out.push({
    target: 'p99 no worse than ZooKeeper (same S x K)',
    figure: p99s.length ? p99s.map((r) => `${r.shape} ${f2(r.p99Ratio)}x`).join(', ') : 'not measured',
    met: p99s.length ? p99s.every((r) => r.p99Ratio <= 1) : null,
  });
  const w10k = watch.find((w) => w.system === 'zookooper' && w.watchers === 10_000);
  out.push({
    target: '10,000 watchers all notified within 50 ms',
    figure: w10k ? `p50 ${w10k.allNotifiedP50Ms?.toFixed(1) ?? '-'} ms, max ${w10k.allNotifiedMaxMs?.toFixed(1) ?? '-'} ms` : 'not measured',
    met: w10k ? w10k.allNotifiedMaxMs !== null && w10k.allNotifiedMaxMs <= 50 : null,
  });
  const mem = memory.find((m) => m.system === 'zookooper');
  out.push({
    target: '<= 200 B overhead per znode beyond path and data',
    figure: mem
      ? `tree ${mem.treeOverheadBytesPerZnode === null ? '-' : Math.round(mem.treeOverheadBytesPerZnode)} B, ` +
        `process RSS ${Math.round(mem.overheadBytesPerZnode)} B (${mem.znodes.toLocaleString('en-US')} znodes)`
      : 'not measured',
    met: mem ? (mem.treeOverheadBytesPerZnode ?? mem.overheadBytesPerZnode) <= 200 : null,
  });
  out.push({
    target: 'restart with 1,000,000 znodes < 2 s',
    figure: mem ? `${Math.round(mem.restartMs)} ms (${mem.znodes.toLocaleString('en-US')} znodes)` : 'not measured',
    met: mem && mem.znodes >= 1_000_000 ? mem.restartMs < 2_000 : null,
  });
  return out;
}
