// node-zookeeper-client (npm) behind promises, typed for what these tests use. It speaks
// ZooKeeper 3.4's protocol: getChildren2, setWatches (101), no readOnly byte.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface NzkStat {
  version: number;
  cversion: number;
  aversion: number;
  dataLength: number;
  numChildren: number;
  ephemeralOwner: Buffer;
  czxid: Buffer;
  mzxid: Buffer;
  pzxid: Buffer;
}
export interface NzkEvent {
  type: number;
  name: string;
  path: string;
}
export interface NzkError extends Error {
  code: number;
  name: string;
}
type Cb<T> = (err: NzkError | null, value: T, extra?: unknown) => void;
interface RawClient {
  connect(): void;
  close(): void;
  once(event: string, fn: (...a: unknown[]) => void): void;
  on(event: string, fn: (...a: unknown[]) => void): void;
  getSessionId(): Buffer;
  getSessionPassword(): Buffer;
  getState(): { name: string; code: number };
  addAuthInfo(scheme: string, auth: Buffer): void;
  create(path: string, data: Buffer | null, acls: unknown[], mode: number, cb: Cb<string>): void;
  remove(path: string, version: number, cb: Cb<void>): void;
  exists(path: string, watcher: ((e: NzkEvent) => void) | null, cb: Cb<NzkStat | null>): void;
  getData(path: string, watcher: ((e: NzkEvent) => void) | null, cb: (err: NzkError | null, data: Buffer, stat: NzkStat) => void): void;
  setData(path: string, data: Buffer, version: number, cb: Cb<NzkStat>): void;
  getChildren(path: string, watcher: ((e: NzkEvent) => void) | null, cb: (err: NzkError | null, children: string[], stat: NzkStat) => void): void;
  getACL(path: string, cb: (err: NzkError | null, acls: { permission: number; id: { scheme: string; id: string } }[], stat: NzkStat) => void): void;
  setACL(path: string, acls: unknown[], version: number, cb: Cb<NzkStat>): void;
  mkdirp(path: string, cb: Cb<string>): void;
  transaction(): RawTxn;
}
interface RawTxn {
  create(path: string, data?: Buffer, acls?: unknown[], mode?: number): RawTxn;
  setData(path: string, data: Buffer, version?: number): RawTxn;
  check(path: string, version?: number): RawTxn;
  remove(path: string, version?: number): RawTxn;
  commit(cb: (err: NzkError | null, results: { type: number; path?: string; err?: number }[]) => void): void;
}

export interface NzkModule {
  createClient(connect: string, opts: { sessionTimeout: number; spinDelay?: number; retries?: number; sessionId?: Buffer; sessionPassword?: Buffer }): RawClient;
  ACL: { new (perm: number, id: unknown): unknown; OPEN_ACL_UNSAFE: unknown[]; CREATOR_ALL_ACL: unknown[]; READ_ACL_UNSAFE: unknown[] };
  Id: new (scheme: string, id: string) => unknown;
  Permission: Record<string, number>;
  CreateMode: Record<string, number>;
  Exception: Record<string, number>;
  Event: Record<string, number>;
}

export const nzk = require('node-zookeeper-client') as NzkModule;

function p<T>(fn: (cb: Cb<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

/** A connected client (resolves on 'connected'; rejects on expiry or auth failure first). */
export async function nzkConnect(connect: string, opts: { sessionTimeout?: number; sessionId?: Buffer; sessionPassword?: Buffer } = {}): Promise<Nzk> {
  const raw = nzk.createClient(connect, { sessionTimeout: opts.sessionTimeout ?? 10_000, spinDelay: 100, retries: 3, ...opts });
  await new Promise<void>((resolve, reject) => {
    raw.once('connected', () => resolve());
    raw.once('expired', () => reject(new Error('expired')));
    raw.once('authenticationFailed', () => reject(new Error('authenticationFailed')));
    raw.connect();
  });
  return new Nzk(raw);
}

export class Nzk {
  constructor(readonly raw: RawClient) {}
  create(path: string, data: string | null = null, mode = 0, acls: unknown[] = nzk.ACL.OPEN_ACL_UNSAFE): Promise<string> {
    return p((cb) => this.raw.create(path, data === null ? null : Buffer.from(data), acls, mode, cb));
  }
  remove(path: string, version = -1): Promise<void> {
    return p((cb) => this.raw.remove(path, version, cb));
  }
  exists(path: string, watcher: ((e: NzkEvent) => void) | null = null): Promise<NzkStat | null> {
    return p((cb) => this.raw.exists(path, watcher, cb));
  }
  getData(path: string, watcher: ((e: NzkEvent) => void) | null = null): Promise<{ data: Buffer; stat: NzkStat }> {
    return new Promise((resolve, reject) => this.raw.getData(path, watcher, (err, data, stat) => (err ? reject(err) : resolve({ data, stat }))));
  }
  setData(path: string, data: string, version = -1): Promise<NzkStat> {
    return p((cb) => this.raw.setData(path, Buffer.from(data), version, cb));
  }
  getChildren(path: string, watcher: ((e: NzkEvent) => void) | null = null): Promise<{ children: string[]; stat: NzkStat }> {
    return new Promise((resolve, reject) => this.raw.getChildren(path, watcher, (err, children, stat) => (err ? reject(err) : resolve({ children, stat }))));
  }
  getACL(path: string): Promise<{ acls: { permission: number; id: { scheme: string; id: string } }[]; stat: NzkStat }> {
    return new Promise((resolve, reject) => this.raw.getACL(path, (err, acls, stat) => (err ? reject(err) : resolve({ acls, stat }))));
  }
  setACL(path: string, acls: unknown[], version = -1): Promise<NzkStat> {
    return p((cb) => this.raw.setACL(path, acls, version, cb));
  }
  mkdirp(path: string): Promise<string> {
    return p((cb) => this.raw.mkdirp(path, cb));
  }
  commit(t: RawTxn): Promise<{ type: number; path?: string; err?: number }[]> {
    return new Promise((resolve, reject) => t.commit((err, results) => (err ? reject(Object.assign(err, { results })) : resolve(results))));
  }
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.raw.once('disconnected', () => resolve());
      this.raw.close();
    });
  }
}

/** The error code a promise rejects with (node-zookeeper-client's Exception codes: ZooKeeper's). */
export async function codeOf(pr: Promise<unknown>): Promise<number> {
  try {
    await pr;
  } catch (err) {
    return (err as NzkError).code;
  }
  throw new Error('expected a failure, the call succeeded');
}
