// A leader logs txns no follower acknowledges (both followers are stopped, then killed with the
// proposals unread in their sockets), dies, and restarts after the others moved to a new epoch:
// its whole log is replayed into its tree at start-up, the unacknowledged tail included. When it
// joins the new leader that tail must vanish from its log and its tree (a TRUNC, and a reload),
// while the new epoch's txns arrive.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, ZookooperError } from '../../src/index.js';
import { Ensemble } from '../cluster/harness.js';

const deadlineMs = 60_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a leader restarted with an unacknowledged log tail rejoins the new epoch: the tail is truncated from its log and tree', async () => {
  const ens = await Ensemble.start({ size: 3, tickMs: 100, syncLimitMs: 1_000, proxies: false, logLevel: 'info' });
  try {
    const old = await ens.leader(deadlineMs);
    await ens.settled(deadlineMs);
    const others = ens.ids().filter((id) => id !== old);
    const zk = await connect(ens.server(old).address, { sessionTimeoutMs: 20_000, connectTimeoutMs: 1_000 });
    await zk.create('/a', 'committed');
    for (const id of others) ens.server(id).pause();
    // Proposed and logged by the old leader alone: never acknowledged by anyone.
    const tail = Array.from({ length: 20 }, (_, i) => zk.create(`/tail-${i}`, '').catch((e: unknown) => (e instanceof ZookooperError ? e.code : 'error')));
    await sleep(300);
    await ens.server(old).kill9();
    await Promise.all(tail);
    await zk.close().catch(() => {});
    // The followers die too while stopped: the proposals waiting unread in their sockets are lost.
    for (const id of others) await ens.server(id).kill9();
    for (const id of others) await ens.server(id).start();
    // The two others elect a leader and commit new txns in a new epoch.
    const next = await ens.leader(deadlineMs);
    assert.notEqual(next, old);
    const zk2 = await connect(others.map((id) => ens.server(id).address).join(','), { sessionTimeoutMs: 20_000 });
    await zk2.create('/b', 'after');
    // The old leader starts while the others are stopped (it cannot join), then stops cleanly.
    for (const id of others) ens.server(id).pause();
    await ens.server(old).start();
    await sleep(500);
    await ens.server(old).stop();
    for (const id of others) ens.server(id).resume();
    await ens.server(old).start();
    await ens.settled(deadlineMs);
    const zk3 = await connect(ens.server(old).address, { sessionTimeoutMs: 20_000 });
    await zk3.sync('/');
    assert.equal((await zk3.getData('/b')).data.toString(), 'after', 'the old leader has the new epoch');
    const children = await zk3.getChildren('/');
    assert.deepEqual(children.filter((c) => c.startsWith('tail-')), [], 'its unacknowledged tail is gone');
    assert.equal(ens.server(old).status, 'running');
    // Cut by a TRUNC of its log: had the clean stop snapshotted the tail, the new leader could
    // only have replaced this server's whole state (a SNAP of every znode).
    assert.ok(ens.server(old).lines.some((l) => /TRUNC: local state reloaded/.test(l)), 'the tail was cut by a TRUNC');
    assert.ok(!ens.server(old).lines.some((l) => /SNAP: local state reloaded/.test(l)), 'no SNAP was needed');
    assert.ok(!ens.server(old).lines.some((l) => /cannot truncate|fatal/.test(l)), 'no fatal error');
    await zk2.close();
    await zk3.close();
  } finally {
    await ens.stopAll();
  }
});
