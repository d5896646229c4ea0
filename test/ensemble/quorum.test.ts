// A 3 + 1 ensemble (three voters, one :observer) as a user and an operator see it: every state
// page names the role and one epoch, the leader lists its learners with their lag, the observer
// serves reads, watches and writes, and losing the quorum stops service everywhere (the observer
// does not count) until a voter comes back, with no acknowledged write lost.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../src/cli/zkcli.js';
import { connect, type ZookooperClient } from '../../src/index.js';
import { encodeConnectRequest } from '../../src/protocol/index.js';
import type { Ensemble } from '../cluster/harness.js';
import { RawConnection } from '../helpers/raw.js';
import { clientOf, closeAll, ensembleTest, Events, eventually, jsonPage, page, startEnsemble, withRole } from './helpers.js';

async function srvr(servers: string): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  stdin.end();
  let out = '';
  let err = '';
  stdout.on('data', (b: Buffer) => (out += b.toString()));
  stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await runCli(['-s', servers, 'srvr'], { stdout, stderr, stdin });
  return { code, out, err };
}

describe('ensemble of 3 voters + 1 observer', () => {
  let e: Ensemble;
  let leaderId: number;
  let followerIds: number[];
  const observerId = 4;
  const clients: ZookooperClient[] = [];
  const on = async (id: number, timeoutMs?: number): Promise<ZookooperClient> => {
    const zk = await clientOf(e.server(id), timeoutMs !== undefined ? { sessionTimeoutMs: timeoutMs } : {});
    clients.push(zk);
    return zk;
  };

  before(async () => {
    e = await startEnsemble({ size: 4, observers: 1 });
    leaderId = await e.leader();
    followerIds = await withRole(e, 'follower');
    assert.equal(followerIds.length, 2);
    assert.deepEqual(await withRole(e, 'observer'), [observerId]);
  });
  after(async () => {
    await closeAll(clients);
    await e?.stopAll();
  });

  test('/stat, /mntr, /metrics, /health on every server: the role, one epoch; the leader lists its learners and their lag', async () => {
    const zk = await on(followerIds[0]!);
    for (let i = 0; i < 20; i++) await zk.create(`/pages-${i}`, '');
    await zk.sync('/');
    const roleOf = (id: number): string => (id === leaderId ? 'leader' : id === observerId ? 'observer' : 'follower');
    const epochs = new Set<unknown>();
    for (const s of e.servers) {
      const stat = await jsonPage(s, 'stat');
      assert.equal(stat.serverState, roleOf(s.id), `s${s.id} /stat`);
      epochs.add(stat.epoch);
      assert.equal(stat.leaderId, leaderId, `s${s.id} names the leader`);
      const mntr = await jsonPage(s, 'mntr');
      assert.equal(mntr.zk_server_state, roleOf(s.id), `s${s.id} /mntr`);
      assert.equal(mntr.zk_in_quorum, true);
      assert.equal(mntr.zk_epoch, stat.epoch);
      const metrics = (await page(s, 'metrics')).text;
      assert.match(metrics, new RegExp(`^zookooper_server_state\\{state="${roleOf(s.id)}"\\} 1$`, 'm'), `s${s.id} /metrics`);
      const health = await page(s, 'health');
      assert.equal(health.status, 200, `s${s.id} /health: ${health.text}`);
    }
    assert.equal(epochs.size, 1, `one epoch: ${[...epochs].join(',')}`);
    const mntr = await eventually(async () => {
      const m = await jsonPage(e.server(leaderId), 'mntr');
      // Lag falls to 0 once every learner has acked the last proposal (observers get INFORMs: no ack, lag as the leader counts it).
      return followerIds.every((f) => m[`zk_learner_${f}_lag_txns`] === 0) ? m : null;
    }, ensembleTest.deadlineMs, 'the followers\' lag 0 on the leader');
    assert.equal(mntr.zk_followers, 3, 'every learner, the observer included (ZooKeeper 3.5\'s meaning)');
    assert.equal(mntr.zk_synced_followers, 2);
    assert.equal(mntr.zk_synced_observers, 1);
    assert.ok(`zk_learner_${observerId}_lag_txns` in mntr, JSON.stringify(mntr));
    const stat = await jsonPage(e.server(leaderId), 'stat');
    const learners = (stat.learners as { id: number; observer: boolean; synced: boolean }[]).map((l) => [l.id, l.observer, l.synced]).sort();
    assert.deepEqual(learners, [...followerIds.map((f) => [f, false, true]), [observerId, true, true]].sort());
    for (const l of stat.learners as { queuedBytes?: unknown }[]) {
      assert.ok(typeof l.queuedBytes === 'number' && Number.isInteger(l.queuedBytes) && l.queuedBytes >= 0, `learner queuedBytes: ${JSON.stringify(l)}`);
    }

    // The operator's view: `zookooper cli -s <all> srvr`.
    const r = await srvr(e.connectString());
    assert.equal(r.code, 0, r.err);
    const modes = [...r.out.matchAll(/^Mode: (\S+)$/gm)].map((m) => m[1]);
    assert.deepEqual([...modes].sort(), ['follower', 'follower', 'leader', 'observer'], r.out);
    assert.equal(new Set([...r.out.matchAll(/^Epoch: (\d+)$/gm)].map((m) => m[1])).size, 1, r.out);
    assert.equal([...r.out.matchAll(/^Leader: (\d+)$/gm)].filter((m) => Number(m[1]) === leaderId).length, 4, r.out);
    assert.equal([...r.out.matchAll(/^Learner \d+: (follower|observer), synced, lag \d+ txns$/gm)].length, 3, r.out);
  });

  test('the observer serves reads and watches, and writes through it work', async () => {
    const obs = await on(observerId);
    const viaLeader = await on(leaderId);
    const ev = new Events();
    await viaLeader.create('/obs', 'v0');
    await obs.sync('/obs');
    assert.equal((await obs.getData('/obs', { watch: ev.watcher })).data.toString(), 'v0');
    await obs.addWatch('/obs', 'persistent_recursive', ev.watcher);
    await viaLeader.setData('/obs', 'v1');
    await ev.next((x) => x.type === 'dataChanged' && x.path === '/obs', 'the data watch on the observer');
    const st = await obs.createWithStat('/obs/child', 'from-observer');
    await ev.next((x) => x.type === 'created' && x.path === '/obs/child', 'the recursive watch on the observer');
    await obs.setData('/obs/child', 'again');
    await viaLeader.sync('/');
    const { data, stat } = await viaLeader.getData('/obs/child');
    assert.equal(data.toString(), 'again');
    assert.equal(stat.czxid, st.stat.czxid);
    await assert.rejects(obs.create('/obs/child', ''), { code: 'NODEEXISTS' });
  });

  test('on the observer and a follower, pipelined txns and txn-less answers (errors, getEphemerals, sync) come back in order', async () => {
    const viaLeader = await on(leaderId);
    await viaLeader.create('/mix', '');
    for (const id of [observerId, followerIds[1]!, leaderId]) {
      const zk = await on(id);
      const base = `/mix/s${id}`;
      const order: string[] = [];
      // Recorded in the first reaction to each call's own promise (one microtask hop for all), so
      // the order is the order the answers arrived in.
      const track = <T>(name: string, p: Promise<T>): Promise<T | string> =>
        p.then((v) => (order.push(name), v), (err: { code?: string }) => (order.push(name), `error ${err.code}`));
      const results = await Promise.all([
        track('create', zk.create(base, '')),
        track('create-eph', zk.create(`${base}/e1`, '', { mode: 'ephemeral' })),
        track('create-again', zk.create(`${base}/e1`, '')),
        track('getEphemerals', zk.getEphemerals(base)),
        track('setData-badversion', zk.setData(base, 'x', 42)),
        track('sync', zk.sync(base)),
        track('setData', zk.setData(base, 'y')),
        track('delete-missing', zk.delete(`${base}/nope`)),
        track('getData', zk.getData(base)),
      ]);
      assert.deepEqual(order, ['create', 'create-eph', 'create-again', 'getEphemerals', 'setData-badversion', 'sync', 'setData', 'delete-missing', 'getData'], `s${id}`);
      const [r0, r1, r2, r3, r4, r5, r6, r7, r8] = results as [string, string, string, string[], string, undefined, { version: number }, string, { data: Buffer }];
      assert.deepEqual([r0, r1, r2, r3, r4, r5, r6.version, r7, r8.data.toString()], [base, `${base}/e1`, 'error NODEEXISTS', [`${base}/e1`], 'error BADVERSION', undefined, 1, 'error NONODE', 'y'], `s${id}`);
    }
  });

  test('many idle sessions on the observer and a follower live on pings alone (touches forwarded in batches)', async () => {
    // Short enough that several timeouts pass within the test, long enough that a loaded
    // machine's pauses do not cost a client its connection (it gives up after 2/3 of it).
    const timeoutMs = 3_000;
    const idle: ZookooperClient[] = [];
    for (const id of [observerId, followerIds[0]!]) {
      for (let i = 0; i < 100; i++) idle.push(await on(id, timeoutMs));
    }
    for (const [i, zk] of idle.entries()) await zk.create(`/idle-${i}`, '', { mode: 'ephemeral' });
    const expired: number[] = [];
    idle.forEach((zk, i) => zk.on('state', (s) => s === 'expired' && expired.push(i)));
    await new Promise((r) => setTimeout(r, 3 * timeoutMs));
    assert.deepEqual(expired, []);
    const viaLeader = await on(leaderId);
    await viaLeader.sync('/');
    assert.equal((await viaLeader.getChildren('/')).filter((n) => n.startsWith('idle-')).length, idle.length);
    await closeAll(idle);
    await eventually(async () => (await viaLeader.getChildren('/')).every((n) => !n.startsWith('idle-')), ensembleTest.deadlineMs, 'closed sessions\' ephemerals gone');
  });

  test('losing the quorum (2 of 3 voters killed, the observer alive): no service anywhere, 503, looking; a voter back and service resumes with every acknowledged write', async () => {
    const survivor = leaderId; // the leader itself must notice it lost its quorum and step down
    const [k1, k2] = followerIds as [number, number];
    const zk = await on(survivor, 20_000);
    const obsZk = await on(observerId, 20_000);
    const states: string[] = [];
    zk.on('state', (s) => states.push(s));
    const acked: string[] = [];
    for (let i = 0; i < 10; i++) acked.push(await zk.create(`/q-${i}`, `${i}`));
    // A writer that keeps going through the loss: what it got acknowledged must survive.
    let writing = true;
    const codes: string[] = [];
    const writer = (async () => {
      for (let i = 10; writing; i++) {
        try {
          acked.push(await zk.create(`/q-${i}`, `${i}`));
        } catch (err) {
          codes.push((err as { code?: string }).code ?? String(err));
          if ((err as { code?: string }).code === 'NODEEXISTS') continue; // a retry of one that had committed
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    })();
    await Promise.all([e.server(k1).kill9(), e.server(k2).kill9()]);

    for (const id of [survivor, observerId]) {
      const s = e.server(id);
      await eventually(async () => (await jsonPage(s, 'mntr')).zk_server_state === 'looking', ensembleTest.deadlineMs, `s${id} looking`);
      const health = await page(s, 'health');
      assert.equal(health.status, 503, health.text);
      assert.equal((await jsonPage(s, 'mntr')).zk_in_quorum, false);
      // A new connection is refused with a reason.
      const raw = await RawConnection.open(s.clientPort);
      raw.sendBytes(encodeConnectRequest({ protocolVersion: 1, lastZxidSeen: 0n, sessionTimeoutMs: 10_000, sessionId: 0n, password: new Uint8Array(16), readOnly: false }));
      const answer = await raw.next();
      assert.equal(answer.kind, 'closing');
      assert.equal((answer as { code: string }).code, 'CONNECTIONLOSS');
      raw.ws.close();
      await assert.rejects(connect(s.address, { sessionTimeoutMs: 1_000, connectTimeoutMs: 500 }), { code: 'CONNECTIONLOSS' });
    }
    await eventually(() => zk.state === 'disconnected' && obsZk.state === 'disconnected', ensembleTest.deadlineMs, 'both clients disconnected');
    assert.ok(states.includes('disconnected'), states.join(' '));
    await e.server(k1).start();
    await eventually(async () => (await e.roles()).get(survivor) !== 'looking' && (await e.roles()).get(k1) !== 'looking', ensembleTest.deadlineMs, 'a quorum again');
    await e.leader();
    await eventually(() => zk.state === 'connected', ensembleTest.deadlineMs, 'the client reconnected with its session');
    writing = false;
    await writer;
    assert.ok(acked.length >= 10);
    assert.ok(codes.includes('CONNECTIONLOSS'), `the write in flight when the quorum went failed CONNECTIONLOSS: ${codes.join(' ')}`);
    for (const id of [survivor, k1, observerId]) {
      const c = await on(id);
      await c.sync('/');
      const names = new Set((await c.getChildren('/')).map((n) => `/${n}`));
      const lost = acked.filter((p) => !names.has(p));
      assert.deepEqual(lost, [], `s${id}: acknowledged creates lost`);
    }
    await e.server(k2).start();
    await e.settled();
  });
});
