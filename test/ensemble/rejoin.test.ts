// Servers that come back: a restarted follower (or the old leader) joins the existing leader
// without disrupting it (same leader, same epoch), catches up with what was written while it was
// down (DIFF), a server with a wiped data dir gets the whole tree (SNAP), and each then serves
// that state to its own clients.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ZookooperClient } from '../../src/index.js';
import type { Ensemble } from '../cluster/harness.js';
import { clientOf, closeAll, jsonPage, startEnsemble, withRole } from './helpers.js';

describe('ensemble of 3: servers rejoining', () => {
  let e: Ensemble;
  const clients: ZookooperClient[] = [];
  const on = async (id: number): Promise<ZookooperClient> => {
    const zk = await clientOf(e.server(id));
    clients.push(zk);
    return zk;
  };
  const epochOf = async (id: number): Promise<unknown> => (await jsonPage(e.server(id), 'stat')).epoch;
  /** Every child of `path` as server `id` serves it after a sync. */
  const childrenOn = async (id: number, path: string): Promise<string[]> => {
    const zk = await on(id);
    await zk.sync(path);
    return (await zk.getChildren(path)).sort();
  };

  before(async () => {
    e = await startEnsemble({ size: 3 });
  });
  after(async () => {
    await closeAll(clients);
    await e?.stopAll();
  });

  test('a follower killed and restarted rejoins the same leader in the same epoch and serves what was written meanwhile', async () => {
    const leaderId = await e.leader();
    const epoch = await epochOf(leaderId);
    const [f] = await withRole(e, 'follower');
    const writer = await on(leaderId);
    await writer.create('/diff', '');
    await e.server(f!).kill9();
    const names: string[] = [];
    for (let i = 0; i < 200; i++) names.push((await writer.create(`/diff/n${i}`, `${i}`)).slice('/diff/'.length));
    await e.server(f!).start();
    await e.settled();
    assert.equal(await e.leader(), leaderId, 'the leader stayed');
    assert.equal(await epochOf(leaderId), epoch, 'no new epoch');
    assert.equal(await epochOf(f!), epoch);
    assert.deepEqual(await childrenOn(f!, '/diff'), names.sort());
    // And it takes part again: a write through it is seen on the leader.
    const viaF = await on(f!);
    const st = await viaF.setData('/diff', 'back');
    await writer.sync('/diff');
    assert.equal((await writer.getData('/diff')).stat.mzxid, st.mzxid);
  });

  test('a follower restarted with a wiped data dir gets the whole tree from the leader (SNAP) and serves it', async () => {
    const leaderId = await e.leader();
    const [f] = await withRole(e, 'follower');
    const writer = await on(leaderId);
    await writer.create('/snap', '');
    for (let i = 0; i < 100; i++) await writer.create(`/snap/n${i}`, `${i}`);
    const expected = await childrenOn(leaderId, '/snap');
    const s = e.server(f!);
    await s.kill9();
    rmSync(s.dataDir, { recursive: true, force: true });
    await s.start();
    await e.settled();
    assert.equal(await e.leader(), leaderId);
    assert.deepEqual(await childrenOn(f!, '/snap'), expected);
    assert.deepEqual(await childrenOn(f!, '/diff'), await childrenOn(leaderId, '/diff'));
    const zk = await on(f!);
    assert.equal((await zk.getData('/snap/n99')).data.toString(), '99');
    // The SNAP was written to its snapshot file as it arrived (format 2), nothing temporary is left,
    // and a restart recovers from that file.
    const snapDir = join(s.dataDir, 'version-2');
    const names = readdirSync(snapDir);
    assert.deepEqual(names.filter((n) => n.endsWith('.tmp')), [], 'no temp file left');
    const snaps = names.filter((n) => /^snapshot\.[0-9a-f]+$/.test(n));
    assert.equal(snaps.length, 1, `one snapshot: ${names.join(', ')}`);
    assert.equal(readFileSync(join(snapDir, snaps[0]!)).readUInt32LE(4), 2, 'snapshot format 2 (the SNAP body as it arrived)');
    const file = join(snapDir, snaps[0]!);
    const before = statSync(file);
    await s.kill9();
    await s.start();
    await e.settled();
    assert.equal((await (await on(f!)).getData('/snap/n99')).data.toString(), '99');
    // Loaded, not replaced: a file it could not load would have meant another SNAP, a new file.
    const afterRestart = statSync(file);
    assert.deepEqual([afterRestart.ino, afterRestart.mtimeMs], [before.ino, before.mtimeMs], 'the restart recovered from the SNAP file');
    assert.ok(!s.lines.some((l) => /corrupt/i.test(l)), 'no snapshot was refused');
  });

  test('the old leader, restarted after a failover, follows the new leader and serves the writes it missed', async () => {
    const oldLeader = await e.leader();
    await e.server(oldLeader).kill9();
    const next = await e.leader();
    const epoch = await epochOf(next);
    const writer = await on(next);
    await writer.create('/after-failover', '');
    for (let i = 0; i < 50; i++) await writer.create(`/after-failover/n${i}`, '');
    await e.server(oldLeader).start();
    await e.settled();
    assert.equal(await e.leader(), next, 'the new leader stayed');
    assert.equal(await epochOf(oldLeader), epoch);
    assert.equal((await e.roles()).get(oldLeader), 'follower');
    assert.equal((await childrenOn(oldLeader, '/after-failover')).length, 50);
  });
});
