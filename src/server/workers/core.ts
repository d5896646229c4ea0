// The request handling of one session worker, independent of uWS (the socket is an interface).
//
// Ordering (DESIGN "Ordering rules"):
// - Per session FIFO: every request takes a slot in its connection's queue; answers leave in
//   queue order. A read waits behind the session's earlier writes, then runs against the tree.
// - Watch before data: commit messages are posted by the main thread before it publishes their
//   batch in the tree. Before answering a read taken at tree state Z, the worker processes every
//   commit message up to Z (firing watches), so an event always precedes data that shows it.
// - A commit message is processed only once its batch is visible in the tree, so a watch set by a
//   later read can never miss a change that this worker already processed.
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';
import type { ErrorCode } from '../../common/errors.js';
import { Perms } from '../../common/types.js';
import {
  encodeClosing,
  encodeConnectResponse,
  encodeErrorResponse,
  encodeResponse,
  encodeWatchEvent,
  Opcode,
  payloads,
  protocolLimits,
  WatchBits,
  type ConnectRequest,
  type Request,
} from '../../protocol/index.js';
import type { AuthId, CommittedEntry, WriteOp, WriteRequest } from '../pipeline/api.js';
import { checkAcl, digestAuthId } from '../pipeline/acl.js';
import { clientStat } from '../pipeline/owner.js';
import type { TreeReader } from '../tree/api.js';
import type { AttachAnswer, CommitMessage, ToMain } from './messages.js';
import { tagWorkerBits } from './messages.js';
import { WatchRegistry, type Delivery, type WatchKind } from './watches.js';

export interface Socket {
  send(frame: Uint8Array): void;
  /** Sends nothing more and closes. */
  end(): void;
  cork(fn: () => void): void;
}

interface QueueItem {
  xid: number;
  opcode: number;
  request: Request | null; // a read still to run; null once answered or for writes
  write: WriteOp | null; // a write not yet forwarded to the main thread
  answer: Uint8Array | null; // ready to send
  closeAfter: boolean;
}

export interface Conn {
  id: number;
  socket: Socket;
  remote: string;
  state: 'handshake' | 'attaching' | 'open' | 'closed';
  sessionId: bigint;
  timeoutMs: number;
  authIds: AuthId[];
  queue: QueueItem[];
  queueHead: number;
  watchCount: number;
  watchKeys: Set<string>; // `${kind}\0${path}` for cleanup
  lastHeardMs: number;
  received: number;
  sent: number;
}

export interface WorkerCoreOptions {
  workerId: number;
  tree: TreeReader;
  commitPort: MessagePort;
  toMain: (msg: ToMain) => void;
  dataBytesMax: number;
  outstandingWritesMax: number;
}

const readPerm = Perms.READ;

export class WorkerCore {
  readonly conns = new Map<number, Conn>();
  private readonly bySession = new Map<bigint, Conn>();
  private readonly registry = new WatchRegistry<Conn>();
  private readonly pendingWrites = new Map<number, { conn: Conn; item: QueueItem }>();
  // `ended`: the session ended in a commit this worker processed before the main thread's answer
  // (the answer and the commit travel on different ports): an 'attached' answer is then refused.
  private readonly attachWaits = new Map<number, { conn: Conn; req: ConnectRequest; ended: boolean }>();
  private outgoing: WriteRequest[] = [];
  private flushScheduled = false;
  private touched = new Set<bigint>();
  private readonly dirty = new Set<Conn>();
  private draining = false;
  private processedZxid = 0n;
  private nextConnId = 1;
  private nextTag = 1;
  private nextAttach = 1;
  readonly figures = { requests: 0, reads: 0, writes: 0, throttled: 0, malformed: 0 };

  constructor(private readonly o: WorkerCoreOptions) {
    this.processedZxid = o.tree.appliedZxid();
  }

  // ------------------------------------------------------------------ connections

  open(socket: Socket, remote: string): Conn {
    const conn: Conn = {
      id: this.nextConnId++,
      socket,
      remote,
      state: 'handshake',
      sessionId: 0n,
      timeoutMs: 0,
      authIds: [{ scheme: 'ip', id: remote }],
      queue: [],
      queueHead: 0,
      watchCount: 0,
      watchKeys: new Set(),
      lastHeardMs: Date.now(),
      received: 0,
      sent: 0,
    };
    this.conns.set(conn.id, conn);
    return conn;
  }

  /** The socket closed (by either side). The session lives on until it expires or closes. */
  closed(conn: Conn): void {
    if (conn.state === 'closed') return;
    conn.state = 'closed';
    this.conns.delete(conn.id);
    this.dropWatches(conn);
    if (conn.sessionId !== 0n && this.bySession.get(conn.sessionId) === conn) {
      this.bySession.delete(conn.sessionId);
      this.o.toMain({ kind: 'detach', sessionId: conn.sessionId, connId: conn.id });
    }
  }

  /** Closes a connection with a reason frame (malformed input, expiry, moved session). */
  kill(conn: Conn, code: ErrorCode, reason: string): void {
    if (conn.state === 'closed') return;
    conn.socket.cork(() => {
      conn.socket.send(encodeClosing(code, reason.slice(0, protocolLimits.errorMessageBytesMax)));
      conn.socket.end();
    });
    this.closed(conn);
  }

  malformed(conn: Conn, reason: string): void {
    this.figures.malformed++;
    this.kill(conn, 'MARSHALLINGERROR', reason);
  }

  // ------------------------------------------------------------------ handshake

  handshake(conn: Conn, req: ConnectRequest): void {
    assert(conn.state === 'handshake', 'handshake once');
    if (req.protocolVersion !== protocolLimits.protocolVersion) {
      this.kill(conn, 'BADARGUMENTS', `unsupported protocol version ${req.protocolVersion}`);
      return;
    }
    if (req.lastZxidSeen > this.o.tree.appliedZxid()) {
      // ZooKeeper refuses a client that has seen a newer state than this server has, before it
      // touches the session: the connection that holds the session must not be moved away.
      this.kill(conn, 'CONNECTIONLOSS', 'client has seen a newer zxid than this server');
      return;
    }
    conn.state = 'attaching';
    // Writes already read from other connections go to the main thread before this attach, so a
    // session moving to this connection finds its earlier writes counted there (main.ts attach).
    this.flushWrites();
    const reqId = this.nextAttach++;
    this.attachWaits.set(reqId, { conn, req, ended: false });
    this.o.toMain({
      kind: 'attach',
      reqId,
      connId: conn.id,
      sessionId: req.sessionId,
      password: req.password,
      timeoutMs: req.sessionTimeoutMs,
      lastZxidSeen: req.lastZxidSeen,
    });
  }

  attachAnswer(msg: AttachAnswer): void {
    const wait = this.attachWaits.get(msg.reqId);
    if (!wait) return;
    this.attachWaits.delete(msg.reqId);
    const { conn } = wait;
    if (msg.kind === 'attachFailed') {
      this.kill(conn, msg.code, msg.message);
      return;
    }
    if (wait.ended) {
      // Closed or expired after the main thread attached it (its close was in flight).
      this.kill(conn, 'SESSIONEXPIRED', 'session ended');
      return;
    }
    if (conn.state !== 'attaching') {
      // The socket went away while the main thread attached it: let the session be reconnected.
      this.o.toMain({ kind: 'detach', sessionId: msg.sessionId, connId: conn.id });
      return;
    }
    const older = this.bySession.get(msg.sessionId);
    if (older && older !== conn) this.kill(older, 'SESSIONMOVED', 'session moved to another connection');
    conn.state = 'open';
    conn.sessionId = msg.sessionId;
    conn.timeoutMs = msg.timeoutMs;
    this.bySession.set(msg.sessionId, conn);
    this.send(conn, encodeConnectResponse({
      protocolVersion: protocolLimits.protocolVersion,
      sessionTimeoutMs: msg.timeoutMs,
      sessionId: msg.sessionId,
      password: msg.password,
      readOnly: false,
      dataBytesMax: this.o.dataBytesMax,
    }));
  }

  /** The main thread gave the session to another connection (maybe in another worker). */
  moved(sessionId: bigint, connId: number): void {
    const conn = this.conns.get(connId);
    if (conn && conn.sessionId === sessionId) this.kill(conn, 'SESSIONMOVED', 'session moved to another connection');
  }

  // ------------------------------------------------------------------ requests

  request(conn: Conn, req: Request): void {
    assert(conn.state === 'open', 'requests only on open connections');
    this.figures.requests++;
    conn.received++;
    conn.lastHeardMs = Date.now();
    this.touched.add(conn.sessionId);
    const item: QueueItem = { xid: req.xid, opcode: req.opcode, request: null, write: null, answer: null, closeAfter: false };
    if (conn.queue.length - conn.queueHead >= constants.queuedRequestsPerConnectionMax) {
      this.figures.throttled++;
      this.kill(conn, 'THROTTLEDOP', `more than ${constants.queuedRequestsPerConnectionMax} requests queued on this connection: closed (the session lives on)`);
      return;
    }
    if (conn.queue.length - conn.queueHead >= constants.outstandingRequestsPerSessionMax) {
      this.figures.throttled++;
      item.answer = encodeErrorResponse(req.xid, this.processedZxid, 'THROTTLEDOP', `more than ${constants.outstandingRequestsPerSessionMax} requests outstanding on this session`);
      this.push(conn, item);
      return;
    }
    const op = writeOpOf(req);
    if (op !== null) {
      if (this.pendingWrites.size >= this.o.outstandingWritesMax) {
        this.figures.throttled++;
        item.answer = encodeErrorResponse(req.xid, this.processedZxid, 'THROTTLEDOP', 'server has too many writes outstanding');
        this.push(conn, item);
        return;
      }
      item.write = op;
      item.closeAfter = req.opcode === Opcode.close;
    } else {
      item.request = req;
    }
    this.push(conn, item);
  }

  /** Hands a write to the main thread; its answer comes back in a commit message. */
  private forward(conn: Conn, item: QueueItem): void {
    assert(item.write !== null, 'forward a write once');
    this.figures.writes++;
    const tag = this.nextTag++ * tagWorkerBits + this.o.workerId;
    this.pendingWrites.set(tag, { conn, item });
    this.outgoing.push({ sessionId: conn.sessionId, tag, authIds: conn.authIds, op: item.write });
    item.write = null;
    this.scheduleFlush();
  }

  private push(conn: Conn, item: QueueItem): void {
    conn.queue.push(item);
    this.dirty.add(conn);
    this.drainDirty();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushWrites();
    });
  }

  private flushWrites(): void {
    const requests = this.outgoing;
    this.outgoing = [];
    if (requests.length > 0) this.o.toMain({ kind: 'writes', requests });
  }

  /** Sessions heard from since the last call (sent to the main thread's expiry tracker). */
  takeTouched(): bigint[] {
    if (this.touched.size === 0) return [];
    const ids = [...this.touched];
    this.touched.clear();
    return ids;
  }

  /** Closes connections silent for longer than their session timeout (the session may live on). */
  closeIdle(nowMs: number): void {
    for (const conn of this.conns.values()) {
      if (conn.state === 'open' && nowMs - conn.lastHeardMs > conn.timeoutMs) this.kill(conn, 'CONNECTIONLOSS', 'no request or ping within the session timeout');
      else if (conn.state === 'handshake' && nowMs - conn.lastHeardMs > constants.handshakeTimeoutMs) this.kill(conn, 'CONNECTIONLOSS', 'no handshake');
    }
  }

  // ------------------------------------------------------------------ commits

  /** A commit message from the main thread (through the port's message event). */
  commit(msg: CommitMessage): void {
    this.applyCommit(msg);
    this.drainDirty();
  }

  private applyCommit(msg: CommitMessage): void {
    if (msg.zxid > this.processedZxid) {
      // Posted before its batch was published. A tree read blocks (Atomics.wait, no spinning)
      // while the write window is open, so this waits without taking the CPU the main thread
      // needs to finish the window: with two workers on two cores a busy spin starved it.
      let reads = 0;
      while (this.o.tree.appliedZxid() < msg.zxid) {
        this.o.tree.stat('/');
        assert(++reads < 1_000_000, 'commit never became visible in the tree');
      }
    }
    // ZooKeeper's order on a session's wire: a write's answer follows the watch events of its own
    // and every earlier txn of the batch and precedes the events of later ones. Each answer is
    // sent (flushAnswers) as soon as it is known; reads still run only after the whole message.
    let fired = 0;
    let seen = this.processedZxid;
    const fireTo = (n: number): void => {
      for (; fired < n; fired++) {
        const ev = msg.events[fired]!;
        this.fireEvent(ev.type, ev.path, ev.zxid);
        if (ev.zxid > seen) seen = ev.zxid;
      }
    };
    for (const reply of msg.replies) {
      fireTo(Math.min(reply.eventsBefore, msg.events.length));
      if (reply.zxid > seen) seen = reply.zxid;
      this.finishWrite(reply, seen);
    }
    fireTo(msg.events.length);
    if (msg.zxid > this.processedZxid) this.processedZxid = msg.zxid;
    for (const ended of msg.endedSessions) {
      // The closing connection has had its close answer and is gone (closeAfter). Any connection
      // still holding the session took it over while the close was in flight, or the session
      // expired: either way it must not live on as if the session were alive.
      const conn = this.bySession.get(ended.sessionId);
      if (conn) this.kill(conn, 'SESSIONEXPIRED', ended.expired ? 'session expired' : 'session closed');
      for (const wait of this.attachWaits.values()) if (wait.req.sessionId === ended.sessionId) wait.ended = true;
    }
  }

  private fireEvent(type: CommitMessage['events'][number]['type'], path: string, zxid: bigint): void {
    const deliveries: Delivery<Conn>[] = [];
    this.registry.trigger(type, path, deliveries);
    if (deliveries.length === 0) return;
    const frame = encodeWatchEvent(zxid, type, path);
    for (const d of deliveries) {
      if (d.session.state !== 'open') continue;
      this.forgetWatchKey(d.session, type, path);
      this.send(d.session, frame);
    }
  }

  private finishWrite(entry: CommittedEntry, seenZxid: bigint): void {
    const pending = this.pendingWrites.get(entry.tag);
    assert(pending !== undefined, 'a reply for a write this worker sent');
    this.pendingWrites.delete(entry.tag);
    const { conn, item } = pending;
    const zxid = entry.zxid !== 0n ? entry.zxid : seenZxid;
    item.answer = encodeWriteResult(item.xid, zxid, item.opcode, entry);
    if (conn.state === 'closed') return;
    this.dirty.add(conn);
    this.flushAnswers(conn);
  }

  /** Processes commit messages until this worker has seen every change up to `zxid`. */
  private catchUp(zxid: bigint): void {
    while (this.processedZxid < zxid) {
      const m = receiveMessageOnPort(this.o.commitPort);
      assert(m !== undefined, 'a visible batch has its commit message queued');
      this.applyCommit(m.message as CommitMessage);
    }
  }

  private drainDirty(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.dirty.size > 0) {
        for (const conn of this.dirty) {
          this.dirty.delete(conn);
          this.drain(conn);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Moves a connection's queue forward, keeping ZooKeeper's per-session order:
   * 1. answers leave from the head in request order; a read runs only when it reaches the head,
   *    i.e. after every earlier request of the session has been answered (reads behind writes);
   * 2. writes are forwarded as soon as no unexecuted read stands before them, so a run of writes
   *    is pipelined, but a read never sees a write its session sent after it.
   */
  private drain(conn: Conn): void {
    if (conn.state === 'closed') return;
    conn.socket.cork(() => {
      if (!this.sendHead(conn, true)) return;
      for (let i = conn.queueHead; i < conn.queue.length; i++) {
        const item = conn.queue[i]!;
        if (item.request !== null) break; // an unexecuted read: later writes wait for it
        if (item.write !== null) this.forward(conn, item);
      }
      if (conn.queueHead === conn.queue.length) {
        conn.queue.length = 0;
        conn.queueHead = 0;
      } else if (conn.queueHead > 1024) {
        conn.queue.splice(0, conn.queueHead);
        conn.queueHead = 0;
      }
    });
  }

  /** Sends the answers ready at the head of the queue (no reads run: see applyCommit). */
  private flushAnswers(conn: Conn): void {
    conn.socket.cork(() => void this.sendHead(conn, false));
  }

  /** Sends answers from the head in order (running reads there if `runReads`); false if closed. */
  private sendHead(conn: Conn, runReads: boolean): boolean {
    while (conn.queueHead < conn.queue.length) {
      const item = conn.queue[conn.queueHead]!;
      if (item.answer === null) {
        if (item.request === null || !runReads) break; // a write: unsent (step 2 sends it) or in the pipeline
        item.answer = this.runRead(conn, item.request);
        item.request = null;
      }
      conn.queueHead++;
      this.send(conn, item.answer);
      if (item.closeAfter) {
        conn.socket.end();
        this.closed(conn);
        return false;
      }
      if (conn.state === 'closed') return false;
    }
    return true;
  }

  private send(conn: Conn, frame: Uint8Array): void {
    if (conn.state === 'closed') return;
    conn.sent++;
    conn.socket.send(frame);
  }

  // ------------------------------------------------------------------ reads

  private runRead(conn: Conn, req: Request): Uint8Array {
    this.figures.reads++;
    const tree = this.o.tree;
    if (conn.watchCount >= constants.watchesPerSessionMax && setsWatch(req)) {
      // Bounded: refuse the whole request (it changes nothing) rather than drop the watch silently.
      return encodeErrorResponse(req.xid, this.processedZxid, 'THROTTLEDOP', `session has ${constants.watchesPerSessionMax} watches, the most allowed`);
    }
    switch (req.opcode) {
      case Opcode.exists: {
        const r = tree.stat(req.path);
        this.catchUp(r.zxid);
        if (req.watch) this.addWatch(conn, 'data', req.path);
        return encodeResponse(req.xid, r.zxid, r.value === null ? null : payloads.stat(clientStat(r.value)));
      }
      case Opcode.getData: {
        const r = tree.getData(req.path, true);
        this.catchUp(r.zxid);
        if (r.value === null) return encodeErrorResponse(req.xid, r.zxid, 'NONODE', undefined);
        if (!checkAcl(tree.acl(r.value.aclIndex), readPerm, conn.authIds)) return encodeErrorResponse(req.xid, r.zxid, 'NOAUTH');
        if (req.watch) this.addWatch(conn, 'data', req.path);
        return encodeResponse(req.xid, r.zxid, payloads.getData(r.value.data, clientStat(r.value.stat)));
      }
      case Opcode.getChildren: {
        const r = tree.getChildren(req.path);
        this.catchUp(r.zxid);
        if (r.value === null) return encodeErrorResponse(req.xid, r.zxid, 'NONODE');
        if (!checkAcl(tree.acl(r.value.aclIndex), readPerm, conn.authIds)) return encodeErrorResponse(req.xid, r.zxid, 'NOAUTH');
        if (r.value.children.length > constants.childrenListedMax) {
          return encodeErrorResponse(req.xid, r.zxid, 'BADARGUMENTS', `more than ${constants.childrenListedMax} children`);
        }
        if (req.watch) this.addWatch(conn, 'child', req.path);
        return encodeResponse(req.xid, r.zxid, payloads.getChildren(r.value.children, req.withStat ? clientStat(r.value.stat) : null));
      }
      case Opcode.getAllChildrenNumber: {
        const acl = tree.getData(req.path, false);
        const r = tree.countDescendants(req.path);
        this.catchUp(r.zxid > acl.zxid ? r.zxid : acl.zxid);
        if (r.value === null || acl.value === null) return encodeErrorResponse(req.xid, r.zxid, 'NONODE');
        if (!checkAcl(tree.acl(acl.value.aclIndex), readPerm, conn.authIds)) return encodeErrorResponse(req.xid, r.zxid, 'NOAUTH');
        return encodeResponse(req.xid, r.zxid, r.value);
      }
      case Opcode.getACL: {
        const r = tree.getData(req.path, false);
        this.catchUp(r.zxid);
        if (r.value === null) return encodeErrorResponse(req.xid, r.zxid, 'NONODE');
        return encodeResponse(req.xid, r.zxid, payloads.getACL(tree.acl(r.value.aclIndex), clientStat(r.value.stat)));
      }
      case Opcode.ping:
        return encodeResponse(req.xid, this.processedZxid, null);
      case Opcode.addWatch: {
        const kind: WatchKind = req.mode === 'persistent' ? 'persistent' : 'recursive';
        const r = tree.getData(req.path, false);
        this.catchUp(r.zxid);
        if (r.value !== null && !checkAcl(tree.acl(r.value.aclIndex), readPerm, conn.authIds)) return encodeErrorResponse(req.xid, r.zxid, 'NOAUTH');
        this.addWatch(conn, kind, req.path);
        return encodeResponse(req.xid, r.zxid, null);
      }
      case Opcode.checkWatches:
      case Opcode.removeWatches: {
        const kinds = kindsOfBits(req.watchBits);
        const had = kinds.filter((k) => this.registry.has(k, req.path, conn));
        if (had.length === 0) return encodeErrorResponse(req.xid, this.processedZxid, 'NOWATCHER', `no watch on ${req.path}`);
        if (req.opcode === Opcode.removeWatches) for (const k of had) this.removeWatch(conn, k, req.path);
        return encodeResponse(req.xid, this.processedZxid, null);
      }
      case Opcode.setWatches:
        return this.setWatches(conn, req);
      case Opcode.addAuth: {
        const credential = Buffer.from(req.credential).toString('utf8');
        if (req.scheme !== 'digest' || !/^[^:]+:.*$/s.test(credential)) {
          return encodeErrorResponse(req.xid, this.processedZxid, 'AUTHFAILED', `auth scheme ${req.scheme} is not supported with addAuth (use digest user:password)`);
        }
        const id = digestAuthId(credential);
        if (!conn.authIds.some((a) => a.scheme === 'digest' && a.id === id)) {
          if (conn.authIds.length >= constants.authIdsPerSessionMax) {
            return encodeErrorResponse(req.xid, this.processedZxid, 'AUTHFAILED', `a connection holds at most ${constants.authIdsPerSessionMax} identities`);
          }
          conn.authIds = [...conn.authIds, { scheme: 'digest', id }];
        }
        return encodeResponse(req.xid, this.processedZxid, null);
      }
      default:
        throw new Error(`opcode ${req.opcode} is not a read`);
    }
  }

  private setWatches(conn: Conn, req: Extract<Request, { opcode: typeof Opcode.setWatches }>): Uint8Array {
    const tree = this.o.tree;
    const rel = req.relativeZxid;
    // Process every change already visible before registering anything: otherwise a queued event
    // the client saw before it reconnected (zxid <= rel) could fire, and use up, a watch set here.
    this.catchUp(tree.appliedZxid());
    let seen = this.processedZxid;
    const fire: { type: 'created' | 'deleted' | 'dataChanged' | 'childrenChanged'; path: string }[] = [];
    for (const path of req.data) {
      const r = tree.stat(path);
      if (r.zxid > seen) seen = r.zxid;
      if (r.value === null) fire.push({ type: 'deleted', path });
      else if (r.value.mzxid > rel) fire.push({ type: 'dataChanged', path });
      else this.addWatch(conn, 'data', path);
    }
    for (const path of req.exist) {
      const r = tree.stat(path);
      if (r.zxid > seen) seen = r.zxid;
      if (r.value !== null) fire.push({ type: 'created', path });
      else this.addWatch(conn, 'data', path);
    }
    for (const path of req.child) {
      const r = tree.stat(path);
      if (r.zxid > seen) seen = r.zxid;
      if (r.value === null) fire.push({ type: 'deleted', path });
      else if (r.value.pzxid > rel) fire.push({ type: 'childrenChanged', path });
      else this.addWatch(conn, 'child', path);
    }
    // Registered before catching up, so a change between the stat reads and now still fires them.
    for (const path of req.persistent) this.addWatch(conn, 'persistent', path);
    for (const path of req.persistentRecursive) this.addWatch(conn, 'recursive', path);
    this.catchUp(seen);
    for (const f of fire) this.send(conn, encodeWatchEvent(seen, f.type, f.path));
    return encodeResponse(req.xid, seen, null);
  }

  private addWatch(conn: Conn, kind: WatchKind, path: string): void {
    // setWatches may bring up to the protocol's path bound at once; the bound is checked per request.
    if (this.registry.add(kind, path, conn)) conn.watchKeys.add(kind + '\0' + path);
  }

  private removeWatch(conn: Conn, kind: WatchKind, path: string): void {
    if (this.registry.remove(kind, path, conn)) conn.watchKeys.delete(kind + '\0' + path);
  }

  /** One-shot registrations consumed by a delivery leave the connection's key set too. */
  private forgetWatchKey(conn: Conn, type: string, path: string): void {
    if (type === 'childrenChanged' || type === 'deleted') if (!this.registry.has('child', path, conn)) conn.watchKeys.delete('child\0' + path);
    if (type !== 'childrenChanged') if (!this.registry.has('data', path, conn)) conn.watchKeys.delete('data\0' + path);
  }

  private dropWatches(conn: Conn): void {
    for (const key of conn.watchKeys) {
      const i = key.indexOf('\0');
      this.registry.remove(key.slice(0, i) as WatchKind, key.slice(i + 1), conn);
    }
    conn.watchKeys.clear();
  }

  watchCount(): number {
    return this.registry.count();
  }

  /** Stop: every connection is closed (sessions live on; clients reconnect elsewhere). */
  closeAll(): void {
    for (const conn of [...this.conns.values()]) this.kill(conn, 'CONNECTIONLOSS', 'server stopping');
  }
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

/** The pipeline op of a write request, or null for requests the worker answers itself. */
function writeOpOf(req: Request): WriteOp | null {
  switch (req.opcode) {
    case Opcode.create:
    case Opcode.create2:
      return { type: 'create', path: req.path, data: req.data, mode: req.mode, acl: req.acl, ttlMs: req.ttlMs };
    case Opcode.delete:
      return { type: 'delete', path: req.path, version: req.version };
    case Opcode.setData:
      return { type: 'setData', path: req.path, data: req.data, version: req.version };
    case Opcode.setACL:
      return { type: 'setACL', path: req.path, acl: req.acl, version: req.version };
    case Opcode.multi:
      return {
        type: 'multi',
        ops: req.ops.map((o): WriteOp => {
          switch (o.opcode) {
            case Opcode.create:
              return { type: 'create', path: o.path, data: o.data, mode: o.mode, acl: o.acl, ttlMs: o.ttlMs };
            case Opcode.delete:
              return { type: 'delete', path: o.path, version: o.version };
            case Opcode.setData:
              return { type: 'setData', path: o.path, data: o.data, version: o.version };
            case Opcode.check:
              return { type: 'check', path: o.path, version: o.version };
          }
        }),
      };
    case Opcode.sync:
      return { type: 'sync', path: req.path };
    case Opcode.getEphemerals:
      return { type: 'getEphemerals', prefix: req.prefix };
    case Opcode.close:
      return { type: 'closeSession' };
    default:
      return null;
  }
}

function encodeWriteResult(xid: number, zxid: bigint, opcode: number, entry: CommittedEntry): Uint8Array {
  const r = entry.result;
  if (!r.ok) {
    const opCodes = r.results?.map((x) => (x.op === 'error' ? x.code : 'OK'));
    return encodeErrorResponse(xid, zxid, r.code, r.message, opCodes);
  }
  const v = r.value;
  switch (v.type) {
    case 'create':
      return encodeResponse(xid, zxid, opcode === Opcode.create2 ? payloads.create2(v.path, v.stat) : payloads.create(v.path));
    case 'setData':
    case 'setACL':
      return encodeResponse(xid, zxid, payloads.stat(v.stat));
    case 'multi':
      return encodeResponse(xid, zxid, payloads.multi(v.results));
    case 'getEphemerals':
      return encodeResponse(xid, zxid, v.paths);
    default:
      return encodeResponse(xid, zxid, null);
  }
}
