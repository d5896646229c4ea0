// storage-adapter's ensemble surface on real files: epochs, history window, TRUNC and SNAP with
// a reload into a new tree, and that writes continue afterwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { defaultConfig, finish } from '../../src/common/config.js';
import { makeZxid } from '../../src/common/zxid.js';
import { op } from '../pipeline/harness.js';
import { SessionManager } from '../../src/server/sessions/manager.js';
import { openStorage, type Storage } from '../../src/server/storage-adapter.js';
import { tempDir } from './helpers.js';

const logger = pino({ level: 'silent' });
const z = (n: number): bigint => makeZxid(1, n);

async function open(dataDir: string): Promise<Storage> {
  const config = finish({ ...defaultConfig(), dataDir, dataLogDir: '', purgeIntervalMs: 0 });
  return openStorage(config, logger, new SessionManager(config.tickMs, 1, 0));
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
