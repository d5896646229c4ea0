// One WebSocket to one server, through `ws`. Sends are corked for the rest of the event-loop turn,
// so requests issued together (pipelining, many async callers) leave in one writev instead of one
// syscall per frame. Frames are masked with a zero mask: ws then skips the XOR copy of every
// payload (RFC 6455 masking protects browsers' proxies; this client is no browser).
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { constants } from '../common/constants.js';

export interface SocketEvents {
  open(): void;
  message(data: Buffer): void;
  /** Called once, whatever ended the socket (error, close by either side, timeout). */
  gone(reason: string): void;
}

function zeroMask(mask: Buffer): void {
  mask[0] = 0;
  mask[1] = 0;
  mask[2] = 0;
  mask[3] = 0;
}

export class ClientSocket {
  private readonly ws: WebSocket;
  private ended = false;
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.raw()?.uncork();
  };

  constructor(url: string, connectTimeoutMs: number, private readonly events: SocketEvents) {
    this.ws = new WebSocket(url, {
      perMessageDeflate: false, // CPU matters more than bytes here; the server does not compress
      maxPayload: constants.frameBytesMax,
      handshakeTimeout: connectTimeoutMs,
      generateMask: zeroMask,
    });
    this.ws.binaryType = 'nodebuffer';
    this.ws.on('open', () => {
      this.raw()?.setNoDelay(true);
      this.events.open();
    });
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (this.ended) return;
      if (!isBinary) return this.end('text frame from server');
      this.events.message(data);
    });
    this.ws.on('error', (err: Error) => this.end(`socket error: ${err.message}`));
    this.ws.on('close', (code: number, reason: Buffer) => this.end(`closed by server (${code}${reason.length > 0 ? ' ' + reason.toString() : ''})`));
  }

  // ws keeps its net.Socket in `_socket` (stable since ws 1.x); used only to cork and set nodelay.
  private raw(): Socket | undefined {
    return (this.ws as unknown as { _socket?: Socket })._socket;
  }

  get isOpen(): boolean {
    return !this.ended && this.ws.readyState === WebSocket.OPEN;
  }

  /** Bytes queued in the socket not yet written (for backpressure). */
  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  send(frame: Buffer): void {
    if (!this.isOpen) return; // the loss is being handled; the request fails with CONNECTIONLOSS
    if (!this.corked) {
      const s = this.raw();
      if (s !== undefined) {
        s.cork();
        this.corked = true;
        setImmediate(this.uncork);
      }
    }
    this.ws.send(frame);
  }

  /** Close from this side (a close frame when `graceful`, else at once); `gone` gets `reason`. */
  end(reason: string, graceful = false): void {
    if (this.ended) return;
    this.ended = true;
    if (this.corked) this.uncork();
    if (graceful && this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    else this.ws.terminate();
    // Errors after this point (e.g. a late ECONNRESET) have nowhere to go and must not crash.
    this.ws.on('error', () => {});
    this.events.gone(reason);
  }
}
