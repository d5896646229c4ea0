// Issue 6's targets and the ensemble tables (terminal and bench/README.md). Figures, not asserts.
import { readFileSync, writeFileSync } from 'node:fs';
import * as F from '../lib/format.js';
import type { MachineFacts } from '../lib/machine.js';
import { shapeTitles, type Shape } from '../load/protocol.js';
import { phasesText, type SyncFigures } from './catchup.js';
import type { EnsembleResults } from './index.js';
import type { EnsembleLoadFigures } from './load.js';

export interface EnsembleTarget {
  target: string;
  figure: string;
  met: boolean | null;
}

/** Issue 6's reference: ZooKeeper 3.8.0, 3 servers on one 2-core machine, a Java async load generator. */
export const ensembleReference = { getOps: 37_300, getP99Ms: 57, setOps: 16_600, setP99Ms: 113, setCpuUs: 86.7, mixOps: 21_100, mixP99Ms: 207, leaderServingMs: 431, nextWriteMs: 1_120 } as const;

const x2 = (v: number): string => `${v.toFixed(2)}x`;

export function ensembleTargets(r: EnsembleResults): EnsembleTarget[] {
  const out: EnsembleTarget[] = [];
  const fig = (system: string, shape: Shape): EnsembleLoadFigures | undefined => r.load.find((f) => f.system === system && f.shape === shape);
  const bound = (f: EnsembleLoadFigures | undefined): string => (f?.driverBound ? ` [${f.system} driver ${f.driverCpuCores.toFixed(2)} cores: driver-bound?]` : '');
  const ref = ensembleReference;
  for (const [shape, name, refOps, refP99] of [
    ['set', 'writes', ref.setOps, ref.setP99Ms],
    ['get', 'reads', ref.getOps, ref.getP99Ms],
    ['mix', '90:10', ref.mixOps, ref.mixP99Ms],
  ] as const) {
    const ours = fig('zookooper', shape);
    const theirs = fig('zookeeper', shape);
    if (shape !== 'mix') {
      out.push({
        target: `${name} >= 2x ZooKeeper ensemble ops/s (same run)`,
        figure: ours && theirs ? `${x2(ours.opsPerSec / theirs.opsPerSec)} (${F.fmt.int(ours.opsPerSec)} vs ${F.fmt.int(theirs.opsPerSec)}/s)${bound(ours)}${bound(theirs)}` : 'not measured',
        met: ours && theirs ? ours.opsPerSec >= 2 * theirs.opsPerSec : null,
      });
    }
    if (shape === 'set') {
      out.push({
        target: 'writes p99 <= 0.5x ZooKeeper ensemble (same run)',
        figure: ours && theirs ? `${x2(ours.latencyMs.p99 / theirs.latencyMs.p99)} (${F.fmt.n1(ours.latencyMs.p99)} vs ${F.fmt.n1(theirs.latencyMs.p99)} ms)` : 'not measured',
        met: ours && theirs ? ours.latencyMs.p99 <= 0.5 * theirs.latencyMs.p99 : null,
      });
      out.push({
        target: 'writes server CPU/op (sum of 3) <= 0.5x ZooKeeper ensemble (same run)',
        figure: ours && theirs ? `${x2(ours.serverCpuUsPerOp / theirs.serverCpuUsPerOp)} (${F.fmt.n1(ours.serverCpuUsPerOp)} vs ${F.fmt.n1(theirs.serverCpuUsPerOp)} µs)` : 'not measured',
        met: ours && theirs ? ours.serverCpuUsPerOp <= 0.5 * theirs.serverCpuUsPerOp : null,
      });
    }
    const refTarget = shape === 'mix' ? null : 2 * refOps;
    out.push({
      target: `${name} vs reference ZooKeeper ensemble (${refOps / 1000}k/s, p99 ${refP99} ms)${refTarget === null ? ' (no target)' : ': >= 2x'}`,
      figure: ours ? `${x2(ours.opsPerSec / refOps)} (${F.fmt.int(ours.opsPerSec)}/s, p99 ${F.fmt.n1(ours.latencyMs.p99)} ms)` : 'not measured',
      met: ours && refTarget !== null ? ours.opsPerSec >= refTarget : null,
    });
    if (shape === 'set') {
      out.push({
        target: `writes vs reference: p99 <= ${ref.setP99Ms / 2} ms, server CPU/op <= ${ref.setCpuUs / 2} µs`,
        figure: ours ? `p99 ${F.fmt.n1(ours.latencyMs.p99)} ms, ${F.fmt.n1(ours.serverCpuUsPerOp)} µs/op` : 'not measured',
        met: ours ? ours.latencyMs.p99 <= ref.setP99Ms / 2 && ours.serverCpuUsPerOp <= ref.setCpuUs / 2 : null,
      });
    }
  }
  const fo = r.failover.find((f) => f.system === 'zookooper');
  const rounds = (f: typeof fo, key: 'leaderServingMs' | 'nextWriteMs'): string => (f ? f.rounds.map((x) => F.fmt.int(x[key])).join(', ') : '');
  out.push({
    target: 'new leader serving within 200 ms of kill -9 (median)',
    figure: fo ? `${F.fmt.int(fo.medianLeaderServingMs)} ms (rounds: ${rounds(fo, 'leaderServingMs')})` : 'not measured',
    met: fo?.medianLeaderServingMs === null || fo === undefined ? null : fo.medianLeaderServingMs <= 200,
  });
  out.push({
    target: "client's next write within 500 ms of kill -9 (median)",
    figure: fo ? `${F.fmt.int(fo.medianNextWriteMs)} ms (rounds: ${rounds(fo, 'nextWriteMs')})` : 'not measured',
    met: fo?.medianNextWriteMs === null || fo === undefined ? null : fo.medianNextWriteMs <= 500,
  });
  // The met/missed verdict stays on spawn -> synced (a user's restart); the time from the peer
  // links up (the part the sync protocol and storage own) is shown beside it.
  const fromLinks = (f: SyncFigures): string => {
    const p = f.phases;
    if (!p || p.startMs === null || p.linksMs === null) return '';
    return `; ${F.fmt.int(f.syncedMs - p.startMs - p.linksMs)} ms from peer links up`;
  };
  const catchUp = r.sync.find((s) => s.system === 'zookooper' && s.kind === 'catch-up');
  out.push({
    target: 'a follower 100,000 txns behind caught up within 1 s',
    figure: catchUp ? `${F.fmt.int(catchUp.syncedMs)} ms for ${F.fmt.int(catchUp.txnsBehind)} txns (${catchUp.mechanism.split(' ')[0]})${fromLinks(catchUp)}` : 'not measured',
    met: catchUp && (catchUp.txnsBehind ?? 0) >= 100_000 ? catchUp.syncedMs <= 1_000 : null,
  });
  const snap = r.sync.find((s) => s.system === 'zookooper' && s.kind === 'snap');
  out.push({
    target: 'SNAP of 1,000,000 znodes within 2 s',
    figure: snap ? `${F.fmt.int(snap.syncedMs)} ms for ${F.fmt.int(snap.znodes)} znodes (${snap.mechanism.split(' ')[0]})${fromLinks(snap)}` : 'not measured',
    met: snap && snap.znodes >= 1_000_000 ? snap.syncedMs <= 2_000 : null,
  });
  return out;
}

export const ensembleLoadHeader = ['system', 'shape', 'ops/s', 'p50 ms', 'p99 ms', 'p999 ms', 'srv µs/op (sum)', 'srv cores s1+s2+s3', 'leader', 'driver procs', 'driver cores', 'driver µs/op', 'driver-bound?', 'errors'];

export function ensembleLoadRows(figs: EnsembleLoadFigures[]): (string | number)[][] {
  return figs.map((f) => [
    `${f.system} x${f.servers}`,
    shapeTitles[f.shape],
    F.fmt.int(f.opsPerSec),
    F.fmt.n1(f.latencyMs.p50),
    F.fmt.n1(f.latencyMs.p99),
    F.fmt.n1(f.latencyMs.p999),
    F.fmt.n1(f.serverCpuUsPerOp),
    f.perServerCpuCores.map((c) => c.toFixed(2)).join('+'),
    f.leaderId === null ? '-' : `s${f.leaderId}`,
    f.driverProcs,
    `${F.fmt.n2(f.driverCpuCores)} (max ${F.fmt.n2(Math.max(...f.driverProcCores))})`,
    F.fmt.n1(f.driverCpuUsPerOp),
    f.driverBound ? 'yes' : 'no',
    f.errors,
  ]);
}

export function ensembleTables(r: EnsembleResults, md: boolean): string[] {
  const t = md ? F.markdownTable : F.table;
  const parts: string[] = [];
  if (r.load.length) parts.push(`Ensemble load (${r.options.load.sessions} sessions x ${r.options.load.outstanding} outstanding over ${r.options.size} servers, ${r.options.load.durationMs / 1000} s per shape):\n\n${t(ensembleLoadHeader, ensembleLoadRows(r.load))}`);
  if (r.failover.length) {
    const stopped = [
      ...r.failover.filter((f) => f.error !== null).map((f) => `${f.system} stopped early: ${f.error!.split('\n')[0]}`),
      ...r.failover.flatMap((f) => f.rounds.filter((x) => x.crashed.length).map((x) => `${f.system} round ${x.round}: survivor exited: ${x.crashed.join('; ')}`)),
    ];
    const rows = r.failover.flatMap((f) =>
      f.rounds.map((x) => [f.system, x.round, `s${x.killedLeader}`, x.newLeader === null ? '-' : `s${x.newLeader}`, F.fmt.int(x.leaderServingMs), F.fmt.int(x.leaderLogMs), F.fmt.int(x.nextWriteMs), F.fmt.n1(x.lastWriteBeforeKillMs), x.writerFailures, x.failureCodes.join(' ') || '-']),
    );
    const meds = r.failover.map((f) => [f.system, 'median', '', '', F.fmt.int(f.medianLeaderServingMs), F.fmt.int(f.medianLeaderLogMs), F.fmt.int(f.medianNextWriteMs), '', '', `writer ${F.fmt.int(f.writesPerSecBeforeKill)} writes/s before`]);
    parts.push(
      `Failover (kill -9 of the leader under one writer, one write in flight; "serving" = a survivor's state page polled every ${r.failover[0]!.pollMs} ms says leader and serving; "log" = its role line reached the bench; "-" = not within 30 s, counted as slowest in the median):\n\n` +
        t(['system', 'round', 'killed', 'new leader', 'leader serving ms', 'leader log line ms', 'next write ms', 'last write before kill ms', 'failed writes', 'codes'], [...rows, ...meds]) +
        (stopped.length ? `\n\n${stopped.join('\n')}` : ''),
    );
  }
  if (r.sync.length)
    parts.push(
      `Follower sync:\n\n${t(
        ['system', 'what', 'follower', 'txns behind', 'znodes', 'synced ms (spawn -> zxid = leader)', 'first log line ms', 'role line ms', 'mechanism', 'mechanism line ms', 'populate creates/s', 'phases ms'],
        r.sync.map((s) => [s.system, s.kind, `s${s.follower}`, F.fmt.int(s.txnsBehind), F.fmt.int(s.znodes), F.fmt.int(s.syncedMs), F.fmt.int(s.firstLineMs), F.fmt.int(s.roleLineMs), s.mechanism, F.fmt.int(s.mechanismLineMs), F.fmt.int(s.populateCreatesPerSec), s.phases ? phasesText(s.phases) : '-']),
      )}`,
    );
  if (r.watch.length)
    parts.push(
      `Watch fan-out across ${r.options.size} servers:\n\n${t(
        ['system', 'watchers', 'all notified p50 ms', 'all notified max ms', 'median watcher ms (rounds)', 'missing', 'connect s'],
        r.watch.map((w) => [`${w.system} x${r.options.size}`, F.fmt.int(w.watchers), F.fmt.n1(w.allNotifiedP50Ms), F.fmt.n1(w.allNotifiedMaxMs), w.rounds.map((x) => F.fmt.n1(x.medianWatcherMs)).join(', '), w.rounds.reduce((s, x) => s + x.missing, 0), F.fmt.n1(w.connectMs / 1000)]),
      )}`,
    );
  if (r.standalone.length) parts.push(`Standalone writes again (32 x 32, the load section's shape):\n\n${t(F.loadHeader, F.loadRows(r.standalone))}`);
  if (r.targets.length) parts.push(`Ensemble targets (issue 6):\n\n${t(['target', 'figure', 'status'], r.targets.map((x) => [x.target, x.figure, x.met === null ? 'not measured' : x.met ? 'met' : md ? 'missed' : 'MISSED']))}`);
  if (r.errors.length) parts.push(`Errors: ${r.errors.map((e) => `${e.part}/${e.system}: ${e.message.split('\n')[0]}`).join('; ')}`);
  return parts;
}

/** Rewrites the ensemble block of bench/README.md (between its own markers) from this run. */
export function updateEnsembleReadme(
  readme: string,
  e: EnsembleResults,
  run: { command: string; date: string; machine: MachineFacts; versions: { zookooperCommit?: string; zookeeper?: string; java?: string }; file: string },
): void {
  const start = '<!-- ensemble:start -->';
  const end = '<!-- ensemble:end -->';
  const text = readFileSync(readme, 'utf8');
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`bench/README.md has no ${start} ... ${end} section`);
  const m = run.machine;
  const head =
    `Ensemble figures: \`${run.command}\`${process.env.ZK_BENCH_SUT_ROOT ? ` with ZK_BENCH_SUT_ROOT (zookooper under test: commit ${run.versions.zookooperCommit ?? '?'})` : ''} on ${run.date.slice(0, 16).replace('T', ' ')} UTC — ${m.cpuModel}, ${m.cores} cores, ` +
    `${(m.memBytes / 2 ** 30).toFixed(0)} GiB, node ${m.nodeVersion}, ${m.kernel}` +
    `${run.versions.zookeeper ? `, ZooKeeper ${run.versions.zookeeper} (${run.versions.java ?? 'java'})` : ''}; ` +
    `load average at start ${m.loadAverage.map((x) => x.toFixed(1)).join(' / ')}. All 3 servers of each ensemble and the load processes share the machine. ` +
    `zookooper: ${e.zookooperSettings}; ZooKeeper: ${e.zookeeperSettings}. Full data: \`${run.file}\`.`;
  writeFileSync(readme, `${text.slice(0, a + start.length)}\n${[head, ...ensembleTables(e, true)].join('\n\n')}\n${text.slice(b)}`);
}
