// Snapshot loading without a second copy: allocTreeImage + treeFromLoadedImage.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allocTreeImage, createTree, treeFromLoadedImage } from '../../src/server/tree/index.js';

test('an image read into allocTreeImage memory becomes the tree without a copy', () => {
  const w = createTree({ initialBytes: 256 * 1024 });
  w.beginWrite();
  for (let i = 0; i < 2_000; i++) w.createNode(`/n${i}`, { data: new TextEncoder().encode(`v${i}`), aclIndex: 0, ephemeralOwner: 0n, zxid: BigInt(i + 1), timeMs: i });
  w.endWrite(2_000n);
  const image = w.image();
  const view = allocTreeImage(image.length);
  assert.ok(view.buffer instanceof SharedArrayBuffer);
  view.set(image);
  const loaded = treeFromLoadedImage(view);
  assert.equal(loaded.buffer, view.buffer, 'the tree adopted the loader buffer');
  assert.equal(loaded.appliedZxid(), 2_000n);
  assert.equal(loaded.nodeCount(), w.nodeCount());
  assert.equal(loaded.dataOf('/n1999')?.toString(), 'v1999');
  // It stays a working writer: grows past the image.
  loaded.beginWrite();
  for (let i = 0; i < 2_000; i++) loaded.createNode(`/m${i}`, { data: new Uint8Array(200), aclIndex: 0, ephemeralOwner: 0n, zxid: 2_001n, timeMs: 0 });
  loaded.endWrite(2_001n);
  assert.equal(loaded.nodeCount(), w.nodeCount() + 2_000);
  const garbage = allocTreeImage(4096);
  assert.throws(() => treeFromLoadedImage(garbage), /magic|header|image/i);
});
