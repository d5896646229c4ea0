// What the ensemble end-to-end tests share: an ensemble of real server processes (the cluster
// harness, peer links direct or proxied), clients pinned to one server or given every server,
// where a session is connected right now (GET /cons: every worker of the server), and the JSON / text state pages.
import { connect, type ConnectOptions, type WatchedEvent, type ZookooperClient } from '../../src/index.js';
import { Ensemble, type EnsembleOptions, type ServerProcess } from '../cluster/harness.js';
import { eventually } from '../helpers/server.js';

export const ensembleTest = {
  tickMs: 200,
  // Not shorter: on a loaded 2-core machine a server's event loop can stall past 1 s and cost an
  // election the test did not ask for. A kill -9 is seen at once anyway (the TCP links close).
  syncLimitMs: 4_000,
  electionTimeoutMs: 1_000,
  sessionTimeoutMs: 10_000, // well above a failover (a kill -9 of the leader, an election)
  sessionTimeoutMsMax: 30_000,
  deadlineMs: 30_000, // generous bound on anything awaited (no timing asserts)
} as const;

/** Starts `size` servers (the last `observers` observe) and waits until every one has a role. */
export async function startEnsemble(o: Partial<EnsembleOptions> & { size: number }): Promise<Ensemble> {
  const e = await Ensemble.start({
    tickMs: ensembleTest.tickMs,
    syncLimitMs: ensembleTest.syncLimitMs,
    electionTimeoutMs: ensembleTest.electionTimeoutMs,
    logLevel: process.env.ZK_ENS_LOG ?? 'warn', // ZK_ENS_LOG=info with ZK_CLUSTER_KEEP=1 for a post-mortem
    ...o,
    extraArgs: ['--max-session-timeout-ms', String(ensembleTest.sessionTimeoutMsMax), ...(o.extraArgs ?? [])],
  });
  try {
    await e.settled();
  } catch (err) {
    await e.stopAll();
    throw err;
  }
  return e;
}

/** A client of exactly these servers. */
export function clientOf(servers: ServerProcess | ServerProcess[], opts: ConnectOptions = {}): Promise<ZookooperClient> {
  const list = Array.isArray(servers) ? servers : [servers];
  return connect(list.map((s) => s.address).join(','), { sessionTimeoutMs: ensembleTest.sessionTimeoutMs, ...opts });
}

/** Whether `path` exists as every running server sees it after a sync (a fresh client on each). */
export async function existsEverywhere(e: Ensemble, path: string): Promise<boolean[]> {
  const out: boolean[] = [];
  for (const s of e.servers.filter((x) => x.status === 'running')) {
    const zk = await clientOf(s);
    try {
      await zk.sync(path);
      out.push((await zk.exists(path)) !== null);
    } finally {
      await zk.close();
    }
  }
  return out;
}

export interface ConsRow {
  remote: string;
  sessionId: string;
}

export async function cons(s: ServerProcess): Promise<ConsRow[] | null> {
  if (s.status !== 'running') return null;
  try {
    const res = await fetch(`http://${s.address}/cons`, { signal: AbortSignal.timeout(1_000) });
    return ((await res.json()) as { connections: ConsRow[] }).connections;
  } catch {
    return null;
  }
}

/** The id of the server the session is connected to right now, or null. */
export async function whereIs(e: Ensemble, sessionId: bigint): Promise<number | null> {
  const hex = '0x' + sessionId.toString(16);
  for (const s of e.servers) {
    const rows = await cons(s);
    if (rows?.some((r) => r.sessionId === hex)) return s.id;
  }
  return null;
}

/** Waits until the session is connected to some server and returns its id. */
export function serverOf(e: Ensemble, zk: ZookooperClient, notId?: number): Promise<number> {
  return eventually(async () => {
    if (zk.state !== 'connected') return null;
    const id = await whereIs(e, zk.sessionId);
    return id !== null && id !== notId ? id : null;
  }, ensembleTest.deadlineMs, `session 0x${zk.sessionId.toString(16)} connected to a server${notId !== undefined ? ` other than s${notId}` : ''}`);
}

export async function page(s: ServerProcess, name: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://${s.address}/${name}`, { signal: AbortSignal.timeout(2_000) });
  return { status: res.status, text: await res.text() };
}

export async function jsonPage(s: ServerProcess, name: string): Promise<Record<string, unknown>> {
  return JSON.parse((await page(s, name)).text) as Record<string, unknown>;
}

/** The ids of running servers with this role (GET /stat). */
export async function withRole(e: Ensemble, role: string): Promise<number[]> {
  const roles = await e.roles();
  return [...roles].filter(([, r]) => r === role).map(([id]) => id);
}

/** Collects watch events; `next(pred)` waits for one. */
export class Events {
  readonly seen: WatchedEvent[] = [];
  readonly watcher = (ev: WatchedEvent): void => void this.seen.push(ev);
  next(pred: (ev: WatchedEvent) => boolean, what: string): Promise<WatchedEvent> {
    return eventually(() => this.seen.find(pred), ensembleTest.deadlineMs, what);
  }
}

/** Closes clients without failing the test on a client whose server is gone. */
export async function closeAll(clients: (ZookooperClient | undefined)[]): Promise<void> {
  await Promise.all(clients.map((c) => c?.close().catch(() => {})));
}

export { eventually };
