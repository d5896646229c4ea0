// A write a follower forwarded to a leader that then stalls: the follower leaves its role, the
// client hears CONNECTIONLOSS, and the same session can come back to that follower once a new
// leader serves (the follower's count of the session's writes in flight must not keep the
// re-attach waiting for an answer that will never come).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, ZookooperError } from '../../src/index.js';
import { Ensemble } from '../cluster/harness.js';

const deadlineMs = 60_000;

async function until<T>(what: string, fn: () => Promise<T | null>): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a write forwarded to a leader that stalls fails with CONNECTIONLOSS, and the session re-attaches to the same follower', async () => {
  const ens = await Ensemble.start({ size: 3, tickMs: 100, syncLimitMs: 1_000, proxies: false });
  try {
    const leader = await ens.leader(deadlineMs);
    await ens.settled(deadlineMs);
    const follower = ens.ids().find((id) => id !== leader)!;
    // This client knows only the follower: it must come back to it.
    const zk = await connect(ens.server(follower).address, { sessionTimeoutMs: 20_000 });
    const sessionId = zk.sessionId;
    await zk.create('/k', 'v0');
    ens.server(leader).pause(); // SIGSTOP: its links stay open, nothing is answered
    const stuck = await zk.setData('/k', 'v1').then(
      () => 'ok',
      (err: unknown) => (err instanceof ZookooperError ? err.code : String(err)),
    );
    assert.equal(stuck, 'CONNECTIONLOSS', 'the forwarded write fails once the follower leaves its role');
    // The other two elect a new leader; the same session comes back to the follower.
    await until('a write through the follower after the election', async () => {
      try {
        await zk.setData('/k', 'v2');
        return true;
      } catch (err) {
        if (err instanceof ZookooperError && (err.code === 'CONNECTIONLOSS' || err.code === 'OPERATIONTIMEOUT')) return null;
        throw err;
      }
    });
    assert.equal(zk.sessionId, sessionId, 'the same session');
    assert.equal((await zk.getData('/k')).data.toString(), 'v2');
    ens.server(leader).resume();
    await zk.close();
  } finally {
    await ens.stopAll();
  }
});
