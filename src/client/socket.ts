// One WebSocket to one server. `ws` does the HTTP upgrade and reads frames; outgoing frames are
// built here and batched: every message sent during one event-loop turn is framed into one buffer
// and leaves in a single socket write (pipelining and many async callers otherwise cost a syscall
// and several ws allocations per frame). Frames are masked with a zero mask, which RFC 6455
// allows: XOR with zero is the identity, so no payload is rewritten (masking protects browsers'
// proxies; this client is no browser). Each write holds whole frames, so ws's own control frames
// (pong, close) can never land inside one of ours.
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { constants } from '../common/constants.js';
import type { TlsOptions } from './options.js';

export interface SocketEvents {
  open(): void;
  message(data: Buffer): void;
  /** Called once, whatever ended the socket (error, close by either side, timeout). */
  gone(reason: string): void;
}

const batchCopyBytesMax = 256 * 1024; // above this a batch is written as a writev without copying
const headerBytesMax = 14; // 2 + 8 (64-bit length) + 4 (mask)

/** A client-to-server binary frame header (FIN, opcode 2, masked with a zero key) at `at`. */
function writeHeader(out: Buffer, at: number, length: number): number {
  out[at++] = 0x82;
  if (length < 126) {
    out[at++] = 0x80 | length;
  } else if (length < 0x10000) {
    out[at++] = 0x80 | 126;
    out.writeUInt16BE(length, at);
    at += 2;
  } else {
    out[at++] = 0x80 | 127;
    out.writeUInt32BE(0, at);
    out.writeUInt32BE(length, at + 4);
    at += 8;
  }
  out.writeUInt32BE(0, at); // the zero masking key
  return at + 4;
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
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private flushScheduled = false;
  private readonly flush = (): void => {
    this.flushScheduled = false;
    const frames = this.batch;
    const bytes = this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;
    const s = this.raw();
    if (this.ended || s === undefined || frames.length === 0) return;
    if (bytes <= batchCopyBytesMax) {
      // Small frames: one copy into one buffer is cheaper than a many-element writev.
      const out = Buffer.allocUnsafe(bytes + frames.length * headerBytesMax);
      let at = 0;
      for (const f of frames) {
        at = writeHeader(out, at, f.byteLength);
        at += f.copy(out, at);
      }
      s.write(out.subarray(0, at));
      return;
    }
    s.cork();
    for (const f of frames) {
      const h = Buffer.allocUnsafe(headerBytesMax);
      s.write(h.subarray(0, writeHeader(h, 0, f.byteLength)));
      s.write(f);
    }
    s.uncork();
  };

  constructor(url: string, connectTimeoutMs: number, private readonly events: SocketEvents, tls: TlsOptions | null = null) {
    this.ws = new WebSocket(url, {
      ...(tls ?? {}), // node:tls options for wss:// (ws hands them to tls.connect)
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

  /** Queue one message; it leaves with the others of this event-loop turn. */
  send(frame: Buffer): void {
    if (!this.isOpen) return; // the loss is being handled; the request fails with CONNECTIONLOSS
    this.batch.push(frame);
    this.batchBytes += frame.byteLength;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Close from this side (a close frame when `graceful`, else at once); `gone` gets `reason`. */
  end(reason: string, graceful = false): void {
    if (this.ended) return;
    if (graceful) this.flush(); // the close request may still be in the batch
    this.ended = true;
    if (graceful && this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    else this.ws.terminate();
    // Errors after this point (e.g. a late ECONNRESET) have nowhere to go and must not crash.
    this.ws.on('error', () => {});
    this.events.gone(reason);
  }
}
