// InterProcessMutex against a real server process: basics, re-entrancy, timeouts, mutual
// exclusion under read-modify-write, the herd check (50 waiters, one wake per release), a holder
// whose session expires, a reconnect without expiry, and a create whose answer is lost.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InterProcessMutex, ZookooperError, type WatchedEvent, type ZookooperClient } from '../../src/index.js';
import { eventually, startServer, type TestServer } from '../helpers/server.js';
import { closeAll, connectAll, lockTestTickMs, proxiedClient, shortSessionMs, startLockChild } from './locks-helpers.js';

describe('InterProcessMutex', () => {
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

  test('acquire, re-enter, release; release when not held is APIERROR', async () => {
    const [a, b] = (clients = await connectAll(server, 2)) as [ZookooperClient, ZookooperClient];
    const m = new InterProcessMutex(a, '/locks/basic');
    assert.equal(await m.acquire(), true);
    assert.equal(await m.acquire(1_000), true, 're-entrant on the same instance');
    assert.equal((await m.getParticipantNodes()).length, 1, 're-entry adds no node');
    assert.match(m.lockNodePath ?? '', /^\/locks\/basic\/_c_[0-9a-f-]{36}-lock-\d{10}$/);
    const other = new InterProcessMutex(b, '/locks/basic');
    assert.equal(await other.acquire(300), false, 'held elsewhere: times out');
    assert.equal((await m.getParticipantNodes()).length, 1, 'the timed-out waiter removed its node');
    await m.release();
    assert.equal(m.isAcquiredInThisProcess(), true, 'one acquisition still to release');
    await m.release();
    assert.equal(m.isAcquiredInThisProcess(), false);
    await assert.rejects(m.release(), (e: unknown) => e instanceof ZookooperError && e.code === 'APIERROR');
    assert.equal(await other.acquire(1_000), true);
    await other.release();
    assert.deepEqual(await m.getParticipantNodes(), []);
    await assert.rejects(m.acquire(-1), (e: unknown) => e instanceof ZookooperError && e.code === 'BADARGUMENTS');
    await closeAll(clients);
  });

  test('mutual exclusion: 8 sessions x 15 read-modify-write increments, no BADVERSION, no lost update', async () => {
    const n = 8;
    const rounds = 15;
    clients = await connectAll(server, n);
    await clients[0]!.create('/counter', '0');
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      clients.map(async (zk) => {
        const m = new InterProcessMutex(zk, '/locks/counter');
        for (let i = 0; i < rounds; i++) {
          assert.equal(await m.acquire(20_000), true);
          inside++;
          maxInside = Math.max(maxInside, inside);
          try {
            const { data, stat } = await zk.getData('/counter');
            await zk.setData('/counter', String(Number(data.toString()) + 1), stat.version); // BADVERSION would reject
          } finally {
            inside--;
            await m.release();
          }
        }
      }),
    );
    assert.equal(maxInside, 1);
    assert.equal((await clients[0]!.getData('/counter')).data.toString(), String(n * rounds));
    await closeAll(clients);
  });

  test('herd check: 50 waiters, each release wakes exactly one waiter (counted watch events)', async () => {
    const waiters = 50;
    clients = await connectAll(server, waiters + 1);
    const [holderZk, ...waiterZks] = clients as [ZookooperClient, ...ZookooperClient[]];
    const holder = new InterProcessMutex(holderZk, '/locks/herd');
    assert.equal(await holder.acquire(), true);
    const wakes = new Array<number>(waiters).fill(0);
    const events: WatchedEvent[] = [];
    const mutexes = waiterZks.map(
      (zk, i) =>
        new InterProcessMutex(zk, '/locks/herd', {
          onWatchEvent: (e) => {
            wakes[i]!++;
            events.push(e);
          },
        }),
    );
    const acquiredOrder: number[] = [];
    // Queue the waiters one after another so the queue order is known.
    const done: Promise<void>[] = [];
    for (let i = 0; i < waiters; i++) {
      const m = mutexes[i]!;
      done.push(m.acquire(60_000).then((ok) => { assert.equal(ok, true); acquiredOrder.push(i); }));
      await eventually(async () => (await holder.getParticipantNodes()).length === i + 2, 5_000, `waiter ${i} queued`);
    }
    // Let every waiter reach its wait (its getData watch set) before the first release.
    await eventually(async () => (await holderZk.getChildren('/locks/herd')).length === waiters + 1, 5_000);
    const flushAll = (): Promise<unknown> => Promise.all(waiterZks.map((zk) => zk.sync('/')));
    await flushAll();
    assert.equal(events.length, 0, 'nobody woke before the first release');
    let current: InterProcessMutex = holder;
    for (let step = 0; step < waiters; step++) {
      await current.release();
      await eventually(() => acquiredOrder.length === step + 1, 10_000, `release ${step} handed over`);
      // Any event the release caused has reached every waiter's session once a later answer has.
      await flushAll();
      assert.equal(events.length, step + 1, `release ${step}: exactly one watch event in total`);
      assert.equal(acquiredOrder[step], step, 'the lock goes in queue order');
      assert.equal(wakes[step], 1, `the woken waiter is the next in line (${step})`);
      current = mutexes[step]!;
    }
    await current.release();
    await Promise.all(done);
    assert.deepEqual(wakes, new Array<number>(waiters).fill(1), 'every waiter woke exactly once in all');
    assert.ok(events.every((e) => e.type === 'deleted'));
    await closeAll(clients);
  });

  test('a holder whose session expires loses the lock (lost event) and the next waiter gets it', async () => {
    const holder = await proxiedClient(server, shortSessionMs);
    clients = await connectAll(server, 1);
    const waiterZk = clients[0]!;
    try {
      const m = new InterProcessMutex(holder.zk, '/locks/expiry');
      assert.equal(await m.acquire(), true);
      let lost = 0;
      m.on('lost', () => lost++);
      const waiter = new InterProcessMutex(waiterZk, '/locks/expiry');
      const waiting = waiter.acquire(60_000); // a generous deadline: the handover waits on an expiry
      await eventually(async () => (await waiter.getParticipantNodes()).length === 2, 5_000);
      await holder.expire(waiterZk);
      assert.equal(await waiting, true, 'next waiter got the lock');
      assert.equal(m.isAcquiredInThisProcess(), false);
      assert.equal(lost, 1, "the holder's 'lost' event fired once");
      await m.release(); // resets the instance; no error for a lock lost with the session
      await waiter.release();
    } finally {
      await holder.close();
      await closeAll(clients);
    }
  });

  test('a holder killed with SIGKILL: the waiter gets the lock after its session timeout', async () => {
    clients = await connectAll(server, 1);
    const zk = clients[0]!;
    const child = startLockChild(server.connectString, 'mutex', '/locks/kill9', shortSessionMs);
    try {
      await child.waitFor(/^ACQUIRED$/);
      const waiter = new InterProcessMutex(zk, '/locks/kill9');
      const waiting = waiter.acquire(60_000); // a generous deadline: the handover waits on an expiry
      await eventually(async () => (await waiter.getParticipantNodes()).length === 2, 5_000);
      const linesBefore = server.lines.length;
      await child.kill9();
      // The event that hands the lock over: the server expires the dead holder's session.
      await eventually(() => server.lines.slice(linesBefore).some((l) => l.includes('"msg":"session expired"')), 60_000, 'the killed holder expired');
      assert.equal(await waiting, true, 'the waiter got the lock once the holder had expired');
      await waiter.release();
    } finally {
      await child.kill9();
      await closeAll(clients);
    }
  });

  test('reconnect without expiry: the lock stays held, no node lost or duplicated, waiter keeps waiting', async () => {
    const holder = await proxiedClient(server, 4_000);
    clients = await connectAll(server, 1);
    const other = clients[0]!;
    try {
      const m = new InterProcessMutex(holder.zk, '/locks/reconnect');
      const seen: string[] = [];
      m.on('suspended', () => seen.push('suspended')).on('reconnected', () => seen.push('reconnected')).on('lost', () => seen.push('lost'));
      assert.equal(await m.acquire(), true);
      const ourNode = m.lockNodePath;
      const waiter = new InterProcessMutex(other, '/locks/reconnect');
      let waiterGot = false;
      const waiting = waiter.acquire(20_000).then((ok) => (waiterGot = ok));
      await eventually(async () => (await waiter.getParticipantNodes()).length === 2, 5_000);
      holder.proxy.cut();
      await eventually(() => holder.zk.state === 'disconnected', 5_000);
      holder.proxy.unblock();
      await eventually(() => seen.includes('reconnected'), 10_000, 'reconnected event');
      assert.deepEqual(seen, ['suspended', 'reconnected']);
      assert.equal(m.isAcquiredInThisProcess(), true);
      assert.equal(m.lockNodePath, ourNode);
      assert.equal(waiterGot, false, 'the waiter did not get a held lock');
      assert.equal((await other.getChildren('/locks/reconnect')).length, 2, 'no duplicate node');
      await m.release();
      assert.equal(await waiting, true);
      await waiter.release();
    } finally {
      await holder.close();
      await closeAll(clients);
    }
  });

  test('create answered after the connection was lost: the protected name finds our node, no duplicate', async () => {
    const c = await proxiedClient(server, 4_000);
    try {
      const zk = c.zk;
      const realCreate = zk.create.bind(zk);
      let injected = 0;
      // Fault injection: the create reaches the server, then the connection is cut before the
      // caller sees the answer, as when a reply is lost with the connection.
      zk.create = async (path, data, opts) => {
        const created = await realCreate(path, data, opts);
        if (!path.includes('/_c_') || injected++ > 0) return created; // only our lock node's create
        c.proxy.cut();
        await eventually(() => zk.state === 'disconnected', 5_000);
        c.proxy.unblock();
        throw new ZookooperError('CONNECTIONLOSS', 'answer lost (injected)', path);
      };
      const m = new InterProcessMutex(zk, '/locks/lost-answer');
      assert.equal(await m.acquire(10_000), true);
      assert.equal(injected, 1, 'exactly one create: the retry found the node instead of creating another');
      const nodes = await m.getParticipantNodes();
      assert.equal(nodes.length, 1);
      assert.equal(nodes[0], m.lockNodePath);
      await m.release();
      assert.deepEqual(await m.getParticipantNodes(), []);
    } finally {
      await c.close();
    }
  });
});

describe('InterProcessMutex on one instance', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ workers: 1, tickMs: lockTestTickMs });
  });
  after(async () => {
    await server?.stop();
    server?.cleanup();
  });

  test('concurrent acquires on one instance: the second re-enters after the first, or times out on its own deadline', async () => {
    const [a, b] = (await connectAll(server, 2)) as [ZookooperClient, ZookooperClient];
    try {
      const busy = new InterProcessMutex(b, '/locks/same');
      assert.equal(await busy.acquire(), true);
      const m = new InterProcessMutex(a, '/locks/same');
      let firstSettled = false;
      const first = m.acquire(120_000).finally(() => (firstSettled = true));
      assert.equal(await m.acquire(200), false, 'the second call keeps its own 200 ms deadline');
      // An event, not a clock: the second call gave up while the first (120 s deadline) still waits.
      assert.equal(firstSettled, false, 'the second call did not wait for the first one');
      await busy.release();
      assert.equal(await first, true);
      assert.equal(await m.acquire(0), true, 're-entry needs no wait');
      await m.release();
      await m.release();
      assert.deepEqual(await m.getParticipantNodes(), []);
    } finally {
      await closeAll([a, b]);
    }
  });
});
