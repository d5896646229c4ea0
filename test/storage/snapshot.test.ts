import assert from 'node:assert/strict';
import { open, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { nodeDisk } from '../../src/io/node/disk.js';
import { makeZxid } from '../../src/common/zxid.js';
import { createJobPool } from '../../src/server/jobs/pool.js';
import { loadNewestSnapshot, storageLayout, writeSnapshotFileSync } from '../../src/server/storage/index.js';
import { recoverAll, records, tempDir, zxids } from './helpers.js';

const z = (n: number): bigint => makeZxid(1, n);

function imageOf(bytes: number, seed: number, shared = false): Uint8Array {
  const img = shared ? new Uint8Array(new SharedArrayBuffer(bytes)) : new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) img[i] = (i * 131 + seed) & 0xff;
  return img;
}

test('writeSnapshot in the piscina pool (SharedArrayBuffer image) round trips', async (t) => {
  const dir = await tempDir(t);
  const dirs = { dataDir: dir };
  await recoverAll(dir); // creates the layout
  const jobs = createJobPool();
  t.after(() => jobs.close());
  const image = imageOf(3 * 1_048_576 + 17, 5, true);
  const meta = new TextEncoder().encode('session table');
  const path = await jobs.writeSnapshot({ dirs, zxid: z(42), meta, image });
  assert.equal(path, join(dir, 'version-2', 'snapshot.10000002a'));
  // An ArrayBuffer image moved (transferred) to the worker.
  const moved = imageOf(1000, 9);
  const expected = moved.slice();
  await jobs.writeSnapshot({ dirs, zxid: z(50), meta: new Uint8Array(0), image: moved, transfer: true });
  assert.equal(moved.byteLength, 0, 'the transferred buffer is detached here');
  const newest = await loadNewestSnapshot(nodeDisk, storageLayout(dirs, nodeDisk).snapDir);
  assert.equal(newest?.zxid, z(50));
  assert.deepEqual(newest.image, Buffer.from(expected));
  assert.deepEqual((await readdir(join(dir, 'version-2'))).filter((n) => n.endsWith('.tmp')), []);
  // Loading into caller-provided (shared) memory.
  const { rec } = await recoverAll(dir, { allocImage: (n) => new Uint8Array(new SharedArrayBuffer(n)) });
  assert.ok(rec.snapshot?.image.buffer instanceof SharedArrayBuffer);
  await unlink(join(dir, 'version-2', 'snapshot.100000032'));
  const older = await loadNewestSnapshot(nodeDisk, storageLayout(dirs, nodeDisk).snapDir);
  assert.equal(older?.zxid, z(42));
  assert.deepEqual(older.meta, Buffer.from(meta));
  assert.deepEqual(older.image, Buffer.from(image));
});

test('a snapshot failing its CRC is reported and the older one is used; recovery replays from it', async (t) => {
  const dir = await tempDir(t);
  const { rec } = await recoverAll(dir);
  const { snapDir } = rec.layout;
  const log = await rec.openLog({ segmentBytes: 1 << 16 });
  log.append(records(z(1), 100));
  await log.sync();
  await log.close();
  writeSnapshotFileSync(nodeDisk, snapDir, { zxid: z(40), meta: new Uint8Array([1]), image: imageOf(5000, 1) });
  const newest = writeSnapshotFileSync(nodeDisk, snapDir, { zxid: z(80), meta: new Uint8Array([2]), image: imageOf(5000, 2) });
  // Flip one bit in the image of the newest.
  const fh = await open(newest, 'r+');
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, 1000);
  b[0] = b[0]! ^ 0x10;
  await fh.write(b, 0, 1, 1000);
  await fh.close();
  const back = await recoverAll(dir);
  assert.equal(back.rec.snapshot?.zxid, z(40));
  assert.deepEqual(back.rec.snapshot.meta, Buffer.from([1]));
  assert.deepEqual(back.warnings.map((w) => w.kind), ['corruptSnapshot']);
  assert.match(back.warnings[0]!.kind === 'corruptSnapshot' ? back.warnings[0]!.reason : '', /CRC32C mismatch/);
  assert.deepEqual(zxids(back.records), zxids(records(z(41), 60)));
  assert.equal(back.rec.lastZxid(), z(100));
});

test('truncated snapshot and a stale temp file: neither is used', async (t) => {
  const dir = await tempDir(t);
  const { rec } = await recoverAll(dir);
  const { snapDir } = rec.layout;
  writeSnapshotFileSync(nodeDisk, snapDir, { zxid: z(1), meta: new Uint8Array(0), image: imageOf(100, 3) });
  const p = writeSnapshotFileSync(nodeDisk, snapDir, { zxid: z(2), meta: new Uint8Array(0), image: imageOf(100, 4) });
  const fh = await open(p, 'r+');
  await fh.truncate((await stat(p)).size - 3);
  await fh.close();
  await writeFile(join(snapDir, 'snapshot.3.tmp'), 'half written');
  const back = await recoverAll(dir);
  assert.equal(back.rec.snapshot?.zxid, z(1));
  assert.deepEqual(back.warnings.map((w) => w.kind).sort(), ['corruptSnapshot', 'tempFileRemoved']);
  assert.deepEqual((await readdir(snapDir)).filter((n) => n.endsWith('.tmp')), []);
});

test('dataLogDir apart from dataDir: each gets version-2/', async (t) => {
  const a = await tempDir(t);
  const b = await tempDir(t);
  const { recover } = await import('../../src/server/storage/index.js');
  const rec = await recover(nodeDisk, { dataDir: a, dataLogDir: b });
  for await (const _ of rec.records) assert.fail('empty log');
  const log = await rec.openLog({ segmentBytes: 8192 });
  log.append(records(z(1), 3));
  await log.sync();
  await log.close();
  writeSnapshotFileSync(nodeDisk, rec.layout.snapDir, { zxid: z(2), meta: new Uint8Array(0), image: new Uint8Array(0) });
  assert.deepEqual(await readdir(join(a, 'version-2')), ['snapshot.100000002']);
  assert.deepEqual(await readdir(join(b, 'version-2')), ['log.100000001']);
  const again = await recover(nodeDisk, { dataDir: a, dataLogDir: b });
  const got: bigint[] = [];
  for await (const r of again.records) got.push(r.zxid);
  assert.deepEqual(got, [z(3)]);
});
