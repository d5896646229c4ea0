// A user's view of a 3-server ensemble: writes through a follower are forwarded and answered in
// order, every server serves the same tree (after sync), watches fire across servers before the
// data they announce is readable. One ensemble for the whole file (no faults here).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ZookooperClient } from '../../src/index.js';
import type { Ensemble } from '../cluster/harness.js';
import { clientOf, closeAll, ensembleTest, Events, startEnsemble, withRole } from './helpers.js';

describe('ensemble of 3: reads, writes and watches on every server', () => {
  let e: Ensemble;
  let leaderId: number;
  let followerIds: number[];
  const clients: ZookooperClient[] = [];
  const on = async (id: number): Promise<ZookooperClient> => {
    const zk = await clientOf(e.server(id));
    clients.push(zk);
    return zk;
  };

  before(async () => {
    e = await startEnsemble({ size: 3 });
    leaderId = await e.leader();
    followerIds = await withRole(e, 'follower');
    assert.equal(followerIds.length, 2, `two followers: ${JSON.stringify([...(await e.roles())])}`);
  });
  after(async () => {
    await closeAll(clients);
    await e?.stopAll();
  });

  test('pipelined creates and setData from a session on a follower come back in order, zxids increasing', async () => {
    const zk = await on(followerIds[0]!);
    await zk.create('/pipe', '');
    const order: number[] = [];
    const ops: Promise<bigint>[] = [];
    for (let i = 0; i < 60; i++) {
      const op = i % 3 === 2
        ? zk.setData('/pipe', `v${i}`).then((st) => st.mzxid)
        : zk.createWithStat(`/pipe/n${i}`, `d${i}`).then((r) => r.stat.czxid);
      ops.push(op.then((zxid) => (order.push(i), zxid)));
    }
    const zxids = await Promise.all(ops);
    assert.deepEqual(order, [...order].sort((a, b) => a - b), 'answered in the order sent');
    for (let i = 1; i < zxids.length; i++) assert.ok(zxids[i]! > zxids[i - 1]!, `zxid ${i} above ${i - 1}: ${zxids[i]} vs ${zxids[i - 1]}`);
    // Its own reads on the follower see its own writes at once (read-your-writes).
    const { data, stat } = await zk.getData('/pipe');
    assert.equal(data.toString(), 'v59');
    assert.equal(stat.mzxid, zxids[59]);
    assert.equal((await zk.getChildren('/pipe')).length, 40);
  });

  test('a write through one follower is seen by every server after sync; sync on a follower gives the latest state', async () => {
    const writer = await on(followerIds[0]!);
    await writer.create('/seen', 'a');
    const readers = await Promise.all(e.ids().map((id) => on(id)));
    for (let round = 0; round < 5; round++) {
      const st = await writer.setData('/seen', `r${round}`);
      for (const [i, r] of readers.entries()) {
        await r.sync('/seen');
        const { data, stat } = await r.getData('/seen');
        assert.equal(data.toString(), `r${round}`, `s${e.ids()[i]} after sync, round ${round}`);
        assert.equal(stat.mzxid, st.mzxid);
      }
    }
    // Through the leader too, read on the other follower.
    const viaLeader = await on(leaderId);
    const st = await viaLeader.setData('/seen', 'from-leader');
    const other = readers[e.ids().indexOf(followerIds[1]!)]!;
    await other.sync('/');
    assert.equal((await other.getData('/seen')).stat.mzxid, st.mzxid);
  });

  test('failed writes through a follower answer the same error as standalone and take no zxid', async () => {
    const zk = await on(followerIds[1]!);
    await zk.create('/fail', '');
    const before = (await zk.exists('/fail'))!;
    await assert.rejects(zk.create('/fail', ''), { code: 'NODEEXISTS' });
    await assert.rejects(zk.setData('/fail', 'x', 7), { code: 'BADVERSION' });
    await assert.rejects(zk.delete('/nope'), { code: 'NONODE' });
    const st = await zk.setData('/fail', 'y');
    // Nothing else writes in this file meanwhile: the next txn's zxid is the next counter.
    assert.equal(st.mzxid, before.czxid + 1n, 'the failed writes consumed no zxid');
  });

  test('a watch set on follower A fires for a change through follower B and through the leader, before the data is readable', async () => {
    const [a, b] = followerIds as [number, number];
    const watcherZk = await on(a);
    const writerB = await on(b);
    const writerL = await on(leaderId);
    await writerB.create('/w', 'v0');
    await watcherZk.sync('/w');
    for (const [who, writer, value] of [['follower B', writerB, 'v1'], ['the leader', writerL, 'v2']] as const) {
      const log: string[] = [];
      await watcherZk.getData('/w', { watch: (ev) => log.push(`event ${ev.type} ${ev.path}`) });
      // Read in a loop on A while B (or the leader) writes: the first read that returns the new
      // value must come after the event.
      let seenNew = false;
      const poller = (async () => {
        while (!seenNew) {
          const { data } = await watcherZk.getData('/w');
          if (data.toString() === value) {
            log.push(`read ${value}`);
            seenNew = true;
          }
        }
      })();
      await writer.setData('/w', value);
      await poller;
      assert.deepEqual(log, ['event dataChanged /w', `read ${value}`], `change through ${who}`);
    }
  });

  test('child and exists watches on a follower fire for creates and deletes through other servers', async () => {
    const [a, b] = followerIds as [number, number];
    const zkA = await on(a);
    const zkB = await on(b);
    const zkL = await on(leaderId);
    await zkL.create('/kids', '');
    await zkA.sync('/');
    const ev = new Events();
    await zkA.getChildren('/kids', { watch: ev.watcher });
    assert.equal(await zkA.exists('/kids/x', { watch: ev.watcher }), null);
    await zkB.create('/kids/x', '');
    await ev.next((x) => x.type === 'childrenChanged' && x.path === '/kids', 'childrenChanged /kids on A');
    await ev.next((x) => x.type === 'created' && x.path === '/kids/x', 'created /kids/x on A');
    await zkA.exists('/kids/x', { watch: ev.watcher });
    await zkL.delete('/kids/x');
    await ev.next((x) => x.type === 'deleted' && x.path === '/kids/x', 'deleted /kids/x on A');
  });

  test('a persistent recursive watch on a follower sees every change below it, from every server, in zxid order', async () => {
    const [a, b] = followerIds as [number, number];
    const zkA = await on(a);
    const zkB = await on(b);
    const zkL = await on(leaderId);
    await zkL.create('/rec', '');
    await zkA.sync('/');
    const ev = new Events();
    await zkA.addWatch('/rec', 'persistent_recursive', ev.watcher);
    await zkB.create('/rec/a', '');
    await zkL.create('/rec/a/b', '');
    await zkB.setData('/rec/a/b', 'x');
    await zkL.delete('/rec/a/b');
    await zkB.setData('/rec', 'top');
    await ev.next((x) => x.type === 'dataChanged' && x.path === '/rec', 'the last event');
    assert.deepEqual(
      ev.seen.map((x) => `${x.type} ${x.path}`),
      ['created /rec/a', 'created /rec/a/b', 'dataChanged /rec/a/b', 'deleted /rec/a/b', 'dataChanged /rec'],
    );
  });
});

describe('ensemble of 3: large writes', () => {
  let e: Ensemble;
  const clients: ZookooperClient[] = [];
  before(async () => {
    e = await startEnsemble({ size: 3 });
  });
  after(async () => {
    await closeAll(clients);
    await e?.stopAll();
  });

  test('pipelined 1 MiB writes through the leader and a follower (more than a peer frame, 16 MiB, in flight) all commit everywhere', async () => {
    const leaderId = await e.leader();
    const [f] = await withRole(e, 'follower');
    const viaLeader = await clientOf(e.server(leaderId), { sessionTimeoutMs: ensembleTest.sessionTimeoutMsMax });
    const viaFollower = await clientOf(e.server(f!), { sessionTimeoutMs: ensembleTest.sessionTimeoutMsMax });
    clients.push(viaLeader, viaFollower);
    const big = (i: number): Uint8Array => new Uint8Array(1_048_576).fill(i);
    await viaLeader.create('/big', '');
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 12; i++) {
      writes.push(viaLeader.create(`/big/l${i}`, big(i)));
      writes.push(viaFollower.create(`/big/f${i}`, big(100 + i)));
    }
    await Promise.all(writes);
    for (const s of e.servers) {
      const zk = await clientOf(s);
      clients.push(zk);
      await zk.sync('/big');
      assert.equal((await zk.getChildren('/big')).length, 24, `s${s.id}`);
      const { data } = await zk.getData('/big/f11');
      assert.equal(data.length, 1_048_576);
      assert.equal(data[0], 111);
    }
  });
});
