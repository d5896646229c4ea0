import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { nodeDisk } from '../../src/io/node/disk.js';
import { makeZxid } from '../../src/common/zxid.js';
import { createJobPool } from '../../src/server/jobs/pool.js';
import { purge, purgePlan, writeSnapshotFileSync } from '../../src/server/storage/index.js';
import { recoverAll, records, tempDir, zxids } from './helpers.js';

const z = (n: number): bigint => makeZxid(1, n);
const f = (kind: string, n: number) => ({ zxid: z(n), name: `${kind}.${z(n).toString(16)}`, path: `/x/${n}` });

test('purgePlan keeps the newest N snapshots and the logs from the oldest kept one', () => {
  const snaps = [10, 20, 30, 40, 50].map((n) => f('snapshot', n));
  const logs = [1, 15, 25, 35, 45].map((n) => f('log', n));
  const plan = purgePlan(snaps, logs, 3);
  assert.deepEqual(plan.snaps.map((s) => s.zxid), [z(10), z(20)]);
  // Oldest kept snapshot is 30: log.25 may hold 31.., so it stays; log.1 and log.15 go.
  assert.deepEqual(plan.logs.map((s) => s.zxid), [z(1), z(15)]);
  // A segment starting exactly at snapshot+1 makes the one before it unnecessary.
  assert.deepEqual(purgePlan(snaps, [1, 25, 31].map((n) => f('log', n)), 3).logs.map((s) => s.zxid), [z(1), z(25)]);
  // Fewer snapshots than retained: logs before the oldest still go; no snapshot: keep all.
  assert.deepEqual(purgePlan(snaps.slice(0, 2), logs, 3).logs.map((s) => s.zxid), []);
  assert.deepEqual(purgePlan(snaps.slice(2, 4), logs, 3).logs.map((s) => s.zxid), [z(1), z(15)]);
  assert.deepEqual(purgePlan([], logs, 3), { snaps: [], logs: [], oldest: null });
  assert.throws(() => purgePlan(snaps, logs, 2), /at least 3/);
});

test('purge on disk (in the job pool): recovery still works from every kept snapshot', async (t) => {
  const dir = await tempDir(t);
  const { rec } = await recoverAll(dir);
  const log = await rec.openLog({ segmentBytes: 4096 });
  for (let i = 1; i <= 600; i += 20) {
    log.append(records(z(i), 20));
    await log.sync();
    if (i % 100 === 1) writeSnapshotFileSync(nodeDisk, rec.layout.snapDir, { zxid: z(i + 19), meta: new Uint8Array(0), image: new Uint8Array(8) });
  }
  await log.close();
  const v2 = join(dir, 'version-2');
  const before = await readdir(v2);
  const jobs = createJobPool({ maxThreads: 1 });
  t.after(() => jobs.close());
  const result = await jobs.purge({ dataDir: dir }, { retain: 1 }); // raised to 3, as ZooKeeper
  assert.equal(result.oldestRetainedZxid, z(320));
  assert.equal(result.deletedSnapshots.length, 3);
  assert.ok(result.deletedLogs.length > 5);
  const after = await readdir(v2);
  assert.equal(after.length, before.length - result.deletedSnapshots.length - result.deletedLogs.length);
  assert.deepEqual(after.filter((n) => n.startsWith('snapshot.')).sort(), ['snapshot.100000140', 'snapshot.1000001a4', 'snapshot.100000208']);
  // Drop the two newest snapshots: recovery from the oldest kept one must still find its log.
  const { unlink } = await import('node:fs/promises');
  await unlink(join(v2, 'snapshot.100000208'));
  await unlink(join(v2, 'snapshot.1000001a4'));
  const back = await recoverAll(dir);
  assert.equal(back.rec.snapshot?.zxid, z(320));
  assert.deepEqual(zxids(back.records), zxids(records(z(321), 280)));
  // Purging a second time deletes nothing more.
  const again = await purge(nodeDisk, { dataDir: dir }, { retain: 3 });
  assert.deepEqual([again.deletedLogs, again.deletedSnapshots], [[], []]);
});
