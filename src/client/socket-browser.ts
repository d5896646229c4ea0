// One WebSocket to one server, in a browser: the browser bundle (scripts/build-browser.mjs)
// resolves session.ts's `./socket.js` to this file, so the session, the client and the recipes
// are the same code in Node and in the browser; only the socket differs. Same shape as
// socket.ts's ClientSocket. The browser frames and masks itself; we batch the messages of one
// turn of the event loop only to keep request order identical to the Node client (one send()
// per message here: the browser has no writev and copies every send anyway).
import { constants } from '../common/constants.js';

export interface SocketEvents {
  open(): void;
  message(data: Buffer): void;
  /** Called once, whatever ended the socket (error, close by either side, timeout). */
  gone(reason: string): void;
}

/** The part of the DOM WebSocket we use (the project compiles without the DOM library). */
interface BrowserWebSocket {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  onopen: (() => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: (() => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number): void;
}
type WebSocketCtor = new (url: string) => BrowserWebSocket;
const OPEN = 1;

function webSocketClass(): WebSocketCtor {
  const ctor = (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
  if (ctor === undefined) throw new Error('zookooper browser client: no global WebSocket in this environment');
  return ctor;
}

/** A page served over https can only open wss:// sockets (mixed content is blocked). */
function secureIfPageIs(url: string): string {
  const loc = (globalThis as { location?: { protocol?: string } }).location;
  return loc?.protocol === 'https:' ? url.replace(/^ws:/, 'wss:') : url;
}

export class ClientSocket {
  private readonly ws: BrowserWebSocket;
  private ended = false;

  constructor(url: string, connectTimeoutMs: number, private readonly events: SocketEvents) {
    const WS = webSocketClass();
    this.ws = new WS(secureIfPageIs(url));
    this.ws.binaryType = 'arraybuffer';
    // The browser has no handshake timeout of its own: end the attempt ourselves.
    const handshakeTimer = setTimeout(() => {
      if (this.ws.readyState !== OPEN) this.end(`no WebSocket handshake within ${connectTimeoutMs} ms`);
    }, connectTimeoutMs);
    this.ws.onopen = () => {
      clearTimeout(handshakeTimer);
      if (!this.ended) this.events.open();
    };
    this.ws.onmessage = (ev) => {
      if (this.ended) return;
      if (!(ev.data instanceof ArrayBuffer)) return this.end('text frame from server');
      if (ev.data.byteLength > constants.frameBytesMax) return this.end(`frame of ${ev.data.byteLength} bytes over the limit`);
      this.events.message(Buffer.from(ev.data));
    };
    // The browser hides the cause of a failed connection from scripts; close follows with a code.
    this.ws.onerror = () => {};
    this.ws.onclose = (ev) => {
      clearTimeout(handshakeTimer);
      this.end(`closed (${ev.code}${ev.reason ? ' ' + ev.reason : ''})`);
    };
  }

  get isOpen(): boolean {
    return !this.ended && this.ws.readyState === OPEN;
  }

  /** Bytes queued in the socket not yet written (for backpressure). */
  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  send(frame: Buffer): void {
    if (!this.isOpen) return; // the loss is being handled; the request fails with CONNECTIONLOSS
    this.ws.send(frame);
  }

  /** Close from this side; `gone` gets `reason`. The browser always sends a close frame. */
  end(reason: string, _graceful = false): void {
    if (this.ended) return;
    this.ended = true;
    this.ws.onmessage = null;
    try {
      this.ws.close(1000);
    } catch {
      // close() throws only for invalid codes; 1000 is valid. Nothing to do either way.
    }
    this.events.gone(reason);
  }
}
