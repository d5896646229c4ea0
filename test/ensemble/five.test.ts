// Five servers: the service outlives two dead servers (the leader among them), stops at three
// (no server answers with data it cannot vouch for), and comes back with a third voter, with
// every acknowledged write.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ZookooperClient } from '../../src/index.js';
import type { Ensemble } from '../cluster/harness.js';
import { clientOf, closeAll, ensembleTest, eventually, jsonPage, page, startEnsemble, withRole } from './helpers.js';

describe('ensemble of 5', () => {
  let e: Ensemble;
  const clients: ZookooperClient[] = [];
  before(async () => {
    e = await startEnsemble({ size: 5 });
  });
  after(async () => {
    await closeAll(clients);
    await e?.stopAll();
  });

  test('two dead (the leader one of them): still serving everywhere else; three dead: nobody serves; one back: service with every acknowledged write', async () => {
    const leaderId = await e.leader();
    const followers = await withRole(e, 'follower');
    assert.equal(followers.length, 4);
    const [k1, k2, k3, survivor] = followers as [number, number, number, number];
    const zk = await clientOf(e.servers.map((s) => s), { sessionTimeoutMs: 20_000 });
    clients.push(zk);
    const acked: string[] = [];
    const write = async (): Promise<void> => {
      const path = `/five-${acked.length}`;
      // A create cut by a connection loss may have committed: its retry finds it.
      acked.push(await zk.create(path, '').catch((err: { code?: string }) => {
        if (err.code === 'NODEEXISTS') return path;
        throw err;
      }));
    };
    for (let i = 0; i < 5; i++) await write();

    await Promise.all([e.server(leaderId).kill9(), e.server(k1).kill9()]);
    const next = await e.leader();
    assert.ok([k2, k3, survivor].includes(next));
    await eventually(() => write().then(() => true), ensembleTest.deadlineMs, 'a write after two servers died');
    for (let i = 0; i < 5; i++) await write();
    for (const id of [k2, k3, survivor]) {
      const c = await clientOf(e.server(id));
      clients.push(c);
      await c.sync('/');
      assert.equal((await c.getChildren('/')).filter((n) => n.startsWith('five-')).length, acked.length, `s${id}`);
    }

    // A third death: no quorum of 5 is left.
    const third = next === k2 ? k3 : k2;
    await e.server(third).kill9();
    const left = [k2, k3, survivor].filter((id) => id !== third);
    for (const id of left) {
      await eventually(async () => (await jsonPage(e.server(id), 'mntr')).zk_server_state === 'looking', ensembleTest.deadlineMs, `s${id} looking`);
      assert.equal((await page(e.server(id), 'health')).status, 503);
    }
    await assert.rejects(clientOf(e.server(left[0]!), { sessionTimeoutMs: 1_000, connectTimeoutMs: 500 }), { code: 'CONNECTIONLOSS' });

    await e.server(k1).start();
    await e.leader();
    await eventually(() => write().then(() => true), ensembleTest.deadlineMs, 'a write once three voters are back');
    const c = await clientOf(e.server(k1));
    clients.push(c);
    await c.sync('/');
    const names = new Set((await c.getChildren('/')).map((n) => `/${n}`));
    assert.deepEqual(acked.filter((p) => !names.has(p)), [], 'acknowledged creates lost');
  });
});
