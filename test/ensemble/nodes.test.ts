// The node kinds whose lifetime the leader manages, used through followers: a container emptied
// through one server is swept everywhere; a TTL node untouched past its TTL is removed
// everywhere; a multi through a follower is atomic on every server and its failure reports each
// op as standalone does.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ZookooperClient } from '../../src/index.js';
import type { Ensemble } from '../cluster/harness.js';
import { clientOf, closeAll, ensembleTest, eventually, startEnsemble, withRole } from './helpers.js';

describe('ensemble of 3: containers, TTL nodes, multi through followers', () => {
  let e: Ensemble;
  let followerIds: number[];
  const clients: ZookooperClient[] = [];
  const on = async (id: number): Promise<ZookooperClient> => {
    const zk = await clientOf(e.server(id));
    clients.push(zk);
    return zk;
  };
  const goneEverywhere = async (path: string): Promise<boolean> => {
    for (const s of e.servers) {
      const zk = await on(s.id);
      await zk.sync(path);
      if ((await zk.exists(path)) !== null) return false;
    }
    return true;
  };

  before(async () => {
    e = await startEnsemble({ size: 3 }); // the container/TTL sweep runs every second on the leader
    followerIds = await withRole(e, 'follower');
  });
  after(async () => {
    await closeAll(clients);
    await e?.stopAll();
  });

  test('a container emptied through a follower is swept by the leader, gone on every server', async () => {
    const a = await on(followerIds[0]!);
    await a.create('/box', '', { mode: 'container' });
    await a.create('/box/item', '');
    await a.delete('/box/item');
    await eventually(() => goneEverywhere('/box'), ensembleTest.deadlineMs * 2, 'the empty container swept everywhere');
  });

  test('a TTL node created through a follower is removed everywhere once its TTL passed', async (t) => {
    const a = await on(followerIds[1]!);
    try {
      await a.create('/ttl', 'x', { mode: 'persistent_with_ttl', ttlMs: 500 });
    } catch (err) {
      if ((err as { code?: string }).code === 'UNIMPLEMENTED') return t.skip('TTL nodes are off in this build'); 
      throw err;
    }
    await eventually(() => goneEverywhere('/ttl'), ensembleTest.deadlineMs * 2, 'the TTL node removed everywhere');
  });

  test('a multi through a follower is all or nothing on every server', async () => {
    const a = await on(followerIds[0]!);
    const results = await a.multi([
      { op: 'create', path: '/m', data: '' },
      { op: 'create', path: '/m/a', data: '1' },
      { op: 'setData', path: '/m', data: 'top' },
    ]);
    assert.deepEqual(results.map((r) => r.op), ['create', 'create', 'setData']);
    await assert.rejects(
      a.multi([
        { op: 'create', path: '/m/b', data: '' },
        { op: 'delete', path: '/m/nope' },
      ]),
      (err: { code?: string; results?: { op: string; code?: string }[] }) => {
        assert.equal(err.code, 'NONODE');
        assert.equal(err.results?.length, 2);
        assert.equal(err.results?.[1]?.code, 'NONODE');
        return true;
      },
    );
    for (const s of e.servers) {
      const zk = await on(s.id);
      await zk.sync('/m');
      assert.deepEqual((await zk.getChildren('/m')).sort(), ['a'], `s${s.id}`);
      assert.equal((await zk.getData('/m')).data.toString(), 'top');
    }
  });
});
