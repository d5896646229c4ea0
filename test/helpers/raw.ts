// A raw protocol connection for tests that must send exactly chosen frames (malformed input,
// session takeover) without the client library in between.
import WebSocket from 'ws';
import { decodeServerFrame, encodeConnectRequest, type ServerMessage } from '../../src/protocol/index.js';

export class RawConnection {
  readonly messages: ServerMessage[] = [];
  closed = false;
  closeCode = 0;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.messages.push(decodeServerFrame(new Uint8Array(data)));
      this.wake();
    });
    ws.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
      this.wake();
    });
    ws.on('error', () => {});
  }

  /** `options`: what a browser would send (an Origin header, say), passed to ws. */
  static async open(port: number, options: WebSocket.ClientOptions = {}): Promise<RawConnection> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, options);
    // Listen before 'open': a frame sent right after the upgrade can arrive in the same chunk as
    // the upgrade response, and ws emits it synchronously after 'open'.
    const raw = new RawConnection(ws);
    await new Promise<void>((res, rej) => {
      ws.once('open', () => res());
      ws.once('error', rej);
    });
    return raw;
  }

  /** Opens a connection and establishes a (new or existing) session. */
  static async session(port: number, sessionId = 0n, password: Uint8Array = new Uint8Array(16), timeoutMs = 10_000, options: WebSocket.ClientOptions = {}): Promise<{ raw: RawConnection; sessionId: bigint; password: Uint8Array }> {
    const raw = await RawConnection.open(port, options);
    raw.sendBytes(encodeConnectRequest({ protocolVersion: 1, lastZxidSeen: 0n, sessionTimeoutMs: timeoutMs, sessionId, password, readOnly: false }));
    const m = await raw.next();
    if (m.kind !== 'connected') throw new Error(`handshake failed: ${JSON.stringify(m, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
    return { raw, sessionId: m.sessionId, password: m.password };
  }

  sendBytes(bytes: Uint8Array | string): void {
    this.ws.send(bytes, { binary: typeof bytes !== 'string' });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private read = 0;
  /** The next server message (in arrival order), waiting up to timeoutMs. */
  async next(timeoutMs = 10_000): Promise<ServerMessage> {
    const deadline = Date.now() + timeoutMs;
    while (this.read >= this.messages.length) {
      if (this.closed) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no message in time');
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
    return this.messages[this.read++]!;
  }

  async waitClosed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('connection not closed in time');
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}
