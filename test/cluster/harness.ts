// Real server processes on loopback for the cluster tests: an ensemble of n servers (n = 1 is a
// standalone server) on ephemeral ports chosen up front, every peer link through a fault proxy,
// each process known by PID and stoppable by it (kill -9, SIGSTOP/SIGCONT, restart with its data
// dir), roles read from GET /stat, and load children recording histories for the checkers.
// Everything started here is registered so it is killed by PID when the test process exits,
// whatever the test did.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '../../src/index.js';
import { binPath, tempDir } from '../helpers/server.js';
import { PeerMesh, serverEntry, type PeerEndpoint } from '../helpers/fault-proxy.js';
import { fromRecorded, readRecorded, type FinalRead, type HistoryOp, type RecordedLine } from '../helpers/history/index.js';
import type { LoadChildConfig } from './load-child.js';

export const harnessDefaults = {
  tickMs: 100,
  workers: 1,
  logLevel: 'warn',
  readyTimeoutMs: 30_000,
  leaderTimeoutMs: 30_000,
  statTimeoutMs: 1_000, // one GET /stat; a stopped process does not answer
  pollMs: 50,
  stopGraceMs: 5_000, // SIGTERM, then SIGKILL
  linesKept: 2_000, // log lines kept per server process for failure reports
  loadSessionTimeoutMs: 6_000,
  loadRequestTimeoutMs: 8_000,
  loadInflight: 2,
} as const;

// ------------------------------------------------------------------ every process, by PID

const live = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const c of live) {
    try {
      if (c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (hooked) return;
  hooked = true;
  // Synchronous, so it also runs when the runner ends the process after a test timeout; and on
  // the signals that would otherwise end this process without an 'exit' event.
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Free loopback ports, held open (so they differ from each other and from whatever binds port
 * 0 meanwhile, such as the fault proxies) until release(). They are drawn below the kernel's
 * ephemeral range: the servers bind them only after release() (and again after a restart), and a
 * port of that range can be taken meanwhile as the local port of any outgoing connection on the
 * machine (seen: a 3-server test whose server could not listen on its picked port). */
export async function holdPorts(count: number): Promise<{ ports: number[]; release(): Promise<void> }> {
  const servers: Server[] = [];
  const [low, high] = heldPortRange();
  for (let tries = 0; servers.length < count; tries++) {
    if (tries >= HOLD_PORT_TRIES_MAX) {
      await Promise.all(servers.map((s) => new Promise<void>((res) => s.close(() => res()))));
      throw new Error(`no ${count} free ports in ${low}-${high} after ${tries} tries`);
    }
    const port = low + Math.floor(Math.random() * (high - low));
    const s = await new Promise<Server | null>((res) => {
      const srv = createServer();
      srv.once('error', () => res(null));
      srv.listen(port, '127.0.0.1', () => res(srv));
    });
    if (s !== null) servers.push(s);
  }
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  const release = async (): Promise<void> => {
    await Promise.all(servers.map((s) => new Promise<void>((res) => s.close(() => res()))));
  };
  return { ports, release };
}

const HOLD_PORT_TRIES_MAX = 1_000;

/** [low, high) for held ports: from 10000 up to the start of the ephemeral range (Linux's
 * ip_local_port_range; 32768 where it cannot be read). */
function heldPortRange(): [number, number] {
  let ephemeralLow = 32_768;
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(first) && first > 12_000) ephemeralLow = first;
  } catch {
    // not Linux: keep the default
  }
  return [10_000, ephemeralLow];
}

// ------------------------------------------------------------------ one server process

export type ServerStatus = 'running' | 'stopped' | 'dead';

export interface ServerStat {
  serverState: string;
  zxid?: string;
  [k: string]: unknown;
}

export class ServerProcess {
  child: ChildProcess | null = null;
  status: ServerStatus = 'dead';
  readonly lines: string[] = [];
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly id: number,
    readonly clientPort: number,
    readonly dataDir: string,
    private readonly args: () => string[],
    private readonly script: string = binPath,
  ) {}

  get pid(): number {
    if (this.child?.pid === undefined) throw new Error(`server ${this.id} has no process`);
    return this.child.pid;
  }

  get address(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  /** Spawns the process and waits until its client port answers GET /stat (or it logs "serving"). */
  async start(readyTimeoutMs: number = harnessDefaults.readyTimeoutMs): Promise<void> {
    if (this.child !== null && alive(this.child)) throw new Error(`server ${this.id} is already running`);
    mkdirSync(this.dataDir, { recursive: true });
    const child = spawn(process.execPath, [this.script, ...this.args()], { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    this.child = child;
    this.status = 'running';
    const onData = (buf: Buffer): void => {
      for (const line of buf.toString().split('\n')) {
        if (line.trim() === '') continue;
        this.lines.push(`[${this.id}] ${line}`);
        if (this.lines.length > harnessDefaults.linesKept) this.lines.shift();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.exited = new Promise((res) => child.once('exit', (code, signal) => {
      this.lines.push(`[${this.id}] exited code=${code} signal=${signal}`);
      if (this.child === child) this.status = 'dead';
      res();
    }));
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (!alive(child)) throw new Error(`server ${this.id} exited while starting:\n${this.lines.slice(-30).join('\n')}`);
      if (this.lines.some((l) => l.includes('"msg":"serving"')) || (await this.stat()) !== null) return;
      if (Date.now() > deadline) throw new Error(`server ${this.id} not serving within ${readyTimeoutMs} ms:\n${this.lines.slice(-30).join('\n')}`);
      await pause(harnessDefaults.pollMs);
    }
  }

  /** GET /stat on the client port; null if it does not answer in time. */
  async stat(): Promise<ServerStat | null> {
    try {
      const res = await fetch(`http://${this.address}/stat`, { signal: AbortSignal.timeout(harnessDefaults.statTimeoutMs) });
      if (!res.ok) return null;
      return (await res.json()) as ServerStat;
    } catch {
      return null;
    }
  }

  async role(): Promise<string | null> {
    if (this.status !== 'running') return null;
    return (await this.stat())?.serverState ?? null;
  }

  /** kill -9 and wait for the exit. */
  async kill9(): Promise<void> {
    if (this.child === null || !alive(this.child)) return;
    process.kill(this.pid, 'SIGKILL');
    await this.exited;
  }

  /** SIGSTOP: the process stays, its sockets stay open, nothing is answered. */
  pause(): void {
    if (this.status !== 'running') throw new Error(`server ${this.id} is ${this.status}`);
    process.kill(this.pid, 'SIGSTOP');
    this.status = 'stopped';
  }

  resume(): void {
    if (this.status !== 'stopped') throw new Error(`server ${this.id} is ${this.status}`);
    process.kill(this.pid, 'SIGCONT');
    this.status = 'running';
  }

  /** SIGTERM (after a SIGCONT if stopped), SIGKILL after a grace period. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === null || !alive(child)) return;
    if (this.status === 'stopped') process.kill(this.pid, 'SIGCONT');
    process.kill(this.pid, 'SIGTERM');
    const timer = setTimeout(() => alive(child) && process.kill(child.pid!, 'SIGKILL'), harnessDefaults.stopGraceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ------------------------------------------------------------------ the ensemble

export interface EnsembleOptions {
  /** 1 starts a standalone server (no --id/--servers). */
  size: number;
  /** The last `observers` of the `size` servers are observers (default 0). */
  observers?: number;
  tickMs?: number;
  workers?: number;
  logLevel?: string;
  /** Passed as --sync-limit-ms / --election-timeout-ms when set (flags of the ensemble work). */
  syncLimitMs?: number;
  electionTimeoutMs?: number;
  /** Peer links through fault proxies (default true); without, servers talk directly. */
  proxies?: boolean;
  extraArgs?: string[];
  readyTimeoutMs?: number;
  /** The program run with the server flags instead of bin/zookooper.js (the harness's own tests
   * use a stand-in). */
  serverScript?: string;
  /** Parent of the servers' data dirs (s1, s2, ...) and of load histories; a temp dir if unset. */
  root?: string;
}

export class Ensemble {
  private constructor(
    readonly root: string,
    readonly servers: ServerProcess[],
    readonly mesh: PeerMesh | null,
    private readonly ownRoot: boolean,
  ) {}

  static async start(opts: EnsembleOptions): Promise<Ensemble> {
    const n = opts.size;
    const observers = opts.observers ?? 0;
    if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`size must be a positive integer, got ${n}`);
    if (!(observers >= 0 && observers < n)) throw new RangeError(`observers must be in [0, ${n}), got ${observers}`);
    const ownRoot = opts.root === undefined;
    const root = opts.root ?? tempDir('zk-cluster-');
    const held = await holdPorts(n * 3);
    const ports = held.ports;
    const endpoints: PeerEndpoint[] = Array.from({ length: n }, (_, i) => ({ id: i + 1, peerPort: ports[n + i]!, electionPort: ports[2 * n + i]!, observer: i >= n - observers }));
    let mesh: PeerMesh | null = null;
    try {
      if (n > 1 && opts.proxies !== false) mesh = await PeerMesh.start(endpoints);
    } finally {
      await held.release(); // the proxies are bound: now the servers may take these ports
    }
    const direct = endpoints.map((e) => serverEntry(e)).join(',');
    const servers = endpoints.map((e, i) => {
      const dataDir = join(root, `s${e.id}`);
      const args = (): string[] => [
        'server',
        ...(n > 1 ? ['--id', String(e.id), '--servers', mesh?.serversArg(e.id) ?? direct] : []),
        '--port', String(ports[i]),
        '--data-dir', dataDir,
        '--workers', String(opts.workers ?? harnessDefaults.workers),
        '--tick-ms', String(opts.tickMs ?? harnessDefaults.tickMs),
        '--log-level', opts.logLevel ?? harnessDefaults.logLevel,
        ...(opts.syncLimitMs !== undefined ? ['--sync-limit-ms', String(opts.syncLimitMs)] : []),
        ...(opts.electionTimeoutMs !== undefined ? ['--election-timeout-ms', String(opts.electionTimeoutMs)] : []),
        ...(opts.extraArgs ?? []),
      ];
      return new ServerProcess(e.id, ports[i]!, dataDir, args, opts.serverScript);
    });
    const ensemble = new Ensemble(root, servers, mesh, ownRoot);
    try {
      await Promise.all(servers.map((s) => s.start(opts.readyTimeoutMs)));
    } catch (err) {
      await ensemble.stopAll();
      throw err;
    }
    return ensemble;
  }

  server(id: number): ServerProcess {
    const s = this.servers.find((x) => x.id === id);
    if (s === undefined) throw new Error(`no server ${id}`);
    return s;
  }

  ids(): number[] {
    return this.servers.map((s) => s.id);
  }

  /** Every server's client address: what clients are given. */
  connectString(): string {
    return this.servers.map((s) => s.address).join(',');
  }

  async roles(): Promise<Map<number, string | null>> {
    const roles = await Promise.all(this.servers.map(async (s) => [s.id, await s.role()] as const));
    return new Map(roles);
  }

  /**
   * Polls until exactly one running server says it leads (a standalone server counts) and
   * returns its id.
   */
  async leader(timeoutMs: number = harnessDefaults.leaderTimeoutMs): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let last = new Map<number, string | null>();
    for (;;) {
      last = await this.roles();
      const alone = [...last].find(([, r]) => r === 'standalone');
      if (this.servers.length > 1 && alone !== undefined) {
        // A build that parses a server list but does not replicate yet.
        throw new Error(`s${alone[0]} runs standalone although it was given a server list: the ensemble is not available yet`);
      }
      const leaders = [...last].filter(([, r]) => r === 'leader' || r === 'standalone').map(([id]) => id);
      if (leaders.length === 1) return leaders[0]!;
      if (Date.now() > deadline) {
        throw new Error(`no single leader within ${timeoutMs} ms: roles ${JSON.stringify([...last])}\n${this.recentLines(20)}`);
      }
      await pause(harnessDefaults.pollMs);
    }
  }

  /** Polls until every running server has a role in a quorum (leader/follower/observer/standalone). */
  async settled(timeoutMs: number = harnessDefaults.leaderTimeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.leader(Math.max(1, deadline - Date.now()));
      const roles = await this.roles();
      const running = this.servers.filter((s) => s.status === 'running');
      if (running.every((s) => ['leader', 'follower', 'observer', 'standalone'].includes(roles.get(s.id) ?? ''))) return;
      if (Date.now() > deadline) throw new Error(`ensemble not settled within ${timeoutMs} ms: roles ${JSON.stringify([...roles])}`);
      await pause(harnessDefaults.pollMs);
    }
  }

  async restart(id: number): Promise<void> {
    const s = this.server(id);
    await s.kill9();
    await s.start();
  }

  recentLines(perServer = 15): string {
    return this.servers.map((s) => s.lines.slice(-perServer).join('\n')).join('\n');
  }

  /** Stops every server (SIGTERM, SIGKILL after a grace) and the proxies; removes a temp root. */
  async stopAll(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
    if (this.mesh !== null) await this.mesh.close();
    if (process.env.ZK_CLUSTER_KEEP !== undefined) {
      for (const srv of this.servers) writeFileSync(join(this.root, `s${srv.id}.log`), srv.lines.join('\n') + '\n');
      process.stderr.write(`cluster: kept ${this.root} (data dirs, histories, s*.log)\n`);
    } else if (this.ownRoot) {
      rmSync(this.root, { recursive: true, force: true });
    }
  }

  // ---------------------------------------------------------------- data

  /** Creates each key with empty data (version 0) unless it exists. */
  async createKeys(keys: readonly string[]): Promise<void> {
    const zk = await connect(this.connectString(), { sessionTimeoutMs: harnessDefaults.loadSessionTimeoutMs });
    try {
      for (const k of keys) await zk.create(k, '').catch((e: { code?: string }) => { if (e.code !== 'NODEEXISTS') throw e; });
    } finally {
      await zk.close();
    }
  }

  /**
   * Reads each key from every running server after a sync, with its own client on that server
   * alone; returns the final states and the reads as history lines (session final-sN).
   */
  async finalReads(keys: readonly string[]): Promise<{ finals: FinalRead[]; lines: RecordedLine[] }> {
    const finals: FinalRead[] = [];
    const lines: RecordedLine[] = [];
    for (const s of this.servers.filter((x) => x.status === 'running')) {
      const zk = await connect(s.address, { sessionTimeoutMs: harnessDefaults.loadSessionTimeoutMs });
      try {
        let seq = 0;
        for (const key of keys) {
          await zk.sync(key);
          const startNs = process.hrtime.bigint().toString();
          const { data, stat } = await zk.getData(key);
          const endNs = process.hrtime.bigint().toString();
          const value = data.toString('utf8');
          finals.push({ key, value, version: stat.version, mzxid: stat.mzxid.toString(), server: `s${s.id}` });
          lines.push({ session: `final-s${s.id}`, seq: ++seq, key, kind: 'read', startNs, endNs, outcome: 'ok', readValue: value, version: stat.version, mzxid: stat.mzxid.toString() });
        }
      } finally {
        await zk.close();
      }
    }
    return { finals, lines };
  }

  /** Starts load children (each its own process and session) writing histories under root. */
  startLoad(opts: LoadOptions): LoadRun {
    return LoadRun.start(this.connectString(), this.root, opts);
  }
}

// ------------------------------------------------------------------ load children

export interface LoadOptions {
  children: number;
  durationMs: number;
  keys: string[];
  seed?: number;
  inflight?: number;
  sessionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

const loadChildPath = fileURLToPath(new URL('./load-child.js', import.meta.url));

export class LoadRun {
  private constructor(
    readonly files: string[],
    private readonly done: Promise<{ code: number | null; out: string; err: string }>[],
    private readonly children: ChildProcess[],
  ) {}

  get pids(): number[] {
    return this.children.map((c) => c.pid!);
  }

  static start(connectString: string, root: string, o: LoadOptions): LoadRun {
    const files: string[] = [];
    const done: Promise<{ code: number | null; out: string; err: string }>[] = [];
    const children: ChildProcess[] = [];
    for (let i = 0; i < o.children; i++) {
      const out = join(root, `history-${process.pid}-${Date.now()}-c${i}.jsonl`);
      const cfg: LoadChildConfig = {
        connectString,
        keys: o.keys,
        durationMs: o.durationMs,
        out,
        label: `c${i}`,
        seed: (o.seed ?? 1) * 1000 + i,
        sessionTimeoutMs: o.sessionTimeoutMs ?? harnessDefaults.loadSessionTimeoutMs,
        requestTimeoutMs: o.requestTimeoutMs ?? harnessDefaults.loadRequestTimeoutMs,
        inflight: o.inflight ?? harnessDefaults.loadInflight,
      };
      const child = spawn(process.execPath, [loadChildPath, JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'pipe'] });
      track(child);
      children.push(child);
      files.push(out);
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
      done.push(new Promise((res) => child.once('exit', (code) => res({ code, out: stdout, err: stderr }))));
    }
    return new LoadRun(files, done, children);
  }

  /** Waits for every child; throws if one did not end cleanly. */
  async wait(): Promise<void> {
    const results = await Promise.all(this.done);
    results.forEach((r, i) => {
      if (r.code !== 0) throw new Error(`load child ${i} (pid ${this.pids[i]}) exited with ${r.code}: ${r.out}\n${r.err}`);
    });
  }

  /** The merged history of every child, with `extra` lines (e.g. the final reads, recorded on
   * the same clock). */
  history(extra: readonly RecordedLine[] = []): HistoryOp[] {
    return fromRecorded([...readRecorded(this.files), ...extra]);
  }

  /** Asks every child to stop issuing (SIGTERM) and waits for them to record and exit. */
  async stop(): Promise<void> {
    for (const c of this.children) if (alive(c)) process.kill(c.pid!, 'SIGTERM');
    await this.wait();
  }

  /** SIGKILL every child still running (a test that failed midway). */
  kill(): void {
    for (const c of this.children) if (alive(c)) process.kill(c.pid!, 'SIGKILL');
  }
}
