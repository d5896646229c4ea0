// The peer frame codec alone: any split of a byte stream gives back the same frames, and bounds
// are checked from the header before anything is buffered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeBody, encodeFrame, encodeHello, FrameReader, parseHello } from '../../src/io/node/peer-frame.js';

function concatFrames(payloads: unknown[]): Buffer {
  return Buffer.concat(payloads.flatMap((p) => [...encodeFrame(p).frame]));
}

test('FrameReader: any split of the stream yields the same payloads, in order', () => {
  const payload = fc.record({ seq: fc.nat(), zxid: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), data: fc.uint8Array({ maxLength: 40_000 }), s: fc.string() });
  fc.assert(
    fc.property(fc.array(payload, { minLength: 1, maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 20 }), (payloads, cuts) => {
      const stream = concatFrames(payloads);
      const reader = new FrameReader(() => 1_000_000);
      const got: unknown[] = [];
      let at = 0;
      let i = 0;
      while (at < stream.byteLength) {
        const n = cuts[i++ % cuts.length] as number;
        const bad = reader.push(stream.subarray(at, at + n), (body) => {
          const d = decodeBody(body);
          assert.ok(d.ok);
          got.push(d.value);
          return true;
        });
        assert.equal(bad, null);
        at += n;
      }
      assert.equal(got.length, payloads.length);
      got.forEach((g, k) => {
        const p = payloads[k] as { seq: number; zxid: bigint; data: Uint8Array; s: string };
        const v = g as typeof p;
        assert.equal(v.seq, p.seq);
        assert.equal(v.zxid, p.zxid);
        assert.equal(v.s, p.s);
        assert.deepEqual(new Uint8Array(v.data), p.data);
      });
    }),
    { numRuns: 200 },
  );
});

test('FrameReader: one byte at a time, an oversize header is refused before any body arrives', () => {
  const reader = new FrameReader(() => 100);
  const header = Buffer.from([0x00, 0x00, 0x00, 101]);
  const results = [...header].map((b) => reader.push(Buffer.from([b]), () => true));
  assert.deepEqual(results.slice(0, 3), [null, null, null]);
  assert.equal(results[3], 'frame of 101 bytes, over the limit of 100');
});

test('FrameReader: stops when the consumer says the connection is gone', () => {
  const stream = concatFrames([1, 2, 3]);
  const reader = new FrameReader(() => 100);
  let n = 0;
  assert.equal(reader.push(stream, () => ++n < 2), null);
  assert.equal(n, 2, 'the third frame was not delivered');
});

test('hello: encodes and parses; wrong shapes are named', () => {
  const body = encodeHello(7)[0]?.subarray(4) as Buffer;
  const d = decodeBody(body);
  assert.ok(d.ok);
  assert.deepEqual(parseHello(d.value), { ok: true, serverId: 7 });
  assert.deepEqual(parseHello([1]), { ok: false, reason: 'first frame is not a hello' });
  assert.deepEqual(parseHello({ hello: 'zookooper-peer', version: 1, serverId: -1 }), { ok: false, reason: 'hello with a bad serverId' });
  assert.deepEqual(parseHello({ hello: 'zookooper-peer', version: 1, serverId: 1.5 }), { ok: false, reason: 'hello with a bad serverId' });
  assert.equal(decodeBody(Buffer.from([0x92, 0x01])).ok, false, 'truncated');
  assert.equal(decodeBody(Buffer.from([0x01, 0x02])).ok, false, 'trailing bytes');
});

test('encodeFrame: large bodies are not copied into a second buffer', () => {
  const data = new Uint8Array(100_000);
  const { frame, bodyBytes } = encodeFrame({ data, n: 1 }); // not last: packed by msgpackr
  assert.equal(frame.length, 2, 'header and body written separately');
  assert.equal(frame[0]?.readUInt32BE(0), bodyBytes);
  assert.equal(encodeFrame({ small: 1 }).frame.length, 1, 'small frames are one buffer');
});

test('encodeFrame: a large binary as the last field is written from where it lies and decodes as if packed whole', () => {
  const chunk = Uint8Array.from({ length: 1_048_576 }, (_, i) => (i * 7) & 255);
  const msg = { t: 'snap', zxid: 0x1_0000_0005n, offset: 3_145_728, totalBytes: 9_999_999, last: false, chunk };
  const { frame, bodyBytes } = encodeFrame(msg);
  const last = frame[frame.length - 1]!;
  assert.equal(last.buffer, chunk.buffer, 'the chunk itself, not a copy');
  assert.equal(frame[0]?.readUInt32BE(0), bodyBytes);
  const whole = Buffer.concat([...frame]);
  assert.equal(whole.byteLength, 4 + bodyBytes);
  const bodies: Buffer[] = [];
  assert.equal(new FrameReader(() => 16 * 1_048_576).push(whole, (b) => (bodies.push(b), true)), null);
  assert.equal(bodies.length, 1);
  const d = decodeBody(bodies[0]!);
  assert.ok(d.ok);
  assert.deepEqual(d.value, { ...msg, chunk: Buffer.from(chunk) });
  // The same bytes as msgpackr packing the whole message (so any decoder reads it).
  const plain = encodeFrame({ ...msg, chunk: Buffer.from(chunk), after: 1 });
  assert.equal(plain.frame.length, 2, 'a binary that is not last goes through msgpackr');
});
