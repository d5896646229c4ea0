// Helpers for the lock/election/barrier tests: clients whose session can be made to expire for
// real (a CuttableProxy kept blocked past the session timeout), and child processes to kill -9.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type ZookooperClient } from '../../src/index.js';
import { CuttableProxy } from '../helpers/proxy.js';
import { eventually, type TestServer } from '../helpers/server.js';

/** tickMs for every lock test server: session timeouts are negotiated into [2, 20] ticks = [400, 4000] ms. */
export const lockTestTickMs = 200;
/** A short session for clients meant to expire: 5 ticks. */
export const shortSessionMs = 1_000;

export interface ProxiedClient {
  zk: ZookooperClient;
  proxy: CuttableProxy;
  /** Cuts the connection and keeps it cut until both sides consider the session expired. */
  expire(observer: ZookooperClient): Promise<void>;
  close(): Promise<void>;
}

/** A client connected through a proxy the test can cut. */
export async function proxiedClient(server: TestServer, sessionTimeoutMs = shortSessionMs): Promise<ProxiedClient> {
  const proxy = await CuttableProxy.start(server.port);
  const zk = await connect(`127.0.0.1:${proxy.port}`, { sessionTimeoutMs });
  const sessionId = zk.sessionId;
  return {
    zk,
    proxy,
    async expire(observer) {
      proxy.cut();
      // Client side: no server reachable for the whole session timeout -> 'expired'.
      await eventually(() => zk.state === 'expired', sessionTimeoutMs * 4 + 2_000, 'client saw its session expire');
      // Server side: the session is gone once its ephemerals are (observed from another session).
      await eventually(async () => !(await hasEphemeralsOf(observer, '/', sessionId)), sessionTimeoutMs * 4 + 2_000, 'server expired the session');
    },
    async close() {
      await zk.close().catch(() => undefined);
      await proxy.close();
    },
  };
}

/** Whether any node under `root` (depth-first, bounded) is an ephemeral of `sessionId`. */
async function hasEphemeralsOf(zk: ZookooperClient, root: string, sessionId: bigint, budget = { nodes: 2_000 }): Promise<boolean> {
  let children: string[];
  try {
    children = await zk.getChildren(root);
  } catch {
    return false;
  }
  for (const c of children) {
    if (--budget.nodes < 0) return false;
    const p = root === '/' ? `/${c}` : `${root}/${c}`;
    const stat = await zk.exists(p);
    if (stat?.ephemeralOwner === sessionId) return true;
    if (stat !== null && stat.numChildren > 0 && (await hasEphemeralsOf(zk, p, sessionId, budget))) return true;
  }
  return false;
}

export async function connectAll(server: TestServer, n: number, sessionTimeoutMs = 4_000): Promise<ZookooperClient[]> {
  return Promise.all(Array.from({ length: n }, () => connect(server.connectString, { sessionTimeoutMs })));
}

export async function closeAll(clients: readonly ZookooperClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
}

export interface LockChild {
  child: ChildProcess;
  lines: string[];
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  kill9(): Promise<void>;
}

const childScript = join(fileURLToPath(new URL('.', import.meta.url)), 'locks-child.js');

/** Runs test/recipes/locks-child.ts: `role` is latch | selector | mutex. */
export function startLockChild(connectString: string, role: string, path: string, sessionTimeoutMs: number): LockChild {
  const child = spawn(process.execPath, [childScript, connectString, role, path, String(sessionTimeoutMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const onData = (b: Buffer): void => {
    for (const l of b.toString().split('\n')) if (l.trim() !== '') lines.push(l);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  return {
    child,
    lines,
    waitFor: (re, timeoutMs = 10_000) => eventually(() => lines.find((l) => re.test(l)), timeoutMs, `child line ${re} (got: ${lines.join(' | ')})`),
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
      await exited;
    },
  };
}
