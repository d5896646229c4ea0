// DistributedBarrier and DistributedDoubleBarrier against a real server process.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DistributedBarrier, DistributedDoubleBarrier, ZookooperError, type ZookooperClient } from '../../src/index.js';
import { eventually, startServer, type TestServer } from '../helpers/server.js';
import { closeAll, connectAll, lockTestTickMs, proxiedClient, shortSessionMs } from './locks-helpers.js';

describe('barriers', () => {
  let server: TestServer;
  let clients: ZookooperClient[] = [];
  before(async () => {
    server = await startServer({ workers: 2, tickMs: lockTestTickMs });
  });
  after(async () => {
    await closeAll(clients);
    await server?.stop();
    server?.cleanup();
  });

  test('barrier: waiters block while set, a timed wait returns false, removal releases all', async () => {
    clients = await connectAll(server, 4);
    const [ctl, ...others] = clients as [ZookooperClient, ...ZookooperClient[]];
    const control = new DistributedBarrier(ctl, '/barriers/b1');
    assert.equal(await control.waitOnBarrier(100), true, 'not set: passes at once');
    await control.setBarrier();
    await control.setBarrier(); // idempotent
    assert.equal(await new DistributedBarrier(others[0]!, '/barriers/b1').waitOnBarrier(200), false);
    let released = 0;
    const waits = others.map((zk) => new DistributedBarrier(zk, '/barriers/b1').waitOnBarrier(10_000).then((ok) => {
      released++;
      return ok;
    }));
    await Promise.all(others.map((zk) => zk.sync('/')));
    assert.equal(released, 0);
    await control.removeBarrier();
    assert.deepEqual(await Promise.all(waits), [true, true, true]);
    await control.removeBarrier(); // not set: fine
    await closeAll(clients);
  });

  test('barrier: a waiter whose session expires is rejected with SESSIONEXPIRED', async () => {
    const w = await proxiedClient(server, shortSessionMs);
    clients = await connectAll(server, 1);
    try {
      await new DistributedBarrier(clients[0]!, '/barriers/b2').setBarrier();
      const waiting = new DistributedBarrier(w.zk, '/barriers/b2').waitOnBarrier(20_000);
      const outcome = waiting.then(() => 'resolved', (e: unknown) => (e instanceof ZookooperError ? e.code : String(e)));
      await w.expire(clients[0]!);
      assert.equal(await outcome, 'SESSIONEXPIRED');
    } finally {
      await w.close();
      await closeAll(clients);
    }
  });

  test('double barrier: nobody enters before memberQty arrive; all leave together', async () => {
    clients = await connectAll(server, 3);
    const bars = clients.map((zk) => new DistributedDoubleBarrier(zk, '/barriers/double', 3));
    let entered = 0;
    const e0 = bars[0]!.enter(10_000).then((ok) => (entered++, ok));
    const e1 = bars[1]!.enter(10_000).then((ok) => (entered++, ok));
    await eventually(async () => (await clients[0]!.getChildren('/barriers/double')).length === 2, 5_000);
    await Promise.all(clients.map((zk) => zk.sync('/')));
    assert.equal(entered, 0, 'two of three: still waiting');
    assert.equal(await bars[2]!.enter(10_000), true);
    assert.deepEqual(await Promise.all([e0, e1]), [true, true]);
    let left = 0;
    const l0 = bars[0]!.leave(10_000).then((ok) => (left++, ok));
    const l1 = bars[1]!.leave(10_000).then((ok) => (left++, ok));
    const l2 = bars[2]!.leave(10_000).then((ok) => (left++, ok));
    assert.deepEqual(await Promise.all([l0, l1, l2]), [true, true, true]);
    assert.equal(left, 3);
    assert.deepEqual(await clients[0]!.getChildren('/barriers/double').catch(() => []), [], 'members and ready node gone');
    await closeAll(clients);
  });

  test('double barrier: enter times out with too few members; leave then withdraws', async () => {
    clients = await connectAll(server, 1);
    const bar = new DistributedDoubleBarrier(clients[0]!, '/barriers/double2', 2);
    assert.equal(await bar.enter(300), false);
    assert.equal(await bar.leave(1_000), true);
    assert.deepEqual(await clients[0]!.getChildren('/barriers/double2').catch(() => []), []);
    assert.throws(() => new DistributedDoubleBarrier(clients[0]!, '/x', 0), (e: unknown) => e instanceof ZookooperError && e.code === 'BADARGUMENTS');
    await closeAll(clients);
  });
});
