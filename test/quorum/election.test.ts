// Fast leader election as ZooKeeper's: one round when servers agree, the most up-to-date server
// wins (epoch, zxid, id), a restarted server joins the running leader instead of disrupting it,
// observers never vote. Driven through the deterministic simulator (test/sim).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Cluster } from '../sim/cluster.js';

test('a fresh ensemble elects in one round: the highest id wins when logs are equal', () => {
  for (const n of [3, 5]) {
    for (let seed = 1; seed <= 20; seed++) {
      const c = new Cluster({ voters: n, observers: 1, seed, reconnectTicksMax: 1 });
      const l = c.stabilize();
      assert.equal(l, n, 'highest id');
      for (const id of c.ids) assert.equal(c.server(id).core!.logicalClock, 1, `server ${id} needed more than one round`);
      for (const id of c.ids) assert.equal(c.server(id).roles.length, 2, 'looking, then its final role');
    }
  }
});

test('the server with the longest log of the newest epoch wins, whatever its id', () => {
  const c = new Cluster({ voters: 3, seed: 5 });
  const l1 = c.stabilize();
  c.crash(1);
  for (let i = 0; i < 3; i++) c.writeAndWait(l1, i);
  const lowest = c.ids.find((id) => id !== l1 && id !== 1)!;
  c.crash(l1);
  c.start(1); // behind: it must not win
  const l2 = c.stabilize();
  assert.equal(l2, lowest);
  assert.ok(c.server(l2).core!.epoch() > c.server(1).disk.currentEpoch - 1);
});

test('a restarted follower joins the running leader without a new election', () => {
  const c = new Cluster({ voters: 5, observers: 1, seed: 9 });
  const l = c.stabilize();
  c.writeAndWait(l, 1);
  const epoch = c.server(l).core!.epoch();
  const rolesBefore = new Map(c.ids.map((id) => [id, c.server(id).roles.length]));
  for (const f of [1, 6]) { // a follower and the observer
    c.restart(f);
    c.stabilize();
    assert.equal(c.leader(), l);
    assert.equal(c.server(l).core!.epoch(), epoch, 'no new epoch');
    assert.equal(c.server(f).core!.leaderId(), l);
  }
  for (const id of c.ids) if (id !== 1 && id !== 6) assert.equal(c.server(id).roles.length, rolesBefore.get(id), `server ${id} kept its role`);
  c.writeAndWait(1, 2);
});

test('a leader that is restarted is replaced in a new epoch', () => {
  const c = new Cluster({ voters: 3, seed: 3 });
  const l = c.stabilize();
  const epoch = c.server(l).core!.epoch();
  c.restart(l);
  const l2 = c.stabilize();
  assert.ok(c.server(l2).core!.epoch() > epoch);
});

test('observers never lead and never count for a quorum', () => {
  const c = new Cluster({ voters: 1, observers: 2, seed: 4 });
  assert.equal(c.stabilize(), 1, 'a single voter leads alone');
  c.writeAndWait(2, 1);
  c.crash(1);
  c.runTicks(100);
  assert.equal(c.leader(), null, 'two observers elect nobody');
  for (const id of [2, 3]) assert.equal(c.server(id).core!.state(), 'looking');
});
