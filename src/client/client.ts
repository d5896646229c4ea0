// The ZooKeeper-style API of CLIENT_API.md over the session machinery: argument checks, chroot,
// request building, and decoding of each answer (plus watch registration on success).
import { ZookooperError, type ErrorCode } from '../common/errors.js';
import { OPEN_ACL_UNSAFE, type ACL, type CreateOptions, type Data, type Op, type OpResult, type Stat, type Watcher, type WatcherType, type WatchMode } from '../common/types.js';
import { isSequentialMode, Opcode } from '../protocol/codes.js';
import { decodeErrorPayload, results } from '../protocol/decode-server.js';
import { ProtocolError } from '../protocol/errors.js';
import { protocolLimits } from '../protocol/limits.js';
import type { MultiOp } from '../protocol/messages.js';
import { checkAcl, checkData, checkMode, checkPath, checkTtl, checkVersion } from './args.js';
import { parseConnectString } from './connect-string.js';
import { resolveOptions, type ConnectOptions } from './options.js';
import { Kind, type Pending } from './pending.js';
import { Session } from './session.js';
import type { RemovedWatchers } from './watch-manager.js';

function checkWatcher(w: unknown, path: string): Watcher | null {
  if (w === undefined || w === null) return null;
  if (typeof w !== 'function') throw new ZookooperError('BADARGUMENTS', 'watch must be a function', path);
  return w as Watcher;
}

/** Data of a getData answer: keep a view of the frame only when it is most of it, else copy, so a
 * small kept value does not pin a large socket read buffer. */
function ownData(b: Buffer): Buffer {
  return b.byteLength * 2 >= b.buffer.byteLength ? b : Buffer.from(b);
}

export class ZookooperClient extends Session {
  /** Use connect(); the constructor does not connect. */
  constructor(connectString: string, opts?: ConnectOptions) {
    const cs = parseConnectString(connectString);
    super(cs.hosts, cs.chroot, resolveOptions(opts));
  }

  /** Establish the session and send the `auth` option's credentials; rejects with ZookooperError. */
  async open(): Promise<this> {
    await this.start();
    for (const a of this.options.auth) {
      try {
        await this.addAuth(a.scheme, a.credential);
      } catch (e) {
        await this.close();
        throw e;
      }
    }
    return this;
  }

  // ------------------------------------------------------------------ operations

  create(path: string, data?: Data, opts?: CreateOptions): Promise<string> {
    return this.createOp(path, data, opts, false);
  }

  createWithStat(path: string, data?: Data, opts?: CreateOptions): Promise<{ path: string; stat: Stat }> {
    return this.createOp(path, data, opts, true);
  }

  private createOp<T>(path: string, data: Data | undefined, opts: CreateOptions | undefined, withStat: boolean): Promise<T> {
    try {
      const mode = checkMode(opts?.mode, path);
      checkPath(path, isSequentialMode(mode));
      const acl = opts?.acl === undefined ? OPEN_ACL_UNSAFE : checkAcl(opts.acl, path);
      const ttlMs = checkTtl(mode, opts?.ttlMs, path);
      const bytes = checkData(data, this.dataBytesMax, path);
      const opcode = withStat ? Opcode.create2 : Opcode.create;
      return this.submit({ opcode, xid: 0, path: this.chroot.toServer(path), data: bytes, acl, mode, ttlMs }, withStat ? Kind.create2 : Kind.create, path, null);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  delete(path: string, version = -1): Promise<void> {
    try {
      checkPath(path);
      return this.submit({ opcode: Opcode.delete, xid: 0, path: this.chroot.toServer(path), version: checkVersion(version, path) }, Kind.none, path, null);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  exists(path: string, opts?: { watch?: Watcher }): Promise<Stat | null> {
    return this.read(Opcode.exists, Kind.exists, path, opts?.watch);
  }

  getData(path: string, opts?: { watch?: Watcher }): Promise<{ data: Buffer; stat: Stat }> {
    return this.read(Opcode.getData, Kind.getData, path, opts?.watch);
  }

  private read<T>(opcode: typeof Opcode.exists | typeof Opcode.getData, kind: Kind, path: string, watch: unknown): Promise<T> {
    try {
      checkPath(path);
      const w = checkWatcher(watch, path);
      return this.submit({ opcode, xid: 0, path: this.chroot.toServer(path), watch: w !== null }, kind, path, w);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  setData(path: string, data: Data, version = -1): Promise<Stat> {
    try {
      checkPath(path);
      const bytes = checkData(data, this.dataBytesMax, path);
      return this.submit({ opcode: Opcode.setData, xid: 0, path: this.chroot.toServer(path), data: bytes, version: checkVersion(version, path) }, Kind.stat, path, null);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  getChildren(path: string, opts?: { watch?: Watcher }): Promise<string[]> {
    return this.children(path, opts?.watch, false);
  }

  getChildrenWithStat(path: string, opts?: { watch?: Watcher }): Promise<{ children: string[]; stat: Stat }> {
    return this.children(path, opts?.watch, true);
  }

  private children<T>(path: string, watch: unknown, withStat: boolean): Promise<T> {
    try {
      checkPath(path);
      const w = checkWatcher(watch, path);
      const req = { opcode: Opcode.getChildren, xid: 0, path: this.chroot.toServer(path), watch: w !== null, withStat } as const;
      return this.submit({ ...req }, withStat ? Kind.children2 : Kind.children, path, w);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  getAllChildrenNumber(path: string): Promise<number> {
    try {
      checkPath(path);
      return this.submit({ opcode: Opcode.getAllChildrenNumber, xid: 0, path: this.chroot.toServer(path) }, Kind.number, path, null);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  getEphemerals(pathPrefix = '/'): Promise<string[]> {
    try {
      checkPath(pathPrefix);
      return this.submit({ opcode: Opcode.getEphemerals, xid: 0, prefix: this.chroot.toServer(pathPrefix) }, Kind.ephemerals, pathPrefix, null);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * The node's ACL and stat. As ZooKeeper: NOAUTH unless the caller holds READ or ADMIN on the
   * node; without ADMIN each digest id comes masked as 'user:x' (the password hash is not shown).
   */
  getACL(path: string): Promise<{ acl: ACL[]; stat: Stat }> {
    try {
      checkPath(path);
      return this.submit({ opcode: Opcode.getACL, xid: 0, path: this.chroot.toServer(path) }, Kind.acl, path, null);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  setACL(path: string, acl: ACL[], aclVersion = -1): Promise<Stat> {
    try {
      checkPath(path);
      const list = checkAcl(acl, path);
      return this.submit({ opcode: Opcode.setACL, xid: 0, path: this.chroot.toServer(path), acl: list, version: checkVersion(aclVersion, path, 'aclVersion') }, Kind.stat, path, null);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  multi(ops: Op[]): Promise<OpResult[]> {
    try {
      if (!Array.isArray(ops)) throw new ZookooperError('BADARGUMENTS', 'multi takes an array of ops');
      if (ops.length > protocolLimits.multiOpsMax) throw new ZookooperError('BADARGUMENTS', `more than ${protocolLimits.multiOpsMax} ops in one multi`);
      const wire: MultiOp[] = new Array<MultiOp>(ops.length);
      const paths: string[] = new Array<string>(ops.length);
      for (let i = 0; i < ops.length; i++) {
        const o = ops[i]!;
        paths[i] = o.path;
        wire[i] = this.multiOp(o);
      }
      return this.submit({ opcode: Opcode.multi, xid: 0, ops: wire }, Kind.multi, '', null, paths);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private multiOp(o: Op): MultiOp {
    switch (o?.op) {
      case 'create': {
        const mode = checkMode(o.mode, o.path);
        checkPath(o.path, isSequentialMode(mode));
        const acl = o.acl === undefined ? OPEN_ACL_UNSAFE : checkAcl(o.acl, o.path);
        const ttlMs = checkTtl(mode, o.ttlMs, o.path);
        return { opcode: Opcode.create, path: this.chroot.toServer(o.path), data: checkData(o.data, this.dataBytesMax, o.path), acl, mode, ttlMs };
      }
      case 'delete':
        checkPath(o.path);
        return { opcode: Opcode.delete, path: this.chroot.toServer(o.path), version: checkVersion(o.version ?? -1, o.path) };
      case 'setData':
        checkPath(o.path);
        return { opcode: Opcode.setData, path: this.chroot.toServer(o.path), data: checkData(o.data, this.dataBytesMax, o.path), version: checkVersion(o.version ?? -1, o.path) };
      case 'check':
        checkPath(o.path);
        return { opcode: Opcode.check, path: this.chroot.toServer(o.path), version: checkVersion(o.version, o.path) };
      default:
        throw new ZookooperError('BADARGUMENTS', `unknown multi op ${JSON.stringify((o as { op?: unknown } | undefined)?.op)}`);
    }
  }

  sync(path = '/'): Promise<void> {
    try {
      checkPath(path);
      return this.submit({ opcode: Opcode.sync, xid: 0, path: this.chroot.toServer(path) }, Kind.none, path, null);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  addWatch(path: string, mode: WatchMode, watch: Watcher): Promise<void> {
    try {
      checkPath(path);
      if (mode !== 'persistent' && mode !== 'persistent_recursive') throw new ZookooperError('BADARGUMENTS', `unknown watch mode ${JSON.stringify(mode)}`, path);
      const w = checkWatcher(watch, path);
      if (w === null) throw new ZookooperError('BADARGUMENTS', 'addWatch needs a watcher function', path);
      return this.submit({ opcode: Opcode.addWatch, xid: 0, path: this.chroot.toServer(path), mode }, Kind.addWatch, path, w, mode === 'persistent_recursive');
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Remove `watch` (or all watchers when null) of `type` from `path`. Watchers go locally at once
   * and hear their *WatchRemoved event; the server drops its registration only for the kinds no
   * watcher of this client needs any more. NOWATCHER when nothing matched.
   */
  removeWatches(path: string, watch: Watcher | null, type: WatcherType = 'any'): Promise<void> {
    try {
      checkPath(path);
      if (type !== 'data' && type !== 'children' && type !== 'any') throw new ZookooperError('BADARGUMENTS', `unknown watcher type ${JSON.stringify(type)}`, path);
      const w = checkWatcher(watch, path);
      const removed = this.watches.remove(path, w, type);
      if (removed === null) throw new ZookooperError('NOWATCHER', undefined, path);
      if (removed.serverBits === 0) {
        this.deliver(removed.removed);
        return Promise.resolve();
      }
      return this.submit({ opcode: Opcode.removeWatches, xid: 0, path: this.chroot.toServer(path), watchBits: removed.serverBits }, Kind.removeWatches, path, null, removed);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  addAuth(scheme: string, credential: string | Uint8Array): Promise<void> {
    try {
      if (typeof scheme !== 'string' || scheme === '' || Buffer.byteLength(scheme) > protocolLimits.aclSchemeBytesMax) {
        throw new ZookooperError('BADARGUMENTS', `bad auth scheme ${JSON.stringify(scheme)}`);
      }
      const cred = typeof credential === 'string' ? new Uint8Array(Buffer.from(credential, 'utf8')) : credential;
      if (!(cred instanceof Uint8Array) || cred.byteLength > protocolLimits.authCredentialBytesMax) {
        throw new ZookooperError('BADARGUMENTS', `auth credential must be a string or bytes of at most ${protocolLimits.authCredentialBytesMax} bytes`);
      }
      const info = { scheme, credential: cred };
      // Kept (as ZooKeeper) to be sent again on every reconnect; dropped if the server refuses it.
      this.authInfos.push(info);
      return this.submit({ opcode: Opcode.addAuth, xid: 0, scheme, credential: cred }, Kind.none, '', null, info);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  // ------------------------------------------------------------------ answers

  protected settle(p: Pending, payload: unknown): void {
    switch (p.kind) {
      case Kind.none:
      case Kind.internal:
        return p.resolve(undefined);
      case Kind.create:
        return p.resolve(this.strip(results.create(payload)));
      case Kind.create2: {
        const r = results.create2(payload);
        return p.resolve({ path: this.strip(r.path), stat: r.stat });
      }
      case Kind.stat:
        return p.resolve(results.stat(payload));
      case Kind.exists: {
        const stat = results.statOrNull(payload);
        if (p.watcher !== null) {
          if (stat === null) this.watches.addExist(p.path, p.watcher);
          else this.watches.addData(p.path, p.watcher);
        }
        return p.resolve(stat);
      }
      case Kind.getData: {
        const r = results.getData(payload);
        if (p.watcher !== null) this.watches.addData(p.path, p.watcher);
        return p.resolve({ data: ownData(r.data), stat: r.stat });
      }
      case Kind.children:
      case Kind.children2: {
        const r = results.getChildren(payload);
        if (p.watcher !== null) this.watches.addChild(p.path, p.watcher);
        if (p.kind === Kind.children) return p.resolve(r.children);
        if (r.stat === null) throw new ProtocolError('getChildren answer without the stat asked for');
        return p.resolve({ children: r.children, stat: r.stat });
      }
      case Kind.acl:
        return p.resolve(results.getACL(payload));
      case Kind.number:
        return p.resolve(results.number(payload));
      case Kind.ephemerals: {
        const out: string[] = [];
        for (const path of results.paths(payload)) {
          const c = this.chroot.fromServer(path);
          if (c !== null) out.push(c);
        }
        return p.resolve(out);
      }
      case Kind.multi: {
        const rs = results.multi(payload, (p.extra as string[]).length);
        for (const r of rs) if (r.op === 'create') r.path = this.strip(r.path);
        return p.resolve(rs);
      }
      case Kind.removeWatches:
        results.none(payload);
        this.deliver((p.extra as RemovedWatchers).removed);
        return p.resolve(undefined);
      case Kind.addWatch:
        results.none(payload);
        this.watches.addPersistent(p.path, p.watcher!, p.extra === true);
        return p.resolve(undefined);
    }
  }

  protected settleError(p: Pending, code: ErrorCode, payload: unknown): void {
    const detail = decodeErrorPayload(payload);
    if (p.kind === Kind.removeWatches && code === 'NOWATCHER') {
      // The server had no registration (e.g. a one-shot fired meanwhile): removed locally is enough.
      this.deliver((p.extra as RemovedWatchers).removed);
      return p.resolve(undefined);
    }
    if (p.req.opcode === Opcode.addAuth && code === 'AUTHFAILED') {
      const i = this.authInfos.indexOf(p.extra as (typeof this.authInfos)[number]);
      if (i >= 0) this.authInfos.splice(i, 1);
    }
    if (p.kind === Kind.multi) {
      const paths = p.extra as string[];
      const codes = detail.opCodes ?? paths.map((): ErrorCode | 'OK' => code);
      let failed = codes.findIndex((c) => c !== 'OK' && c !== 'RUNTIMEINCONSISTENCY');
      if (failed < 0) failed = 0;
      const err = new ZookooperError(code, detail.message ?? undefined, paths[failed]);
      err.results = codes.map((c) => ({ op: 'error', code: c }));
      return p.reject(err);
    }
    p.reject(new ZookooperError(code, detail.message ?? undefined, p.path === '' ? undefined : p.path));
  }

  private strip(serverPath: string): string {
    return this.chroot.fromServer(serverPath) ?? serverPath;
  }
}

/** connect(connectString, opts): resolves once a session is established (CLIENT_API.md). */
export async function connect(connectString: string, opts?: ConnectOptions): Promise<ZookooperClient> {
  return new ZookooperClient(connectString, opts).open();
}
