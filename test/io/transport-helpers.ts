// Helpers for the TCP transport tests: a logger that keeps its lines, event recorders, a poller
// with a generous deadline (no timing asserts), and raw peers that speak the wire by hand.
import net from 'node:net';
import { Packr } from 'msgpackr';
import { createTcpTransport, type TcpTransport, type TcpTransportLimits, type TransportLogger } from '../../src/io/node/transport.js';

export const HOST = '127.0.0.1';

export interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

export function memoryLogger(): TransportLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (obj: object, msg: string) => {
    lines.push({ level, obj: obj as Record<string, unknown>, msg });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn') };
}

/** Polls `check` every 10 ms until it returns true; fails after deadlineMs (generous, not a timing assert). */
export async function until(what: string | (() => string), check: () => boolean, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface Recorded {
  t: TcpTransport;
  log: ReturnType<typeof memoryLogger>;
  messages: { from: number; payload: unknown }[];
  ups: number[];
  downs: { peer: number; reason: string }[];
}

export async function startTransport(myId: number, peerIds: number[], port = 0, limits?: Partial<TcpTransportLimits>): Promise<Recorded> {
  const log = memoryLogger();
  const t = await createTcpTransport({ myId, host: HOST, port, peers: peerIds.map((id) => ({ id, host: HOST, port: 0 })), logger: log, ...(limits ? { limits } : {}) });
  const r: Recorded = { t, log, messages: [], ups: [], downs: [] };
  t.onMessage((from, payload) => r.messages.push({ from, payload }));
  t.onLinkUp((peer) => r.ups.push(peer));
  t.onLinkDown((peer, reason) => r.downs.push({ peer, reason }));
  return r;
}

/** n transports with ids 1..n, each told where the others listen. */
export async function startCluster(n: number, limits?: Partial<TcpTransportLimits>): Promise<Recorded[]> {
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  const all = await Promise.all(ids.map((id) => startTransport(id, ids.filter((x) => x !== id), 0, limits)));
  for (const a of all) for (const b of all) if (a !== b) a.t.setPeerAddress(b.t.myId, HOST, b.t.port);
  await until('every link up', () => all.every((r) => r.t.stats().peers.every((p) => p.connected && p.inboundConnected)));
  return all;
}

export function linkStats(r: Recorded, peer: number) {
  const s = r.t.stats().peers.find((p) => p.peer === peer);
  if (s === undefined) throw new Error(`no link to ${peer}`);
  return s;
}

const packr = new Packr({ useRecords: false, int64AsType: 'bigint' });

export function rawFrame(value: unknown): Buffer {
  const body = packr.pack(value);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.byteLength, 0);
  return Buffer.concat([header, body]);
}

export function helloFrame(serverId: number, version = 1): Buffer {
  return rawFrame({ hello: 'zookooper-peer', version, serverId });
}

/** Connects a raw socket, writes `bytes`, and resolves when the other side closes it. */
export async function rawConnect(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: HOST, port });
  socket.on('error', () => {});
  await new Promise<void>((res, rej) => {
    socket.once('connect', () => res());
    socket.once('error', rej);
  });
  return socket;
}

export function closed(socket: net.Socket): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((res) => socket.once('close', () => res()));
}

/** A listener standing in for a peer: keeps what each connection sends, or never reads at all. */
export class RawPeer {
  readonly connections: { socket: net.Socket; bytes: Buffer[] }[] = [];
  private constructor(readonly server: net.Server, readonly port: number) {}

  static async start(read: boolean): Promise<RawPeer> {
    const conns: { socket: net.Socket; bytes: Buffer[] }[] = [];
    const server = net.createServer((socket) => {
      const c = { socket, bytes: [] as Buffer[] };
      conns.push(c);
      socket.on('error', () => {});
      if (read) socket.on('data', (b: Buffer) => c.bytes.push(b));
      else socket.pause();
    });
    await new Promise<void>((res) => server.listen({ host: HOST, port: 0 }, () => res()));
    const addr = server.address();
    if (addr === null || typeof addr !== 'object') throw new Error('no address');
    const p = new RawPeer(server, addr.port);
    (p as { connections: typeof conns }).connections = conns;
    return p;
  }

  received(i: number): Buffer {
    const c = this.connections[i];
    if (c === undefined) throw new Error(`no connection ${i}`);
    return Buffer.concat(c.bytes);
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    await new Promise<void>((res) => this.server.close(() => res()));
  }
}

/** Splits captured bytes into frame bodies (length-prefixed). */
export function splitFrames(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at + 4 <= bytes.byteLength) {
    const n = bytes.readUInt32BE(at);
    if (at + 4 + n > bytes.byteLength) break;
    out.push(bytes.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return out;
}
