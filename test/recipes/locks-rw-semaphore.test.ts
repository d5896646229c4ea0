// InterProcessReadWriteLock and InterProcessSemaphoreV2 against a real server process.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InterProcessReadWriteLock, InterProcessSemaphoreV2, ZookooperError, type Lease, type ZookooperClient } from '../../src/index.js';
import { eventually, startServer, type TestServer } from '../helpers/server.js';
import { closeAll, connectAll, lockTestTickMs, proxiedClient, shortSessionMs } from './locks-helpers.js';

describe('InterProcessReadWriteLock', () => {
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

  test('readers share; a writer waits for them; a reader behind a waiting writer waits for it', async () => {
    clients = await connectAll(server, 4);
    const [r1, r2, w, r3] = clients.map((zk) => new InterProcessReadWriteLock(zk, '/rw/a')) as [InterProcessReadWriteLock, InterProcessReadWriteLock, InterProcessReadWriteLock, InterProcessReadWriteLock];
    assert.equal(await r1.readLock().acquire(2_000), true);
    assert.equal(await r2.readLock().acquire(2_000), true, 'readers hold together');
    let writerHolds = false;
    const writing = w.writeLock().acquire(10_000).then((ok) => (writerHolds = ok));
    await eventually(async () => (await r1.readLock().getParticipantNodes()).length === 3, 5_000);
    let reader3Holds = false;
    const reading3 = r3.readLock().acquire(10_000).then((ok) => (reader3Holds = ok));
    await eventually(async () => (await r1.readLock().getParticipantNodes()).length === 4, 5_000);
    const r4 = new InterProcessReadWriteLock(clients[0]!, '/rw/a');
    assert.equal(await r4.readLock().acquire(0), false, 'a new reader behind the waiting writer: an immediate try fails');
    await r1.readLock().release();
    await clients[2]!.sync('/');
    assert.equal(writerHolds, false, 'writer still waits for the second reader');
    await r2.readLock().release();
    assert.equal(await writing, true);
    assert.equal(reader3Holds, false, 'the later reader waits for the earlier writer');
    await w.writeLock().release();
    assert.equal(await reading3, true);
    await r3.readLock().release();
    await closeAll(clients);
  });

  test('downgrade: the write holder takes the read lock, releases the write lock, keeps reading', async () => {
    clients = await connectAll(server, 2);
    const lock = new InterProcessReadWriteLock(clients[0]!, '/rw/b');
    const other = new InterProcessReadWriteLock(clients[1]!, '/rw/b');
    assert.equal(await lock.writeLock().acquire(2_000), true);
    assert.equal(await other.readLock().acquire(200), false, 'other readers wait for the writer');
    assert.equal(await lock.readLock().acquire(2_000), true, 'the writer may read');
    await lock.writeLock().release();
    assert.equal(lock.readLock().isAcquiredInThisProcess(), true);
    assert.equal(await other.readLock().acquire(2_000), true, 'after the downgrade readers share');
    assert.equal(await other.writeLock().acquire(200), false, 'a writer waits for the downgraded reader');
    await lock.readLock().release();
    await other.readLock().release();
    await closeAll(clients);
  });
});

describe('InterProcessSemaphoreV2', () => {
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

  test('3 leases: three holders, a fourth times out cleanly, then gets the returned lease', async () => {
    clients = await connectAll(server, 4);
    const sems = clients.map((zk) => new InterProcessSemaphoreV2(zk, '/sem/a', 3));
    const leases: Lease[] = [];
    for (const s of sems.slice(0, 3)) leases.push(...((await s.acquire(1, 2_000)) ?? []));
    assert.equal(leases.length, 3);
    const fourth = sems[3]!;
    assert.equal(await fourth.acquire(1, 300), null, 'no lease left: timed out');
    assert.equal((await fourth.getParticipantNodes()).length, 3, 'the timed-out try left no lease node');
    const waiting = fourth.acquire(1, 10_000);
    await sems[0]!.returnLease(leases[0]!);
    const got = await waiting;
    assert.equal(got?.length, 1);
    await assert.rejects(fourth.acquire(4), (e: unknown) => e instanceof ZookooperError && e.code === 'BADARGUMENTS');
    await sems[1]!.returnAll([leases[1]!, leases[2]!]);
    const two = await fourth.acquire(2, 2_000);
    assert.equal(two?.length, 2, 'several leases at once');
    await fourth.returnAll([...got!, ...two!]);
    assert.deepEqual(await fourth.getParticipantNodes(), []);
    await closeAll(clients);
  });

  test('never more than maxLeases holders at once (6 sessions, 2 leases)', async () => {
    clients = await connectAll(server, 6);
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      clients.map(async (zk) => {
        const s = new InterProcessSemaphoreV2(zk, '/sem/b', 2);
        for (let i = 0; i < 5; i++) {
          const leases = await s.acquire(1, 20_000);
          assert.ok(leases);
          inside++;
          maxInside = Math.max(maxInside, inside);
          for (let k = 0; k < 3; k++) await zk.sync('/'); // hold across round trips so overlaps can show
          inside--;
          await s.returnAll(leases);
        }
      }),
    );
    assert.ok(maxInside >= 1 && maxInside <= 2, `at most 2 holders at once, saw ${maxInside}`);
    await closeAll(clients);
  });

  test("a lease holder's session expires: the waiter gets its lease", async () => {
    const holder = await proxiedClient(server, shortSessionMs);
    clients = await connectAll(server, 1);
    try {
      const mine = await new InterProcessSemaphoreV2(holder.zk, '/sem/c', 1).acquire(1, 2_000);
      assert.equal(mine?.length, 1);
      const waiter = new InterProcessSemaphoreV2(clients[0]!, '/sem/c', 1);
      const waiting = waiter.acquire(1, 15_000);
      await eventually(async () => (await waiter.getParticipantNodes()).length === 2, 5_000);
      await holder.expire(clients[0]!);
      const got = await waiting;
      assert.equal(got?.length, 1);
      await mine![0]!.close(); // no error: the lease went with the session
      await waiter.returnAll(got!);
    } finally {
      await holder.close();
      await closeAll(clients);
    }
  });
});
