// The HTTP pages with synthetic ServerStats: standalone as before, and the ensemble fields of a
// leader, a follower, an observer and a looking server (state, epoch, leader, quorum, lags).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { healthPage, metricsPage, mntrPage, statPage, type WorkerFigures } from '../../src/server/http/pages.js';
import type { ServerStats } from '../../src/server/workers/messages.js';

const worker: WorkerFigures = {
  workerId: 1,
  connections: 3,
  watches: 4,
  requestsServed: 50,
  readsServed: 40,
  writesForwarded: 10,
  throttled: 0,
  malformedFrames: 0,
  retiredApps: 0,
};

function stats(extra: Partial<ServerStats> = {}): ServerStats {
  return {
    zxid: '0x300000007',
    nodes: 12,
    sessions: 2,
    pendingWrites: 0,
    treeUsedBytes: 1000,
    treeCapacityBytes: 4000,
    committedTxns: 7,
    logSyncs: 3,
    logSyncMs: 5,
    commitMs: 1,
    startedAtMs: Date.now() - 1000,
    workers: 2,
    dataDir: '/tmp/x',
    serverState: 'standalone',
    ...extra,
  };
}

const leader = stats({
  serverState: 'leader',
  epoch: 3,
  leaderId: 1,
  inQuorum: true,
  zabPhase: 'broadcast',
  learners: [
    { id: 2, observer: false, synced: true, lagTxns: 0, queuedBytes: 0 },
    { id: 3, observer: false, synced: false, lagTxns: 120, queuedBytes: 0 },
    { id: 4, observer: true, synced: true, lagTxns: 5, queuedBytes: 0 },
  ],
});

const json = (text: string): Record<string, unknown> => JSON.parse(text) as Record<string, unknown>;

describe('http pages', () => {
  test('standalone: no ensemble keys, /health 200', () => {
    const s = stats();
    const m = json(mntrPage(s, worker));
    assert.equal(m.zk_server_state, 'standalone');
    assert.equal(m.zk_peer_state, undefined);
    assert.equal(m.zk_followers, undefined);
    assert.equal(json(statPage(s, worker)).epoch, undefined);
    const h = healthPage(s);
    assert.equal(h.status, 200);
    assert.equal(json(h.body).status, 'ok');
    assert.match(metricsPage(s, worker), /^zookooper_server_state\{state="standalone"\} 1$/m);
    assert.match(metricsPage(s, worker), /^zookooper_in_quorum 1$/m);
  });

  test('leader: state, epoch, leader id, followers, synced followers and observers, lag per learner', () => {
    const m = json(mntrPage(leader, worker));
    assert.equal(m.zk_server_state, 'leader');
    assert.equal(m.zk_peer_state, 'leading - broadcast');
    assert.equal(m.zk_epoch, 3);
    assert.equal(m.zk_leader_id, 1);
    assert.equal(m.zk_last_zxid, '0x300000007');
    assert.equal(m.zk_followers, 3);
    assert.equal(m.zk_synced_followers, 1);
    assert.equal(m.zk_synced_observers, 1);
    assert.equal(m.zk_learner_3_lag_txns, 120);
    assert.equal(m.zk_learner_4_lag_txns, 5);
    const st = json(statPage(leader, worker));
    assert.equal(st.serverState, 'leader');
    assert.equal(st.epoch, 3);
    assert.equal(st.leaderId, 1);
    assert.equal(st.inQuorum, true);
    assert.deepEqual(st.learners, leader.learners);
    assert.equal(healthPage(leader).status, 200);
  });

  test('leader /metrics: the role one-hot, epoch, zxid halves, learner gauges with labels', () => {
    const text = metricsPage(leader, worker);
    assert.match(text, /^zookooper_server_state\{state="leader"\} 1$/m);
    assert.match(text, /^zookooper_server_state\{state="follower"\} 0$/m);
    assert.match(text, /^zookooper_epoch 3$/m);
    assert.match(text, /^zookooper_leader_id 1$/m);
    assert.match(text, /^zookooper_last_zxid_epoch 3$/m);
    assert.match(text, /^zookooper_last_zxid_counter 7$/m);
    assert.match(text, /^zookooper_synced_followers 1$/m);
    assert.match(text, /^zookooper_synced_observers 1$/m);
    assert.match(text, /^zookooper_learner_lag_txns\{learner="3",observer="false",synced="false"\} 120$/m);
    // Every sample line belongs to a family announced with HELP and TYPE (one TYPE per family).
    const types = text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
    assert.equal(new Set(types).size, types.length, 'no family declared twice');
    for (const l of text.split('\n').filter((x) => x !== '' && !x.startsWith('#'))) {
      assert.ok(types.includes(l.split(/[{ ]/)[0]), `declared: ${l}`);
    }
  });

  test('follower and observer: their role and leader, no learner figures', () => {
    const f = stats({ serverState: 'follower', epoch: 3, leaderId: 1, inQuorum: true });
    const m = json(mntrPage(f, worker));
    assert.equal(m.zk_peer_state, 'following - broadcast');
    assert.equal(m.zk_leader_id, 1);
    assert.equal(m.zk_followers, undefined);
    assert.doesNotMatch(metricsPage(f, worker), /zookooper_learners/);
    const o = stats({ serverState: 'observer', epoch: 3, leaderId: 1, inQuorum: true });
    assert.equal(json(mntrPage(o, worker)).zk_peer_state, 'observing - broadcast');
    assert.equal(healthPage(o).status, 200);
  });

  test('/health is 503 with a reason while looking or syncing', () => {
    const looking = stats({ serverState: 'looking', epoch: 3, leaderId: null, inQuorum: false });
    const h = healthPage(looking);
    assert.equal(h.status, 503);
    const body = json(h.body);
    assert.equal(body.status, 'unavailable');
    assert.match(String(body.reason), /looking for a leader/);
    assert.equal(body.leaderId, null);
    assert.equal(json(mntrPage(looking, worker)).zk_peer_state, 'looking - election');
    assert.match(metricsPage(looking, worker), /^zookooper_leader_id -1$/m);
    assert.match(metricsPage(looking, worker), /^zookooper_in_quorum 0$/m);
    const syncing = stats({ serverState: 'follower', epoch: 4, leaderId: 2, inQuorum: false, zabPhase: 'synchronization' });
    const hs = healthPage(syncing);
    assert.equal(hs.status, 503);
    assert.match(String(json(hs.body).reason), /following - synchronization/);
  });
});
