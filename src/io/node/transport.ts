// The TCP peer Transport (the contract is in ../transport.ts).
//
// Each server listens on its peer port and opens its own OUTBOUND connection to every other peer;
// it sends only on that one, and inbound connections only receive. So a pair of servers has two
// one-way TCP connections, and cutting one of them is a one-way partition.
//
//            A                                   B
//   outbound to B  ---- A's frames ---->  inbound from A
//   inbound from B <---- B's frames ----  outbound to A
//
// The link A->B is "up" on A while A's outbound to B is connected. When either of A's two
// connections with B closes (or is cut for a bad frame or a full queue), A reports linkDown(B)
// once and closes BOTH, so B sees both of its connections close and reports linkDown(A) too:
// like ZooKeeper's single bidirectional connection, a loss is seen on both sides and both cores
// resynchronise. A's outbound then reconnects with bounded exponential backoff.
//
// Bounds: frames are bounded (peerFrameBytesMax, peerHelloBytesMax before the hello); the bytes
// queued on a link are bounded (peerLinkQueuedBytesMax: past it the link is cut, its queue dropped,
// rather than memory growing behind a slow follower); a message sent while the link is down is
// dropped, never queued for later (the core resynchronises after linkDown). Inbound reads are
// bounded by construction: frames are decoded and delivered synchronously from the 'data' event,
// so at most one partial frame is ever buffered and the socket is read no faster than the
// handlers run.
import net from 'node:net';
import { assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';
import type { PeerLinkStats, Transport, TransportStats } from '../transport.js';
import { decodeBody, encodeFrame, encodeHello, FRAME_HEADER_BYTES, frameBytes, FrameReader, parseHello, type Frame } from './peer-frame.js';

export interface PeerAddress {
  id: number;
  host: string;
  /** 0: not known yet; the peer is dialled once setPeerAddress gives it a port. */
  port: number;
}

/** The slice of pino's Logger used here (pino's Logger satisfies it). */
export interface TransportLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface TcpTransportLimits {
  frameBytesMax: number;
  helloBytesMax: number;
  linkQueuedBytesMax: number;
  reconnectBackoffMsMin: number;
  reconnectBackoffMsMax: number;
  connectTimeoutMs: number;
  helloTimeoutMs: number;
  inboundPendingMax: number;
}

export interface TcpTransportOptions {
  myId: number;
  host: string;
  /** 0 picks an ephemeral port; read it back from TcpTransport.port. */
  port: number;
  peers: PeerAddress[];
  logger: TransportLogger;
  /** Defaults from constants; tests shrink them. */
  limits?: Partial<TcpTransportLimits>;
}

export interface TcpTransport extends Transport {
  readonly myId: number;
  /** The bound peer port. */
  readonly port: number;
  /** Sets (or changes) where a peer listens; an idle link dials it at once. */
  setPeerAddress(id: number, host: string, port: number): void;
}

const defaultLimits: TcpTransportLimits = {
  frameBytesMax: constants.peerFrameBytesMax,
  helloBytesMax: constants.peerHelloBytesMax,
  linkQueuedBytesMax: constants.peerLinkQueuedBytesMax,
  reconnectBackoffMsMin: constants.peerReconnectBackoffMsMin,
  reconnectBackoffMsMax: constants.peerReconnectBackoffMsMax,
  connectTimeoutMs: constants.peerConnectTimeoutMs,
  helloTimeoutMs: constants.peerHelloTimeoutMs,
  inboundPendingMax: constants.peerInboundPendingMax,
};

/** A connection a peer opened to us. `peer` is null until its hello. */
interface Inbound {
  socket: net.Socket;
  peer: number | null;
  helloTimer: NodeJS.Timeout | null;
  remote: string;
}

/** Everything about one other server. */
interface Link {
  id: number;
  host: string;
  port: number;
  out: net.Socket | null;
  up: boolean;
  upSinceMs: number;
  inbound: Inbound | null;
  reconnectTimer: NodeJS.Timeout | null;
  attempt: number;
  /** The outbound socket corked until the end of this tick (see write), if any. */
  corked: net.Socket | null;
  stats: Omit<PeerLinkStats, 'peer' | 'connected' | 'inboundConnected' | 'queuedBytes'>;
}

/** Listens on host:port (resolves once bound) and starts dialling every peer with a known port. */
export async function createTcpTransport(options: TcpTransportOptions): Promise<TcpTransport> {
  const t = new TcpTransportImpl(options);
  await t.listen(options.host, options.port);
  t.dialAll();
  return t;
}

class TcpTransportImpl implements TcpTransport {
  readonly myId: number;
  private boundPort = 0;
  private readonly limits: TcpTransportLimits;
  private readonly log: TransportLogger;
  private readonly links = new Map<number, Link>();
  private readonly pending = new Set<Inbound>();
  private readonly server: net.Server;
  private closed = false;
  private framesEncoded = 0;
  private readonly messageHandlers: ((from: number, payload: unknown) => void)[] = [];
  private readonly upHandlers: ((peer: number) => void)[] = [];
  private readonly downHandlers: ((peer: number, reason: string) => void)[] = [];

  constructor(o: TcpTransportOptions) {
    this.myId = o.myId;
    this.log = o.logger;
    this.limits = { ...defaultLimits, ...o.limits };
    assert(this.limits.linkQueuedBytesMax >= this.limits.frameBytesMax, 'a link queues at least one full frame');
    assert(this.limits.reconnectBackoffMsMin <= this.limits.reconnectBackoffMsMax, 'reconnect backoff range');
    for (const p of o.peers) {
      assert(p.id !== o.myId, () => `peer list names this server (${p.id})`);
      assert(!this.links.has(p.id), () => `peer ${p.id} listed twice`);
      this.links.set(p.id, {
        id: p.id, host: p.host, port: p.port, out: null, up: false, upSinceMs: 0, inbound: null, reconnectTimer: null, attempt: 0, corked: null,
        stats: { framesOut: 0, framesIn: 0, bytesOut: 0, bytesIn: 0, framesDropped: 0, linkDowns: 0 },
      });
    }
    this.server = net.createServer((socket) => this.accept(socket));
  }

  get port(): number {
    return this.boundPort;
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        this.server.on('error', (e) => this.log.warn({ myId: this.myId, err: e.message }, 'peer listener error'));
        const addr = this.server.address();
        assert(addr !== null && typeof addr === 'object', 'a TCP listener has an address');
        this.boundPort = addr.port;
        resolve();
      });
    });
  }

  dialAll(): void {
    for (const link of this.links.values()) this.dial(link);
  }

  setPeerAddress(id: number, host: string, port: number): void {
    const link = this.links.get(id);
    assert(link !== undefined, () => `unknown peer ${id}`);
    link.host = host;
    link.port = port;
    if (link.out === null && link.reconnectTimer === null) this.dial(link);
  }

  // ---- handlers ----

  onMessage(handler: (from: number, payload: unknown) => void): void {
    this.messageHandlers.push(handler);
  }

  onLinkUp(handler: (peer: number) => void): void {
    this.upHandlers.push(handler);
  }

  onLinkDown(handler: (peer: number, reason: string) => void): void {
    this.downHandlers.push(handler);
  }

  // ---- sending ----

  send(to: number, payload: unknown): void {
    const link = this.linkTo(to);
    if (!link.up) {
      link.stats.framesDropped++;
      return;
    }
    this.write(link, this.encode(payload));
  }

  sendToMany(to: readonly number[], payload: unknown): void {
    const links = to.map((id) => this.linkTo(id));
    let frame: Frame | null = null;
    for (const link of links) {
      if (!link.up) {
        link.stats.framesDropped++;
        continue;
      }
      frame ??= this.encode(payload);
      this.write(link, frame);
    }
  }

  private linkTo(id: number): Link {
    const link = this.links.get(id);
    assert(link !== undefined, () => `send to unknown peer ${id} (server ${this.myId})`);
    return link;
  }

  private encode(payload: unknown): Frame {
    const { frame, bodyBytes } = encodeFrame(payload);
    // The core bounds what it sends (SNAP chunks, DIFF batches); a bigger message is its bug.
    assert(bodyBytes <= this.limits.frameBytesMax, () => `peer message of ${bodyBytes} bytes, over the frame limit of ${this.limits.frameBytesMax}`);
    this.framesEncoded++;
    return frame;
  }

  private write(link: Link, frame: Frame): void {
    const socket = link.out;
    assert(socket !== null, 'an up link has its outbound socket');
    // The core emits its sends in bursts (one input, many effects): cork the socket for the rest
    // of this tick so the burst leaves in one writev instead of one syscall per frame.
    // (The bound below therefore counts a whole burst, even one the kernel would have taken.)
    if (link.corked !== socket) {
      link.corked = socket;
      socket.cork();
      process.nextTick(() => {
        if (link.corked === socket) link.corked = null;
        socket.uncork();
      });
    }
    for (const b of frame) socket.write(b);
    link.stats.framesOut++;
    link.stats.bytesOut += frameBytes(frame);
    if (socket.writableLength > this.limits.linkQueuedBytesMax) {
      this.log.warn({ myId: this.myId, peer: link.id, queuedBytes: socket.writableLength, limit: this.limits.linkQueuedBytesMax }, 'peer link cut: the peer is not reading fast enough');
      this.linkLost(link, `queued bytes over ${this.limits.linkQueuedBytesMax}: the peer is not reading`);
    }
  }

  disconnect(peer: number, reason: string): void {
    const link = this.linkTo(peer);
    if (this.closed) return;
    this.log.warn({ myId: this.myId, peer, reason }, 'peer link cut by the driver');
    if (link.up) {
      this.linkLost(link, reason);
      return;
    }
    this.dropInbound(link);
  }

  // ---- outbound connections ----

  private dial(link: Link): void {
    if (this.closed || link.port === 0) return;
    assert(link.out === null, 'one outbound connection per peer');
    const socket = net.connect({ host: link.host, port: link.port });
    link.out = socket;
    socket.setNoDelay(true);
    const connectTimer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${this.limits.connectTimeoutMs} ms`)), this.limits.connectTimeoutMs);
    let lastError = '';
    socket.on('connect', () => {
      clearTimeout(connectTimer);
      if (link.out !== socket) return;
      const hello = encodeHello(this.myId);
      for (const b of hello) socket.write(b);
      link.stats.bytesOut += frameBytes(hello);
      link.up = true;
      link.upSinceMs = Date.now();
      this.log.info({ myId: this.myId, peer: link.id, address: `${link.host}:${link.port}` }, 'peer link up');
      for (const h of this.upHandlers) {
        if (!link.up) break;
        h(link.id);
      }
    });
    // The peer never writes on our outbound connection: anything arriving there breaks the protocol.
    socket.on('data', () => {
      if (link.out !== socket) return;
      this.log.warn({ myId: this.myId, peer: link.id }, 'peer link cut: the peer wrote on our outbound connection');
      this.linkLost(link, 'the peer wrote on our outbound connection');
    });
    socket.on('error', (e) => {
      lastError = e.message;
    });
    socket.on('close', () => {
      clearTimeout(connectTimer);
      if (link.out !== socket) return; // we cut it ourselves; already handled
      this.linkLost(link, lastError === '' ? 'outbound connection closed' : `outbound connection closed: ${lastError}`);
    });
  }

  /**
   * One of the two connections with `link.id` is gone (or is being cut): if the link was up it goes
   * down, both connections are closed (so the peer sees the loss too) and the outbound reconnects.
   */
  private linkLost(link: Link, reason: string): void {
    const wasUp = link.up;
    const out = link.out;
    link.out = null;
    link.up = false;
    out?.destroy();
    if (wasUp) {
      this.dropInbound(link);
      link.stats.linkDowns++;
      // A link that stayed up a while starts reconnecting fast again.
      if (Date.now() - link.upSinceMs >= this.limits.reconnectBackoffMsMax) link.attempt = 0;
      this.log.info({ myId: this.myId, peer: link.id, reason }, 'peer link down');
      for (const h of this.downHandlers) h(link.id, reason);
    }
    this.scheduleReconnect(link);
  }

  private scheduleReconnect(link: Link): void {
    if (this.closed || link.reconnectTimer !== null || link.out !== null) return;
    const delayMs = Math.min(this.limits.reconnectBackoffMsMax, this.limits.reconnectBackoffMsMin * 2 ** Math.min(link.attempt, 30));
    link.attempt++;
    link.reconnectTimer = setTimeout(() => {
      link.reconnectTimer = null;
      if (link.out === null) this.dial(link);
    }, delayMs);
  }

  // ---- inbound connections ----

  private accept(socket: net.Socket): void {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    if (this.closed) {
      socket.destroy();
      return;
    }
    if (this.pending.size >= this.limits.inboundPendingMax) {
      this.log.warn({ myId: this.myId, remote, limit: this.limits.inboundPendingMax }, 'peer connection refused: too many connections have not said hello');
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const conn: Inbound = { socket, peer: null, helloTimer: null, remote };
    this.pending.add(conn);
    conn.helloTimer = setTimeout(() => this.reject(conn, `no hello within ${this.limits.helloTimeoutMs} ms`), this.limits.helloTimeoutMs);
    const reader = new FrameReader(() => (conn.peer === null ? this.limits.helloBytesMax : this.limits.frameBytesMax));
    socket.on('data', (chunk: Buffer) => {
      const bad = reader.push(chunk, (body) => this.onBody(conn, body));
      if (bad !== null) this.reject(conn, bad);
    });
    socket.on('error', () => {}); // 'close' follows; a reset inbound connection is just a close
    socket.on('close', () => this.inboundClosed(conn));
  }

  /** Returns whether to keep reading this connection. */
  private onBody(conn: Inbound, body: Buffer): boolean {
    if (conn.socket.destroyed) return false;
    const decoded = decodeBody(body);
    if (!decoded.ok) {
      this.reject(conn, decoded.reason);
      return false;
    }
    if (conn.peer === null) return this.onHello(conn, decoded.value);
    const link = this.links.get(conn.peer);
    assert(link !== undefined, 'an inbound connection past hello belongs to a known peer');
    link.stats.framesIn++;
    link.stats.bytesIn += body.byteLength + FRAME_HEADER_BYTES;
    for (const h of this.messageHandlers) {
      if (this.closed || link.inbound !== conn) return false;
      h(conn.peer, decoded.value);
    }
    return !this.closed && link.inbound === conn;
  }

  private onHello(conn: Inbound, value: unknown): boolean {
    const hello = parseHello(value);
    if (!hello.ok) {
      this.reject(conn, hello.reason);
      return false;
    }
    const id = hello.serverId;
    if (id === this.myId) {
      this.reject(conn, `hello from server ${id}, which is this server`);
      return false;
    }
    const link = this.links.get(id);
    if (link === undefined) {
      this.reject(conn, `hello from server ${id}, not a configured peer`);
      return false;
    }
    if (conn.helloTimer !== null) clearTimeout(conn.helloTimer);
    conn.helloTimer = null;
    this.pending.delete(conn);
    conn.peer = id;
    const previous = link.inbound;
    link.inbound = conn;
    if (previous !== null) {
      // The peer has one outbound connection to us: a new one means the old one is dead, and
      // what it carried last may be lost.
      previous.socket.destroy();
      if (link.up) {
        link.inbound = null; // so linkLost does not close the new one
        this.linkLost(link, 'the peer reconnected: its previous connection was lost');
        link.inbound = conn;
      }
    }
    this.log.debug({ myId: this.myId, peer: id, remote: conn.remote }, 'peer connection accepted');
    return true;
  }

  /** Closes a connection that broke the protocol; only that connection (and its link) is affected. */
  private reject(conn: Inbound, reason: string): void {
    if (conn.socket.destroyed) return;
    this.log.warn({ myId: this.myId, peer: conn.peer, remote: conn.remote, reason }, 'peer connection closed: bad input');
    conn.socket.destroy();
    // The close event finishes the bookkeeping (inboundClosed).
  }

  private inboundClosed(conn: Inbound): void {
    if (conn.helloTimer !== null) clearTimeout(conn.helloTimer);
    conn.helloTimer = null;
    this.pending.delete(conn);
    if (conn.peer === null) return;
    const link = this.links.get(conn.peer);
    if (link === undefined || link.inbound !== conn) return; // replaced or dropped already
    link.inbound = null;
    if (link.up) this.linkLost(link, 'inbound connection from the peer closed');
  }

  private dropInbound(link: Link): void {
    const conn = link.inbound;
    link.inbound = null;
    conn?.socket.destroy();
  }

  // ---- lifecycle ----

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links.values()) {
      if (link.reconnectTimer !== null) clearTimeout(link.reconnectTimer);
      link.reconnectTimer = null;
      const out = link.out;
      link.out = null;
      link.up = false;
      out?.destroy();
      this.dropInbound(link);
    }
    for (const conn of this.pending) {
      if (conn.helloTimer !== null) clearTimeout(conn.helloTimer);
      conn.socket.destroy();
    }
    this.pending.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  stats(): TransportStats {
    const peers: PeerLinkStats[] = [];
    for (const link of this.links.values()) {
      peers.push({
        peer: link.id,
        connected: link.up,
        inboundConnected: link.inbound !== null,
        queuedBytes: link.up && link.out !== null ? link.out.writableLength : 0,
        ...link.stats,
      });
    }
    return { framesEncoded: this.framesEncoded, peers };
  }
}
