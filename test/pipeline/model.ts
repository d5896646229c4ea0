// A small reference model of ZooKeeper's write semantics, written as plainly as possible and
// independently of src/server/pipeline: a Map of nodes, each request applied at once in order.
// The model-based tests run the same requests through the real Pipeline (pipelined, with the
// real shared-memory tree) and demand identical results, stats, events and trees.
// Facts it encodes were checked against ZooKeeper 3.8.0 (src/server/pipeline/ZK-FACTS.md).
import type { ErrorCode } from '../../src/common/errors.js';
import type { ACL, OpResult, ServerOpResult, Stat } from '../../src/common/types.js';
import type { AuthId, ChangeEvent, WriteOp, WriteRequest, WriteResult } from '../../src/server/pipeline/api.js';

export interface MNode {
  data: Uint8Array;
  acl: ACL[];
  stat: Stat; // ephemeralOwner raw: session id, CONTAINER or TTL marker
  creations: number; // children ever created (the sequential counter)
  children: Set<string>;
}

export interface MOutcome {
  zxid: bigint;
  result: WriteResult;
  events: ChangeEvent[];
}

export const CONTAINER = 0x8000000000000000n;
export const TTL_MARK = 0xff00000000000000n;
const TTL_MAX = 1099511627775;

class Fail extends Error {
  constructor(readonly code: ErrorCode, readonly path?: string) {
    super(code);
  }
}

const READ = 1, WRITE = 2, CREATE = 4, DELETE = 8, ADMIN = 16;

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

function blankStat(zxid: bigint, time: number, owner: bigint, dataLength: number): Stat {
  return { czxid: zxid, mzxid: zxid, pzxid: zxid, ctime: time, mtime: time, version: 0, cversion: 0, aversion: 0, ephemeralOwner: owner, dataLength, numChildren: 0 };
}

export function clientView(stat: Stat): Stat {
  const o = stat.ephemeralOwner;
  const hidden = o === CONTAINER || (o & TTL_MARK) === TTL_MARK;
  return hidden ? { ...stat, ephemeralOwner: 0n } : { ...stat };
}

function ipMatch(client: string, expr: string): boolean {
  const [addr, bitsText] = expr.split('/');
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  const a = addr!.split('.').map(Number);
  const c = client.split('.').map(Number);
  for (let i = 0; i < 4; i++) {
    const left = Math.max(0, Math.min(8, bits - i * 8));
    const mask = (0xff << (8 - left)) & 0xff;
    if ((a[i]! & mask) !== (c[i]! & mask)) return false;
  }
  return true;
}

function allowed(acl: ACL[], perm: number, ids: AuthId[]): boolean {
  if (ids.some((i) => i.scheme === 'super')) return true;
  return acl.some(
    (a) =>
      (a.perms & perm) !== 0 &&
      ((a.scheme === 'world' && a.id === 'anyone') ||
        ids.some((i) => i.scheme === a.scheme && (a.scheme === 'ip' ? ipMatch(i.id, a.id) : i.id === a.id))),
  );
}

function fixAcl(acl: ACL[], ids: AuthId[]): ACL[] {
  if (acl.length === 0) throw new Fail('INVALIDACL');
  const uniq = acl.filter((a, i) => acl.findIndex((b) => b.perms === a.perms && b.scheme === a.scheme && b.id === a.id) === i);
  const out: ACL[] = [];
  for (const a of uniq) {
    if (a.scheme === 'auth') {
      const authed = ids.filter((i) => i.scheme === 'digest');
      if (authed.length === 0) throw new Fail('INVALIDACL');
      for (const i of authed) out.push({ perms: a.perms, scheme: i.scheme, id: i.id });
    } else if (a.scheme === 'world') {
      if (a.id !== 'anyone') throw new Fail('INVALIDACL');
      out.push({ ...a });
    } else if (a.scheme === 'digest') {
      if (a.id.split(':').length !== 2 || a.id.endsWith(':')) throw new Fail('INVALIDACL');
      out.push({ ...a });
    } else if (a.scheme === 'ip') {
      if (!/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(a.id)) throw new Fail('INVALIDACL');
      out.push({ ...a });
    } else {
      throw new Fail('INVALIDACL');
    }
  }
  return out;
}

function validPath(p: string, sequential: boolean): boolean {
  if (!p.startsWith('/')) return false;
  if (p === '/') return true;
  const body = sequential && p.endsWith('/') ? p.slice(1, -1) : p.slice(1);
  if (p.endsWith('/') && !sequential) return false;
  return body.split('/').every((s) => s.length > 0 && s !== '.' && s !== '..');
}

export class Model {
  readonly nodes = new Map<string, MNode>();
  private counter = 0;
  readonly closed = new Set<bigint>();

  constructor(readonly epoch: number, readonly dataBytesMax: number) {
    const mk = (acl: ACL[]): MNode => ({ data: new Uint8Array(0), acl, stat: blankStat(0n, 0, 0n, 0), creations: 0, children: new Set() });
    const open: ACL[] = [{ perms: 31, scheme: 'world', id: 'anyone' }];
    this.nodes.set('/', mk(open));
    for (const p of ['/zookeeper', '/zookeeper/quota']) this.nodes.set(p, mk(open));
    this.nodes.set('/zookeeper/config', mk([{ perms: 1, scheme: 'world', id: 'anyone' }]));
    this.nodes.get('/zookeeper/config')!.stat.aversion = -1;
    this.link('/', 'zookeeper');
    this.link('/zookeeper', 'quota');
    this.link('/zookeeper', 'config');
  }

  private link(parent: string, name: string): void {
    const p = this.nodes.get(parent)!;
    p.children.add(name);
    p.stat.numChildren = p.children.size;
    p.stat.cversion = 2 * p.creations - p.stat.numChildren; // ZooKeeper's view of a counted creation count
  }

  private zxidNext(): bigint {
    return (BigInt(this.epoch) << 32n) | BigInt(this.counter + 1);
  }

  ephemeralsOf(session: bigint): string[] {
    return [...this.nodes].filter(([, n]) => n.stat.ephemeralOwner === session).map(([p]) => p).sort();
  }

  expired(now: number): string[] {
    const out: string[] = [];
    for (const [p, n] of this.nodes) {
      if (n.children.size > 0) continue;
      const o = n.stat.ephemeralOwner;
      if (o === CONTAINER && n.creations > 0) out.push(p);
      else if ((o & TTL_MARK) === TTL_MARK && now - n.stat.mtime > Number(o & 0xffffffffffn)) out.push(p);
    }
    return out.sort();
  }

  process(req: WriteRequest, now: number): MOutcome {
    const op = req.op;
    const none = (result: WriteResult): MOutcome => ({ zxid: 0n, result, events: [] });
    if (req.sessionId !== 0n && this.closed.has(req.sessionId) && op.type !== 'closeSession' && op.type !== 'createSession') {
      return none({ ok: false, code: 'SESSIONEXPIRED' });
    }
    if (op.type === 'sync') return none({ ok: true, value: { type: 'sync' } });
    if (op.type === 'getEphemerals') {
      const all = this.ephemeralsOf(req.sessionId);
      return none({ ok: true, value: { type: 'getEphemerals', paths: op.prefix === '/' ? all : all.filter((p) => p.startsWith(op.prefix)) } });
    }
    const zxid = this.zxidNext();
    const events: ChangeEvent[] = [];
    const backup = this.clone();
    try {
      let result: WriteResult;
      if (op.type === 'createSession') result = { ok: true, value: { type: 'createSession' } };
      else if (op.type === 'closeSession') {
        for (const p of this.ephemeralsOf(req.sessionId)) this.remove(p, zxid, events);
        this.closed.add(req.sessionId);
        result = { ok: true, value: { type: 'closeSession' } };
      } else if (op.type === 'deleteContainer') {
        const n = this.nodes.get(op.path);
        if (n === undefined) throw new Fail('NONODE', op.path);
        if (n.children.size > 0) throw new Fail('NOTEMPTY', op.path);
        if (!this.expired(now).includes(op.path)) throw new Fail('BADVERSION', op.path);
        this.remove(op.path, zxid, events);
        result = { ok: true, value: { type: 'deleteContainer' } };
      } else if (op.type === 'multi') {
        const results: ServerOpResult[] = [];
        for (let i = 0; i < op.ops.length; i++) {
          try {
            results.push(this.one(op.ops[i]!, req, zxid, now, events, true) as ServerOpResult);
          } catch (e) {
            if (!(e instanceof Fail)) throw e;
            this.restore(backup);
            const rs: OpResult[] = op.ops.map((_, j) => ({ op: 'error', code: j < i ? 'OK' : j === i ? e.code : 'RUNTIMEINCONSISTENCY' }));
            return none({ ok: false, code: e.code, results: rs });
          }
        }
        result = { ok: true, value: { type: 'multi', results } };
      } else {
        result = { ok: true, value: this.one(op, req, zxid, now, events, false) as never };
      }
      this.counter++;
      return { zxid, result, events };
    } catch (e) {
      if (!(e instanceof Fail)) throw e;
      this.restore(backup);
      const r: WriteResult = { ok: false, code: e.code };
      return none(r);
    }
  }

  private one(op: WriteOp, req: WriteRequest, zxid: bigint, now: number, events: ChangeEvent[], inMulti: boolean): unknown {
    switch (op.type) {
      case 'create': {
        const ttlMode = op.mode.endsWith('_with_ttl');
        if (ttlMode && !(op.ttlMs >= 1 && op.ttlMs <= TTL_MAX)) throw new Fail('BADARGUMENTS', op.path);
        if (!ttlMode && op.ttlMs > 0) throw new Fail('BADARGUMENTS', op.path);
        const seq = op.mode.includes('sequential');
        if (!validPath(op.path, seq)) throw new Fail('BADARGUMENTS', op.path);
        if (op.data.length > this.dataBytesMax) throw new Fail('BADARGUMENTS', op.path);
        const acl = fixAcl(op.acl, req.authIds);
        const parentPath = op.path.slice(0, op.path.lastIndexOf('/')) || '/';
        const parent = this.nodes.get(parentPath);
        if (parent === undefined) throw new Fail('NONODE', op.path);
        if (!allowed(parent.acl, CREATE, req.authIds)) throw new Fail('NOAUTH', op.path);
        const path = seq ? op.path + String(parent.creations).padStart(10, '0') : op.path;
        if (this.nodes.has(path)) throw new Fail('NODEEXISTS', path);
        const po = parent.stat.ephemeralOwner;
        if (po !== 0n && po !== CONTAINER && (po & TTL_MARK) !== TTL_MARK) throw new Fail('NOCHILDRENFOREPHEMERALS', path);
        let owner = 0n;
        if (op.mode === 'container') owner = CONTAINER;
        else if (ttlMode) owner = TTL_MARK | BigInt(op.ttlMs);
        else if (op.mode.startsWith('ephemeral')) owner = req.sessionId;
        this.nodes.set(path, { data: op.data, acl, stat: blankStat(zxid, now, owner, op.data.length), creations: 0, children: new Set() });
        parent.children.add(path.slice(parentPath === '/' ? 1 : parentPath.length + 1));
        parent.creations++;
        parent.stat.numChildren++;
        parent.stat.cversion++;
        parent.stat.pzxid = zxid;
        events.push({ type: 'created', path }, { type: 'childrenChanged', path: parentPath });
        const stat = clientView(this.nodes.get(path)!.stat);
        return inMulti ? { op: 'create', path, stat } : { type: 'create', path, stat };
      }
      case 'delete': {
        if (!validPath(op.path, false)) throw new Fail('BADARGUMENTS', op.path);
        if (['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config'].includes(op.path)) throw new Fail('BADARGUMENTS', op.path);
        const parent = this.nodes.get(parentOf(op.path));
        if (parent === undefined) throw new Fail('NONODE', op.path);
        if (!allowed(parent.acl, DELETE, req.authIds)) throw new Fail('NOAUTH', op.path);
        const n = this.nodes.get(op.path);
        if (n === undefined) throw new Fail('NONODE', op.path);
        if (op.version !== -1 && op.version !== n.stat.version) throw new Fail('BADVERSION', op.path);
        if (n.children.size > 0) throw new Fail('NOTEMPTY', op.path);
        this.remove(op.path, zxid, events);
        return inMulti ? { op: 'delete' } : { type: 'delete' };
      }
      case 'setData': {
        if (!validPath(op.path, false)) throw new Fail('BADARGUMENTS', op.path);
        if (op.data.length > this.dataBytesMax) throw new Fail('BADARGUMENTS', op.path);
        const n = this.nodes.get(op.path);
        if (n === undefined) throw new Fail('NONODE', op.path);
        if (!allowed(n.acl, WRITE, req.authIds)) throw new Fail('NOAUTH', op.path);
        if (op.version !== -1 && op.version !== n.stat.version) throw new Fail('BADVERSION', op.path);
        n.data = op.data;
        n.stat.version++;
        n.stat.mzxid = zxid;
        n.stat.mtime = now;
        n.stat.dataLength = op.data.length;
        events.push({ type: 'dataChanged', path: op.path });
        const stat = clientView(n.stat);
        return inMulti ? { op: 'setData', stat } : { type: 'setData', stat };
      }
      case 'setACL': {
        if (!validPath(op.path, false)) throw new Fail('BADARGUMENTS', op.path);
        const acl = fixAcl(op.acl, req.authIds);
        const n = this.nodes.get(op.path);
        if (n === undefined) throw new Fail('NONODE', op.path);
        if (!allowed(n.acl, ADMIN, req.authIds)) throw new Fail('NOAUTH', op.path);
        if (op.version !== -1 && op.version !== n.stat.aversion) throw new Fail('BADVERSION', op.path);
        n.acl = acl;
        n.stat.aversion++;
        return { type: 'setACL', stat: clientView(n.stat) };
      }
      case 'check': {
        if (!validPath(op.path, false)) throw new Fail('BADARGUMENTS', op.path);
        const n = this.nodes.get(op.path);
        if (n === undefined) throw new Fail('NONODE', op.path);
        if (!allowed(n.acl, READ, req.authIds)) throw new Fail('NOAUTH', op.path);
        if (op.version !== -1 && op.version !== n.stat.version) throw new Fail('BADVERSION', op.path);
        return { op: 'check' };
      }
      default:
        throw new Fail('BADARGUMENTS');
    }
  }

  private remove(path: string, zxid: bigint, events: ChangeEvent[]): void {
    const pp = parentOf(path);
    const parent = this.nodes.get(pp)!;
    this.nodes.delete(path);
    parent.children.delete(path.slice(pp === '/' ? 1 : pp.length + 1));
    parent.stat.numChildren--;
    parent.stat.cversion++;
    parent.stat.pzxid = zxid;
    events.push({ type: 'deleted', path }, { type: 'childrenChanged', path: pp });
  }

  private clone(): Map<string, MNode> {
    const m = new Map<string, MNode>();
    for (const [p, n] of this.nodes) m.set(p, { ...n, acl: [...n.acl], stat: { ...n.stat }, children: new Set(n.children) });
    return m;
  }

  private restore(backup: Map<string, MNode>): void {
    this.nodes.clear();
    for (const [p, n] of backup) this.nodes.set(p, n);
  }
}
