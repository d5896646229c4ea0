// A server stopped cleanly in an epoch after the first writes a snapshot whose zxid is of that
// epoch; it must start again from it and rejoin (it stopped at start-up with "epoch is behind
// lastZxid": the pipeline was built for epoch 1 whatever the snapshot said).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '../../src/index.js';
import { zxidEpoch } from '../../src/common/zxid.js';
import { Ensemble } from '../cluster/harness.js';

const deadlineMs = 60_000;

test('a server stopped cleanly in epoch 2 restarts from its snapshot and rejoins', async () => {
  const ens = await Ensemble.start({ size: 3, tickMs: 200, syncLimitMs: 4_000, proxies: false, logLevel: 'info' });
  try {
    await ens.settled(deadlineMs);
    const first = await ens.leader(deadlineMs);
    await ens.server(first).kill9(); // a new leader: epoch 2
    await ens.leader(deadlineMs);
    const survivors = ens.ids().filter((id) => id !== first);
    const zk = await connect(survivors.map((id) => ens.server(id).address).join(','), { sessionTimeoutMs: 10_000 });
    const { stat } = await zk.createWithStat('/in-epoch-2', 'x');
    assert.ok(zxidEpoch(stat.czxid) >= 2, 'written in a later epoch');
    await ens.server(first).start();
    await ens.settled(deadlineMs);
    await zk.close();
    // Stop a follower cleanly (its snapshot is of the later epoch) and start it again.
    const leader = await ens.leader(deadlineMs);
    const follower = ens.ids().find((id) => id !== leader)!;
    await ens.server(follower).stop();
    assert.ok(ens.server(follower).lines.some((l) => /snapshot written/.test(l)), 'the clean stop wrote a snapshot');
    await ens.server(follower).start();
    await ens.settled(deadlineMs);
    const zk2 = await connect(ens.server(follower).address, { sessionTimeoutMs: 10_000 });
    assert.equal((await zk2.getData('/in-epoch-2')).data.toString(), 'x');
    await zk2.create('/after-restart', '');
    await zk2.close();
  } finally {
    await ens.stopAll();
  }
});
