// A zookooper ensemble for the bench: n processes `node bin/zookooper.js server --id N --servers
// 1=127.0.0.1:peer:election;client,...` on free loopback ports, each with its own data dir and log
// file; role, quorum and zxid from each server's GET /stat. Peer links are direct (no proxies).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BenchEnsemble, EnsembleMember, MemberState, Role, TimedLine } from './ensemble.js';
import { waitSettled } from './ensemble.js';
import { freePort } from './net.js';
import { startManaged, type Managed } from './process.js';
import { sutRoot } from './zookooper.js';

const binPath = path.join(sutRoot, 'bin', 'zookooper.js');

export interface ZookooperEnsembleOptions {
  root: string; // parent of s1.. data dirs and logs
  size: number;
  workers: number;
  extraArgs?: string[];
  /** Node flags placed before bin/zookooper.js (profiling: --cpu-prof, --cpu-prof-dir=D). */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
  /** A run's logs are kept apart: s<id>-<label>-<start#>.log */
  label: string;
}

const roles: Record<string, Role> = { leader: 'leader', follower: 'follower', observer: 'observer', looking: 'looking', standalone: 'standalone' };

class ZookooperMember implements EnsembleMember {
  managed: Managed | undefined;
  lines: TimedLine[] = [];
  private starts = 0;

  constructor(
    readonly id: number,
    readonly clientPort: number,
    readonly dataDir: string,
    private readonly args: string[],
    private readonly logDir: string,
    private readonly label: string,
  ) {}

  spawn(): number {
    if (this.managed !== undefined) throw new Error(`server ${this.id} is already running`);
    mkdirSync(this.dataDir, { recursive: true });
    this.lines = [];
    const logFile = path.join(this.logDir, `zookooper-${this.label}-s${this.id}-${++this.starts}.log`);
    const t = performance.now();
    const managed = startManaged(process.execPath, this.args, { cwd: sutRoot, logFile });
    managed.onLine((line) => {
      if (this.lines.length < 20_000) this.lines.push({ ms: performance.now(), line });
    });
    this.managed = managed;
    return t;
  }

  async state(timeoutMs = 1_000): Promise<MemberState | null> {
    if (this.managed === undefined) return null;
    try {
      const res = await fetch(`http://127.0.0.1:${this.clientPort}/stat`, { signal: AbortSignal.timeout(timeoutMs) });
      const body = (await res.json()) as { serverState?: string; inQuorum?: boolean; zxid?: string };
      const role = roles[body.serverState ?? ''] ?? 'other';
      const zxid = typeof body.zxid === 'string' ? BigInt(body.zxid.startsWith('0x') ? body.zxid : `0x${body.zxid}`) : null;
      return { role, serving: role !== 'looking' && body.inQuorum !== false, zxid };
    } catch {
      return null;
    }
  }
}

export async function startZookooperEnsemble(o: ZookooperEnsembleOptions): Promise<BenchEnsemble> {
  const ports: number[] = [];
  while (ports.length < 3 * o.size) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const client = (i: number): number => ports[i]!;
  const peer = (i: number): number => ports[o.size + i]!;
  const election = (i: number): number => ports[2 * o.size + i]!;
  const servers = Array.from({ length: o.size }, (_, i) => `${i + 1}=127.0.0.1:${peer(i)}:${election(i)};${client(i)}`).join(',');
  const members = Array.from({ length: o.size }, (_, i) => {
    const dataDir = path.join(o.root, `zookooper-${o.label}-s${i + 1}`);
    const args = [
      'server',
      '--host', '127.0.0.1',
      '--port', String(client(i)),
      '--data-dir', dataDir,
      '--workers', String(o.workers),
      '--id', String(i + 1),
      '--servers', servers,
      ...(o.extraArgs ?? []),
    ];
    return new ZookooperMember(i + 1, client(i), dataDir, [...(o.nodeArgs ?? []), binPath, ...args], o.root, o.label);
  });
  const e: BenchEnsemble = {
    system: 'zookooper',
    members,
    root: o.root,
    connectString: () => members.map((m) => `127.0.0.1:${m.clientPort}`).join(','),
    spreadString: () => members.map((m) => `127.0.0.1:${m.clientPort}`).join('|'),
  };
  for (const m of members) m.spawn();
  try {
    await waitSettled(e, o.readyTimeoutMs ?? 60_000);
  } catch (err) {
    const tails = members.map((m) => `s${m.id}:\n${m.managed?.tail(10) ?? ''}`).join('\n');
    for (const m of members) await m.managed?.stop(2_000);
    throw new Error(`${(err as Error).message}\n${tails}`);
  }
  return e;
}
