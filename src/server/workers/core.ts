// One session worker's connections, independent of uWS and of the wire format: a connection is
// opened with a Socket and a ConnCodec. Here: connection lifecycle, the handshake and the
// session attach answers, whether this server serves at all, and the composition of the parts:
//   engine.ts          per-session ordering, write batching, commit processing and catch-up
//   reads.ts           tree lookups and their answers
//   session-watches.ts watch registration and firing
//   codec.ts           frames <-> messages (msgpack here; jute later)
import { assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';
import type { ErrorCode } from '../../common/errors.js';
import { protocolLimits, type ConnectRequest, type Request } from '../../protocol/index.js';
import type { WriteOp } from '../pipeline/api.js';
import type { TreeReader } from '../tree/api.js';
import type { ConnCodec } from './codec.js';
import type { Conn, CoreFigures, Socket } from './conn.js';
import { sendFrame } from './conn.js';
import { OrderingEngine } from './engine.js';
import type { AttachAnswer, CommitPortMessage, ToMain } from './messages.js';
import { Reads } from './reads.js';
import { SessionWatches } from './session-watches.js';

export type { Conn, Socket } from './conn.js';

export interface WorkerCoreOptions {
  workerId: number;
  tree: TreeReader;
  /** Takes the next commit-port message synchronously (receiveMessageOnPort), if any. */
  takeCommit(): CommitPortMessage | undefined;
  toMain(msg: ToMain): void;
  /** After the current turn (setImmediate). */
  defer(fn: () => void): void;
  /** Attaches a tree from a new buffer (a TreeSwap on the commit port). */
  openTree(buffer: SharedArrayBuffer): TreeReader;
  /** Wall-clock ms (connection liveness). */
  now(): number;
  dataBytesMax: number;
  outstandingWritesMax: number;
  writeGate?: (conn: Conn, op: WriteOp) => string | null;
}

export class WorkerCore {
  readonly conns = new Map<number, Conn>();
  readonly figures: CoreFigures = { requests: 0, reads: 0, writes: 0, throttled: 0, malformed: 0 };
  private readonly bySession = new Map<bigint, Conn>();
  private readonly watches = new SessionWatches();
  private readonly engine: OrderingEngine;
  // `ended`: the session ended in a commit this worker processed before the main thread's answer
  // (the answer and the commit travel on different ports): an 'attached' answer is then refused.
  private readonly attachWaits = new Map<number, { conn: Conn; req: ConnectRequest; ended: boolean }>();
  private touched = new Set<bigint>();
  /** Null while serving; else why not (the server is not in a quorum). */
  private notServing: string | null = null;
  private nextConnId = 1;
  private nextAttach = 1;

  constructor(private readonly o: WorkerCoreOptions) {
    this.engine = new OrderingEngine(o, {
      read: (conn, req) => reads.run(conn, req),
      fire: (type, path, zxid) => this.watches.fire(type, path, zxid),
      sessionEnded: (sessionId, expired) => this.sessionEnded(sessionId, expired),
      closedAfterAnswer: (conn) => this.closed(conn),
      kill: (conn, code, reason) => this.kill(conn, code, reason),
    }, this.figures);
    const reads = new Reads(this.engine, this.watches, this.figures);
  }

  /** The tree this worker reads now (it changes on a TreeSwap). */
  tree(): TreeReader {
    return this.engine.tree();
  }

  // ------------------------------------------------------------------ connections

  /** `identity`: what the transport proved (a TLS client certificate) or saw (a browser's Origin). */
  open(socket: Socket, remote: string, codec: ConnCodec, identity: { x509: string | null; browser: boolean } = { x509: null, browser: false }): Conn {
    const conn: Conn = {
      id: this.nextConnId++,
      socket,
      codec,
      remote,
      state: 'handshake',
      sessionId: 0n,
      timeoutMs: 0,
      // ZooKeeper's X509AuthenticationProvider: the verified client certificate's subject DN.
      authIds: identity.x509 === null ? [{ scheme: 'ip', id: remote }] : [{ scheme: 'ip', id: remote }, { scheme: 'x509', id: identity.x509 }],
      browser: identity.browser,
      queue: [],
      queueHead: 0,
      watchCount: 0,
      watchKeys: new Set(),
      lastHeardMs: this.o.now(),
      received: 0,
      sent: 0,
    };
    this.conns.set(conn.id, conn);
    return conn;
  }

  /** A frame arrived: decoded by the connection's codec and dispatched by the connection's state. */
  receive(conn: Conn, frame: Uint8Array, binary: boolean): void {
    if (conn.state === 'closed') return;
    const msg = conn.codec.decode(frame, binary);
    if (msg.kind === 'malformed') this.malformed(conn, msg.reason);
    else if (conn.state === 'handshake') {
      if (msg.kind !== 'connect') this.malformed(conn, 'the first frame must be a ConnectRequest');
      else this.handshake(conn, msg.req);
    } else if (msg.kind === 'connect') this.malformed(conn, 'ConnectRequest after the handshake');
    else if (conn.state !== 'open') this.malformed(conn, 'request before the session was established');
    else if (msg.kind === 'requests') {
      for (const r of msg.reqs) if (conn.state === 'open') this.request(conn, r);
    } else this.request(conn, msg.req);
  }

  /** The socket closed (by either side). The session lives on until it expires or closes. */
  closed(conn: Conn): void {
    if (conn.state === 'closed') return;
    conn.state = 'closed';
    this.conns.delete(conn.id);
    this.watches.drop(conn);
    if (conn.sessionId !== 0n && this.bySession.get(conn.sessionId) === conn) {
      this.bySession.delete(conn.sessionId);
      this.o.toMain({ kind: 'detach', sessionId: conn.sessionId, connId: conn.id });
    }
  }

  /** Closes a connection with a reason frame (malformed input, expiry, moved session). */
  kill(conn: Conn, code: ErrorCode, reason: string): void {
    if (conn.state === 'closed') return;
    conn.socket.cork(() => {
      conn.socket.send(conn.codec.closing(code, reason.slice(0, protocolLimits.errorMessageBytesMax)));
      conn.socket.end();
    });
    this.closed(conn);
  }

  malformed(conn: Conn, reason: string): void {
    this.figures.malformed++;
    this.kill(conn, 'MARSHALLINGERROR', reason);
  }

  /** Closes connections silent for longer than their session timeout (the session may live on). */
  closeIdle(nowMs: number): void {
    for (const conn of this.conns.values()) {
      if (conn.state === 'open' && nowMs - conn.lastHeardMs > conn.timeoutMs) this.kill(conn, 'CONNECTIONLOSS', 'no request or ping within the session timeout');
      else if (conn.state === 'handshake' && nowMs - conn.lastHeardMs > constants.handshakeTimeoutMs) this.kill(conn, 'CONNECTIONLOSS', 'no handshake');
    }
  }

  /** Every connection is closed (sessions live on; clients reconnect elsewhere). */
  closeAll(reason = 'server stopping'): void {
    for (const conn of [...this.conns.values()]) this.kill(conn, 'CONNECTIONLOSS', reason);
  }

  /**
   * Whether this server may answer clients. Out of a quorum it must not answer with data it
   * cannot vouch for: every connection is closed (clients see CONNECTIONLOSS and move to another
   * server) and handshakes are refused until it serves again.
   */
  setServing(serving: boolean, reason: string): void {
    if (serving) {
      this.notServing = null;
      return;
    }
    this.notServing = reason;
    this.closeAll(`server not serving: ${reason}`);
  }

  get serving(): boolean {
    return this.notServing === null;
  }

  // ------------------------------------------------------------------ handshake

  handshake(conn: Conn, req: ConnectRequest): void {
    assert(conn.state === 'handshake', 'handshake once');
    if (this.notServing !== null) {
      this.kill(conn, 'CONNECTIONLOSS', `server not serving: ${this.notServing}`);
      return;
    }
    if (req.protocolVersion !== conn.codec.protocolVersion) {
      this.kill(conn, 'BADARGUMENTS', `unsupported protocol version ${req.protocolVersion}`);
      return;
    }
    if (req.lastZxidSeen > this.engine.tree().appliedZxid()) {
      // ZooKeeper refuses a client that has seen a newer state than this server has, before it
      // touches the session: the connection that holds the session must not be moved away.
      this.kill(conn, 'CONNECTIONLOSS', 'client has seen a newer zxid than this server');
      return;
    }
    conn.state = 'attaching';
    // Writes already read from other connections go to the main thread before this attach, so a
    // session moving to this connection finds its earlier writes counted there (sessions/attach.ts).
    this.engine.flushWrites();
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
    sendFrame(conn, conn.codec.connected({
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

  // ------------------------------------------------------------------ requests and commits

  request(conn: Conn, req: Request): void {
    assert(conn.state === 'open', 'requests only on open connections');
    this.figures.requests++;
    conn.received++;
    conn.lastHeardMs = this.o.now();
    this.touched.add(conn.sessionId);
    this.engine.submit(conn, req);
  }

  /** A commit-port message (a committed batch or a new tree). */
  commit(msg: CommitPortMessage): void {
    this.engine.commit(msg);
  }

  /** Sessions heard from since the last call (sent to the main thread's expiry tracker). */
  takeTouched(): bigint[] {
    if (this.touched.size === 0) return [];
    const ids = [...this.touched];
    this.touched.clear();
    return ids;
  }

  watchCount(): number {
    return this.watches.count();
  }

  private sessionEnded(sessionId: bigint, expired: boolean): void {
    // The closing connection has had its close answer and is gone (closeAfter). Any connection
    // still holding the session took it over while the close was in flight, or the session
    // expired: either way it must not live on as if the session were alive.
    const conn = this.bySession.get(sessionId);
    if (conn) this.kill(conn, 'SESSIONEXPIRED', expired ? 'session expired' : 'session closed');
    for (const wait of this.attachWaits.values()) if (wait.req.sessionId === sessionId) wait.ended = true;
  }
}
