// The worker <-> main hand-off ring (src/server/workers/ring.ts) against a model queue, and the
// numbered hand-off (handoff.ts) between two real threads with a small ring, so that wrap-around,
// a full ring, the side port and the Atomics wake-ups all happen many times.
import assert from 'node:assert/strict';
import { MessageChannel, Worker } from 'node:worker_threads';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { HandoffReceiver, HandoffSender } from '../../src/server/workers/handoff.js';
import { createRingBuffer, ringFrameBytesMax, RingConsumer, RingProducer } from '../../src/server/workers/ring.js';
import { frameBytes, type ProducerInit } from './ring-producer.worker.js';

const align4 = (n: number): number => (n + 3) & ~3;

function bytesOf(seed: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (seed * 31 + i * 7) & 0xff;
  return b;
}

describe('ring: single thread', () => {
  test('frames come out in order with their tags; an empty ring takes null', () => {
    const buf = createRingBuffer(256);
    const p = new RingProducer(buf);
    const c = new RingConsumer(buf);
    assert.equal(c.take(), null);
    assert.equal(c.peekTag(), -1);
    assert.ok(p.tryWrite(7, bytesOf(1, 10)));
    assert.ok(p.tryWrite(8, new Uint8Array(0)));
    assert.equal(c.peekTag(), 7);
    const a = c.take()!;
    assert.equal(a.tag, 7);
    assert.deepEqual(new Uint8Array(a.body), bytesOf(1, 10));
    const b = c.take()!;
    assert.equal(b.tag, 8);
    assert.equal(b.body.byteLength, 0);
    assert.equal(c.take(), null);
    assert.equal(c.usedBytes(), 0);
  });

  test('a full ring refuses a frame and writes nothing; taking one frees room for it', () => {
    const buf = createRingBuffer(64);
    const p = new RingProducer(buf);
    const c = new RingConsumer(buf);
    // 64 bytes hold two frames of 8 + 24.
    assert.ok(p.tryWrite(1, bytesOf(1, 24)));
    assert.ok(p.tryWrite(2, bytesOf(2, 24)));
    assert.equal(p.usedBytes(), 64);
    assert.equal(p.tryWrite(3, bytesOf(3, 1)), false, 'full');
    assert.equal(p.usedBytes(), 64, 'a refused write changes nothing');
    assert.equal(c.take()!.tag, 1);
    assert.ok(p.tryWrite(3, bytesOf(3, 24)));
    assert.deepEqual([c.take()!.tag, c.take()!.tag, c.take()], [2, 3, null]);
  });

  test('a frame that does not fit before the end wraps to the start (the end is skipped)', () => {
    const buf = createRingBuffer(128);
    const p = new RingProducer(buf);
    const c = new RingConsumer(buf);
    assert.ok(p.tryWrite(1, bytesOf(1, 48))); // 56 bytes
    assert.equal(c.take()!.tag, 1);
    assert.ok(p.tryWrite(9, bytesOf(9, 48))); // 56 more: 16 left at the end
    assert.equal(c.take()!.tag, 9);
    assert.ok(p.tryWrite(2, bytesOf(2, 20)), '28 bytes: skips the 16 at the end, lands at 0');
    assert.equal(p.usedBytes(), 16 + 28);
    const f = c.take()!;
    assert.equal(f.tag, 2);
    assert.deepEqual(new Uint8Array(f.body), bytesOf(2, 20));
    assert.equal(c.usedBytes(), 0);
  });

  test('a frame larger than the ring accepts is a programming error, not a refusal', () => {
    const buf = createRingBuffer(64);
    const p = new RingProducer(buf);
    assert.equal(ringFrameBytesMax(64), 24);
    assert.ok(p.fits(24) && !p.fits(25));
    assert.throws(() => p.tryWrite(1, new Uint8Array(25)), /larger than the ring accepts/);
  });

  test('property: random writes and takes behave as a bounded FIFO of the same byte accounting', () => {
    const capacity = 256;
    const max = ringFrameBytesMax(capacity);
    const op = fc.oneof(fc.record({ write: fc.integer({ min: 0, max }) }), fc.constant({ take: true as const }));
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 400 }), (ops) => {
        const buf = createRingBuffer(capacity);
        const p = new RingProducer(buf);
        const c = new RingConsumer(buf);
        const model: { tag: number; len: number }[] = [];
        // The model's own positions: what the ring must accept or refuse.
        let head = 0;
        let tail = 0;
        const starts: number[] = []; // where each queued frame's bytes end (model head after it)
        let tag = 0;
        for (const o of ops) {
          if ('write' in o) {
            const need = 8 + align4(o.write);
            const at = tail % capacity;
            const skip = need > capacity - at ? capacity - at : 0;
            const fits = tail - head + skip + need <= capacity;
            const ok = p.tryWrite(tag, bytesOf(tag, o.write));
            assert.equal(ok, fits, `write of ${o.write} with ${tail - head} used at ${at}`);
            if (ok) {
              tail += skip + need;
              model.push({ tag, len: o.write });
              starts.push(tail);
            }
            tag++;
          } else {
            const f = c.take();
            const m = model.shift();
            if (m === undefined) assert.equal(f, null);
            else {
              assert.ok(f !== null);
              assert.equal(f.tag, m.tag);
              assert.deepEqual(new Uint8Array(f.body), bytesOf(m.tag, m.len));
              head = starts.shift()!;
            }
          }
          assert.equal(p.usedBytes(), tail - head, 'both sides agree on the bytes in use');
          assert.ok(p.usedBytes() <= capacity);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('hand-off: one thread', () => {
  test("a sender that never waits counts untaken frames (the pool's intake bound) and hears when they are taken", async () => {
    const ring = createRingBuffer(256);
    const channel = new MessageChannel();
    const sender = new HandoffSender(ring, channel.port1, 'sidePort', 64);
    const receiver = new HandoffReceiver(ring, channel.port2);
    for (let i = 0; i < 40; i++) sender.send(bytesOf(i, 60)); // 68 bytes each: the 4th on spills
    assert.equal(sender.untaken(), 40);
    assert.ok(sender.overflowed >= 36, `a full ring spilled to the side port (${sender.overflowed})`);
    assert.equal(sender.backlogged, 0);
    const heard = new Promise<void>((resolve) => sender.whenTaken(resolve));
    for (let i = 0; i < 40; i++) {
      const t = receiver.take();
      assert.ok(t !== null && t.body !== undefined);
      assert.deepEqual(new Uint8Array(t.body), bytesOf(i, 60), `frame ${i} in order`);
    }
    assert.equal(receiver.take(), null);
    assert.equal(sender.untaken(), 0);
    await heard;
    channel.port1.close();
  });

  test('a tree travels numbered with the frames around it', () => {
    const ring = createRingBuffer(256);
    const channel = new MessageChannel();
    const sender = new HandoffSender(ring, channel.port1, 'sidePort', 64);
    const receiver = new HandoffReceiver(ring, channel.port2);
    const tree = new SharedArrayBuffer(8);
    sender.send(bytesOf(1, 3));
    sender.sendTree(tree);
    sender.send(bytesOf(2, 3));
    assert.deepEqual(new Uint8Array(receiver.take()!.body!), bytesOf(1, 3));
    const got = receiver.take()!.tree!;
    new Uint8Array(tree)[0] = 42; // the same memory (a posted SAB is a new object over it)
    assert.equal(new Uint8Array(got)[0], 42);
    assert.deepEqual(new Uint8Array(receiver.take()!.body!), bytesOf(2, 3));
    channel.port1.close();
  });
});

/** Runs a producer thread (ring-producer.worker.ts) and checks every frame on this side. */
async function runProducer(init: Omit<ProducerInit, 'ring' | 'side'>, ringBytes: number, slowEvery: number): Promise<{ frames: number; sideFrames: number; overflowed: number; backlogMax: number }> {
  const ring = createRingBuffer(ringBytes);
  const channel = new MessageChannel();
  const receiver = new HandoffReceiver(ring, channel.port1);
  const worker = new Worker(new URL('./ring-producer.worker.js', import.meta.url), {
    workerData: { ...init, ring, side: channel.port2 } satisfies ProducerInit,
    transferList: [channel.port2],
  });
  let next = 0;
  let sideFrames = 0;
  let failure: unknown = null;
  const report = new Promise<{ overflowed: number; backlogMax: number }>((resolve) => worker.once('message', resolve));
  const done = new Promise<void>((resolve, reject) => {
    worker.on('error', reject);
    receiver.start(() => {
      try {
        for (let t = receiver.take(); t !== null; t = receiver.take()) {
          assert.ok(t.body !== undefined);
          const len = Math.min(init.maxBytes, frameBytes(init.seed, next));
          assert.equal(t.body.byteLength, len, `frame ${next}'s length`);
          assert.deepEqual(Buffer.from(t.body.buffer, t.body.byteOffset, t.body.byteLength), Buffer.from(bytesOf(next, len)), `frame ${next}'s bytes`);
          if (len > init.inlineBytesMax) sideFrames++;
          next++;
          // A slow consumer now and then: the producer finds the ring full and must wait.
          if (slowEvery > 0 && next % slowEvery === 0) {
            const until = Date.now() + 2;
            while (Date.now() < until);
          }
          if (next === init.frames) {
            receiver.stop();
            resolve();
            return true;
          }
        }
      } catch (err) {
        failure = err;
        receiver.stop();
        reject(err);
      }
      return true;
    });
  });
  let figures: { overflowed: number; backlogMax: number };
  try {
    await done;
    figures = await report;
  } finally {
    await worker.terminate();
    channel.port1.close();
  }
  assert.equal(failure, null);
  return { frames: next, sideFrames, ...figures };
}

describe('hand-off: two real threads', () => {
  test("a waiting sender: every frame arrives once, in order, through wrap-arounds, full rings and the side port", async () => {
    const r = await runProducer({ seed: 1, frames: 20_000, maxBytes: 600, inlineBytesMax: 200, full: 'wait' }, 1024, 500);
    assert.equal(r.frames, 20_000);
    assert.ok(r.sideFrames > 100, `frames above the inline bound took the side port (${r.sideFrames})`);
    assert.ok(r.backlogMax > 0, 'the ring was full at times: the sender kept frames back');
    assert.equal(r.overflowed, 0, 'a waiting sender never spills');
  });

  test("a sender that never waits: a full ring spills to the side port, the order holds", async () => {
    const r = await runProducer({ seed: 2, frames: 20_000, maxBytes: 300, inlineBytesMax: 250, full: 'sidePort' }, 1024, 200);
    assert.equal(r.frames, 20_000);
    assert.ok(r.overflowed > 0, `the ring was full at times and frames took the side port (${r.overflowed})`);
    assert.equal(r.backlogMax, 0, 'a sender that never waits keeps no backlog');
  });
});
