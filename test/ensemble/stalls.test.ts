// Stalled processes (SIGSTOP: sockets open, nothing answered): a client whose server hangs moves
// on with its session; a leader stalled past syncLimit is replaced, and when it wakes up it must
// not expire the sessions it stopped hearing from (etcd #15247): they live on, with their
// ephemerals, on every server.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { ZookooperClient } from '../../src/index.js';
import type { Ensemble } from '../cluster/harness.js';
import { clientOf, closeAll, ensembleTest, eventually, serverOf, startEnsemble, withRole, existsEverywhere } from './helpers.js';

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('ensemble of 3: stalled servers', () => {
  let e: Ensemble;
  const clients: ZookooperClient[] = [];
  before(async () => {
    e = await startEnsemble({ size: 3 });
  });
  afterEach(async () => {
    await closeAll(clients.splice(0));
    for (const s of e.servers) if (s.status === 'stopped') s.resume();
    await e.settled();
  });
  after(async () => {
    await e?.stopAll();
  });


  test('a client whose follower hangs moves to another server with its session and ephemerals', async () => {
    const [f1, f2] = await withRole(e, 'follower');
    // Each attempt bounded well under the session timeout (ZooKeeper's sessionTimeout / hosts):
    // the client's default (5 s) on the hung server would outlast the session.
    const zk = await clientOf([e.server(f1!), e.server(f2!)], { sessionTimeoutMs: 10_000, connectTimeoutMs: 1_000 });
    clients.push(zk);
    const sessionId = zk.sessionId;
    const at = await serverOf(e, zk);
    await zk.create('/hang-eph', '', { mode: 'ephemeral' });
    e.server(at).pause();
    const other = at === f1 ? f2! : f1!;
    assert.equal(await serverOf(e, zk, at), other);
    assert.equal(zk.sessionId, sessionId);
    await pause(2 * 3_000);
    e.server(at).resume();
    assert.equal(zk.state, 'connected');
    await e.settled();
    assert.deepEqual(await existsEverywhere(e, '/hang-eph'), [true, true, true]);
  });

  test('a leader stalled past syncLimit is replaced; woken up, it expires none of the sessions it did not hear from', async () => {
    const oldLeader = await e.leader();
    const followers = await withRole(e, 'follower');
    const timeoutMs = 2_000;
    const sessions = await Promise.all(followers.map((f) => clientOf(e.server(f), { sessionTimeoutMs: timeoutMs })));
    clients.push(...sessions);
    for (const [i, zk] of sessions.entries()) await zk.create(`/stall-eph-${i}`, '', { mode: 'ephemeral' });
    const states: string[] = [];
    sessions.forEach((zk, i) => zk.on('state', (s) => states.push(`${i}:${s}`)));
    e.server(oldLeader).pause();
    const next = await e.leader();
    assert.notEqual(next, oldLeader);
    // Stalled for several session timeouts, then woken up.
    await pause(3 * timeoutMs);
    e.server(oldLeader).resume();
    await e.settled();
    await pause(2 * timeoutMs);
    await e.settled();
    assert.ok(!states.includes('0:expired') && !states.includes('1:expired'), states.join(' '));
    for (const [i, zk] of sessions.entries()) {
      await eventually(() => zk.state === 'connected', ensembleTest.deadlineMs, `session ${i} connected (${states.join(' ')})`);
      assert.deepEqual(await existsEverywhere(e, `/stall-eph-${i}`), [true, true, true], `session ${i}'s ephemeral`);
    }
  });
});
