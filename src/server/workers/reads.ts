// Reads: tree lookups and their answers, run by the ordering engine when a read reaches the head
// of its connection's queue. Before answering from tree state Z a read catches up to Z (fires
// every watch event up to Z), so an event always precedes data that shows it; a watch is set
// after that catch-up, so it cannot miss a later change.
import { constants } from '../../common/constants.js';
import { Perms, type ACL } from '../../common/types.js';
import { Opcode, WatchBits, type Request } from '../../protocol/index.js';
import { checkAcl, digestAuthId } from '../pipeline/acl.js';
import { clientStat } from '../pipeline/owner.js';
import type { TreeReader } from '../tree/api.js';
import { sendFrame, type Conn, type CoreFigures } from './conn.js';
import type { SessionWatches } from './session-watches.js';
import type { WatchKind } from './watches.js';

/** What reads need of the ordering engine. */
export interface ReadContext {
  tree(): TreeReader;
  /** The zxid up to which this worker has fired every event. */
  processedZxid(): bigint;
  /** Processes commit messages until every change up to `zxid` is fired. */
  catchUp(zxid: bigint): void;
}

const readPerm = Perms.READ;

export class Reads {
  constructor(
    private readonly ctx: ReadContext,
    private readonly watches: SessionWatches,
    private readonly figures: CoreFigures,
  ) {}

  /** The answer frame of a read (or a request the worker answers itself: ping, auth, watches). */
  run(conn: Conn, req: Request): Uint8Array {
    this.figures.reads++;
    const tree = this.ctx.tree();
    const c = conn.codec;
    if (conn.watchCount >= constants.watchesPerSessionMax && setsWatch(req)) {
      // Bounded: refuse the whole request (it changes nothing) rather than drop the watch silently.
      return c.error(req.xid, this.ctx.processedZxid(), 'THROTTLEDOP', `session has ${constants.watchesPerSessionMax} watches, the most allowed`);
    }
    switch (req.opcode) {
      case Opcode.exists: {
        const r = tree.stat(req.path);
        this.ctx.catchUp(r.zxid);
        if (req.watch) this.watches.add(conn, 'data', req.path);
        return c.stat(req.xid, r.zxid, r.value === null ? null : clientStat(r.value));
      }
      case Opcode.getData: {
        const r = tree.getData(req.path, true);
        this.ctx.catchUp(r.zxid);
        if (r.value === null) return c.error(req.xid, r.zxid, 'NONODE', undefined);
        if (!checkAcl(tree.acl(r.value.aclIndex), readPerm, conn.authIds)) return c.error(req.xid, r.zxid, 'NOAUTH');
        if (req.watch) this.watches.add(conn, 'data', req.path);
        return c.data(req.xid, r.zxid, r.value.data, clientStat(r.value.stat));
      }
      case Opcode.getChildren: {
        const r = tree.getChildren(req.path);
        this.ctx.catchUp(r.zxid);
        if (r.value === null) return c.error(req.xid, r.zxid, 'NONODE');
        if (!checkAcl(tree.acl(r.value.aclIndex), readPerm, conn.authIds)) return c.error(req.xid, r.zxid, 'NOAUTH');
        if (r.value.children.length > constants.childrenListedMax) {
          return c.error(req.xid, r.zxid, 'BADARGUMENTS', `more than ${constants.childrenListedMax} children`);
        }
        if (req.watch) this.watches.add(conn, 'child', req.path);
        return c.children(req.xid, r.zxid, r.value.children, req.withStat ? clientStat(r.value.stat) : null);
      }
      case Opcode.getAllChildrenNumber: {
        const acl = tree.getData(req.path, false);
        const r = tree.countDescendants(req.path);
        this.ctx.catchUp(r.zxid > acl.zxid ? r.zxid : acl.zxid);
        if (r.value === null || acl.value === null) return c.error(req.xid, r.zxid, 'NONODE');
        if (!checkAcl(tree.acl(acl.value.aclIndex), readPerm, conn.authIds)) return c.error(req.xid, r.zxid, 'NOAUTH');
        return c.count(req.xid, r.zxid, r.value);
      }
      case Opcode.getACL: {
        const r = tree.getData(req.path, false);
        this.ctx.catchUp(r.zxid);
        if (r.value === null) return c.error(req.xid, r.zxid, 'NONODE');
        const acl = tree.acl(r.value.aclIndex);
        // As ZooKeeper's FinalRequestProcessor: READ or ADMIN may read the ACL; without ADMIN the
        // digest ids come masked, so a reader never sees the password hashes.
        if (!checkAcl(acl, readPerm | Perms.ADMIN, conn.authIds)) return c.error(req.xid, r.zxid, 'NOAUTH');
        const shown = checkAcl(acl, Perms.ADMIN, conn.authIds) ? acl : maskDigestIds(acl);
        return c.acl(req.xid, r.zxid, shown, clientStat(r.value.stat));
      }
      case Opcode.ping:
        return c.ok(req.xid, this.ctx.processedZxid());
      case Opcode.addWatch: {
        const kind: WatchKind = req.mode === 'persistent' ? 'persistent' : 'recursive';
        const r = tree.getData(req.path, false);
        this.ctx.catchUp(r.zxid);
        if (r.value !== null && !checkAcl(tree.acl(r.value.aclIndex), readPerm, conn.authIds)) return c.error(req.xid, r.zxid, 'NOAUTH');
        this.watches.add(conn, kind, req.path);
        return c.ok(req.xid, r.zxid);
      }
      case Opcode.checkWatches:
      case Opcode.removeWatches: {
        const kinds = kindsOfBits(req.watchBits);
        const had = kinds.filter((k) => this.watches.has(conn, k, req.path));
        if (had.length === 0) return c.error(req.xid, this.ctx.processedZxid(), 'NOWATCHER', `no watch on ${req.path}`);
        if (req.opcode === Opcode.removeWatches) for (const k of had) this.watches.remove(conn, k, req.path);
        return c.ok(req.xid, this.ctx.processedZxid());
      }
      case Opcode.setWatches:
        return this.setWatches(conn, req);
      case Opcode.addAuth:
        return this.addAuth(conn, req);
      default:
        throw new Error(`opcode ${req.opcode} is not a read`);
    }
  }

  private addAuth(conn: Conn, req: Extract<Request, { opcode: typeof Opcode.addAuth }>): Uint8Array {
    const c = conn.codec;
    const credential = Buffer.from(req.credential).toString('utf8');
    // Any digest credential is accepted, as ZooKeeper's DigestAuthenticationProvider: 'nocolon'
    // authenticates as 'nocolon:' + its hash (an id no 'user:password' credential yields).
    if (req.scheme !== 'digest') {
      return c.error(req.xid, this.ctx.processedZxid(), 'AUTHFAILED', `auth scheme ${req.scheme} is not supported with addAuth (use digest user:password)`);
    }
    const id = digestAuthId(credential);
    if (!conn.authIds.some((a) => a.scheme === 'digest' && a.id === id)) {
      if (conn.authIds.length >= constants.authIdsPerSessionMax) {
        return c.error(req.xid, this.ctx.processedZxid(), 'AUTHFAILED', `a connection holds at most ${constants.authIdsPerSessionMax} identities`);
      }
      conn.authIds = [...conn.authIds, { scheme: 'digest', id }];
    }
    return c.ok(req.xid, this.ctx.processedZxid());
  }

  private setWatches(conn: Conn, req: Extract<Request, { opcode: typeof Opcode.setWatches }>): Uint8Array {
    const tree = this.ctx.tree();
    const rel = req.relativeZxid;
    // Process every change already visible before registering anything: otherwise a queued event
    // the client saw before it reconnected (zxid <= rel) could fire, and use up, a watch set here.
    this.ctx.catchUp(tree.appliedZxid());
    let seen = this.ctx.processedZxid();
    const fire: { type: 'created' | 'deleted' | 'dataChanged' | 'childrenChanged'; path: string }[] = [];
    for (const path of req.data) {
      const r = tree.stat(path);
      if (r.zxid > seen) seen = r.zxid;
      if (r.value === null) fire.push({ type: 'deleted', path });
      else if (r.value.mzxid > rel) fire.push({ type: 'dataChanged', path });
      else this.watches.add(conn, 'data', path);
    }
    for (const path of req.exist) {
      const r = tree.stat(path);
      if (r.zxid > seen) seen = r.zxid;
      if (r.value !== null) fire.push({ type: 'created', path });
      else this.watches.add(conn, 'data', path);
    }
    for (const path of req.child) {
      const r = tree.stat(path);
      if (r.zxid > seen) seen = r.zxid;
      if (r.value === null) fire.push({ type: 'deleted', path });
      else if (r.value.pzxid > rel) fire.push({ type: 'childrenChanged', path });
      else this.watches.add(conn, 'child', path);
    }
    // Registered before catching up, so a change between the stat reads and now still fires them.
    for (const path of req.persistent) this.watches.add(conn, 'persistent', path);
    for (const path of req.persistentRecursive) this.watches.add(conn, 'recursive', path);
    this.ctx.catchUp(seen);
    for (const f of fire) sendFrame(conn, conn.codec.watchEvent(seen, f.type, f.path));
    return conn.codec.ok(req.xid, seen);
  }
}

/**
 * An ACL as a caller without ADMIN sees it: each digest id 'user:base64hash' becomes 'user:x'
 * (ZooKeeper replaces ':.*' by ':x'; we cut at the first colon, which is the same for every id a
 * digest credential produces and leaks nothing of an odd id with line breaks). Other schemes'
 * ids (world, ip) are shown as they are, as ZooKeeper does.
 */
export function maskDigestIds(acl: readonly ACL[]): ACL[] {
  return acl.map((a) => {
    if (a.scheme !== 'digest') return a;
    const colon = a.id.indexOf(':');
    return colon < 0 ? a : { perms: a.perms, scheme: a.scheme, id: a.id.slice(0, colon) + ':x' };
  });
}

function setsWatch(req: Request): boolean {
  switch (req.opcode) {
    case Opcode.exists:
    case Opcode.getData:
    case Opcode.getChildren:
      return req.watch;
    case Opcode.addWatch:
    case Opcode.setWatches:
      return true;
    default:
      return false;
  }
}

function kindsOfBits(bits: number): WatchKind[] {
  const kinds: WatchKind[] = [];
  if (bits & WatchBits.child) kinds.push('child');
  if (bits & WatchBits.data) kinds.push('data');
  if (bits & WatchBits.persistent) kinds.push('persistent');
  if (bits & WatchBits.persistentRecursive) kinds.push('recursive');
  return kinds;
}
