// storage-adapter's ensemble surface on real files: epochs, history window, TRUNC with a reload
// into a new tree, SNAP installed from memory, and that writes continue afterwards.
import assert from 'node:assert/strict';
import { cp, open as openFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { pack } from 'msgpackr';
import { pino } from 'pino';
import type { Disk } from '../../src/io/disk.js';
import { nodeDisk } from '../../src/io/node/disk.js';
import { defaultConfig, finish } from '../../src/common/config.js';
import { makeZxid } from '../../src/common/zxid.js';
import { op } from '../pipeline/harness.js';
import { SessionManager } from '../../src/server/sessions/manager.js';
import { openStorage, type Storage } from '../../src/server/storage-adapter.js';
import { SnapshotImageError } from '../../src/server/storage/install.js';
import { snapshotFileName } from '../../src/server/storage/layout.js';
import { joinSnapImage } from '../../src/server/ensemble/snap-image.js';
import { loadSnapshotFile } from '../../src/server/storage/snapshot.js';
import { allocTreeImage, createTree, type TreeWriter } from '../../src/server/tree/index.js';
import { tempDir } from './helpers.js';

const logger = pino({ level: 'silent' });
const z = (n: number): bigint => makeZxid(1, n);

async function open(dataDir: string, disk: Disk = nodeDisk): Promise<Storage> {
  const config = finish({ ...defaultConfig(), dataDir, dataLogDir: '', purgeIntervalMs: 0 });
  return openStorage(config, logger, new SessionManager(config.tickMs, 1, 0), { disk });
}

/** nodeDisk, recording every snapshot file the main thread opens for reading. */
function snapshotReadSpy(): { disk: Disk; reads: string[] } {
  const reads: string[] = [];
  const disk = new Proxy(nodeDisk, {
    get(target, key, receiver) {
      if (key === 'open') {
        return (path: string, mode: Parameters<Disk['open']>[1]) => {
          if (mode === 'r' && basename(path).startsWith('snapshot.')) reads.push(path);
          return target.open(path, mode);
        };
      }
      if (key === 'readFile') {
        return (path: string) => {
          if (basename(path).startsWith('snapshot.')) reads.push(path);
          return target.readFile(path);
        };
      }
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  return { disk, reads };
}

/** Every node: path -> stat and data, to compare two trees. */
function contents(tree: TreeWriter): Map<string, string> {
  const out = new Map<string, string>();
  tree.forEachNode((path, stat) => out.set(path, JSON.stringify({ stat, data: tree.dataOf(path)?.toString('hex') ?? null }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))));
  return out;
}

async function leaderSnapshot(t: { after: (fn: () => Promise<void>) => void }, count: number): Promise<{ snap: ReturnType<Storage['snapshotContent']>; nodes: Map<string, string> }> {
  const leader = await open(await tempDir(t));
  await create(leader, names(1, count));
  const snap = leader.snapshotContent();
  const nodes = contents(leader.tree);
  await leader.close();
  return { snap, nodes };
}

/** Creates the nodes through the pipeline, logs + fsyncs them, commits: as the write loop does. */
async function create(s: Storage, paths: string[]): Promise<void> {
  for (const [i, path] of paths.entries()) s.pipeline.submit({ sessionId: 0n, tag: i, authIds: [], op: op.create(path, 'x') });
  const recs = s.pipeline.takeLogRecords();
  s.log.append(recs);
  await s.log.sync();
  s.pipeline.logged(recs.at(-1)!.zxid);
  s.pipeline.commit(() => undefined);
  s.afterBatch(recs.length);
}

const names = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `/n${from + i}`);

test('epochs: derived on a new data dir, persisted, read back after a restart', async (t) => {
  const dir = await tempDir(t);
  const s = await open(dir);
  assert.deepEqual(s.epochs(), { acceptedEpoch: 0, currentEpoch: 0 });
  await s.persistEpochs({ acceptedEpoch: 3, currentEpoch: 2 });
  assert.deepEqual(s.epochs(), { acceptedEpoch: 3, currentEpoch: 2 });
  await s.close();
  const again = await open(dir);
  assert.deepEqual(again.epochs(), { acceptedEpoch: 3, currentEpoch: 2 });
  await again.close();
});

test('history window and last zxid after recovery, including records a snapshot covers', async (t) => {
  const dir = await tempDir(t);
  const s = await open(dir);
  assert.equal(s.lastLoggedZxid(), 0n);
  assert.deepEqual(s.history(), []);
  await create(s, names(1, 20));
  assert.equal(s.lastLoggedZxid(), z(20));
  await s.close(); // a clean stop writes a snapshot at z(20): recovery replays nothing
  const again = await open(dir);
  assert.equal(again.lastLoggedZxid(), z(20));
  assert.deepEqual(again.history().map((r) => r.zxid), Array.from({ length: 20 }, (_, i) => z(i + 1)), 'the covered log tail is the window');
  await again.close();
});

test('truncate(zxid) cuts the log and reloads a tree without the cut txns; writes continue', async (t) => {
  const dir = await tempDir(t);
  const s = await open(dir);
  await create(s, names(1, 10));
  await create(s, names(11, 15));
  const oldTree = s.tree;
  await s.truncate(z(10));
  assert.notEqual(s.tree, oldTree, 'a new tree');
  assert.equal(s.tree.appliedZxid(), z(10));
  assert.ok(s.tree.has('/n10') && !s.tree.has('/n11'), 'the txns above the cut are gone from memory');
  assert.equal(s.lastLoggedZxid(), z(10));
  assert.equal(s.history().at(-1)?.zxid, z(10));
  await create(s, ['/after']);
  assert.equal(s.lastLoggedZxid(), z(11), 'the pipeline continues after the cut');
  await s.close();
  const again = await open(dir);
  assert.ok(again.tree.has('/after') && again.tree.has('/n10') && !again.tree.has('/n11'));
  await again.close();
});

test('installSnapshot replaces the state with a leader image; the log restarts after it', async (t) => {
  const leader = await open(await tempDir(t));
  await create(leader, names(1, 30));
  const snap = leader.snapshotContent();
  assert.equal(snap.zxid, z(30));
  await leader.close();

  const dir = await tempDir(t);
  const s = await open(dir);
  await create(s, ['/divergent']);
  await s.installSnapshot(snap.zxid, snap.image, snap.meta);
  assert.equal(s.tree.appliedZxid(), z(30));
  assert.ok(s.tree.has('/n30') && !s.tree.has('/divergent'));
  assert.equal(s.lastLoggedZxid(), z(30));
  assert.deepEqual(s.history(), [], 'no log after a SNAP');
  await create(s, ['/next']);
  await s.close();
  const again = await open(dir);
  assert.ok(again.tree.has('/next') && again.tree.has('/n1') && !again.tree.has('/divergent'));
  assert.equal(again.lastLoggedZxid(), z(31));
  await again.close();
});

test('installSnapshot of a SNAP written as it arrived completes that file (format 2) instead of writing another', async (t) => {
  const { snap, nodes } = await leaderSnapshot(t, 40);
  const dir = await tempDir(t);
  const s = await open(dir);
  await create(s, ['/divergent']);
  const body = joinSnapImage(snap.image, snap.meta);
  const writer = s.openSnapshotStream(snap.zxid, body.byteLength);
  for (let off = 0; off < body.byteLength; off += 1000) writer.append(body.subarray(off, Math.min(off + 1000, body.byteLength)));
  await s.installSnapshot(snap.zxid, snap.image, snap.meta, { writer, body });
  assert.deepEqual(contents(s.tree), nodes);
  const path = join(dir, 'version-2', snapshotFileName(snap.zxid));
  const header = Buffer.alloc(8);
  const fh = await openFile(path, 'r');
  await fh.read(header, 0, 8, 0);
  await fh.close();
  assert.equal(header.readUInt32LE(4), 2, 'the file is the one written as the SNAP arrived');
  const loaded = await loadSnapshotFile(nodeDisk, path, snap.zxid);
  assert.ok(Buffer.from(loaded.image).equals(Buffer.from(snap.image)));
  await s.close();
});

test('installSnapshot builds the tree from the image in memory: equal to the leader, the file written but never read back', async (t) => {
  const { snap, nodes } = await leaderSnapshot(t, 50);
  const dir = await tempDir(t);
  const spy = snapshotReadSpy();
  const s = await open(dir, spy.disk);
  await create(s, ['/divergent']);
  await s.installSnapshot(snap.zxid, snap.image, snap.meta);
  assert.deepEqual(spy.reads, [], 'no snapshot file was read to build the tree');
  assert.deepEqual(contents(s.tree), nodes, 'the installed tree is the leader tree, node for node');
  assert.equal(s.tree.appliedZxid(), z(50));
  // A crash right after the install (the data dir as it is on disk now, no clean stop):
  // recovery loads the installed snapshot, and the txn logged after it.
  await create(s, ['/next']);
  const crashed = await tempDir(t);
  await cp(dir, crashed, { recursive: true });
  const again = await open(crashed, spy.disk);
  assert.ok(spy.reads.length > 0, 'recovery read the snapshot file');
  const expected = contents(s.tree);
  assert.deepEqual(contents(again.tree), expected, 'recovered after the crash: the installed tree and the write after it');
  assert.ok(again.tree.has('/next') && !again.tree.has('/divergent'));
  assert.equal(again.lastLoggedZxid(), z(51));
  await again.close();
  await s.close();
});

test('installSnapshot adopts a tree buffer from allocTreeImage without copying it', async (t) => {
  const { snap, nodes } = await leaderSnapshot(t, 20);
  const s = await open(await tempDir(t));
  const view = allocTreeImage(snap.image.byteLength);
  view.set(snap.image);
  await s.installSnapshot(snap.zxid, view, snap.meta);
  assert.equal(s.tree.buffer, view.buffer, 'the tree runs on the handed-over buffer');
  assert.deepEqual(contents(s.tree), nodes);
  await create(s, ['/after']);
  assert.ok(s.tree.has('/after'));
  await s.close();
});

test('installSnapshot refuses a bad image, a wrong zxid or bad meta with SnapshotImageError; nothing changes', async (t) => {
  const { snap } = await leaderSnapshot(t, 10);
  const dir = await tempDir(t);
  const s = await open(dir);
  await create(s, ['/mine']);
  const before = contents(s.tree);
  const badImage = new Uint8Array(snap.image);
  badImage.fill(0, 0, 64); // the header
  await assert.rejects(s.installSnapshot(snap.zxid, badImage, snap.meta), SnapshotImageError);
  await assert.rejects(s.installSnapshot(z(11), snap.image, snap.meta), SnapshotImageError);
  await assert.rejects(s.installSnapshot(snap.zxid, snap.image, new Uint8Array([0xc1])), SnapshotImageError);
  assert.deepEqual(contents(s.tree), before, 'the tree is unchanged');
  await create(s, ['/still']);
  assert.equal(s.lastLoggedZxid(), z(2), 'the log still takes writes');
  await s.close();
  const again = await open(dir);
  assert.ok(again.tree.has('/mine') && again.tree.has('/still') && !again.tree.has('/n1'));
  await again.close();
});

test('installSnapshot of an image above the split first-touch size (half its pages touched on the job thread) equals the leader', async (t) => {
  // Built on the tree directly: through the pipeline this size takes much longer.
  const leader = createTree();
  const data = new Uint8Array(500).fill(7);
  leader.beginWrite();
  for (let i = 0; i < 40_000; i++) leader.createNode(`/n${i}`, { data, aclIndex: 0, ephemeralOwner: 0n, zxid: z(i + 1), timeMs: i });
  leader.endWrite(z(40_000));
  const image = leader.image();
  assert.ok(image.byteLength > 16 * 1_048_576, `an image of ${image.byteLength} bytes is above the 16 MiB split`);
  const s = await open(await tempDir(t));
  await s.installSnapshot(z(40_000), image, new Uint8Array(pack({ formatVersion: 1, sessions: [] })));
  assert.deepEqual(contents(s.tree), contents(leader));
  await s.close();
});

test('after installSnapshot the next log segment is prepared before the first append', async (t) => {
  const { snap } = await leaderSnapshot(t, 5);
  const dir = await tempDir(t);
  const s = await open(dir);
  await s.installSnapshot(snap.zxid, snap.image, snap.meta);
  // The spare (header + zero fill, fsynced) appears without any append asking for it.
  const spare = join(dir, 'version-2', 'log.spare.tmp');
  const deadline = Date.now() + 30_000;
  while (!existsSync(spare) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(existsSync(spare), 'a spare segment is being prepared');
  await create(s, ['/first']);
  assert.equal(s.lastLoggedZxid(), z(6));
  await s.close();
  const again = await open(dir);
  assert.ok(again.tree.has('/first') && again.tree.has('/n5'));
  await again.close();
});

test('a background snapshot is the tree at its zxid although writes go on while the job writes it', async (t) => {
  const dir = await tempDir(t);
  const nodes = 6_000;
  const config = finish({ ...defaultConfig(), dataDir: dir, dataLogDir: '', purgeIntervalMs: 0, snapshotEveryTxns: nodes });
  const lines: { msg: string; savedPages?: number }[] = [];
  const recorder = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as { msg: string }) });
  const s = await openStorage(config, recorder, new SessionManager(config.tickMs, 1, 0), { disk: nodeDisk });
  // 6,000 nodes of 4 KiB: a 25 MB image, so the job is still writing when the next batches land.
  const big = 'x'.repeat(4_096);
  const batch = async (ops: ReturnType<typeof op.create>[]): Promise<number> => {
    for (const [i, o] of ops.entries()) s.pipeline.submit({ sessionId: 0n, tag: i, authIds: [], op: o });
    const recs = s.pipeline.takeLogRecords();
    assert.equal(recs.length, ops.length, 'one batch each');
    s.log.append(recs);
    await s.log.sync();
    s.pipeline.logged(recs.at(-1)!.zxid);
    s.pipeline.commit(() => undefined);
    return recs.length;
  };
  let expected: Uint8Array = new Uint8Array(0);
  for (let from = 1; from <= nodes; from += 500) {
    const n = await batch(names(from, from + 499).map((p) => op.create(p, big)));
    if (from + 499 === nodes) expected = s.tree.image(); // the state the snapshot below captures
    s.afterBatch(n);
  }
  // The last afterBatch took the snapshot of the last zxid: its job is writing it now.
  assert.equal(s.tree.appliedZxid(), z(nodes));
  const snapPath = join(dir, 'version-2', snapshotFileName(z(nodes)));
  // Rewrite every node until the job's file is there (each window changes every page of the image).
  // Straight into the tree, as fast as the loop turns, so the writes overlap the job's reading; the
  // pipeline would wait an fsync per batch.
  const paths = names(1, nodes);
  let round = 0;
  do {
    assert.ok(round < 100_000, 'the snapshot job finished');
    const data = Buffer.from(`r${round}`.padEnd(4_096, 'y'));
    s.tree.beginWrite();
    for (const p of paths) s.tree.setData(p, data);
    s.tree.endWrite(s.tree.appliedZxid());
    round++;
    await new Promise((r) => setImmediate(r));
  } while (!existsSync(snapPath));
  const loaded = await loadSnapshotFile(nodeDisk, snapPath, z(nodes));
  assert.ok(Buffer.from(loaded.image).equals(Buffer.from(expected)), 'the file holds the image of the moment the snapshot was taken');
  await s.close();
  // The writes really ran under the job: it saw pages saved for it (more than the header page).
  const written = lines.find((l) => l.msg === 'snapshot written');
  assert.ok(written !== undefined && (written.savedPages ?? 0) > 1, `pages saved while the job wrote: ${written?.savedPages}`);
});
