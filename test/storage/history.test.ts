// TRUNC and SNAP on the log (history.ts), on both disks, and through crashes at every disk call.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeZxid } from '../../src/common/zxid.js';
import type { Disk } from '../../src/io/disk.js';
import { installSnapshot, listLogSegments, listSnapshots, storageLayout, TruncateError, truncateLog, writeSnapshotFile } from '../../src/server/storage/index.js';
import { SimDisk } from '../io/sim-disk.js';
import { diskCases } from './disks.js';
import { payloadFor, recoverAll, records, zxids } from './helpers.js';

const z = (n: number): bigint => makeZxid(1, n);
const segmentBytes = 4096; // ~25 records per segment: truncation crosses segments

function imageFor(zxid: bigint): Uint8Array {
  return Buffer.from(`image at ${zxid}`);
}

/** Appends records 1..count (batches of 7) and writes a snapshot at each zxid in snapAt. */
async function buildHistory(disk: Disk, dataDir: string, count: number, snapAt: number[]): Promise<void> {
  const { rec } = await recoverAll(dataDir, {}, disk);
  const log = await rec.openLog({ segmentBytes });
  const rs = records(z(1), count);
  for (let i = 0; i < rs.length; i += 7) {
    log.append(rs.slice(i, i + 7));
    await log.sync();
  }
  await log.close();
  for (const n of snapAt) await writeSnapshotFile(disk, rec.layout.snapDir, { zxid: z(n), meta: new Uint8Array(0), image: imageFor(z(n)), createdMs: 0 });
}

/** The history recovery gives: the snapshot it starts from and every zxid after it. */
async function history(disk: Disk, dataDir: string): Promise<{ snap: bigint | null; zxids: bigint[]; last: bigint | null }> {
  const back = await recoverAll(dataDir, {}, disk);
  for (const r of back.records) assert.deepEqual(r.bytes, payloadFor(r.zxid), `payload of ${r.zxid}`);
  if (back.rec.snapshot) assert.deepEqual(Buffer.from(back.rec.snapshot.image), Buffer.from(imageFor(back.rec.snapshot.zxid)));
  return { snap: back.rec.snapshot?.zxid ?? null, zxids: zxids(back.records), last: back.rec.lastZxid() };
}

function range(from: number, to: number): bigint[] {
  const out: bigint[] = [];
  for (let i = from; i <= to; i++) out.push(z(i));
  return out;
}

for (const dc of diskCases) {
  test(`${dc.name}: truncateLog cuts across segments, drops newer snapshots, appends continue`, async (t) => {
    for (const cut of [120, 100, 75, 76, 50, 199, 200]) {
      const { disk, dataDir } = await dc.setup(t);
      await buildHistory(disk, dataDir, 200, [50, 150]);
      const layout = storageLayout({ dataDir }, disk);
      const before = await listLogSegments(disk, layout.logDir);
      assert.ok(before.length >= 6, `the history spans segments (${before.length})`);
      const r = await truncateLog(layout, z(cut));
      assert.deepEqual((await listSnapshots(disk, layout.snapDir)).map((s) => s.zxid), cut >= 150 ? [z(50), z(150)] : [z(50)], `cut ${cut}: snapshots above it deleted`);
      assert.equal(r.deletedSnapshots.length, cut >= 150 ? 0 : 1);
      for (const s of await listLogSegments(disk, layout.logDir)) assert.ok(s.zxid <= z(cut), `cut ${cut}: no segment starts above it`);
      const h = await history(disk, dataDir);
      assert.equal(h.last, z(cut), `cut ${cut}: recovery ends at the cut`);
      const snap = cut >= 150 ? 150 : cut >= 50 ? 50 : null;
      assert.equal(h.snap, snap === null ? null : z(snap));
      assert.deepEqual(h.zxids, range((snap ?? 0) + 1, cut), `cut ${cut}: exactly the history through the cut`);

      // Appends continue above the cut (a new leader's epoch here), and survive a restart.
      const back = await recoverAll(dataDir, {}, disk);
      const log = await back.rec.openLog({ segmentBytes });
      log.append(records(makeZxid(2, 1), 30));
      await log.sync();
      await log.close();
      const after = await history(disk, dataDir);
      assert.equal(after.last, makeZxid(2, 30));
      assert.deepEqual(after.zxids.slice(0, after.zxids.length - 30), range((snap ?? 0) + 1, cut));
    }
  });

  test(`${dc.name}: truncateLog refuses when every snapshot is above the cut`, async (t) => {
    const { disk, dataDir } = await dc.setup(t);
    await buildHistory(disk, dataDir, 60, [40]);
    const layout = storageLayout({ dataDir }, disk);
    await assert.rejects(truncateLog(layout, z(30)), TruncateError);
    const h = await history(disk, dataDir);
    assert.equal(h.last, z(60), 'nothing changed');
  });

  test(`${dc.name}: installSnapshot replaces the history; the log restarts after the snapshot`, async (t) => {
    for (const nextFirst of [z(81), makeZxid(2, 1)]) {
      const { disk, dataDir } = await dc.setup(t);
      await buildHistory(disk, dataDir, 100, [50, 90]);
      const layout = storageLayout({ dataDir }, disk);
      const r = await installSnapshot(layout, { zxid: z(80), meta: new Uint8Array([9]), image: imageFor(z(80)), createdMs: 0 });
      assert.equal(r.deletedSnapshots.length, 1, 'the snapshot above the installed one is gone');
      assert.deepEqual(await listLogSegments(disk, layout.logDir), []);
      const h = await history(disk, dataDir);
      assert.deepEqual(h, { snap: z(80), zxids: [], last: z(80) });

      const back = await recoverAll(dataDir, {}, disk);
      const log = await back.rec.openLog({ segmentBytes });
      log.append(records(nextFirst, 40));
      await log.sync();
      await log.close();
      const after = await history(disk, dataDir);
      assert.equal(after.snap, z(80));
      assert.deepEqual(after.zxids, zxids(records(nextFirst, 40)), 'a first segment starting after the snapshot is accepted');
    }
  });
}

/** Runs `op` with a power loss at its k-th disk call, for k = 1, 2, ... until it completes. */
async function crashAtEveryStep(
  build: (disk: SimDisk) => Promise<void>,
  op: (disk: SimDisk) => Promise<unknown>,
  check: (disk: SimDisk, k: number, completed: boolean) => Promise<void>,
): Promise<number> {
  for (let k = 1; ; k++) {
    const disk = new SimDisk(k);
    disk.mkdirDurable('/data');
    await build(disk);
    disk.scheduleCrash(k, { unsynced: k % 2 === 0 ? 'none' : 'prefix' });
    let completed = true;
    try {
      await op(disk);
    } catch (err) {
      assert.ok(disk.crashed, `step ${k}: only the crash fails: ${(err as Error).message}`);
      completed = false;
    }
    let after = disk.crashed ? disk.restarted() : disk.crash();
    // A second power loss while recovery finishes the interrupted work: redoing it must be safe.
    after.scheduleCrash(1 + ((k * 7) % 13));
    try {
      await recoverAll('/data', {}, after);
      after.cancelScheduledCrash();
    } catch (err) {
      assert.ok(after.crashed, `step ${k}: only the crash fails recovery: ${(err as Error).message}`);
      after = after.restarted();
    }
    await check(after, k, completed);
    if (completed) return k;
  }
}

test('sim disk: a crash at any step of truncateLog leaves the old or the truncated history', async (t) => {
  let sawOld = 0;
  let sawNew = 0;
  const steps = await crashAtEveryStep(
    (disk) => buildHistory(disk, '/data', 200, [50, 150]),
    (disk) => truncateLog(storageLayout({ dataDir: '/data' }, disk), z(120)),
    async (disk, k, completed) => {
      const h = await history(disk, '/data');
      const old = h.last === z(200);
      assert.ok(old || h.last === z(120), `step ${k}: recovered up to ${h.last}`);
      if (old) {
        assert.ok(!completed, `step ${k}: a completed truncation is durable`);
        assert.deepEqual(h.zxids, range(151, 200), `step ${k}: the old history, whole`);
        sawOld++;
      } else {
        assert.deepEqual(h.zxids, range(51, 120), `step ${k}: the truncated history, whole`);
        sawNew++;
      }
      // The truncated state takes appends; the old one too.
      const back = await recoverAll('/data', {}, disk);
      const log = await back.rec.openLog({ segmentBytes });
      log.append(records(makeZxid(2, 1), 3));
      await log.sync();
      await log.close();
      assert.equal((await history(disk, '/data')).last, makeZxid(2, 3));
    },
  );
  t.diagnostic(`${steps} steps; old history after ${sawOld} crashes, truncated after ${sawNew}`);
  assert.ok(sawOld > 0 && sawNew > 1, 'crashes landed before and after the intent became durable');
});

test('sim disk: a crash at any step of installSnapshot leaves the old state or the installed one', async (t) => {
  let sawOld = 0;
  let sawNew = 0;
  const steps = await crashAtEveryStep(
    (disk) => buildHistory(disk, '/data', 100, [50, 90]),
    (disk) => installSnapshot(storageLayout({ dataDir: '/data' }, disk), { zxid: z(80), meta: new Uint8Array(0), image: imageFor(z(80)), createdMs: 0 }),
    async (disk, k, completed) => {
      const h = await history(disk, '/data');
      if (h.snap === z(90)) {
        assert.ok(!completed, `step ${k}: a completed install is durable`);
        assert.deepEqual(h.zxids, range(91, 100), `step ${k}: the old state, whole`);
        sawOld++;
      } else {
        assert.deepEqual(h, { snap: z(80), zxids: [], last: z(80) }, `step ${k}: the installed snapshot and nothing of the old log`);
        sawNew++;
      }
    },
  );
  t.diagnostic(`${steps} steps; old state after ${sawOld} crashes, installed after ${sawNew}`);
  assert.ok(sawOld > 0 && sawNew > 1, 'crashes landed before and after the intent became durable');
});
