// A fixed-size single-producer single-consumer byte ring in a SharedArrayBuffer: the hot path
// between a session worker and the main thread (write requests one way, commits the other;
// handoff.ts). Synchronous and allocation-free on the producer side; the consumer copies a frame
// out, so the ring space is free again as soon as the frame is taken. The wake-up words (who
// sleeps, how many frames were sent and taken) live here too, so every offset is named in one
// place, but only handoff.ts uses them.
//
// Shared memory (Int32 words; each group on its own 64-byte line so the two threads do not
// write one cache line):
//
//   byte 0    HEAD        bytes taken, free-running u32        written by the consumer only
//   byte 64   TAIL        bytes written, free-running u32      written by the producer only
//   byte 128  SENT        frames sent (ring or side port)      producer
//   byte 192  TAKEN       frames taken                         consumer
//   byte 256  CONSUMER_SLEEPING  1 while the consumer waits on SENT      consumer sets, producer reads
//   byte 320  PRODUCER_SLEEPING  1 while the producer waits on TAKEN     producer sets, consumer reads
//   byte 512  data: capacity bytes (a power of two), frames back to back:
//
//   +-----------+-----------+------------------+-----+     +-----------+
//   | len (u32) | tag (u32) | body (len bytes) | pad | ... | WRAP (u32) |  <- end of data
//   +-----------+-----------+------------------+-----+     +-----------+
//
// A frame never straddles the end: when it does not fit in what is left before the end, the
// producer writes WRAP there (if at least a word is left; the rest is skipped) and the frame
// starts at byte 0 of the data. Positions are free-running u32 counters (pos & mask is the
// offset), so full (TAIL - HEAD = capacity) and empty (TAIL = HEAD) differ. Frame bytes are
// written before TAIL is stored and read after TAIL is loaded (Atomics: sequentially consistent),
// so a consumer never sees a frame half written; the producer reuses bytes only after HEAD moved
// past them.
import { assert } from '../../common/assert.js';

export const RingWord = {
  head: 0,
  tail: 16,
  sent: 32,
  taken: 48,
  consumerSleeping: 64,
  producerSleeping: 80,
} as const;
export const ringHeaderBytes = 512;
const frameHeaderBytes = 8; // len, tag
const WRAP = 0xffff_ffff;

/** The largest body a ring of `capacityBytes` accepts (so that a frame fits even after a wrap). */
export function ringFrameBytesMax(capacityBytes: number): number {
  return capacityBytes / 2 - frameHeaderBytes;
}

export function createRingBuffer(capacityBytes: number): SharedArrayBuffer {
  assert(Number.isInteger(capacityBytes) && capacityBytes >= 64, 'ring capacity is at least 64 bytes');
  assert((capacityBytes & (capacityBytes - 1)) === 0, 'ring capacity is a power of two');
  assert(capacityBytes <= 2 ** 30, 'ring capacity fits the u32 position counters');
  return new SharedArrayBuffer(ringHeaderBytes + capacityBytes);
}

const align4 = (n: number): number => (n + 3) & ~3;

abstract class RingEnd {
  readonly ctl: Int32Array;
  protected readonly data: Uint8Array;
  protected readonly words: Uint32Array;
  readonly capacityBytes: number;
  protected readonly mask: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.capacityBytes = buffer.byteLength - ringHeaderBytes;
    assert(this.capacityBytes >= 64 && (this.capacityBytes & (this.capacityBytes - 1)) === 0, 'a buffer from createRingBuffer');
    this.mask = this.capacityBytes - 1;
    this.ctl = new Int32Array(buffer, 0, ringHeaderBytes / 4);
    this.data = new Uint8Array(buffer, ringHeaderBytes, this.capacityBytes);
    this.words = new Uint32Array(buffer, ringHeaderBytes, this.capacityBytes / 4);
  }

  /** Bytes written and not yet taken (frames, padding and skipped ends). */
  usedBytes(): number {
    const used = (Atomics.load(this.ctl, RingWord.tail) - Atomics.load(this.ctl, RingWord.head)) >>> 0;
    assert(used <= this.capacityBytes, 'ring: more bytes used than it holds');
    return used;
  }
}

export class RingProducer extends RingEnd {
  /** This side's copy of TAIL (only the producer writes it). */
  private tail: number;

  constructor(buffer: SharedArrayBuffer) {
    super(buffer);
    this.tail = Atomics.load(this.ctl, RingWord.tail) >>> 0;
  }

  /** Whether a body of `bodyBytes` can ever go through this ring (else use another way). */
  fits(bodyBytes: number): boolean {
    return bodyBytes <= ringFrameBytesMax(this.capacityBytes);
  }

  /** Writes one frame, or returns false (nothing written) when the ring has no room for it now. */
  tryWrite(tag: number, body: Uint8Array): boolean {
    assert(this.fits(body.byteLength), 'ring: frame larger than the ring accepts');
    assert(Number.isInteger(tag) && tag >= 0 && tag <= 0xffff_ffff, 'ring: tag is a u32');
    const head = Atomics.load(this.ctl, RingWord.head) >>> 0;
    const used = (this.tail - head) >>> 0;
    assert(used <= this.capacityBytes, 'ring: producer ahead of the consumer by more than the ring');
    const need = frameHeaderBytes + align4(body.byteLength);
    const at = this.tail & this.mask;
    const leftAtEnd = this.capacityBytes - at;
    const skip = need > leftAtEnd ? leftAtEnd : 0;
    if (used + skip + need > this.capacityBytes) return false;
    let pos = at;
    if (skip > 0) {
      this.words[at >>> 2] = WRAP; // leftAtEnd >= 4: positions are word-aligned
      pos = 0;
    }
    this.words[pos >>> 2] = body.byteLength;
    this.words[(pos >>> 2) + 1] = tag;
    this.data.set(body, pos + frameHeaderBytes);
    this.tail = (this.tail + skip + need) >>> 0;
    Atomics.store(this.ctl, RingWord.tail, this.tail | 0);
    return true;
  }
}

/** A frame taken from the ring: the body is a copy (the ring space is free again). */
export interface RingFrame {
  tag: number;
  body: Buffer;
}

export class RingConsumer extends RingEnd {
  private head: number;

  constructor(buffer: SharedArrayBuffer) {
    super(buffer);
    this.head = Atomics.load(this.ctl, RingWord.head) >>> 0;
  }

  /** The position of the next frame's header, past a WRAP, or -1 when the ring is empty. */
  private nextFrameAt(): number {
    const tail = Atomics.load(this.ctl, RingWord.tail) >>> 0;
    if (tail === this.head) return -1;
    assert(((tail - this.head) >>> 0) <= this.capacityBytes, 'ring: consumer behind by more than the ring');
    let at = this.head & this.mask;
    if (this.capacityBytes - at < frameHeaderBytes || this.words[at >>> 2] === WRAP) {
      // The producer skipped the end: the frame starts at 0 (a skip is never the last thing written).
      this.head = (this.head + this.capacityBytes - at) >>> 0;
      assert(tail !== this.head, 'ring: a wrap is followed by a frame');
      at = 0;
    }
    return at;
  }

  /** The tag of the next frame, or -1 when the ring is empty. */
  peekTag(): number {
    const at = this.nextFrameAt();
    return at < 0 ? -1 : this.words[(at >>> 2) + 1]!;
  }

  /** Takes the next frame, or null when the ring is empty. */
  take(): RingFrame | null {
    const at = this.nextFrameAt();
    if (at < 0) return null;
    const len = this.words[at >>> 2]!;
    assert(len <= ringFrameBytesMax(this.capacityBytes), 'ring: frame length out of range (torn or overwritten frame)');
    const tag = this.words[(at >>> 2) + 1]!;
    const body = Buffer.allocUnsafe(len);
    body.set(this.data.subarray(at + frameHeaderBytes, at + frameHeaderBytes + len));
    const need = frameHeaderBytes + align4(len);
    assert(at + need <= this.capacityBytes, 'ring: a frame never straddles the end');
    this.head = (this.head + need) >>> 0;
    Atomics.store(this.ctl, RingWord.head, this.head | 0);
    return { tag, body };
  }
}
