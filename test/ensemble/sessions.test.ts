// Sessions across a 3-server ensemble, as a user sees them: a client whose server dies moves to
// another with the same session, ephemerals and watches, and is not expired by that death; a
// leader change does not expire healthy sessions; an expired session's ephemerals vanish on every
// server; a session opened on one server can be closed on another; a server behind what the
// client has seen refuses it and the client moves on. One ensemble for the file; every test
// brings back what it killed (restart + settled) before the next.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { connect, type ZookooperClient } from '../../src/index.js';
import { encodeConnectRequest } from '../../src/protocol/index.js';
import type { Ensemble } from '../cluster/harness.js';
import { CuttableProxy } from '../helpers/proxy.js';
import { RawConnection } from '../helpers/raw.js';
import { clientOf, closeAll, ensembleTest, Events, eventually, jsonPage, serverOf, startEnsemble, withRole, existsEverywhere } from './helpers.js';

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('ensemble of 3: sessions', () => {
  let e: Ensemble;
  const clients: ZookooperClient[] = [];
  const proxies: CuttableProxy[] = [];
  const on = async (id: number, timeoutMs?: number): Promise<ZookooperClient> => {
    const zk = await clientOf(e.server(id), timeoutMs !== undefined ? { sessionTimeoutMs: timeoutMs } : {});
    clients.push(zk);
    return zk;
  };
  /** A client given every listed server behind its own cuttable proxy, connected to the first
   * (the others are blocked until it is): the test decides where it moves by cutting proxies. */
  const steered = async (ids: number[], sessionTimeoutMs: number): Promise<{ zk: ZookooperClient; proxy: Map<number, CuttableProxy> }> => {
    const proxy = new Map<number, CuttableProxy>();
    for (const id of ids) {
      const p = await CuttableProxy.start(e.server(id).clientPort);
      proxies.push(p);
      proxy.set(id, p);
      if (id !== ids[0]) p.cut();
    }
    const zk = await connect(ids.map((id) => `127.0.0.1:${proxy.get(id)!.port}`).join(','), { sessionTimeoutMs });
    clients.push(zk);
    for (const p of proxy.values()) p.unblock();
    return { zk, proxy };
  };
  const followers = async (): Promise<[number, number]> => {
    const f = await withRole(e, 'follower');
    assert.equal(f.length, 2, `two followers: ${JSON.stringify([...(await e.roles())])}`);
    return [f[0]!, f[1]!];
  };

  before(async () => {
    // A long syncLimit: a delayed leader -> follower link (the lagging-server test) must not make
    // that follower give up on its leader. A kill -9 is seen at once (the TCP links close).
    e = await startEnsemble({ size: 3, syncLimitMs: 6_000 });
  });
  afterEach(async () => {
    await closeAll(clients.splice(0));
    await Promise.all(proxies.splice(0).map((p) => p.close()));
    e.mesh?.heal();
    for (const s of e.servers) if (s.status === 'stopped') s.resume();
    for (const s of e.servers) if (s.status === 'dead') await s.start();
    await e.settled();
  });
  after(async () => {
    await e?.stopAll();
  });

  test('kill -9 of the client\'s server: same session on another server, ephemerals and watches kept, not expired by that death', async () => {
    const [f1, f2] = await followers();
    const leaderId = await e.leader();
    const timeoutMs = 4_000;
    const { zk } = await steered([f1, f2], timeoutMs);
    const sessionId = zk.sessionId;
    assert.equal(await serverOf(e, zk), f1);
    await zk.create('/moved-eph', 'mine', { mode: 'ephemeral' });
    await zk.create('/moved-w', 'v0');
    const ev = new Events();
    await zk.getData('/moved-w', { watch: ev.watcher });
    await zk.addWatch('/moved-p', 'persistent', ev.watcher);

    await e.server(f1).kill9();
    assert.equal(await serverOf(e, zk, f1), f2, 'moved to the other follower');
    assert.equal(zk.sessionId, sessionId, 'the same session');
    assert.deepEqual(await zk.getEphemerals('/'), ['/moved-eph']);

    // Watches set before the move fire for changes made through the leader after it.
    const other = await on(leaderId);
    assert.equal((await other.exists('/moved-eph'))?.ephemeralOwner, sessionId);
    await other.setData('/moved-w', 'v1');
    await other.create('/moved-p', '');
    await ev.next((x) => x.type === 'dataChanged' && x.path === '/moved-w', 'the one-shot data watch after the move');
    await ev.next((x) => x.type === 'created' && x.path === '/moved-p', 'the persistent watch after the move');

    // Longer than the session timeout after the death of its first server: still alive.
    await pause(timeoutMs * 1.5);
    assert.equal(zk.state, 'connected');
    assert.equal((await other.exists('/moved-eph'))?.ephemeralOwner, sessionId);
    assert.equal((await zk.getData('/moved-w')).data.toString(), 'v1');
  });

  test('kill -9 of the leader under connected sessions: a new leader, and no healthy session expires (timeouts restart)', async () => {
    const oldLeader = await e.leader();
    const [f1, f2] = await followers();
    const timeoutMs = 4_000;
    const onFollower = await on(f1, timeoutMs);
    const { zk: onLeader } = await steered([oldLeader, f2], timeoutMs);
    await onFollower.create('/lc-a', '', { mode: 'ephemeral' });
    await onLeader.create('/lc-b', '', { mode: 'ephemeral' });
    const ids = [onFollower.sessionId, onLeader.sessionId];
    const states: string[] = [];
    onFollower.on('state', (s) => states.push(`a:${s}`));
    onLeader.on('state', (s) => states.push(`b:${s}`));

    const killedAt = Date.now();
    await e.server(oldLeader).kill9();
    const next = await e.leader();
    assert.notEqual(next, oldLeader);
    // Both sessions get a write through after the election.
    const w1 = await eventually(() => onFollower.setData('/lc-a', 'after').then(() => true), ensembleTest.deadlineMs, 'a write of the follower\'s client');
    const w2 = await eventually(() => onLeader.setData('/lc-b', 'after').then(() => true), ensembleTest.deadlineMs, 'a write of the old leader\'s client');
    assert.ok(w1 && w2);
    const firstWriteMs = Date.now() - killedAt;
    // Twice the session timeout after the kill, both are alive with their ephemerals.
    await pause(Math.max(0, 2 * timeoutMs - (Date.now() - killedAt)));
    assert.deepEqual([onFollower.sessionId, onLeader.sessionId], ids);
    assert.equal(onFollower.state, 'connected', states.join(' '));
    assert.equal(onLeader.state, 'connected', states.join(' '));
    assert.ok(!states.some((s) => s.endsWith('expired')), states.join(' '));
    assert.deepEqual(await existsEverywhere(e, '/lc-a'), [true, true]);
    assert.deepEqual(await existsEverywhere(e, '/lc-b'), [true, true]);
    process.stderr.write(`# observed: kill -9 leader s${oldLeader} -> both clients' next writes after ${firstWriteMs} ms (new leader s${next})\n`);
  });

  test('an expired session (its client cut off past the timeout) loses its ephemerals on every server', async () => {
    const [f1] = await followers();
    const { zk, proxy } = await steered([f1], 2_000);
    await zk.create('/exp-eph', '', { mode: 'ephemeral' });
    await zk.create('/exp-seq-', '', { mode: 'ephemeral_sequential' });
    assert.deepEqual(await existsEverywhere(e, '/exp-eph'), [true, true, true]);
    const states: string[] = [];
    zk.on('state', (s) => states.push(s));
    proxy.get(f1)!.cut();
    await eventually(async () => (await existsEverywhere(e, '/exp-eph')).every((x) => !x), ensembleTest.deadlineMs, 'the ephemeral gone on every server');
    for (const s of e.servers) {
      const c = await on(s.id);
      await c.sync('/');
      assert.deepEqual((await c.getChildren('/')).filter((n) => n.startsWith('exp-')), [], `s${s.id}`);
    }
    proxy.get(f1)!.unblock();
    await eventually(() => zk.state === 'expired', ensembleTest.deadlineMs, `the client told it expired (states ${states.join(' ')})`);
    await assert.rejects(zk.exists('/'), { code: 'SESSIONEXPIRED' });
  });

  test('a session created on one follower is closed on another: its ephemerals go at once everywhere', async () => {
    const [f1, f2] = await followers();
    const { zk, proxy } = await steered([f1, f2], ensembleTest.sessionTimeoutMsMax);
    await zk.create('/close-eph', '', { mode: 'ephemeral' });
    proxy.get(f1)!.cut();
    assert.equal(await serverOf(e, zk, f1), f2);
    await zk.create('/close-probe', ''); // the session writes through its new server
    await zk.close();
    // Long before its (30 s) timeout: the close is a txn, committed everywhere.
    await eventually(async () => (await existsEverywhere(e, '/close-eph')).every((x) => !x), 10_000, 'the ephemeral gone everywhere after the close');
  });

  test('a server behind the client\'s last seen zxid refuses it; the client moves on and never sees the tree go back', async () => {
    const leaderId = await e.leader();
    const [lagging, f2] = await followers();
    // Everything the leader sends to `lagging` arrives 2 s late: it stays in the ensemble, behind.
    e.mesh!.delay(leaderId, lagging, 2_000);
    const { zk, proxy } = await steered([f2, lagging], ensembleTest.sessionTimeoutMs);
    assert.equal(await serverOf(e, zk), f2);
    const st = await zk.createWithStat('/lag', 'new');
    assert.equal(zk.lastZxidSeen >= st.stat.czxid, true);

    // The rule itself, on the wire: a handshake with a newer lastZxidSeen is refused.
    const raw = await RawConnection.open(e.server(lagging).clientPort);
    raw.sendBytes(encodeConnectRequest({ protocolVersion: 1, lastZxidSeen: zk.lastZxidSeen, sessionTimeoutMs: 10_000, sessionId: 0n, password: new Uint8Array(16), readOnly: false }));
    const answer = await raw.next();
    assert.equal(answer.kind, 'closing', JSON.stringify(answer, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    assert.match((answer as { reason: string }).reason, /newer zxid/);
    raw.ws.close();

    // The client loses f2; the only other server is behind it: refused until it has caught up.
    proxy.get(f2)!.cut();
    assert.equal(await serverOf(e, zk, f2), lagging);
    const { data, stat } = await zk.getData('/lag');
    assert.equal(data.toString(), 'new');
    assert.equal(stat.czxid, st.stat.czxid);
    e.mesh!.heal();
  });

  test('a change made while the client was disconnected fires its watch when it re-attaches on another server', async () => {
    const leaderId = await e.leader();
    const [f1, f2] = await followers();
    const { zk, proxy } = await steered([f1, f2], ensembleTest.sessionTimeoutMs);
    await zk.create('/missed', 'v0');
    const ev = new Events();
    await zk.getData('/missed', { watch: ev.watcher });
    await zk.getChildren('/missed', { watch: ev.watcher });
    // Cut from both: the change happens while it is away.
    proxy.get(f2)!.cut();
    proxy.get(f1)!.cut();
    await eventually(() => zk.state === 'disconnected', ensembleTest.deadlineMs, 'the client disconnected');
    const writer = await on(leaderId);
    await writer.setData('/missed', 'v1');
    await writer.create('/missed/kid', '');
    assert.deepEqual(ev.seen, []);
    proxy.get(f2)!.unblock();
    assert.equal(await serverOf(e, zk), f2);
    await ev.next((x) => x.type === 'dataChanged' && x.path === '/missed', 'the data watch for the missed change');
    await ev.next((x) => x.type === 'childrenChanged' && x.path === '/missed', 'the child watch for the missed change');
  });

  test('sync on a lagging follower waits for the leader: the next read sees the latest committed state', async () => {
    const leaderId = await e.leader();
    const [lagging] = await followers();
    const reader = await on(lagging);
    const writer = await on(leaderId);
    await writer.create('/lagsync', 'old');
    await reader.sync('/lagsync');
    assert.equal((await reader.getData('/lagsync')).data.toString(), 'old');
    e.mesh!.delay(leaderId, lagging, 1_500);
    const st = await writer.setData('/lagsync', 'new');
    // Without sync the follower may still serve 'old' (it is 1.5 s behind); after it, never.
    await reader.sync('/lagsync');
    const { data, stat } = await reader.getData('/lagsync');
    assert.equal(data.toString(), 'new');
    assert.equal(stat.mzxid, st.mzxid);
    e.mesh!.heal();
  });

  test('idle sessions on a follower and on the leader live on pings alone, well past their timeout', async () => {
    const leaderId = await e.leader();
    const [f1] = await followers();
    const timeoutMs = 1_000;
    const a = await on(f1, timeoutMs);
    const b = await on(leaderId, timeoutMs);
    assert.equal(a.sessionTimeoutMs, timeoutMs);
    await a.create('/idle-a', '', { mode: 'ephemeral' });
    await b.create('/idle-b', '', { mode: 'ephemeral' });
    const states: string[] = [];
    a.on('state', (x) => states.push(`a:${x}`));
    b.on('state', (x) => states.push(`b:${x}`));
    await pause(5 * timeoutMs);
    assert.deepEqual(states, []);
    assert.deepEqual(await existsEverywhere(e, '/idle-a'), [true, true, true]);
    assert.deepEqual(await existsEverywhere(e, '/idle-b'), [true, true, true]);
  });

  test('a session whose client died expires after a leader change too (the new leader owns its timeout)', async () => {
    const oldLeader = await e.leader();
    const [f1] = await followers();
    const { zk, proxy } = await steered([f1], 2_000);
    await zk.create('/orphan', '', { mode: 'ephemeral' });
    proxy.get(f1)!.cut(); // the client is gone for good
    await e.server(oldLeader).kill9();
    const next = await e.leader();
    assert.notEqual(next, oldLeader);
    await eventually(async () => (await existsEverywhere(e, '/orphan')).every((x) => !x), ensembleTest.deadlineMs, 'the orphan ephemeral gone everywhere');
  });

  test('an expired session is told SESSIONEXPIRED by whichever server it reaches', async () => {
    const [f1, f2] = await followers();
    const { zk, proxy } = await steered([f1, f2], 2_000);
    await zk.create('/exp2', '', { mode: 'ephemeral' });
    proxy.get(f1)!.cut();
    proxy.get(f2)!.cut();
    await eventually(async () => (await existsEverywhere(e, '/exp2')).every((x) => !x), ensembleTest.deadlineMs, 'expired');
    proxy.get(f2)!.unblock();
    await eventually(() => zk.state === 'expired', ensembleTest.deadlineMs, 'told expired by the other server');
  });

  test('a write its old server forwards late does not land after the session\'s later writes through its new server (SESSIONMOVED)', async () => {
    const leaderId = await e.leader();
    const [a, b] = await followers();
    const { zk, proxy } = await steered([a, b], ensembleTest.sessionTimeoutMs);
    await zk.create('/fifo', 'v0');
    // What a sends the leader from now on arrives 2 s late.
    e.mesh!.delay(a, leaderId, 2_000);
    const received = async (): Promise<number> => ((await jsonPage(e.server(a), 'stat')).worker as { received: number }).received;
    const before = await received();
    const w1 = zk.setData('/fifo', 'old').then(() => 'ok', (err: { code?: string }) => err.code ?? String(err));
    await eventually(async () => (await received()) > before, ensembleTest.deadlineMs, 'a got the first write');
    await pause(300); // a's main thread forwards it (into the delayed link)
    proxy.get(a)!.cut();
    assert.equal(await w1, 'CONNECTIONLOSS', 'the client does not know the first write\'s outcome');
    assert.equal(await serverOf(e, zk, a), b);
    const st = await zk.setData('/fifo', 'new');
    // Wait until a's late forward has reached the leader (and whatever it did is applied).
    await pause(2_500);
    const viaLeader = await on(leaderId);
    await viaLeader.sync('/fifo');
    const { data, stat } = await viaLeader.getData('/fifo');
    assert.equal(data.toString(), 'new', 'the earlier write must not overwrite the later one (per-session order)');
    assert.equal(stat.mzxid, st.mzxid);
    e.mesh!.heal();
  });
});
