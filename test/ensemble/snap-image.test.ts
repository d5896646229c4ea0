// The SNAP byte string (src/server/ensemble/snap-image.ts): [image][meta][u32 meta length]. The
// leader reads it in chunks of any size without joining it; the learner's received buffer keeps
// the image at offset 0 (so a fresh tree buffer is adopted as the new tree, no copy) and the meta
// is copied out (the tree may grow over it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imageInMemory, joinSnapImage, snapSource, splitSnapImage } from '../../src/server/ensemble/snap-image.js';
import { allocTreeImage, createTree } from '../../src/server/tree/index.js';

const image = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) & 255);
const meta = new TextEncoder().encode('{"sessions":[1,2,3]}');

test('a SNAP source read in chunks of any size gives the joined bytes', () => {
  const whole = joinSnapImage(image, meta);
  for (const chunk of [1, 7, 1000, 10_003, 10_024, 1 << 20]) {
    const src = snapSource(5n, imageInMemory(image), meta);
    assert.equal(src.totalBytes, whole.byteLength);
    const parts: Uint8Array[] = [];
    for (let off = 0; off < src.totalBytes; ) {
      const c = src.read(off, chunk);
      assert.ok(c.byteLength > 0 && c.byteLength <= chunk);
      parts.push(c);
      off += c.byteLength;
    }
    assert.deepEqual(Buffer.concat(parts), Buffer.from(whole), `chunks of ${chunk}`);
  }
});

test('received into a tree buffer, the image stays at offset 0 of it and the meta is a copy', () => {
  const whole = joinSnapImage(image, meta);
  const buf = allocTreeImage(whole.byteLength);
  buf.set(whole, 0);
  const parts = splitSnapImage(buf);
  assert.equal(parts.image.buffer, buf.buffer, 'the image is a view of the received buffer');
  assert.equal(parts.image.byteOffset, 0);
  assert.deepEqual(Buffer.from(parts.image), Buffer.from(image));
  assert.notEqual(parts.meta.buffer, buf.buffer, 'the meta does not live in the tree buffer');
  buf.fill(0, image.byteLength); // the tree growing over the trailer
  assert.deepEqual(Buffer.from(parts.meta), Buffer.from(meta));
});

test('a SNAP source over a tree capture gives the capture-time bytes while the tree changes, and close ends the capture', () => {
  const t = createTree({ initialBytes: 65536 });
  const node = (i: number) => ({ data: Buffer.alloc(300, i), aclIndex: 0, ephemeralOwner: 0n, zxid: BigInt(i), timeMs: i });
  t.beginWrite();
  for (let i = 0; i < 200; i++) t.createNode(`/n${i}`, node(i));
  t.endWrite(200n);
  const whole = joinSnapImage(t.image(), meta);
  const capture = t.capture();
  const src = snapSource(capture.zxid, capture, meta);
  const parts: Uint8Array[] = [];
  for (let off = 0, round = 0; off < src.totalBytes; round++) {
    t.beginWrite();
    for (let i = 0; i < 200; i += 3) t.setData(`/n${(i + round) % 200}`, Buffer.alloc(300, round));
    t.createNode(`/new${round}`, node(round));
    t.endWrite(BigInt(201 + round));
    const c = src.read(off, 4099);
    parts.push(Buffer.from(c)); // the host's read is a private copy, kept as is
    off += c.byteLength;
  }
  assert.deepEqual(Buffer.concat(parts), Buffer.from(whole));
  assert.equal(src.zxid, 200n);
  src.close!();
  assert.equal(capture.isOpen, false, 'closing the source closes the capture');
});
