// LeaderLatch and LeaderSelector against a real server process: one leader at a time, hand-over
// on close, a leader killed with SIGKILL or whose session expires is replaced once its session
// expires, a reconnect without expiry keeps the queue intact.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LeaderLatch, LeaderSelector, ZookooperError, type ZookooperClient } from '../../src/index.js';
import { eventually, startServer, type TestServer } from '../helpers/server.js';
import { closeAll, connectAll, lockTestTickMs, proxiedClient, shortSessionMs, startLockChild } from './locks-helpers.js';

// A generous deadline for a takeover that waits on a session expiry: only there so a broken
// takeover fails instead of hanging, never a speed figure (the machine may be loaded).
const takeoverDeadlineMs = 60_000;

/** Waits for the server to log a session expiry after its first `from` lines. */
async function sessionExpiredAfter(server: TestServer, from: number): Promise<void> {
  await eventually(() => server.lines.slice(from).some((l) => l.includes('"msg":"session expired"')), takeoverDeadlineMs, 'a session expired');
}

describe('LeaderLatch', () => {
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

  test('one leader among three; closing it hands over in queue order; await times out for others', async () => {
    clients = await connectAll(server, 3);
    const latches = clients.map((zk, i) => new LeaderLatch(zk, '/election/latch', `p${i}`));
    for (const l of latches) await l.start();
    assert.equal(await latches[0]!.await(2_000), true);
    assert.equal(await latches[1]!.await(200), false);
    assert.deepEqual(latches.map((l) => l.hasLeadership()), [true, false, false]);
    const participants = await latches[2]!.getParticipants();
    assert.deepEqual(participants.map((p) => [p.id, p.isLeader]), [['p0', true], ['p1', false], ['p2', false]]);
    let notified = 0;
    latches[1]!.on('isLeader', () => notified++);
    await latches[0]!.close();
    assert.equal(await latches[1]!.await(5_000), true);
    assert.equal(notified, 1);
    assert.equal(latches[2]!.hasLeadership(), false);
    await latches[1]!.close();
    assert.equal(await latches[2]!.await(5_000), true);
    await latches[2]!.close();
    await assert.rejects(latches[2]!.await(10), (e: unknown) => e instanceof ZookooperError && e.code === 'APIERROR');
    await closeAll(clients);
  });

  test('a leader killed with SIGKILL: another leads once its session expires', async () => {
    clients = await connectAll(server, 1);
    const child = startLockChild(server.connectString, 'latch', '/election/kill', shortSessionMs);
    try {
      await child.waitFor(/^LEADER$/);
      const linesBefore = server.lines.length;
      const latch = new LeaderLatch(clients[0]!, '/election/kill', 'survivor');
      await latch.start();
      assert.equal(latch.hasLeadership(), false);
      assert.equal((await latch.getLeader())?.id.startsWith('child-'), true);
      await child.kill9();
      // Events, not a clock: the dead leader's session expires, then the survivor leads
      // (takeoverDeadlineMs is only there so a broken takeover fails instead of hanging).
      await sessionExpiredAfter(server, linesBefore);
      assert.equal(await latch.await(takeoverDeadlineMs), true, 'took over');
      await latch.close();
    } finally {
      await child.kill9();
      await closeAll(clients);
    }
  });

  test("a leader's session expires: it is told (notLeader, closed) and the next one leads", async () => {
    const leader = await proxiedClient(server, shortSessionMs);
    clients = await connectAll(server, 1);
    try {
      const a = new LeaderLatch(leader.zk, '/election/expiry', 'a');
      const b = new LeaderLatch(clients[0]!, '/election/expiry', 'b');
      await a.start();
      await b.start();
      assert.equal(await a.await(2_000), true);
      const events: string[] = [];
      a.on('notLeader', () => events.push('notLeader'));
      await leader.expire(clients[0]!);
      assert.equal(await b.await(5_000), true);
      assert.equal(a.hasLeadership(), false);
      assert.equal(a.state, 'closed');
      assert.deepEqual(events, ['notLeader']);
      await assert.rejects(a.await(10), (e: unknown) => e instanceof ZookooperError && e.code === 'SESSIONEXPIRED');
      await b.close();
    } finally {
      await leader.close();
      await closeAll(clients);
    }
  });

  test('reconnect without expiry: leadership suspended then regained, same node, nobody else led', async () => {
    const leader = await proxiedClient(server, 4_000);
    clients = await connectAll(server, 1);
    try {
      const a = new LeaderLatch(leader.zk, '/election/reconnect', 'a');
      const b = new LeaderLatch(clients[0]!, '/election/reconnect', 'b');
      await a.start();
      await b.start();
      assert.equal(await a.await(2_000), true);
      const node = a.nodePath;
      const events: string[] = [];
      a.on('notLeader', () => events.push('notLeader')).on('isLeader', () => events.push('isLeader'));
      let bLed = false;
      b.on('isLeader', () => (bLed = true));
      leader.proxy.cut();
      await eventually(() => leader.zk.state === 'disconnected', 5_000);
      assert.equal(a.hasLeadership(), false, "standard policy: not leader while disconnected");
      leader.proxy.unblock();
      assert.equal(await a.await(10_000), true);
      assert.deepEqual(events, ['notLeader', 'isLeader']);
      assert.equal(a.nodePath, node, 'same node');
      assert.equal((await b.getParticipants()).length, 2, 'no duplicate participant');
      assert.equal(bLed, false);
      await a.close();
      await b.close();
    } finally {
      await leader.close();
      await closeAll(clients);
    }
  });
});

describe('LeaderSelector', () => {
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

  test('leadership rotates with autoRequeue, one leader at a time', async () => {
    clients = await connectAll(server, 3);
    let leaders = 0;
    let maxLeaders = 0;
    const turns: number[] = [0, 0, 0];
    const selectors = clients.map(
      (zk, i) =>
        new LeaderSelector(zk, '/election/selector', async (z) => {
          leaders++;
          maxLeaders = Math.max(maxLeaders, leaders);
          turns[i]!++;
          await z.sync('/');
          leaders--;
        }, { autoRequeue: true, id: `s${i}` }),
    );
    for (const s of selectors) s.start();
    await eventually(() => turns.every((t) => t >= 3), 15_000, `every selector led 3 times (${turns.join(',')})`);
    for (const s of selectors) await s.close();
    assert.equal(maxLeaders, 1);
    assert.deepEqual(await clients[0]!.getChildren('/election/selector').catch(() => []), [], 'every node released');
    await closeAll(clients);
  });

  test('without autoRequeue a selector leads once; requeue() queues it again', async () => {
    clients = await connectAll(server, 1);
    let turns = 0;
    const s = new LeaderSelector(clients[0]!, '/election/once', async () => {
      turns++;
    });
    s.start();
    await eventually(() => turns === 1, 5_000);
    await eventually(async () => (await s.getParticipants()).length === 0, 5_000, 'released after the turn');
    assert.equal(s.requeue(), true);
    await eventually(() => turns === 2, 5_000);
    await s.close();
    await closeAll(clients);
  });

  test("connection lost: the leader's signal aborts (standard policy); its session expires and another leads", async () => {
    const leader = await proxiedClient(server, shortSessionMs);
    clients = await connectAll(server, 1);
    try {
      let reason: unknown = null;
      const a = new LeaderSelector(leader.zk, '/election/interrupt', (_zk, signal) =>
        new Promise<void>((res) => signal.addEventListener('abort', () => {
          reason = signal.reason;
          res();
        }, { once: true })),
      );
      a.start();
      await eventually(() => a.hasLeadership(), 5_000);
      let bLed = false;
      const b = new LeaderSelector(clients[0]!, '/election/interrupt', async () => {
        bLed = true;
      });
      b.start();
      await eventually(async () => (await b.getParticipants()).length === 2, 5_000);
      await leader.expire(clients[0]!);
      assert.ok(reason instanceof ZookooperError);
      assert.equal((reason as ZookooperError).code, 'CONNECTIONLOSS', 'aborted when the connection was lost, before expiry');
      assert.equal(a.hasLeadership(), false);
      await eventually(() => bLed, 5_000, 'the other selector led');
      await a.close();
      await b.close();
    } finally {
      await leader.close();
      await closeAll(clients);
    }
  });

  test('a selector leader killed with SIGKILL: another leads once its session expires', async () => {
    clients = await connectAll(server, 1);
    const child = startLockChild(server.connectString, 'selector', '/election/selector-kill', shortSessionMs);
    try {
      await child.waitFor(/^LEADER$/);
      let led = false;
      const s = new LeaderSelector(clients[0]!, '/election/selector-kill', async () => {
        led = true;
      });
      s.start();
      await eventually(async () => (await s.getParticipants()).length === 2, 5_000);
      const linesBefore = server.lines.length;
      await child.kill9();
      await sessionExpiredAfter(server, linesBefore);
      await eventually(() => led, takeoverDeadlineMs, 'took over');
      await s.close();
    } finally {
      await child.kill9();
      await closeAll(clients);
    }
  });
});
