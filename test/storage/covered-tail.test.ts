// Recovery reads only the records of a last segment that the snapshot covers (not its zero
// fill), cuts it there, and appends continue in a new segment.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeZxid } from '../../src/common/zxid.js';
import type { Disk, DiskFile } from '../../src/io/disk.js';
import { listLogSegments, storageLayout, writeSnapshotFile } from '../../src/server/storage/index.js';
import { diskCases } from './disks.js';
import { recoverAll, records, zxids } from './helpers.js';

const z = (n: number): bigint => makeZxid(1, n);
const segmentBytes = 8 * 1_048_576;

/** Counts the bytes storage reads through a Disk. */
function counting(inner: Disk): { disk: Disk; bytesRead: () => number } {
  let total = 0;
  const wrap = (f: DiskFile): DiskFile => ({
    path: f.path,
    read: async (into, offset, length, position) => {
      const n = await f.read(into, offset, length, position);
      total += n;
      return n;
    },
    write: (b, o, l, p) => f.write(b, o, l, p),
    writeSync: (b, o, l, p) => f.writeSync(b, o, l, p),
    datasync: () => f.datasync(),
    datasyncSync: () => f.datasyncSync(),
    sync: () => f.sync(),
    syncSync: () => f.syncSync(),
    size: () => f.size(),
    truncate: (n) => f.truncate(n),
    close: () => f.close(),
    closeSync: () => f.closeSync(),
  });
  const disk: Disk = {
    open: async (path, mode) => wrap(await inner.open(path, mode)),
    openSync: (path, mode) => wrap(inner.openSync(path, mode)),
    readFile: async (path) => {
      const b = await inner.readFile(path);
      total += b.length;
      return b;
    },
    size: (p) => inner.size(p),
    rename: (a, b) => inner.rename(a, b),
    renameSync: (a, b) => inner.renameSync(a, b),
    unlink: (p) => inner.unlink(p),
    unlinkSync: (p) => inner.unlinkSync(p),
    list: (d) => inner.list(d),
    mkdirp: (d) => inner.mkdirp(d),
    fsyncDir: (d) => inner.fsyncDir(d),
    fsyncDirSync: (d) => inner.fsyncDirSync(d),
  };
  return { disk, bytesRead: () => total };
}

async function appendAll(disk: Disk, dataDir: string, first: bigint, count: number): Promise<void> {
  const { rec } = await recoverAll(dataDir, {}, disk);
  const log = await rec.openLog({ segmentBytes });
  log.append(records(first, count));
  await log.sync();
  await log.close();
}

for (const dc of diskCases) {
  test(`${dc.name}: a snapshot-covered last segment is read up to its records only`, async (t) => {
    const { disk: base, dataDir } = await dc.setup(t);
    await appendAll(base, dataDir, z(1), 50);
    const layout = storageLayout({ dataDir }, base);
    await writeSnapshotFile(base, layout.snapDir, { zxid: z(50), meta: new Uint8Array(0), image: new Uint8Array(8), createdMs: 0 });

    const c = counting(base);
    const back = await recoverAll(dataDir, {}, c.disk);
    assert.deepEqual(back.records, [], 'the snapshot covers the log');
    assert.equal(back.rec.lastZxid(), z(50));
    assert.ok(c.bytesRead() < 3 * 1_048_576, `read ${c.bytesRead()} bytes, not the ${segmentBytes}-byte segment`);
    assert.deepEqual(back.warnings, []);
    const [seg] = await listLogSegments(base, layout.logDir);
    assert.ok((await base.size(seg!.path)) < 1_048_576, 'the covered segment was cut at its last record');

    // Appends go to a new segment; a snapshot that does NOT cover the tail means a full read.
    const log = await back.rec.openLog({ segmentBytes });
    log.append(records(z(51), 10));
    await log.sync();
    await log.close();
    assert.equal((await listLogSegments(base, layout.logDir)).length, 2);
    const c2 = counting(base);
    const again = await recoverAll(dataDir, {}, c2.disk);
    assert.deepEqual(zxids(again.records), zxids(records(z(51), 10)));
    assert.ok(c2.bytesRead() >= segmentBytes, 'a tail above the snapshot is read and checked whole');
  });

  test(`${dc.name}: garbage after the end marker of a covered segment is cut, not an error`, async (t) => {
    const { disk, dataDir } = await dc.setup(t);
    await appendAll(disk, dataDir, z(1), 20);
    const layout = storageLayout({ dataDir }, disk);
    await writeSnapshotFile(disk, layout.snapDir, { zxid: z(20), meta: new Uint8Array(0), image: new Uint8Array(8), createdMs: 0 });
    const [seg] = await listLogSegments(disk, layout.logDir);
    const f = await disk.open(seg!.path, 'r+');
    await f.write(Buffer.from([0, 0, 0, 0, 9, 9, 9, 9]), 0, 8, 2 * 1_048_576 + 5); // an unsynced write's leftovers
    await f.sync();
    await f.close();
    const back = await recoverAll(dataDir, {}, disk);
    assert.equal(back.rec.lastZxid(), z(20));
    const log = await back.rec.openLog({ segmentBytes });
    log.append(records(z(21), 5));
    await log.sync();
    await log.close();
    const again = await recoverAll(dataDir, {}, disk);
    assert.deepEqual(zxids(again.records), zxids(records(z(21), 5)));
  });
}
