// A bare jute client on a TCP socket, for requests node-zookeeper-client does not send and for
// bad input. Requests are written with the server's JuteWriter; answers read field by field here.
import { connect as tcpConnect, type Socket } from 'node:net';
import { JuteReader, JuteWriter } from '../../src/protocol/jute/buffer.js';

export class RawJute {
  private buf = Buffer.alloc(0);
  private frames: Buffer[] = [];
  private waiters: ((f: Buffer | null) => void)[] = [];
  closed = false;
  readonly closedP: Promise<void>;
  private xid = 1;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readInt32BE(0)) {
        const n = this.buf.readInt32BE(0);
        const f = this.buf.subarray(4, 4 + n);
        this.buf = this.buf.subarray(4 + n);
        const w = this.waiters.shift();
        if (w) w(f);
        else this.frames.push(f);
      }
    });
    socket.on('error', () => {});
    this.closedP = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        for (const w of this.waiters.splice(0)) w(null);
        resolve();
      }),
    );
  }

  static open(port: number): Promise<RawJute> {
    return new Promise((resolve, reject) => {
      const s = tcpConnect({ host: '127.0.0.1', port }, () => resolve(new RawJute(s)));
      s.once('error', reject);
    });
  }

  /** The next frame, or null once the server closed the connection. */
  next(): Promise<Buffer | null> {
    const f = this.frames.shift();
    if (f) return Promise.resolve(f);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** ConnectRequest; resolves with the ConnectResponse fields. */
  async handshake(o: { timeout?: number; sessionId?: bigint; passwd?: Uint8Array; lastZxid?: bigint } = {}): Promise<{ timeOut: number; sessionId: bigint; passwd: Uint8Array } | null> {
    const w = new JuteWriter().int(0).long(o.lastZxid ?? 0n).int(o.timeout ?? 10_000).long(o.sessionId ?? 0n).buffer(o.passwd ?? new Uint8Array(16)).bool(false);
    this.write(w.frame());
    const f = await this.next();
    if (f === null) return null;
    const r = new JuteReader(f);
    r.int('protocolVersion');
    return { timeOut: r.int('timeOut'), sessionId: r.long('sessionId'), passwd: r.buffer('passwd') };
  }

  /** A request: header then `body`; resolves with the reply's header and a reader on its body. */
  async call(type: number, body: (w: JuteWriter) => void = () => {}, xid = this.xid++): Promise<{ xid: number; zxid: bigint; err: number; r: JuteReader }> {
    const w = new JuteWriter().int(xid).int(type);
    body(w);
    this.write(w.frame());
    for (;;) {
      const f = await this.next();
      if (f === null) throw new Error('connection closed');
      const r = new JuteReader(f);
      const h = { xid: r.int('xid'), zxid: r.long('zxid'), err: r.int('err') };
      if (h.xid === -1) {
        this.events.push({ zxid: h.zxid, type: r.int('type'), state: r.int('state'), path: r.ustring('path') });
        continue;
      }
      return { ...h, r };
    }
  }

  /** Notifications read while waiting for replies. */
  events: { zxid: bigint; type: number; state: number; path: string }[] = [];

  close(): void {
    this.socket.destroy();
  }
}

export function acl(w: JuteWriter): JuteWriter {
  return w.int(1).int(31).ustring('world').ustring('anyone');
}

/** A jute Stat, in its field order. */
export function readStat(r: JuteReader): { czxid: bigint; mzxid: bigint; version: number; numChildren: number; pzxid: bigint } {
  const czxid = r.long('czxid');
  const mzxid = r.long('mzxid');
  r.long('ctime');
  r.long('mtime');
  const version = r.int('version');
  r.int('cversion');
  r.int('aversion');
  r.long('ephemeralOwner');
  r.int('dataLength');
  const numChildren = r.int('numChildren');
  return { czxid, mzxid, version, numChildren, pzxid: r.long('pzxid') };
}
