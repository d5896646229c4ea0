// Failover: a steady writer (one session, the connect string lists every server, one setData in
// flight at a time) runs while the leader is killed with SIGKILL; we time, from the kill:
//   - leaderServingMs: until a survivor answers its state page as leader and serving (zookooper GET
//     /stat serverState=leader and inQuorum; ZooKeeper `srvr` Mode: leader), polled every 5 ms;
//   - leaderLogMs: until a survivor's role line reached us (zookooper `"msg":"role: leader"`,
//     ZooKeeper `QuorumPeer - LEADING`), as a cross-check of the poll;
//   - nextWriteMs: until the writer's first write sent after the kill completed (a write already
//     in flight may still complete just after the kill: its commit was on the wire).
// Every round runs on a fresh ensemble (see failover()).
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { kill9, runningMembers, stopMember, waitSettled, type BenchEnsemble } from '../lib/ensemble.js';
import { sleep } from '../lib/net.js';
import { InteractiveDriver } from '../lib/zookeeper.js';
import { median } from '../load/figures.js';

export interface FailoverRound {
  round: number;
  killedLeader: number;
  newLeader: number | null;
  leaderServingMs: number | null;
  leaderLogMs: number | null;
  nextWriteMs: number | null;
  /** The last write acknowledged before the kill, ms before it (how steady the writer was). */
  lastWriteBeforeKillMs: number | null;
  writerFailures: number;
  failureCodes: string[];
  /** Survivors that exited on their own during the round, with their last error line. */
  crashed: string[];
}

export interface FailoverFigures {
  system: 'zookooper' | 'zookeeper';
  rounds: FailoverRound[];
  medianLeaderServingMs: number | null;
  medianLeaderLogMs: number | null;
  medianNextWriteMs: number | null;
  writesPerSecBeforeKill: number | null;
  /** Why the rounds stopped early (a server that did not come back), or null. */
  error: string | null;
  pollMs: number;
  settings: string;
}

interface Write {
  s: number; // ns, CLOCK_MONOTONIC
  e: number;
}

interface Writer {
  ok: Write[];
  failures: (Write & { code: string })[];
  close(): Promise<void>;
}

const writerChild = fileURLToPath(new URL('./writer-child.js', import.meta.url));
const pollMs = 5;
const roundTimeoutMs = 30_000;
const leaderLine = { zookooper: /"msg":"role: leader"/, zookeeper: /QuorumPeer - LEADING/ } as const;

async function zookooperWriter(e: BenchEnsemble): Promise<Writer> {
  const child: ChildProcess = fork(writerChild, [e.connectString(), String(3_600_000)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const w: Writer = {
    ok: [],
    failures: [],
    close: async () => {
      if (child.connected) child.send({ type: 'close' });
      const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 10_000);
      if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
      clearTimeout(timer);
    },
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('zookooper writer did not connect in 30 s')), 30_000);
    child.on('message', (raw) => {
      const m = raw as { type: string; s: number; e: number; code?: string; message?: string };
      if (m.type === 'w') w.ok.push({ s: m.s, e: m.e });
      else if (m.type === 'we') w.failures.push({ s: m.s, e: m.e, code: m.code ?? '?' });
      else if (m.type === 'ready') {
        clearTimeout(timer);
        resolve();
      } else if (m.type === 'error') reject(new Error(`zookooper writer: ${m.message}`));
    });
    child.once('exit', () => reject(new Error('zookooper writer exited')));
  });
  return w;
}

async function zookeeperWriter(e: BenchEnsemble, classpath: string, tmpDir: string): Promise<Writer> {
  const d = new InteractiveDriver(classpath, { mode: 'writer', connect: e.connectString(), durationMs: 3_600_000 }, { logFile: path.join(tmpDir, 'zk-failover-writer.log') });
  const w: Writer = { ok: [], failures: [], close: async () => await d.close() };
  d.managed.onLine((line, stream) => {
    if (stream !== 'stdout') return;
    if (line.startsWith('{"event":"w",')) {
      const m = JSON.parse(line) as Write;
      w.ok.push({ s: m.s, e: m.e });
    } else if (line.startsWith('{"event":"we",')) {
      const m = JSON.parse(line) as Write & { code: string };
      w.failures.push(m);
    }
  });
  await d.next('ready', 60_000);
  return w;
}

async function oneRound(e: BenchEnsemble, w: Writer, round: number): Promise<FailoverRound> {
  const leaderId = await waitSettled(e, 120_000);
  // Steady state: the writer has completed writes for a while on this leader.
  const okBefore = w.ok.length;
  const steadyDeadline = performance.now() + 30_000;
  while (w.ok.length < okBefore + 50 && performance.now() < steadyDeadline) await sleep(20);
  await sleep(300);
  const leader = e.members.find((m) => m.id === leaderId)!;
  const survivors = runningMembers(e).filter((m) => m !== leader);
  const failuresBefore = w.failures.length;
  const killNs = Number(process.hrtime.bigint());
  const killMs = await kill9(leader);
  let newLeader: number | null = null;
  let leaderServingMs: number | null = null;
  const deadline = performance.now() + roundTimeoutMs;
  while (performance.now() < deadline) {
    const states = await Promise.all(survivors.map((m) => m.state(500)));
    const at = states.findIndex((s) => s?.role === 'leader' && s.serving);
    if (at >= 0) {
      leaderServingMs = (Number(process.hrtime.bigint()) - killNs) / 1e6;
      newLeader = survivors[at]!.id;
      break;
    }
    await sleep(pollMs);
  }
  let nextWriteMs: number | null = null;
  while (performance.now() < deadline) {
    const next = w.ok.find((x) => x.s > killNs);
    if (next !== undefined) {
      nextWriteMs = (next.e - killNs) / 1e6;
      break;
    }
    await sleep(pollMs);
  }
  const pattern = leaderLine[e.system];
  const logAt = survivors.flatMap((m) => m.lines.filter((l) => l.ms > killMs && pattern.test(l.line)).map((l) => l.ms))[0];
  const last = w.ok.filter((x) => x.e <= killNs).at(-1);
  const failures = w.failures.slice(failuresBefore);
  const codes = [...new Set(failures.map((f) => f.code))];
  const crashed = survivors
    .filter((m) => m.managed !== undefined && (m.managed.child.exitCode !== null || m.managed.child.signalCode !== null))
    .map((m) => `s${m.id}: ${m.lines.map((l) => l.line).find((l) => /AssertionError|"level":60/.test(l))?.slice(0, 200) ?? 'exited'}`);
  return {
    round,
    killedLeader: leaderId,
    newLeader,
    leaderServingMs,
    leaderLogMs: logAt === undefined ? null : logAt - killMs,
    nextWriteMs,
    lastWriteBeforeKillMs: last === undefined ? null : (killNs - last.e) / 1e6,
    writerFailures: failures.length,
    failureCodes: codes,
    crashed,
  };
}

/**
 * Each round on a fresh ensemble (started by `start`, stopped after the round): the killed leader
 * is not restarted, so a server that fails to restart (bench/README.md) cannot end the series, and
 * every round starts from the same state (epoch 1, all three servers synced).
 */
export async function failover(
  system: 'zookooper' | 'zookeeper',
  start: (round: number) => Promise<BenchEnsemble>,
  rounds: number,
  opts: { classpath?: string; tmpDir: string; settings: string; log: (s: string) => void },
): Promise<FailoverFigures> {
  const out: FailoverRound[] = [];
  const rates: number[] = [];
  let error: string | null = null;
  const n = (x: number | null): string => (x === null ? '-' : x.toFixed(1));
  for (let r = 0; r < rounds; r++) {
    try {
      const e = await start(r);
      try {
        const w = system === 'zookooper' ? await zookooperWriter(e) : await zookeeperWriter(e, opts.classpath ?? '', opts.tmpDir);
        try {
          await sleep(1_000);
          const t1 = Number(process.hrtime.bigint());
          rates.push(w.ok.filter((x) => x.e > t1 - 1e9).length);
          const f = await oneRound(e, w, r);
          out.push(f);
          opts.log(`  ${system} round ${r}: killed ${f.killedLeader}, new leader ${f.newLeader ?? '-'} serving after ${n(f.leaderServingMs)} ms (log line ${n(f.leaderLogMs)} ms), next write ${n(f.nextWriteMs)} ms, ${f.writerFailures} failed writes ${f.failureCodes.join(' ')}${f.crashed.length ? ` CRASHED ${f.crashed.join('; ')}` : ''}`);
        } finally {
          await w.close();
        }
      } finally {
        await Promise.all(e.members.map((m) => stopMember(m, 10_000)));
      }
    } catch (err) {
      error = `round ${r}: ${(err as Error).message}`;
      opts.log(`  ${system} failover stopped: ${error}`);
      break;
    }
  }
  // A round that saw no leader (or no write) within roundTimeoutMs counts as slower than all others.
  const med = (xs: (number | null)[]): number | null => {
    const m = median(xs.map((x) => x ?? Number.POSITIVE_INFINITY));
    return Number.isFinite(m) ? m : null;
  };
  return {
    system,
    rounds: out,
    medianLeaderServingMs: med(out.map((x) => x.leaderServingMs)),
    medianLeaderLogMs: med(out.map((x) => x.leaderLogMs)),
    medianNextWriteMs: med(out.map((x) => x.nextWriteMs)),
    writesPerSecBeforeKill: rates.length ? median(rates) : null,
    pollMs,
    settings: opts.settings,
    error,
  };
}
