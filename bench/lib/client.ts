// The part of the public client API (../shared/CLIENT_API.md) the bench uses, loaded lazily so the
// bench compiles and its other parts run while src/index.ts does not exist yet. Once it exists,
// bench/lib/client-check.ts makes tsc check these shapes against the real module.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { sutRoot } from './zookooper.js';

export interface BenchStat {
  version: number;
  dataLength: number;
  numChildren: number;
}

export interface BenchWatchedEvent {
  type: string;
  path: string;
}

export type BenchCreateMode = 'persistent' | 'ephemeral';

export interface BenchClient {
  readonly sessionId: bigint;
  readonly state: string;
  create(path: string, data?: Uint8Array | string, options?: { mode?: BenchCreateMode }): Promise<string>;
  delete(path: string, version?: number): Promise<void>;
  exists(path: string, options?: { watch?: (event: BenchWatchedEvent) => void }): Promise<BenchStat | null>;
  getData(path: string, options?: { watch?: (event: BenchWatchedEvent) => void }): Promise<{ data: Buffer; stat: BenchStat }>;
  setData(path: string, data: Uint8Array | string, version?: number): Promise<BenchStat>;
  getAllChildrenNumber(path: string): Promise<number>;
  multi(ops: { op: 'create'; path: string; data?: Uint8Array | string }[]): Promise<unknown[]>;
  close(): Promise<void>;
}

export type Connect = (
  connectString: string,
  options?: { sessionTimeoutMs?: number; connectTimeoutMs?: number },
) => Promise<BenchClient>;

export async function loadConnect(): Promise<Connect> {
  // A computed specifier: tsc does not resolve it, so a missing module is a run-time "skipped".
  const url = pathToFileURL(path.join(sutRoot, 'dist', 'src', 'index.js')).href;
  const mod = (await import(url)) as { connect?: unknown };
  if (typeof mod.connect !== 'function') throw new Error('dist/src/index.js has no connect()');
  return mod.connect as Connect;
}

/** Creates `path` if absent (and its data), tolerating NODEEXISTS from a concurrent creator. */
export async function ensureNode(zk: BenchClient, p: string, data: Uint8Array | string = ''): Promise<void> {
  if ((await zk.exists(p)) !== null) {
    await zk.setData(p, data);
    return;
  }
  try {
    await zk.create(p, data);
  } catch (err) {
    if ((err as { code?: string }).code !== 'NODEEXISTS') throw err;
    await zk.setData(p, data);
  }
}
