// Apache ZooKeeper 3.8 as an n-server ensemble on loopback for the ensemble bench: one zoo.cfg per
// server (server.1..n=127.0.0.1:peer:election, its own clientPort, initLimit/syncLimit as the
// sample config, forceSync=yes), a myid file in each data dir, started as
// `java ... org.apache.zookeeper.server.quorum.QuorumPeerMain zoo.cfg`; role and zxid from the
// `srvr` four-letter word (a server that is not serving answers so, and counts as looking).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchEnsemble, EnsembleMember, MemberState, TimedLine } from './ensemble.js';
import { waitSettled } from './ensemble.js';
import { freePort, tcpAsk } from './net.js';
import { startManaged, type Managed } from './process.js';

const serverClasspath = ['/usr/share/java/zookeeper.jar', '/usr/share/java/slf4j-simple.jar'].join(':');

export interface ZooKeeperEnsembleOptions {
  root: string;
  size: number;
  label: string;
  tickTimeMs?: number; // 2000, as the sample zoo.cfg
  initLimit?: number; // 10 ticks
  syncLimit?: number; // 5 ticks
  readyTimeoutMs?: number;
}

class ZooKeeperMember implements EnsembleMember {
  managed: Managed | undefined;
  lines: TimedLine[] = [];
  private starts = 0;

  constructor(
    readonly id: number,
    readonly clientPort: number,
    readonly dataDir: string,
    private readonly cfgFile: string,
    private readonly dir: string,
    private readonly label: string,
  ) {}

  spawn(): number {
    if (this.managed !== undefined) throw new Error(`server ${this.id} is already running`);
    mkdirSync(this.dataDir, { recursive: true });
    writeFileSync(path.join(this.dataDir, 'myid'), `${this.id}\n`);
    this.lines = [];
    const logFile = path.join(this.dir, `zookeeper-${this.label}-s${this.id}-${++this.starts}.log`);
    const t = performance.now();
    // INFO: the role lines (LEADING / FOLLOWING) and the learner's "Getting a diff/snapshot" line.
    const managed = startManaged(
      'java',
      ['-Dorg.slf4j.simpleLogger.defaultLogLevel=info', '-Dorg.slf4j.simpleLogger.showDateTime=true', '-cp', serverClasspath, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', this.cfgFile],
      { cwd: this.dir, logFile },
    );
    managed.onLine((line) => {
      if (this.lines.length < 50_000) this.lines.push({ ms: performance.now(), line });
    });
    this.managed = managed;
    return t;
  }

  async state(timeoutMs = 1_000): Promise<MemberState | null> {
    if (this.managed === undefined) return null;
    let out: string;
    try {
      out = await tcpAsk(this.clientPort, 'srvr', timeoutMs);
    } catch {
      return null;
    }
    if (out.includes('not currently serving')) return { role: 'looking', serving: false, zxid: null };
    const mode = /Mode: (\w+)/.exec(out)?.[1];
    const zxid = /Zxid: (0x[0-9a-fA-F]+)/.exec(out)?.[1];
    if (mode === undefined) return null;
    const role = mode === 'leader' || mode === 'follower' || mode === 'observer' || mode === 'standalone' ? mode : 'other';
    return { role, serving: true, zxid: zxid === undefined ? null : BigInt(zxid) };
  }
}

export async function startZooKeeperEnsemble(o: ZooKeeperEnsembleOptions): Promise<BenchEnsemble> {
  const ports: number[] = [];
  while (ports.length < 3 * o.size) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const dir = path.join(o.root, `zookeeper-${o.label}`);
  mkdirSync(dir, { recursive: true });
  const serverLines = Array.from({ length: o.size }, (_, i) => `server.${i + 1}=127.0.0.1:${ports[o.size + i]!}:${ports[2 * o.size + i]!}`);
  const members = Array.from({ length: o.size }, (_, i) => {
    const id = i + 1;
    const dataDir = path.join(dir, `s${id}`);
    const cfgFile = path.join(dir, `zoo-s${id}.cfg`);
    writeFileSync(
      cfgFile,
      [
        `tickTime=${o.tickTimeMs ?? 2_000}`,
        `initLimit=${o.initLimit ?? 10}`,
        `syncLimit=${o.syncLimit ?? 5}`,
        `dataDir=${dataDir}`,
        `clientPort=${ports[i]!}`,
        'clientPortAddress=127.0.0.1',
        'forceSync=yes', // fsync every txn log batch, on every server
        'admin.enableServer=false',
        'maxClientCnxns=0', // the watch fan-out opens thousands of sessions from one address
        '4lw.commands.whitelist=srvr,mntr',
        ...serverLines,
        '',
      ].join('\n'),
    );
    return new ZooKeeperMember(id, ports[i]!, dataDir, cfgFile, dir, o.label);
  });
  const e: BenchEnsemble = {
    system: 'zookeeper',
    members,
    root: dir,
    connectString: () => members.map((m) => `127.0.0.1:${m.clientPort}`).join(','),
    spreadString: () => members.map((m) => `127.0.0.1:${m.clientPort}`).join('|'),
  };
  for (const m of members) m.spawn();
  try {
    await waitSettled(e, o.readyTimeoutMs ?? 120_000);
  } catch (err) {
    const tails = members.map((m) => `s${m.id}:\n${m.managed?.tail(10) ?? ''}`).join('\n');
    for (const m of members) await m.managed?.stop(2_000);
    throw new Error(`${(err as Error).message}\n${tails}`);
  }
  return e;
}
