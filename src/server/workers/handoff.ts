// One direction of the worker <-> main hand-off: encoded frames through a fixed-size ring
// (ring.ts), numbered, with a MessagePort beside it for what the ring does not carry. The frames
// are already encoded (handoff-codec.ts): the ring copies bytes, nothing is structured-cloned.
//
//   sender                                     receiver
//   send(body) --seq n--> ring (most frames) --> take(): the frame numbered `taken`, from the
//              --seq n--> side port:               ring if its head has that number, else the
//                         bodies too large for     side port (whose next message must have it)
//                         the ring, trees (a SAB),
//                         and, in 'sidePort' mode, frames that found the ring full
//
// Every frame is numbered when it is sent, so the two paths merge back into one order: both
// carry frames in increasing numbers, and a frame is sent only once everything before it was.
// Sent frames are takeable at once (a commit must be: the worker catches up synchronously before
// a read, engine.ts). When the ring is full:
//   'wait'      (worker -> main writes): the sender keeps frames in a backlog, bounded by its
//               caller's own bound (a worker's outstanding writes), and sends them when the
//               receiver takes; the worker's request bounds then answer THROTTLEDOP.
//   'sidePort'  (main -> worker commits): the main thread never waits for a worker (the worker may
//               be waiting for the main thread's publish); the frame goes on the side port, and
//               the pool stops taking new writes while a worker has too many frames untaken
//               (pool.ts), which bounds them.
// Wake-ups: a receiver with nothing to take sets CONSUMER_SLEEPING and waits (Atomics.waitAsync)
// on SENT; a sender that sent clears the flag and notifies. The same for a waiting sender on
// TAKEN. A flag is cleared by whoever wakes the other, so there is one notify per sleep.
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { assert } from '../../common/assert.js';
import { RingConsumer, RingProducer, RingWord } from './ring.js';

/** What travels on the side port: a numbered body or tree. */
export interface SideMessage {
  seq: number;
  body?: Uint8Array;
  tree?: SharedArrayBuffer;
}

/** A taken frame: an encoded body, or a tree (main -> worker only). */
export type Taken = { body: Uint8Array; tree?: undefined } | { tree: SharedArrayBuffer; body?: undefined };

type WaitAsync = (a: Int32Array, index: number, value: number) => { async: false; value: string } | { async: true; value: Promise<string> };
// ES2024 (Node 16+); not in this project's lib (ES2023).
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Waits (without blocking the thread) until ctl[index] is no longer `value`; `then` runs after. */
function whenChanged(ctl: Int32Array, index: number, value: number, then: () => void): void {
  const r = waitAsync(ctl, index, value);
  if (r.async) void r.value.then(then);
  else queueMicrotask(then); // already changed: still run after this turn's code, as when it waits
}

/** A copy in an ArrayBuffer of its own (transferable; a Buffer's slice() would be a view). */
function copyOf(body: Uint8Array): Uint8Array {
  const copy = new Uint8Array(body.byteLength);
  copy.set(body);
  return copy;
}

export type FullPolicy = 'wait' | 'sidePort';

export class HandoffSender {
  private readonly ring: RingProducer;
  private readonly ctl: Int32Array;
  private sent = 0;
  private readonly backlog: Uint8Array[] = [];
  private backlogHead = 0;
  private waiting = false;
  /** Frames that went on the side port because the ring was full (a figure). */
  overflowed = 0;

  constructor(
    buffer: SharedArrayBuffer,
    private readonly side: MessagePort,
    private readonly full: FullPolicy,
    /** Bodies above this go on the side port (at most what the ring accepts). */
    private readonly inlineBytesMax: number,
  ) {
    this.ring = new RingProducer(buffer);
    this.ctl = this.ring.ctl;
    assert(this.ring.fits(inlineBytesMax), 'handoff: inline frames fit the ring');
    this.sent = Atomics.load(this.ctl, RingWord.sent) >>> 0;
  }

  /** Frames sent and not yet taken. */
  untaken(): number {
    return (this.sent - (Atomics.load(this.ctl, RingWord.taken) >>> 0)) >>> 0;
  }

  /** Frames kept because the ring was full ('wait' mode). */
  get backlogged(): number {
    return this.backlog.length - this.backlogHead;
  }

  /** Sends one encoded body, in order after every earlier one. `body` may be reused after the call. */
  send(body: Uint8Array): void {
    if (this.backlogged > 0) {
      this.backlog.push(copyOf(body));
      return;
    }
    const taken = Atomics.load(this.ctl, RingWord.taken);
    if (this.trySend(body)) return;
    assert(this.full === 'wait', 'handoff: only a waiting sender keeps a backlog');
    this.backlog.push(copyOf(body));
    this.waitForRoom(taken);
  }

  /** A new tree, ordered with the frames (main -> worker). */
  sendTree(tree: SharedArrayBuffer): void {
    assert(this.backlogged === 0, 'handoff: trees go only on a sender that never waits');
    this.side.postMessage({ seq: this.sent, tree } satisfies SideMessage);
    this.published();
  }

  private trySend(body: Uint8Array): boolean {
    if (body.byteLength > this.inlineBytesMax) this.postSide(body);
    else if (!this.ring.tryWrite(this.sent, body)) {
      if (this.full === 'wait') return false;
      this.overflowed++;
      this.postSide(body);
    }
    this.published();
    return true;
  }

  /** A copy of `body` on the side port, its buffer transferred (not cloned). */
  private postSide(body: Uint8Array): void {
    const buffer = new ArrayBuffer(body.byteLength);
    const copy = new Uint8Array(buffer);
    copy.set(body);
    this.side.postMessage({ seq: this.sent, body: copy } satisfies SideMessage, [buffer]);
  }

  private published(): void {
    this.sent = (this.sent + 1) >>> 0;
    Atomics.store(this.ctl, RingWord.sent, this.sent | 0);
    if (Atomics.compareExchange(this.ctl, RingWord.consumerSleeping, 1, 0) === 1) Atomics.notify(this.ctl, RingWord.sent);
  }

  /**
   * Waits until the receiver takes a frame after `taken`, the TAKEN read BEFORE the write that
   * found the ring full: had it been read after, a receiver that took everything in between would
   * never take again and the wait would never end (the two-thread test found that).
   */
  private waitForRoom(taken: number): void {
    assert(!this.waiting, 'handoff: one wait for room at a time');
    this.waiting = true;
    Atomics.store(this.ctl, RingWord.producerSleeping, 1);
    // A take between `taken` and the flag leaves TAKEN changed: the wait returns at once.
    whenChanged(this.ctl, RingWord.taken, taken, () => {
      Atomics.store(this.ctl, RingWord.producerSleeping, 0);
      this.waiting = false;
      this.flushBacklog();
    });
  }

  private flushBacklog(): void {
    while (this.backlogHead < this.backlog.length) {
      const taken = Atomics.load(this.ctl, RingWord.taken);
      if (!this.trySend(this.backlog[this.backlogHead]!)) {
        this.waitForRoom(taken);
        break;
      }
      this.backlog[this.backlogHead++] = undefined as unknown as Uint8Array;
    }
    if (this.backlogHead === this.backlog.length) {
      this.backlog.length = 0;
      this.backlogHead = 0;
    }
  }

  /** Runs `then` once the receiver has taken a frame (or has taken all: then after this turn). */
  whenTaken(then: () => void): void {
    const taken = Atomics.load(this.ctl, RingWord.taken);
    if (this.untaken() === 0) {
      queueMicrotask(then);
      return;
    }
    Atomics.store(this.ctl, RingWord.producerSleeping, 1);
    whenChanged(this.ctl, RingWord.taken, taken, then);
  }
}

export class HandoffReceiver {
  private readonly ring: RingConsumer;
  private readonly ctl: Int32Array;
  private taken: number;
  private stopped = false;
  private armed = false;

  constructor(
    buffer: SharedArrayBuffer,
    private readonly side: MessagePort,
  ) {
    this.ring = new RingConsumer(buffer);
    this.ctl = this.ring.ctl;
    this.taken = Atomics.load(this.ctl, RingWord.taken) >>> 0;
  }

  /** Whether a frame is waiting. */
  get pending(): boolean {
    return (Atomics.load(this.ctl, RingWord.sent) >>> 0) !== this.taken;
  }

  /** Takes the next frame in order, or null when none was sent. Synchronous. */
  take(): Taken | null {
    if (!this.pending) return null;
    let out: Taken;
    if (this.ring.peekTag() === this.taken) {
      out = { body: this.ring.take()!.body };
    } else {
      const m = receiveMessageOnPort(this.side)?.message as SideMessage | undefined;
      assert(m !== undefined, 'handoff: a sent frame is in the ring or on the side port');
      assert(m.seq === this.taken, () => `handoff: side port frame ${m.seq} where ${this.taken} was next`);
      if (m.tree !== undefined) out = { tree: m.tree };
      else {
        assert(m.body !== undefined, 'handoff: a side port message has a body or a tree');
        out = { body: m.body };
      }
    }
    this.taken = (this.taken + 1) >>> 0;
    Atomics.store(this.ctl, RingWord.taken, this.taken | 0);
    if (Atomics.compareExchange(this.ctl, RingWord.producerSleeping, 1, 0) === 1) Atomics.notify(this.ctl, RingWord.taken);
    return out;
  }

  /**
   * Calls `onReadable` whenever frames wait, until stop(). It takes what it wants; if it leaves
   * frames (back-pressure) it returns false and the receiver sleeps until resume().
   */
  start(onReadable: () => boolean): void {
    this.onReadable = onReadable;
    this.resume();
  }

  private onReadable: () => boolean = () => true;

  resume(): void {
    if (this.armed || this.stopped) return;
    this.armed = true;
    queueMicrotask(() => this.loop());
  }

  private loop(): void {
    for (;;) {
      if (this.stopped) {
        this.armed = false;
        return;
      }
      if (this.pending && !this.onReadable()) {
        this.armed = false;
        return;
      }
      const taken = this.taken | 0;
      Atomics.store(this.ctl, RingWord.consumerSleeping, 1);
      const r = waitAsync(this.ctl, RingWord.sent, taken);
      if (r.async) {
        void r.value.then(() => {
          Atomics.store(this.ctl, RingWord.consumerSleeping, 0);
          this.loop();
        });
        return;
      }
      Atomics.store(this.ctl, RingWord.consumerSleeping, 0);
    }
  }

  stop(): void {
    this.stopped = true;
  }
}
