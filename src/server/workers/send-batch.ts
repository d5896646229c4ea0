// While the worker processes the commit frames of one wake-up, the frames its WebSocket
// connections send (write answers, watch events, answers of reads that waited) are queued per
// socket and leave in one cork per socket at the end, in the order they were sent. A cork ends in
// a socket write, so answering a batch of 300 writes on 32 connections took 300 writes to the
// kernel, and that was 40% of a worker's CPU under the 32 x 32 setData load; now it takes 32.
// Order per connection is unchanged (one queue per socket, sends in call order); a socket that
// ends first sends what it has queued, and a socket closed meanwhile drops it (as a closed
// connection's sends are dropped anyway).
import type { Socket } from './conn.js';

/** The socket operations of one connection (uWS) and whether it has closed. */
export interface RawSocket extends Socket {
  closed(): boolean;
}

export class SendBatch {
  private depth = 0;
  private readonly queued = new Map<RawSocket, Uint8Array[]>();

  /** Runs `fn`; the sends of every batched socket inside it leave when it returns. */
  run(fn: () => void): void {
    this.depth++;
    try {
      fn();
    } finally {
      if (--this.depth === 0) this.flushAll();
    }
  }

  /** A Socket that queues while a batch runs and sends directly otherwise. */
  socket(raw: RawSocket): Socket {
    return {
      send: (frame) => {
        if (this.depth === 0) return raw.send(frame);
        const q = this.queued.get(raw);
        if (q === undefined) this.queued.set(raw, [frame]);
        else q.push(frame);
      },
      cork: (fn) => {
        // Inside a batch every send is queued and corked at the end: run directly.
        if (this.depth === 0) raw.cork(fn);
        else fn();
      },
      end: () => {
        this.flush(raw);
        raw.end();
      },
    };
  }

  private flush(raw: RawSocket): void {
    const q = this.queued.get(raw);
    if (q === undefined) return;
    this.queued.delete(raw);
    if (raw.closed()) return;
    raw.cork(() => {
      for (const frame of q) {
        if (raw.closed()) return; // closed by a send (backpressure limit): the rest is dropped
        raw.send(frame);
      }
    });
  }

  private flushAll(): void {
    for (const raw of [...this.queued.keys()]) this.flush(raw);
  }
}
