// A client connection as the worker's parts see it: the socket and codec it was opened with,
// its session once attached, and its request queue (the ordering engine's per-session FIFO).
import type { Request } from '../../protocol/index.js';
import type { AuthId, WriteOp } from '../pipeline/api.js';
import type { ConnCodec } from './codec.js';

export interface Socket {
  send(frame: Uint8Array): void;
  /** Sends nothing more and closes. */
  end(): void;
  cork(fn: () => void): void;
}

/** One request's slot in its connection's queue; answers leave in slot order. */
export interface QueueItem {
  xid: number;
  opcode: number;
  request: Request | null; // a read still to run; null once answered or for writes
  write: WriteOp | null; // a write not yet forwarded to the main thread
  answer: Uint8Array | null; // ready to send
  closeAfter: boolean;
}

/**
 * States: handshake (waiting for the ConnectRequest) -> attaching (the main thread is opening or
 * moving the session) -> open (requests flow) -> closed (by either side; final).
 */
export type ConnState = 'handshake' | 'attaching' | 'open' | 'closed';

export interface Conn {
  id: number;
  socket: Socket;
  codec: ConnCodec;
  remote: string;
  state: ConnState;
  sessionId: bigint;
  timeoutMs: number;
  authIds: AuthId[];
  /** The WebSocket upgrade carried an Origin header: a browser (the write gate of security.ts). */
  browser: boolean;
  queue: QueueItem[];
  queueHead: number;
  watchCount: number;
  watchKeys: Set<string>; // `${kind}\0${path}` for cleanup
  lastHeardMs: number;
  received: number;
  sent: number;
}

/** Counters shown on the state pages; each part counts its own. */
export interface CoreFigures {
  requests: number;
  reads: number;
  writes: number;
  throttled: number;
  malformed: number;
}

/** Sends one frame unless the connection is closed. */
export function sendFrame(conn: Conn, frame: Uint8Array): void {
  if (conn.state === 'closed') return;
  conn.sent++;
  conn.socket.send(frame);
}
