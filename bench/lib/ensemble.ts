// A 3-server ensemble on loopback for the ensemble bench, the same handle for zookooper
// (bench/lib/zookooper-ensemble.ts) and Apache ZooKeeper (bench/lib/zookeeper-ensemble.ts): start,
// kill -9, stop, restart (optionally with an empty data dir), and each server's role and last
// zxid as the server itself reports them (zookooper: GET /stat; ZooKeeper: the `srvr` word).
import { rmSync } from 'node:fs';
import { sleep } from './net.js';
import type { Managed } from './process.js';

export type Role = 'leader' | 'follower' | 'observer' | 'looking' | 'standalone' | 'other';

export interface MemberState {
  /** The role the server reports; a server that refuses to answer (not serving) is 'looking'. */
  role: Role;
  /** Serving clients now: in a quorum (zookooper inQuorum, ZooKeeper srvr answers). */
  serving: boolean;
  zxid: bigint | null;
}

/** One output line of a server with its arrival time (performance.now()). */
export interface TimedLine {
  ms: number;
  line: string;
}

export interface EnsembleMember {
  readonly id: number;
  readonly clientPort: number;
  readonly dataDir: string;
  /** The running process, or undefined while stopped or killed. */
  managed: Managed | undefined;
  /** Lines of the current process since its start (cleared on every start). */
  lines: TimedLine[];
  /** The state from the server itself, or null when it does not answer within timeoutMs. */
  state(timeoutMs?: number): Promise<MemberState | null>;
  /** Spawns the process (same ports and data dir); resolves at spawn with performance.now(). */
  spawn(): number;
}

export interface BenchEnsemble {
  readonly system: 'zookooper' | 'zookeeper';
  readonly members: EnsembleMember[];
  readonly root: string;
  /** Every server's client address, comma-separated (a client that may move between them). */
  connectString(): string;
  /** Every server's client address separated by '|': the generators pin session i to entry i % n. */
  spreadString(): string;
}

export function pidOf(m: EnsembleMember): number {
  if (m.managed === undefined) throw new Error(`server ${m.id} is not running`);
  return m.managed.pid;
}

export function runningMembers(e: BenchEnsemble): EnsembleMember[] {
  return e.members.filter((m) => m.managed !== undefined);
}

export async function kill9(m: EnsembleMember): Promise<number> {
  const managed = m.managed;
  if (managed === undefined) throw new Error(`server ${m.id} is not running`);
  const t = performance.now();
  process.kill(managed.pid, 'SIGKILL');
  m.managed = undefined;
  await managed.exited;
  return t;
}

export async function stopMember(m: EnsembleMember, graceMs = 30_000): Promise<void> {
  const managed = m.managed;
  if (managed === undefined) return;
  m.managed = undefined;
  await managed.stop(graceMs);
}

export function wipe(m: EnsembleMember): void {
  if (m.managed !== undefined) throw new Error(`server ${m.id} is running: stop it before wiping its data dir`);
  rmSync(m.dataDir, { recursive: true, force: true });
}

/** The id of the one running server that reports itself leader and serving, or null. */
export async function currentLeader(e: BenchEnsemble, timeoutMs = 1_000): Promise<number | null> {
  const states = await Promise.all(runningMembers(e).map(async (m) => [m.id, await m.state(timeoutMs)] as const));
  const leaders = states.filter(([, s]) => s?.role === 'leader' && s.serving);
  return leaders.length === 1 ? leaders[0]![0] : null;
}

/** Throws, with its last output, if a member we consider running has exited on its own. */
export function assertAlive(e: BenchEnsemble): void {
  for (const m of runningMembers(e)) {
    const c = m.managed!.child;
    if (c.exitCode !== null || c.signalCode !== null) {
      const tail = m.managed!.tail(5);
      m.managed = undefined;
      throw new Error(`${e.system} server ${m.id} exited (${c.exitCode ?? c.signalCode}); last output:\n${tail}`);
    }
  }
}

/** Polls until one leader serves and every other running server serves as a follower. */
export async function waitSettled(e: BenchEnsemble, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    assertAlive(e);
    const running = runningMembers(e);
    const states = await Promise.all(running.map((m) => m.state(1_000)));
    const leaders = running.filter((_, i) => states[i]?.role === 'leader' && states[i]!.serving);
    const allServe = states.every((s) => s !== null && s.serving && (s.role === 'leader' || s.role === 'follower' || s.role === 'observer'));
    if (leaders.length === 1 && allServe) return leaders[0]!.id;
    if (performance.now() > deadline) {
      const seen = running.map((m, i) => `${m.id}: ${states[i] === null ? 'no answer' : `${states[i]!.role}${states[i]!.serving ? '' : ' (not serving)'}`}`).join(', ');
      throw new Error(`${e.system} ensemble not settled within ${timeoutMs} ms (${seen})`);
    }
    await sleep(25);
  }
}

/** Polls one member until it serves and its zxid is at least `zxid`; resolves with performance.now(). */
export async function waitZxid(m: EnsembleMember, zxid: bigint, timeoutMs: number, pollMs = 5): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let last: MemberState | null = null;
  for (;;) {
    const c = m.managed?.child;
    if (c !== undefined && (c.exitCode !== null || c.signalCode !== null)) throw new Error(`server ${m.id} exited (${c.exitCode ?? c.signalCode}) before it caught up; last output:\n${m.managed!.tail(5)}`);
    last = await m.state(1_000);
    const now = performance.now();
    if (last !== null && last.serving && last.zxid !== null && last.zxid >= zxid) return now;
    if (now > deadline) throw new Error(`server ${m.id} not at zxid 0x${zxid.toString(16)} within ${timeoutMs} ms (last: ${last === null ? 'no answer' : `${last.role} 0x${last.zxid?.toString(16) ?? '?'}`})`);
    await sleep(pollMs);
  }
}

/** Runs fn with the whole ensemble stopped by PID afterwards, whatever happens. */
export async function withEnsemble<T>(start: () => Promise<BenchEnsemble>, fn: (e: BenchEnsemble) => Promise<T>): Promise<T> {
  const e = await start();
  try {
    return await fn(e);
  } finally {
    await Promise.all(e.members.map((m) => stopMember(m, 10_000)));
  }
}
