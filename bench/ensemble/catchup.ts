// Follower recovery figures on a running 3-server ensemble:
//   - catch-up: stop a follower (kill -9), create T znodes through the others (T txns), start it
//     again on its data dir; time from spawn until its own state page reports a zxid equal to the
//     leader's (and it serves);
//   - SNAP: grow the tree to N znodes, stop a follower, empty its data dir, start it; the same time.
// Which sync served is read from the follower's log: zookooper logs "SNAP: local state reloaded"
// (or "TRUNC: ...") when an image or a truncation replaced its tree, nothing for a DIFF; ZooKeeper's
// learner logs "Getting a diff from the leader" / "Getting a snapshot from leader" / "Truncating log".
// zookooper's time is also split into phases from the servers' own log times (pino `time`, wall
// clock ms, the same clock as performance.timeOrigin + now on this machine): see SyncPhases.
import path from 'node:path';
import { ensureNode, loadConnect } from '../lib/client.js';
import { type Histogram, type LatencySummaryMs, newHistogram, summarize } from '../lib/histogram.js';
import { kill9, runningMembers, waitSettled, waitZxid, wipe, type BenchEnsemble, type EnsembleMember, type TimedLine } from '../lib/ensemble.js';
import { runDriver } from '../lib/zookeeper.js';
import { GeneratorPool, split } from '../load/pool.js';

export interface SyncFigures {
  system: 'zookooper' | 'zookeeper';
  kind: 'catch-up' | 'snap';
  follower: number;
  leader: number;
  /** Txns the follower lacked when it started (leader's zxid minus the follower's, same epoch). */
  txnsBehind: number | null;
  znodes: number; // znodes in the tree at the time
  syncedMs: number; // spawn until its zxid equals the leader's
  mechanism: string;
  mechanismLine: string | null;
  mechanismLineMs: number | null; // spawn until that log line reached us
  /** Spawn until its first log line, and until its role line (zookooper "role: follower", ZooKeeper "FOLLOWING"). */
  firstLineMs: number | null;
  roleLineMs: number | null;
  populateCreatesPerSec: number;
  /** zookooper only: where the time went, from the follower's and the leader's log lines. */
  phases: SyncPhases | null;
  /** zookooper SNAP only: one setData at a time on the leader, quiet (2 s before the spawn) and while the follower syncs. */
  leaderWrites: { quiet: LatencySummaryMs; duringSync: LatencySummaryMs } | null;
}

/**
 * One session writing to the leader, one setData in flight: how long the leader's write path
 * stalls while it sends a SNAP (its image is a capture read as it streams, not a copy up front).
 */
async function leaderWriteProbe(port: number): Promise<{ mark(): void; stop(): Promise<{ before: Histogram; after: Histogram }> }> {
  const connect = await loadConnect();
  const zk = await connect(`127.0.0.1:${port}`, { sessionTimeoutMs: 30_000 });
  await ensureNode(zk, '/bench-snap-probe');
  const before = newHistogram();
  const after = newHistogram();
  let into = before;
  let running = true;
  const deadline = performance.now() + 600_000;
  const loop = (async () => {
    while (running && performance.now() < deadline) {
      const t0 = performance.now();
      await zk.setData('/bench-snap-probe', 'p');
      into.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000))); // µs
    }
  })();
  return {
    mark: () => (into = after),
    stop: async () => {
      running = false;
      await loop;
      await zk.close();
      return { before, after };
    },
  };
}

/**
 * Consecutive phases of one sync (ms; null when a line is missing, e.g. no SNAP). They add up to
 * syncedMs: start + links + election + capture + transfer + install + tail (for a DIFF: start +
 * links + toRole + tail).
 */
export interface SyncPhases {
  /** spawn -> the follower's first log line ("recovered": Node start-up, modules, recovery). */
  startMs: number | null;
  /** first line -> its last "peer link up" before the role line. */
  linksMs: number | null;
  /** links up -> the leader starts capturing the SNAP image (votes, FOLLOWERINFO, LEADERINFO, ACKEPOCH). */
  electionMs: number | null;
  /** The leader's copy of its tree and session table ("SNAP image captured"). */
  captureMs: number | null;
  /** capture done -> the follower starts installing (encode, send, receive, assemble the image). */
  transferMs: number | null;
  /** The follower's install: tree memory filled and the snapshot file durable ("snapshot installed (SNAP)"). */
  installMs: number | null;
  /** Of installMs: filling the tree's memory from the image, then the durable files. */
  installCopyMs: number | null;
  installFilesMs: number | null;
  /** DIFF: links up -> "role: follower" (election, discovery, the DIFF and NEWLEADER). */
  toRoleMs: number | null;
  /** install done (SNAP) or role line (DIFF) -> its zxid equals the leader's on /stat (NEWLEADER ACK, UPTODATE, the tail, the 2 ms poll). */
  tailMs: number | null;
}

interface LogTimes {
  time: number;
  fields: Record<string, unknown>;
}

/** The pino lines of `lines` whose msg matches, with their own time. */
function logLines(lines: readonly TimedLine[], msg: RegExp): LogTimes[] {
  const out: LogTimes[] = [];
  for (const l of lines) {
    if (!l.line.startsWith('{') || !msg.test(l.line)) continue;
    try {
      const fields = JSON.parse(l.line) as Record<string, unknown>;
      if (typeof fields['time'] === 'number' && typeof fields['msg'] === 'string' && msg.test(`"msg":"${fields['msg']}"`)) out.push({ time: fields['time'], fields });
    } catch {
      // not a log line of ours
    }
  }
  return out;
}

function phasesOf(follower: EnsembleMember, leader: EnsembleMember, spawnMs: number, syncedAt: number): SyncPhases {
  const epoch = (perfMs: number): number => performance.timeOrigin + perfMs;
  const spawn = epoch(spawnMs);
  const synced = epoch(syncedAt);
  const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  const first = logLines(follower.lines, /"msg":"/)[0]?.time ?? null;
  const role = logLines(follower.lines, /"msg":"role: (follower|observer)"/)[0]?.time ?? null;
  const links = logLines(follower.lines, /"msg":"peer link up"/).filter((l) => role === null || l.time <= role);
  const linksUp = links.at(-1)?.time ?? null;
  const installed = logLines(follower.lines, /"msg":"snapshot installed \(SNAP\)"/).at(-1) ?? null;
  const installMs = num(installed?.fields['ms']);
  const installStart = installed !== null && installMs !== null ? installed.time - installMs : null;
  const capture = logLines(leader.lines, /"msg":"SNAP image captured"/).filter((l) => l.time >= spawn && (installed === null || l.time <= installed.time)).at(-1) ?? null;
  const captureMs = num(capture?.fields['ms']);
  const captureStart = capture !== null && captureMs !== null ? capture.time - captureMs : null;
  const diff = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : b - a);
  const snap = installed !== null;
  return {
    startMs: diff(spawn, first),
    linksMs: diff(first, linksUp),
    electionMs: snap ? diff(linksUp, captureStart) : null,
    captureMs: snap ? captureMs : null,
    transferMs: snap ? diff(capture?.time ?? null, installStart) : null,
    installMs,
    installCopyMs: num(installed?.fields['copyMs']),
    installFilesMs: num(installed?.fields['filesMs']),
    toRoleMs: snap ? null : diff(linksUp, role),
    tailMs: snap ? diff(installed.time, synced) : diff(role, synced),
  };
}

/** One line: the phases that were seen. */
export function phasesText(p: SyncPhases): string {
  const parts: [string, number | null][] = [
    ['start', p.startMs],
    ['links', p.linksMs],
    ['election', p.electionMs],
    ['capture', p.captureMs],
    ['transfer', p.transferMs],
    ['install', p.installMs],
    ['to role', p.toRoleMs],
    ['tail', p.tailMs],
  ];
  const install = p.installCopyMs !== null || p.installFilesMs !== null ? ` (install = copy ${p.installCopyMs ?? '-'}, then files ${p.installFilesMs ?? '-'})` : '';
  return parts.filter(([, v]) => v !== null).map(([k, v]) => `${k} ${Math.round(v!)}`).join(' + ') + install;
}

function latencyText(l: LatencySummaryMs): string {
  return `${l.count} writes, p50 ${l.p50.toFixed(1)} / p99 ${l.p99.toFixed(1)} / max ${l.max.toFixed(1)} ms`;
}

const fanout = 1_000;

function running(e: BenchEnsemble): string[] {
  return runningMembers(e).map((m) => `127.0.0.1:${m.clientPort}`);
}

/** Creates /mem/<i / 1000>/<i % 1000> for i in [from, to) through the running servers; creates/s. */
async function populate(e: BenchEnsemble, from: number, to: number, classpath: string | undefined, tmpDir: string, procs: number, batch: number): Promise<number> {
  const t0 = performance.now();
  if (e.system === 'zookeeper') {
    const { result } = await runDriver(
      classpath ?? '',
      { mode: 'populate', connect: running(e).join(','), from, znodes: to - from, valueBytes: 100, sessions: 8, outstanding: batch > 1 ? 8 : 128, batch },
      { logFile: path.join(tmpDir, `zk-ens-populate-${from}.log`), timeoutMs: 3_600_000 },
    );
    if (Number(result.errors) > 0) throw new Error(`ZooKeeper populate: ${String(result.errors)} errors, first ${String(result.firstError)}`);
  } else {
    const connect = await loadConnect();
    const admin = await connect(running(e).join(','), { sessionTimeoutMs: 30_000 });
    try {
      await ensureNode(admin, '/mem');
      const parents: number[] = [];
      for (let p = Math.floor(from / fanout); p * fanout < to; p++) parents.push(p);
      for (let i = 0; i < parents.length; i += 100) await Promise.all(parents.slice(i, i + 100).map((p) => ensureNode(admin, `/mem/${p}`)));
    } finally {
      await admin.close();
    }
    const pool = new GeneratorPool(procs);
    try {
      let at = from;
      split(to - from, procs).forEach((count, i) => {
        pool.send(i, { type: 'populate', connectString: running(e).join('|'), from: at, to: at + count, fanout, valueBytes: 100, sessions: 4, outstanding: batch > 1 ? 4 : 64, batch });
        at += count;
      });
      const done = await pool.all('populated', 3_600_000);
      const errors = done.reduce((s, d) => s + d.errors, 0);
      if (errors > 0) throw new Error(`populate: ${errors} errors, first: ${done.find((d) => d.firstError)?.firstError}`);
    } finally {
      await pool.close();
    }
  }
  return (to - from) / ((performance.now() - t0) / 1000);
}

function mechanismOf(e: BenchEnsemble, m: EnsembleMember, spawnMs: number): { mechanism: string; line: string | null; ms: number | null } {
  const pattern = e.system === 'zookooper' ? /"msg":"(SNAP|TRUNC): local state reloaded"/ : /Getting a (diff|snapshot) from (the )?leader|Truncating log/;
  const hit = m.lines.find((l) => pattern.test(l.line));
  if (hit === undefined) {
    return { mechanism: e.system === 'zookooper' ? 'DIFF (no SNAP/TRUNC reload line in the follower log)' : 'unknown (no learner sync line in the log)', line: null, ms: null };
  }
  const text = hit.line;
  const mechanism = /SNAP|snapshot/.test(text) ? 'SNAP' : /TRUNC|Truncating/.test(text) ? 'TRUNC' : 'DIFF';
  return { mechanism, line: text.length > 300 ? `${text.slice(0, 300)}...` : text, ms: hit.ms - spawnMs };
}

const low32 = (z: bigint): number => Number(z & 0xffffffffn);

async function resync(e: BenchEnsemble, kind: 'catch-up' | 'snap', writeTo: number, from: number, o: { classpath?: string; tmpDir: string; procs: number }): Promise<SyncFigures> {
  const leaderId = await waitSettled(e, 120_000);
  const leader = e.members.find((m) => m.id === leaderId)!;
  const follower = [...e.members].reverse().find((m) => m.id !== leaderId)!;
  // The follower was in sync with the leader: what the leader has now is what it has.
  const before = (await leader.state(2_000))?.zxid ?? null;
  // kill -9, not SIGTERM: a clean stop writes a snapshot, and a server restarted on a snapshot of
  // an epoch > 1 fails at start ("epoch is behind lastZxid", see bench/README.md).
  await kill9(follower);
  // Catch-up: one create per txn (T txns behind). SNAP: multis of 100 creates build the tree in
  // fewer txns (the image is what travels, not the txns).
  const rate = await populate(e, from, writeTo, o.classpath, o.tmpDir, o.procs, kind === 'snap' ? 100 : 1);
  if (kind === 'snap') wipe(follower);
  const probe = kind === 'snap' && e.system === 'zookooper' ? await leaderWriteProbe(leader.clientPort) : null;
  if (probe !== null) await new Promise((r) => setTimeout(r, 2_000));
  const target = (await leader.state(2_000))?.zxid;
  if (target === null || target === undefined) throw new Error(`leader ${leaderId} reports no zxid`);
  probe?.mark();
  const spawnMs = follower.spawn();
  // The probe's writes raise the leader's zxid as it goes: the follower is synced once it reached
  // the zxid the leader had at the spawn (and it serves), as without the probe.
  const syncedAt = await waitZxid(follower, target, 300_000, 2);
  const probed = await probe?.stop();
  const mech = mechanismOf(e, follower, spawnMs);
  const rolePattern = e.system === 'zookooper' ? /"msg":"role: follower"/ : /QuorumPeer - FOLLOWING/;
  const roleLine = follower.lines.find((l) => rolePattern.test(l.line));
  const firstLine = follower.lines[0];
  return {
    system: e.system,
    kind,
    follower: follower.id,
    leader: leaderId,
    // zxid counters restart at each epoch: from an older epoch, it lacked the new epoch's txns.
    txnsBehind: kind === 'snap' || before === null ? null : target >> 32n === before >> 32n ? low32(target) - low32(before) : low32(target),
    znodes: writeTo,
    syncedMs: syncedAt - spawnMs,
    mechanism: mech.mechanism,
    mechanismLine: mech.line,
    mechanismLineMs: mech.ms,
    firstLineMs: firstLine === undefined ? null : firstLine.ms - spawnMs,
    roleLineMs: roleLine === undefined ? null : roleLine.ms - spawnMs,
    populateCreatesPerSec: rate,
    phases: e.system === 'zookooper' ? phasesOf(follower, leader, spawnMs, syncedAt) : null,
    leaderWrites: probed === undefined ? null : { quiet: summarize(probed.before), duringSync: summarize(probed.after) },
  };
}

/** Catch-up after `txns` creates, then SNAP of `snapZnodes` znodes in total, on one ensemble. */
export async function followerSync(
  e: BenchEnsemble,
  txns: number,
  snapZnodes: number,
  o: { classpath?: string; tmpDir: string; procs: number; log: (s: string) => void },
): Promise<SyncFigures[]> {
  const out: SyncFigures[] = [];
  const show = (f: SyncFigures): void =>
    o.log(`  ${f.system} ${f.kind}: follower ${f.follower} (${f.txnsBehind ?? '-'} txns behind, ${f.znodes.toLocaleString('en-US')} znodes) synced ${f.syncedMs.toFixed(0)} ms after spawn via ${f.mechanism}; populate ${Math.round(f.populateCreatesPerSec)} creates/s${f.phases ? `\n    phases (ms): ${phasesText(f.phases)}` : ''}${f.leaderWrites ? `\n    leader setData one at a time: quiet ${latencyText(f.leaderWrites.quiet)}; during the sync ${latencyText(f.leaderWrites.duringSync)}` : ''}`);
  const c = await resync(e, 'catch-up', txns, 0, o);
  out.push(c);
  show(c);
  const s = await resync(e, 'snap', Math.max(snapZnodes, txns), txns, o);
  out.push(s);
  show(s);
  return out;
}
