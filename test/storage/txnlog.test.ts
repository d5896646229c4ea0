import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { AssertionError } from '../../src/common/assert.js';
import { makeZxid } from '../../src/common/zxid.js';
import type { Disk } from '../../src/io/disk.js';
import { nodeDisk } from '../../src/io/node/disk.js';
import { storageLimits } from '../../src/server/storage/index.js';
import { payloadFor, recoverAll, records, tempDir, zxids } from './helpers.js';

const z = (n: number): bigint => makeZxid(1, n);

test('append + sync round trips every record, byte for byte', async (t) => {
  const dir = await tempDir(t);
  const { rec } = await recoverAll(dir);
  const log = await rec.openLog({ segmentBytes: 1 << 20 });
  const written = records(z(1), 500);
  for (let i = 0; i < written.length; i += 50) {
    log.append(written.slice(i, i + 50));
    await log.sync();
  }
  assert.equal(log.lastSyncedZxid, z(500));
  await log.close();
  const back = await recoverAll(dir);
  assert.deepEqual(zxids(back.records), zxids(written));
  for (let i = 0; i < written.length; i++) assert.deepEqual(back.records[i]!.bytes, written[i]!.bytes);
  assert.deepEqual(back.warnings, []);
  assert.equal(back.rec.lastZxid(), z(500));
  // One preallocated segment of exactly the configured size.
  const files = (await readdir(join(dir, 'version-2'))).filter((n) => n.startsWith('log.'));
  assert.deepEqual(files, ['log.100000001']);
  assert.equal((await stat(join(dir, 'version-2', files[0]!))).size, 1 << 20);
});

test('group commit: a batch is one write and one fdatasync', async (t) => {
  const dir = await tempDir(t);
  const { rec } = await recoverAll(dir);
  const log = await rec.openLog({ segmentBytes: 1 << 20 });
  log.append(records(z(1), 1)); // first sync creates the segment
  await log.sync();
  const before = { ...log.stats };
  log.append(records(z(2), 60));
  log.append(records(z(62), 40));
  await log.sync();
  assert.equal(log.stats.fdatasyncs - before.fdatasyncs, 1);
  assert.equal(log.stats.writes - before.writes, 1);
  assert.equal(log.stats.recordsSynced - before.recordsSynced, 100);
  await log.close();
  assert.deepEqual(zxids((await recoverAll(dir)).records), zxids(records(z(1), 101)));
});

test('appends during an in-flight sync go to the next sync; syncs resolve in order', async (t) => {
  const dir = await tempDir(t);
  const { rec } = await recoverAll(dir);
  const log = await rec.openLog({ segmentBytes: 1 << 20 });
  const order: number[] = [];
  log.append(records(z(1), 10));
  const s1 = log.sync().then(() => order.push(1));
  log.append(records(z(11), 10));
  const s2 = log.sync().then(() => {
    order.push(2);
    assert.equal(log.lastSyncedZxid, z(20));
  });
  await Promise.all([s1, s2]);
  assert.deepEqual(order, [1, 2]);
  await log.close();
  assert.deepEqual(zxids((await recoverAll(dir)).records), zxids(records(z(1), 20)));
});

test('segments roll when full, each named by its first zxid; a batch may span two', async (t) => {
  const dir = await tempDir(t);
  const { rec } = await recoverAll(dir);
  const segmentBytes = 4096;
  const log = await rec.openLog({ segmentBytes });
  const written = records(z(1), 300, 100); // 116 bytes each: 35 per segment
  for (let i = 0; i < written.length; i += 25) {
    log.append(written.slice(i, i + 25));
    await log.sync();
  }
  await log.close();
  const names = (await readdir(join(dir, 'version-2'))).filter((n) => n.startsWith('log.')).sort();
  const perSegment = Math.floor((segmentBytes - storageLimits.logSegmentHeaderBytes) / 116);
  assert.equal(names.length, Math.ceil(300 / perSegment));
  for (let i = 0; i < names.length; i++) {
    assert.ok(names.includes(`log.${z(1 + i * perSegment).toString(16)}`), `segment ${i} named by its first zxid`);
  }
  assert.deepEqual(zxids((await recoverAll(dir)).records), zxids(written));
});

test('zxids must strictly increase; a gap starts a new segment, a new epoch does not', async (t) => {
  const dir = await tempDir(t);
  const { rec } = await recoverAll(dir);
  const log = await rec.openLog({ segmentBytes: 1 << 16 });
  log.append(records(z(1), 5));
  assert.throws(() => log.append([{ zxid: z(5), bytes: payloadFor(z(5)) }]), AssertionError);
  assert.throws(() => log.append([{ zxid: z(3), bytes: payloadFor(z(3)) }]), AssertionError);
  await log.sync();
  log.append(records(makeZxid(2, 1), 3)); // new epoch: follows, same segment
  log.append(records(makeZxid(2, 10), 2)); // gap (a SNAP sync jumped ahead): new segment
  await log.sync();
  await log.close();
  const names = (await readdir(join(dir, 'version-2'))).filter((n) => n.startsWith('log.')).sort();
  assert.deepEqual(names, ['log.100000001', 'log.20000000a']);
  // Replaying from nothing crosses the gap: that is an error (no snapshot covers it).
  await assert.rejects(recoverAll(dir), /gap in zxids: 0x200000003 then 0x20000000a/);
});

test('records above the bound and unbounded pending bytes are refused', async (t) => {
  const dir = await tempDir(t);
  const { rec } = await recoverAll(dir);
  const log = await rec.openLog({ segmentBytes: 4096 });
  assert.throws(() => log.append([{ zxid: z(1), bytes: new Uint8Array(5000) }]), /fits an empty segment/);
  await log.close();
});

test('recovery then append continues in the same segment, and again after restart', async (t) => {
  const dir = await tempDir(t);
  let expected: bigint[] = [];
  for (let round = 0; round < 4; round++) {
    const { rec, records: got } = await recoverAll(dir);
    assert.deepEqual(zxids(got), expected);
    const log = await rec.openLog({ segmentBytes: 1 << 16 });
    const batch = records(z(expected.length + 1), 30);
    log.append(batch);
    await log.sync();
    await log.close();
    expected = [...expected, ...zxids(batch)];
  }
  const names = (await readdir(join(dir, 'version-2'))).filter((n) => n.startsWith('log.'));
  assert.deepEqual(names, ['log.100000001'], 'a clean tail is reused, not rolled');
  assert.deepEqual(zxids((await recoverAll(dir)).records), expected);
});

test('with syncInline off, sync() never blocks the calling thread: no blocking write or fdatasync', async (t) => {
  const dir = await tempDir(t);
  const blocking: string[] = [];
  const disk: Disk = {
    ...nodeDisk,
    async open(path, mode) {
      const f = await nodeDisk.open(path, mode);
      return {
        path: f.path,
        read: (...a) => f.read(...a),
        write: (...a) => f.write(...a),
        writeSync: (...a) => (blocking.push('writeSync'), f.writeSync(...a)),
        datasync: () => f.datasync(),
        datasyncSync: () => (blocking.push('datasyncSync'), f.datasyncSync()),
        sync: () => f.sync(),
        syncSync: () => (blocking.push('syncSync'), f.syncSync()),
        size: () => f.size(),
        truncate: (n) => f.truncate(n),
        close: () => f.close(),
        closeSync: () => f.closeSync(),
      };
    },
  };
  const offThread = await (await recoverAll(dir, {}, disk)).rec.openLog({ segmentBytes: 1 << 20, syncInline: false });
  for (let i = 0; i < 5; i++) {
    offThread.append(records(z(1 + i * 10), 10));
    await offThread.sync();
  }
  assert.equal(blocking.length, 0, `blocking calls: ${blocking.join(', ')}`);
  assert.equal(offThread.stats.fdatasyncs, 5, 'one fdatasync per sync() (the first one rolls the segment: its fsyncs are the spare and the directory)');
  await offThread.close();
  assert.deepEqual(zxids((await recoverAll(dir)).records), zxids(records(z(1), 50)));
  // The default (the standalone write loop) does block: the control that this test can see it.
  const dir2 = await tempDir(t);
  const inline = await (await recoverAll(dir2, {}, disk)).rec.openLog({ segmentBytes: 1 << 20 });
  for (let i = 0; i < 3; i++) {
    inline.append(records(z(1 + i * 10), 10));
    await inline.sync();
  }
  assert.ok(blocking.includes('datasyncSync'));
  await inline.close();
});
