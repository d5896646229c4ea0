// The session machinery under the API: connection attempts and reconnects, the handshake, the
// FIFO of requests in flight, pings, timeouts, and dispatch of watch events.
//
// States (every change is emitted as 'state'):
//   connecting    the first connection is being made (connect() has not resolved yet)
//   connected     a server accepted the session; requests flow
//   disconnected  the connection was lost; the client retries every server with the same session.
//                 New calls wait in the queue; calls in flight at the loss failed with CONNECTIONLOSS
//   expired       the server said SESSIONEXPIRED, or no server could be reached within the session
//                 timeout (as Curator: by then the ensemble has expired it). Terminal
//   closed        close() ended the session, or the first connection failed. Terminal
import { ZookooperError, type ErrorCode } from '../common/errors.js';
import { unrefTimer } from '../common/timers.js';
import type { WatchedEvent, Watcher } from '../common/types.js';
import { Opcode } from '../protocol/codes.js';
import { decodeServerFrame } from '../protocol/decode-server.js';
import { encodeConnectRequest, encodeRequest } from '../protocol/encode.js';
import { ProtocolError } from '../protocol/errors.js';
import { protocolLimits } from '../protocol/limits.js';
import type { ConnectResponse, Request, ResponseMessage, WatchMessage } from '../protocol/messages.js';
import { Chroot } from './chroot.js';
import { hostUrl, type HostPort } from './connect-string.js';
import { Fifo } from './fifo.js';
import { clientDefaults, type ResolvedOptions } from './options.js';
import { Kind, noop, Pending } from './pending.js';
import { ClientSocket } from './socket.js';
import { WatchManager } from './watch-manager.js';

export type ClientState = 'connecting' | 'connected' | 'disconnected' | 'expired' | 'closed';
type StateListener = (state: ClientState) => void;
type Outcome = 'connected' | 'expired' | 'failed' | 'stopped';

/** Run a caller's function; its exception surfaces as an uncaught error, as from an EventEmitter. */
function callOut<T>(fn: (arg: T) => void, arg: T): void {
  try {
    fn(arg);
  } catch (e) {
    // queueMicrotask rather than process.nextTick: the same in Node and in the browser bundle.
    queueMicrotask(() => {
      throw e;
    });
  }
}

function shuffled<T>(list: readonly T[]): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export abstract class Session {
  protected readonly chroot: Chroot;
  protected readonly watches = new WatchManager();
  protected dataBytesMax: number = protocolLimits.frameBytesMax;
  protected readonly authInfos: { scheme: string; credential: Uint8Array }[] = [];
  private _state: ClientState = 'connecting';
  private _sessionId = 0n;
  private password: Uint8Array = new Uint8Array(protocolLimits.passwordBytes);
  private _sessionTimeoutMs: number;
  private lastZxid = 0n;
  private xid = 0;
  private socket: ClientSocket | null = null; // set once the handshake on it succeeded
  private readonly sent = new Fifo<Pending>();
  private sentBytes = 0;
  private readonly queued = new Fifo<Pending>();
  private listeners: StateListener[] = [];
  private ticker: NodeJS.Timeout | null = null;
  private lastSendMs = 0;
  private lastRecvMs = 0;
  private closing = false;
  private lastConnectError = '';

  constructor(
    private readonly hosts: readonly HostPort[],
    chroot: string,
    protected readonly options: ResolvedOptions,
  ) {
    this.chroot = new Chroot(chroot);
    this._sessionTimeoutMs = options.sessionTimeoutMs;
  }

  get state(): ClientState {
    return this._state;
  }
  get sessionId(): bigint {
    return this._sessionId;
  }
  get sessionTimeoutMs(): number {
    return this._sessionTimeoutMs;
  }
  /** The highest zxid this client has seen (sent on reconnect so no server goes back in time). */
  get lastZxidSeen(): bigint {
    return this.lastZxid;
  }

  on(event: 'state', listener: StateListener): this {
    if (event !== 'state') throw new TypeError(`unknown event ${String(event)}`);
    this.listeners.push(listener);
    return this;
  }
  off(event: 'state', listener: StateListener): this {
    if (event === 'state') this.listeners = this.listeners.filter((l) => l !== listener);
    return this;
  }
  once(event: 'state', listener: StateListener): this {
    const wrapped: StateListener = (s) => {
      this.off(event, wrapped);
      listener(s);
    };
    return this.on(event, wrapped);
  }

  private setState(s: ClientState): void {
    if (this._state === s) return;
    this._state = s;
    for (const l of [...this.listeners]) callOut(l, s);
  }

  // ------------------------------------------------------------------ connecting

  /** The first connection: resolves once a session exists, else rejects (state 'closed'). */
  protected async start(): Promise<void> {
    this.startTicker();
    const outcome = await this.connectLoop(Date.now() + this.options.sessionTimeoutMs);
    if (outcome === 'connected') return;
    this.shutdown('closed', 'CONNECTIONLOSS', 'connect failed');
    const where = this.hosts.map((h) => `${h.host}:${h.port}`).join(',');
    throw new ZookooperError('CONNECTIONLOSS', `could not connect to ${where}: ${this.lastConnectError}`);
  }

  /** Try every server (shuffled), round after round with a growing pause, until `deadlineMs`. */
  private async connectLoop(deadlineMs: number): Promise<Outcome> {
    for (let round = 0; ; round++) {
      for (const host of shuffled(this.hosts)) {
        if (this.closing || this._state === 'expired' || this._state === 'closed') return 'stopped';
        const outcome = await this.attempt(host);
        if (outcome !== 'failed') return outcome;
      }
      const left = deadlineMs - Date.now();
      if (left <= 0) return 'failed';
      const base = Math.min(clientDefaults.reconnectDelayMsMax, clientDefaults.reconnectDelayMsMin * 2 ** Math.min(round, 20));
      await sleep(Math.min(left, base * (0.5 + Math.random() / 2)));
    }
  }

  /**
   * One attempt's deadline: connectTimeoutMs, but on a reconnect at most the negotiated session
   * timeout shared by the servers (as ZooKeeper's client), so one hung server (SIGSTOPped,
   * partitioned) tried first cannot use up the whole session timeout before a live one is tried.
   */
  private attemptTimeoutMs(): number {
    // A new session has nothing to lose on the servers yet (and may ask for any timeout).
    if (this._sessionId === 0n) return this.options.connectTimeoutMs;
    const shareMs = Math.floor(this._sessionTimeoutMs / Math.max(1, this.hosts.length));
    return Math.max(clientDefaults.attemptTimeoutMsMin, Math.min(this.options.connectTimeoutMs, shareMs));
  }

  private attempt(host: HostPort): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const finish = (outcome: Outcome, reason: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (outcome === 'failed') this.lastConnectError = `${host.host}:${host.port}: ${reason}`;
        resolve(outcome);
      };
      const attemptMs = this.attemptTimeoutMs();
      const sock: ClientSocket = new ClientSocket(hostUrl(host, this.options.tls !== null), attemptMs, {
        open: () => {
          sock.send(
            encodeConnectRequest({
              protocolVersion: protocolLimits.protocolVersion,
              lastZxidSeen: this.lastZxid,
              sessionTimeoutMs: this._sessionId === 0n ? this.options.sessionTimeoutMs : this._sessionTimeoutMs,
              sessionId: this._sessionId,
              password: this.password,
              readOnly: false,
            }),
          );
        },
        message: (data) => {
          if (settled) return this.onFrame(sock, data);
          const outcome = this.handshake(sock, data);
          finish(outcome.outcome, outcome.reason);
        },
        gone: (reason) => {
          if (settled) this.onSocketGone(sock, reason);
          else finish('failed', reason);
        },
      }, this.options.tls);
      const timer = setTimeout(() => sock.end(`no session within ${attemptMs} ms`), attemptMs);
    });
  }

  private handshake(sock: ClientSocket, data: Buffer): { outcome: Outcome; reason: string } {
    let msg;
    try {
      msg = decodeServerFrame(data);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      sock.end(e.message);
      return { outcome: 'failed', reason: e.message };
    }
    if (msg.kind === 'closing') {
      sock.end(msg.reason);
      return { outcome: msg.code === 'SESSIONEXPIRED' && this._sessionId !== 0n ? 'expired' : 'failed', reason: `${msg.code}: ${msg.reason}` };
    }
    if (msg.kind !== 'connected') {
      sock.end('expected a handshake answer');
      return { outcome: 'failed', reason: `unexpected ${msg.kind} before the handshake answer` };
    }
    if (this.closing || this._state === 'expired' || this._state === 'closed') {
      sock.end('client closed meanwhile');
      return { outcome: 'stopped', reason: 'client closed' };
    }
    if (this._sessionId !== 0n && msg.sessionId !== this._sessionId) {
      sock.end('session changed');
      return { outcome: 'expired', reason: 'the server gave a different session' };
    }
    this.onConnected(sock, msg);
    return { outcome: 'connected', reason: '' };
  }

  /** Synchronously, before any later frame: re-send auth and watches, then the queued requests. */
  private onConnected(sock: ClientSocket, msg: ConnectResponse): void {
    const reconnect = this._sessionId !== 0n;
    this.socket = sock;
    this._sessionId = msg.sessionId;
    this.password = msg.password;
    this._sessionTimeoutMs = msg.sessionTimeoutMs;
    this.dataBytesMax = msg.dataBytesMax;
    this.lastRecvMs = this.lastSendMs = Date.now();
    this.startTicker();
    if (reconnect) {
      for (const a of this.authInfos) this.sendInternal({ opcode: Opcode.addAuth, xid: 0, scheme: a.scheme, credential: a.credential });
      this.sendSetWatches();
    }
    this.setState('connected');
    this.pump();
  }

  private sendSetWatches(): void {
    const lists = this.watches.lists();
    const names = ['data', 'exist', 'child', 'persistent', 'persistentRecursive'] as const;
    let chunk = { data: [] as string[], exist: [] as string[], child: [] as string[], persistent: [] as string[], persistentRecursive: [] as string[] };
    let bytes = 0;
    let count = 0;
    const flush = (): void => {
      if (count === 0) return;
      this.sendInternal({ opcode: Opcode.setWatches, xid: 0, relativeZxid: this.lastZxid, ...chunk });
      chunk = { data: [], exist: [], child: [], persistent: [], persistentRecursive: [] };
      bytes = 0;
      count = 0;
    };
    for (const name of names) {
      for (const path of lists[name]) {
        const server = this.chroot.toServer(path);
        if (bytes + server.length * 3 > clientDefaults.setWatchesChunkBytes || count >= protocolLimits.setWatchesPathsMax) flush();
        chunk[name].push(server);
        bytes += server.length * 3 + 1;
        count++;
      }
    }
    flush();
  }

  // ------------------------------------------------------------------ sending

  /** Queue or send a request; the promise settles with the decoded result. */
  protected submit<T>(req: Request, kind: Kind, path: string, watcher: Watcher | null, extra: unknown = null): Promise<T> {
    if (this.closing || this._state === 'expired' || this._state === 'closed') {
      return Promise.reject(new ZookooperError('SESSIONEXPIRED', `session ${this._state === 'expired' ? 'expired' : 'closed'}`, path === '' ? undefined : path));
    }
    if (this.queued.length >= this.options.queuedRequestsMax) {
      return Promise.reject(new ZookooperError('THROTTLEDOP', `client queue full: ${this.queued.length} requests waiting`, path === '' ? undefined : path));
    }
    let resolve!: (v: unknown) => void;
    let reject!: (e: ZookooperError) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res as (v: unknown) => void;
      reject = rej;
    });
    const p = new Pending(req, kind, path, watcher, resolve, reject, Date.now(), extra);
    if (this.socket !== null && this.queued.length === 0 && this.canSend()) this.transmit(p, p.submittedAtMs);
    else this.queued.push(p);
    return promise;
  }

  private canSend(): boolean {
    return this.sent.length < this.options.outstandingRequestsMax && this.sentBytes < clientDefaults.outstandingBytesMax;
  }

  private sendInternal(req: Request): void {
    this.transmit(new Pending(req, Kind.internal, '', null, noop, noop, Date.now()), Date.now());
  }

  private transmit(p: Pending, nowMs: number): void {
    const xid = (this.xid = (this.xid + 1) >>> 0);
    p.xid = xid;
    p.req.xid = xid;
    const frame = encodeRequest(p.req);
    p.bytes = frame.byteLength;
    this.sentBytes += frame.byteLength;
    this.sent.push(p);
    this.lastSendMs = nowMs;
    this.socket!.send(frame);
  }

  private pump(): void {
    if (this.socket === null) return;
    const now = Date.now();
    while (this.queued.length > 0 && this.canSend()) this.transmit(this.queued.shift()!, now);
  }

  // ------------------------------------------------------------------ receiving

  private onFrame(sock: ClientSocket, data: Buffer): void {
    if (sock !== this.socket) return;
    this.lastRecvMs = Date.now();
    let msg;
    try {
      msg = decodeServerFrame(data);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      return this.lose(e.message);
    }
    switch (msg.kind) {
      case 'response':
        return this.onResponse(msg);
      case 'watch':
        return this.onWatch(msg);
      case 'closing':
        if (msg.code === 'SESSIONEXPIRED') return this.expire(`server: ${msg.reason}`);
        return this.lose(`server closed the connection: ${msg.code} ${msg.reason}`);
      case 'connected':
        return this.lose('a second handshake answer');
    }
  }

  private onResponse(msg: ResponseMessage): void {
    const p = this.sent.shift();
    if (p === undefined || p.xid !== msg.xid) {
      if (p !== undefined) p.reject(new ZookooperError('CONNECTIONLOSS', 'connection lost: response out of order', p.path || undefined));
      return this.lose(`response xid ${msg.xid} does not match the oldest request (${p?.xid ?? 'none'})`);
    }
    this.sentBytes -= p.bytes;
    if (msg.zxid > this.lastZxid) this.lastZxid = msg.zxid;
    try {
      if (msg.error === null) this.settle(p, msg.payload);
      else this.settleError(p, msg.error, msg.payload);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      p.reject(new ZookooperError('MARSHALLINGERROR', `bad response from server: ${e.reason}`, p.path || undefined));
      return this.lose(e.message);
    }
    if (this.queued.length > 0) this.pump();
  }

  /** Decode a success payload for `p` and resolve it (register its watch first). */
  protected abstract settle(p: Pending, payload: unknown): void;
  /** Decode an error payload for `p` and reject it. */
  protected abstract settleError(p: Pending, code: ErrorCode, payload: unknown): void;

  private onWatch(msg: WatchMessage): void {
    if (msg.zxid > this.lastZxid) this.lastZxid = msg.zxid;
    const path = this.chroot.fromServer(msg.path);
    if (path === null) return;
    const watchers = this.watches.materialize(msg.type, path);
    for (const w of watchers) callOut(w, { type: msg.type, path });
  }

  protected deliver(list: { watcher: Watcher; event: WatchedEvent }[]): void {
    for (const r of list) callOut(r.watcher, r.event);
  }

  // ------------------------------------------------------------------ housekeeping

  private startTicker(): void {
    if (this.ticker !== null) clearInterval(this.ticker);
    const period = Math.max(clientDefaults.tickMsMin, Math.min(clientDefaults.tickMsMax, Math.floor(this._sessionTimeoutMs / 10)));
    this.ticker = setInterval(() => this.tick(), period);
    unrefTimer(this.ticker); // an idle client alone does not keep the process alive; its socket does
  }

  private tick(): void {
    const now = Date.now();
    const timeout = this.options.requestTimeoutMs;
    for (let q = this.queued.peek(); q !== undefined && now - q.submittedAtMs >= timeout; q = this.queued.peek()) {
      this.queued.shift();
      q.reject(new ZookooperError('OPERATIONTIMEOUT', `no answer within ${timeout} ms (not sent: no connection)`, q.path || undefined));
    }
    if (this.socket === null) return;
    const head = this.sent.peek();
    if (head !== undefined && head.kind !== Kind.internal && now - head.submittedAtMs >= timeout) {
      // Answers come in order: the connection is stuck. Fail this one, drop the connection.
      this.sent.shift();
      this.sentBytes -= head.bytes;
      head.reject(new ZookooperError('OPERATIONTIMEOUT', `no answer within ${timeout} ms`, head.path || undefined));
      return this.lose(`request timed out after ${timeout} ms`);
    }
    const readTimeoutMs = this._sessionTimeoutMs * clientDefaults.readTimeoutFraction;
    if (now - this.lastRecvMs >= readTimeoutMs) return this.lose(`nothing heard from the server for ${Math.round(readTimeoutMs)} ms`);
    if (now - this.lastSendMs >= this._sessionTimeoutMs * clientDefaults.pingIntervalFraction) this.sendInternal({ opcode: Opcode.ping, xid: 0 });
  }

  private onSocketGone(sock: ClientSocket, reason: string): void {
    if (sock === this.socket) this.lose(reason);
  }

  private failSent(code: ErrorCode, reason: string): void {
    const list = this.sent.drain();
    this.sentBytes = 0;
    for (const p of list) p.reject(new ZookooperError(code, `${code}: ${reason}`, p.path || undefined));
  }

  /** The connection is gone (not the session): fail what is in flight, reconnect. */
  private lose(reason: string): void {
    const sock = this.socket;
    if (sock === null) return;
    this.socket = null;
    sock.end(reason);
    this.failSent('CONNECTIONLOSS', `connection lost: ${reason}`);
    if (this.closing || this._state !== 'connected') return;
    this.setState('disconnected');
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    const outcome = await this.connectLoop(Date.now() + this._sessionTimeoutMs);
    if (outcome === 'expired') this.expire('the server says the session expired');
    else if (outcome === 'failed') this.expire(`no server reachable within the session timeout (${this._sessionTimeoutMs} ms): ${this.lastConnectError}`);
  }

  private expire(reason: string): void {
    this.shutdown('expired', 'SESSIONEXPIRED', `session expired: ${reason}`);
  }

  /** Terminal: fail everything pending with `code`, stop timers, drop the socket. */
  protected shutdown(state: 'expired' | 'closed', code: ErrorCode, reason: string): void {
    if (this._state === 'expired' || this._state === 'closed') return;
    const sock = this.socket;
    this.socket = null;
    sock?.end(reason, true);
    this.failSent(code, reason);
    for (const p of this.queued.drain()) p.reject(new ZookooperError(code, `${code}: ${reason}`, p.path || undefined));
    if (this.ticker !== null) clearInterval(this.ticker);
    this.ticker = null;
    this.watches.clear();
    this.setState(state);
  }

  /** End the session: a close request after everything already sent, then the socket. */
  async close(): Promise<void> {
    if (this.closing || this._state === 'expired' || this._state === 'closed') return;
    if (this.socket !== null) {
      const closed = this.submit<void>({ opcode: Opcode.close, xid: 0 }, Kind.none, '', null);
      this.closing = true; // after submit: later calls are refused
      await closed.catch(() => {}); // lost or timed out: the server expires the session instead
    }
    this.closing = true;
    this.shutdown('closed', 'SESSIONEXPIRED', 'client closed');
  }
}
