// Captures (copy-on-write images): whatever the writer does after a capture opens, reading the
// capture gives, byte for byte, the image() the tree had at that moment. Random write windows
// (creates, deletes, data of every size class, stat and ACL changes, index resizes, buffer
// growth) are interleaved with capture opens, chunked reads and closes; several captures are open
// at once. A worker thread reads one while the main thread writes (the snapshot job's case), and
// a capture that stops saving pages is shown to give a torn image (so the comparison can fail).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { createTree, treeFromImage, verifyTree, type TreeCapture, type TreeWriter } from '../../src/server/tree/index.js';
import { constants } from '../../src/common/constants.js';
import { ZookooperError } from '../../src/common/errors.js';

type Op =
  | { kind: 'create'; parent: number; name: number; len: number }
  | { kind: 'delete'; pick: number }
  | { kind: 'set'; pick: number; len: number }
  | { kind: 'stat'; pick: number; version: number }
  | { kind: 'acl'; pick: number; acl: number }
  | { kind: 'commit' }
  | { kind: 'open' }
  | { kind: 'read'; which: number; at: number; len: number }
  | { kind: 'close'; which: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('create' as const), parent: fc.nat(), name: fc.nat({ max: 5000 }), len: fc.integer({ min: 0, max: 300 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), len: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 20_000 })) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('stat' as const), pick: fc.nat(), version: fc.integer({ min: 0, max: 1000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('acl' as const), pick: fc.nat(), acl: fc.nat({ max: 40 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('commit' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('open' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('read' as const), which: fc.nat(), at: fc.nat(), len: fc.integer({ min: 1, max: 70_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const), which: fc.nat() }) },
);

interface Open {
  capture: TreeCapture;
  expected: Uint8Array;
}

function node(len: number, fill: number, aclIndex = 0): { data: Uint8Array; aclIndex: number; ephemeralOwner: bigint; zxid: bigint; timeMs: number } {
  return { data: Buffer.alloc(len, fill), aclIndex, ephemeralOwner: BigInt(fill), zxid: BigInt(fill), timeMs: fill };
}

function checkWhole(o: Open): void {
  const got = o.capture.read(0, o.capture.bytes);
  assert.ok(Buffer.from(got).equals(Buffer.from(o.expected)), `capture at zxid ${o.capture.zxid} differs from the image it was opened on`);
}

function run(ops: Op[]): void {
  const t = createTree({ initialBytes: 65536, maxBytes: 256 * 1_048_576 });
  const live: string[] = [];
  const opens: Open[] = [];
  let zxid = 0n;
  let inWindow = false;
  const window = (): void => {
    if (!inWindow) {
      t.beginWrite();
      inWindow = true;
    }
  };
  const commit = (): void => {
    if (inWindow) t.endWrite(zxid);
    inWindow = false;
  };
  const pick = (i: number): string | undefined => live[i % Math.max(1, live.length)];
  for (const op of ops) {
    zxid++;
    const fill = Number(zxid % 251n);
    switch (op.kind) {
      case 'create': {
        const parent = op.parent % 3 === 0 ? '' : (pick(op.parent) ?? '');
        const path = `${parent}/n${op.name}`;
        if (parent.split('/').length > 12 || t.has(path)) break;
        window();
        t.createNode(path, node(op.len, fill));
        live.push(path);
        break;
      }
      case 'delete': {
        const p = pick(op.pick);
        if (p === undefined || (t.childNames(p)?.length ?? 0) > 0) break;
        window();
        t.deleteNode(p);
        live.splice(live.indexOf(p), 1);
        break;
      }
      case 'set': {
        const p = pick(op.pick);
        if (p === undefined) break;
        window();
        t.setData(p, Buffer.alloc(op.len, fill));
        t.updateStat(p, { mzxid: zxid, mtime: fill });
        break;
      }
      case 'stat': {
        const p = pick(op.pick);
        if (p === undefined) break;
        window();
        t.updateStat(p, { version: op.version, pzxid: zxid, cversion: op.version, sequence: op.version });
        break;
      }
      case 'acl': {
        const p = pick(op.pick);
        if (p === undefined) break;
        window();
        const index = t.internAcl([{ perms: 31, scheme: 'digest', id: `user${op.acl}:x` }]);
        t.updateStat(p, { aclIndex: index, aversion: op.acl });
        break;
      }
      case 'commit':
        commit();
        break;
      case 'open':
        commit();
        if (opens.length < 6) opens.push({ expected: t.image(), capture: t.capture() });
        break;
      case 'read': {
        const o = opens[op.which % Math.max(1, opens.length)];
        if (o === undefined) break;
        const at = op.at % o.capture.bytes;
        const got = o.capture.read(at, op.len);
        assert.equal(got.byteLength, Math.min(op.len, o.capture.bytes - at));
        assert.ok(Buffer.from(got).equals(Buffer.from(o.expected.subarray(at, at + got.byteLength))), `capture bytes [${at}, +${got.byteLength})`);
        break;
      }
      case 'close': {
        const o = opens[op.which % Math.max(1, opens.length)];
        if (o === undefined) break;
        checkWhole(o);
        o.capture.close();
        opens.splice(opens.indexOf(o), 1);
        break;
      }
    }
  }
  commit();
  for (const o of opens) {
    checkWhole(o);
    // A captured image is a whole tree: it loads and passes the structure walk.
    verifyTree(treeFromImage(o.capture.read(0, o.capture.bytes)));
    o.capture.close();
  }
  verifyTree(t);
}

test('a capture reads back the image it was opened on, whatever is written after', () => {
  fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: 400 }), run), { numRuns: 150, seed: 20_261_203 });
});

test('every kind of write, alone after a capture, leaves the capture as it was', () => {
  // One write per fresh tree, so no other write's page copy can hide a missing one.
  // `before` runs ahead of the capture: a big blob freed then lies on a free list in the image.
  const freeBig = (t: TreeWriter): void => t.setData('/p0/c1', Buffer.alloc(0));
  const writes: [string, (t: TreeWriter, i: number) => void, ((t: TreeWriter) => void)?][] = [
    ['create', (t, i) => t.createNode(`/p${i % 7}/new`, node(i, 3))],
    ['delete first child', (t, i) => t.deleteNode(`/p${i % 7}/c${39}`)],
    ['delete middle child', (t, i) => t.deleteNode(`/p${i % 7}/c${i % 39}`)],
    ['delete last child', (t, i) => t.deleteNode(`/p${i % 7}/c0`)],
    ['setData same class', (t, i) => t.setData(`/p${i % 7}/c${i % 40}`, Buffer.alloc(50, 9))],
    ['setData new class', (t, i) => t.setData(`/p${i % 7}/c${i % 40}`, Buffer.alloc(900 + i, 9))],
    ['setData empty', (t, i) => t.setData(`/p${i % 7}/c${i % 40}`, Buffer.alloc(0))],
    ['updateStat', (t, i) => t.updateStat(`/p${i % 7}/c${i % 40}`, { version: 5, mzxid: 9n, pzxid: 9n, mtime: 1, cversion: 2, aversion: 3, sequence: 4 })],
    ['create into a freed multi-page block', (t, i) => t.createNode(`/p${i % 7}/big`, node(12_000, 4)), freeBig],
    ['setData into a freed multi-page block', (t, i) => t.setData(`/p${i % 7}/c2`, Buffer.alloc(12_000, 5)), freeBig],
    ['internAcl', (t, i) => t.updateStat(`/p${i % 7}`, { aclIndex: t.internAcl([{ perms: 1, scheme: 'ip', id: `10.1.0.${i}` }]) })],
  ];
  for (const [what, write, before] of writes) {
    for (let i = 0; i < 40; i++) {
      const t = createTree({ initialBytes: 65536 });
      t.beginWrite();
      for (let p = 0; p < 7; p++) {
        t.createNode(`/p${p}`, node(10, p));
        for (let c = 0; c < 40; c++) t.createNode(`/p${p}/c${c}`, node(48, c));
      }
      t.setData('/p0/c1', Buffer.alloc(12_000, 1));
      before?.(t);
      t.endWrite(1n);
      const expected = t.image();
      const capture = t.capture();
      t.beginWrite();
      write(t, i);
      t.endWrite(2n);
      assert.ok(Buffer.from(capture.read(0, capture.bytes)).equals(Buffer.from(expected)), `${what} #${i} changed the captured image`);
      capture.close();
    }
  }
});

test('a capture survives index resizes, ACL directory moves and buffer growth', () => {
  const t = createTree({ initialBytes: 65536, maxBytes: 256 * 1_048_576 });
  t.beginWrite();
  for (let i = 0; i < 500; i++) t.createNode(`/a${i}`, node(100, i % 251));
  t.endWrite(1n);
  const expected = t.image();
  const c = t.capture();
  const before = t.memoryUsage();
  t.beginWrite();
  // 5,000 creates double the index several times and grow the buffer; 40 ACLs move the directory.
  for (let i = 0; i < 5000; i++) t.createNode(`/b${i}`, node(500, i % 251));
  for (let i = 0; i < 40; i++) t.updateStat(`/a${i}`, { aclIndex: t.internAcl([{ perms: 1, scheme: 'ip', id: `10.0.0.${i}` }]) });
  for (let i = 0; i < 500; i += 2) t.deleteNode(`/a${i}`);
  for (let i = 1; i < 500; i += 2) t.setData(`/a${i}`, Buffer.alloc(3000, 7));
  t.endWrite(2n);
  assert.ok(t.memoryUsage().capacityBytes > before.capacityBytes, 'the buffer grew while the capture was open');
  assert.ok(Buffer.from(c.read(0, c.bytes)).equals(Buffer.from(expected)));
  const saved = c.savedPageCount;
  assert.ok(saved > 1 && saved <= Math.ceil(c.bytes / constants.treeCapturePageBytes), `saved ${saved} pages`);
  c.close();
  t.beginWrite();
  for (let i = 1; i < 500; i += 2) t.setData(`/a${i}`, Buffer.alloc(10, 8));
  t.endWrite(3n);
  assert.equal(c.savedPageCount, saved, 'a closed capture saves nothing more');
  assert.throws(() => c.read(0, 1), /closed capture/);
});

test('captures are bounded: one past treeCapturesMax is refused with SYSTEMERROR', () => {
  const t = createTree({ initialBytes: 65536 });
  const open = Array.from({ length: constants.treeCapturesMax }, () => t.capture());
  assert.throws(() => t.capture(), (e: unknown) => e instanceof ZookooperError && e.code === 'SYSTEMERROR');
  open.pop()!.close();
  const again = t.capture();
  for (const c of [...open, again]) c.close();
});

test('a capture cannot be opened inside a write window', () => {
  const t = createTree({ initialBytes: 65536 });
  t.beginWrite();
  assert.throws(() => t.capture(), /capture inside a write window/);
  t.endWrite(0n);
});

/** Rewrites every node's data (all pages of the image) in windows until the worker is done. */
async function readInWorkerWhileWriting(t: TreeWriter, c: TreeCapture, nodes: number): Promise<Uint8Array> {
  const worker = new Worker(new URL('./capture-worker.js', import.meta.url), { workerData: { handle: c.handle, chunkBytes: 8192 } });
  let result: Uint8Array | null = null;
  let failure: unknown = null;
  worker.on('message', (m: { image: ArrayBuffer }) => (result = new Uint8Array(m.image)));
  worker.on('error', (e) => (failure = e));
  const deadline = Date.now() + 120_000;
  let round = 0;
  while (result === null && failure === null) {
    assert.ok(Date.now() < deadline, 'the worker read the capture within the deadline');
    round++;
    t.beginWrite();
    for (let i = 0; i < nodes; i++) t.setData(`/k${i}`, Buffer.alloc(200, (round + i) % 251));
    t.endWrite(BigInt(1000 + round));
    await new Promise((r) => setImmediate(r));
  }
  await worker.terminate();
  if (failure !== null) throw failure;
  return result!;
}

function bigTree(nodes: number): TreeWriter {
  const t = createTree({ initialBytes: 1 << 20, maxBytes: 256 * 1_048_576 });
  t.beginWrite();
  for (let i = 0; i < nodes; i++) t.createNode(`/k${i}`, node(200, i % 251));
  t.endWrite(1n);
  return t;
}

test('a worker thread reads a consistent capture while the main thread rewrites every page', async () => {
  const t = bigTree(5000);
  const expected = t.image();
  const c = t.capture();
  const got = await readInWorkerWhileWriting(t, c, 5000);
  assert.ok(c.savedPageCount > 10, `pages were saved under the worker (${c.savedPageCount})`);
  assert.ok(Buffer.from(got).equals(Buffer.from(expected)), 'the worker read the image of the capture moment');
  c.close();
});

test('without its saved pages a capture read under writes is torn (the comparison can fail)', async () => {
  const t = bigTree(5000);
  const expected = t.image();
  const c = t.capture();
  c.close(); // stops saving: the live tree changes under the reader
  const got = await readInWorkerWhileWriting(t, c, 5000);
  assert.ok(!Buffer.from(got).equals(Buffer.from(expected)), 'a read of a capture that saves nothing sees the later writes');
});
