// The Zab core driven by hand, effect by effect, as the real driver would: what it emits and in
// which order, and the assertions that guard the contract of api.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AssertionError } from '../../src/common/assert.js';
import type { Effect } from '../../src/server/quorum/api.js';
import { createZabCore } from '../../src/server/quorum/core.js';
import { makeZxid } from '../../src/server/quorum/messages.js';

const opts = { myId: 1, voters: [1], observers: [], electionTimeoutTicks: 4, initLimitTicks: 40, syncLimitTicks: 10, heartbeatTicks: 2 };
const start = { acceptedEpoch: 0, currentEpoch: 0, lastLoggedZxid: 0n, history: [], historyBaseZxid: 0n };
const host = { snapshotImage: () => ({ zxid: 0n, image: new Uint8Array() }) };
const kinds = (es: Effect[]): string[] => es.map((e) => e.kind);
const txn = new Uint8Array([1]);

function standaloneLeader() {
  const core = createZabCore(opts, start, host);
  const first = core.takeEffects();
  // Looking, then (alone, a quorum of one) it leads: acceptedEpoch first, saved before anything.
  assert.deepEqual(first, [
    { kind: 'role', state: 'looking', epoch: 0, leaderId: null },
    { kind: 'persistEpochs', acceptedEpoch: 1, currentEpoch: 0 },
  ]);
  core.epochsPersisted();
  assert.deepEqual(core.takeEffects(), [{ kind: 'persistEpochs', acceptedEpoch: 1, currentEpoch: 1 }]);
  assert.equal(core.state(), 'looking', 'not serving before its currentEpoch is durable');
  core.epochsPersisted();
  assert.deepEqual(core.takeEffects(), [{ kind: 'role', state: 'leading', epoch: 1, leaderId: 1 }]);
  assert.equal(core.phase(), 'broadcast');
  return core;
}

test('a single voter leads after persisting its epochs, and commits what it fsynced', () => {
  const core = standaloneLeader();
  core.propose([{ zxid: makeZxid(1, 1), txn, origin: null }, { zxid: makeZxid(1, 2), txn, origin: null }]);
  assert.deepEqual(kinds(core.takeEffects()), ['append']);
  assert.equal(core.inFlight(), 2);
  core.logSynced(makeZxid(1, 2));
  assert.deepEqual(core.takeEffects(), [{ kind: 'commit', zxid: makeZxid(1, 2) }]);
  assert.equal(core.committedZxid(), makeZxid(1, 2));
  assert.equal(core.inFlight(), 0);
});

test('one logSynced may cover several queued appends; a commit never passes the durable log', () => {
  const core = standaloneLeader();
  core.propose([{ zxid: makeZxid(1, 1), txn, origin: null }]);
  core.propose([{ zxid: makeZxid(1, 2), txn, origin: null }]);
  core.propose([{ zxid: makeZxid(1, 3), txn, origin: null }]);
  assert.deepEqual(kinds(core.takeEffects()), ['append', 'append', 'append']);
  core.logSynced(makeZxid(1, 2));
  assert.deepEqual(core.takeEffects(), [{ kind: 'commit', zxid: makeZxid(1, 2) }]);
  core.logSynced(makeZxid(1, 3));
  assert.deepEqual(core.takeEffects(), [{ kind: 'commit', zxid: makeZxid(1, 3) }]);
});

test('the contract is asserted: zxids in order, completions matching what was queued', () => {
  const core = standaloneLeader();
  assert.throws(() => core.propose([{ zxid: makeZxid(1, 2), txn, origin: null }]), AssertionError, 'a gap');
  assert.throws(() => core.propose([{ zxid: makeZxid(2, 1), txn, origin: null }]), AssertionError, 'another epoch');
  core.propose([{ zxid: makeZxid(1, 1), txn, origin: null }]);
  assert.throws(() => core.epochsPersisted(), AssertionError, 'an append is next, not a persist');
  assert.throws(() => core.logSynced(makeZxid(1, 5)), AssertionError, 'not a queued append');
  assert.throws(() => createZabCore(opts, start, host).propose([{ zxid: makeZxid(1, 1), txn, origin: null }]), AssertionError, 'not leading');
});

test('a reply for a request of this server is handed back locally; forward() refuses without a leader', () => {
  const core = standaloneLeader();
  const origin = { serverId: 1, sessionId: 5n, tag: 9 };
  core.replyTo(origin, 0n, { ok: true, value: { type: 'sync' } });
  assert.deepEqual(core.takeEffects(), [{ kind: 'reply', origin, afterZxid: 0n, result: { ok: true, value: { type: 'sync' } } }]);
  const learner = createZabCore({ ...opts, myId: 2, voters: [1, 2, 3] }, start, host);
  assert.equal(learner.forward({ origin: { ...origin, serverId: 2 }, request: { sessionId: 5n, tag: 9, authIds: [], op: { type: 'sync', path: '/' } } }), false);
});

test('a looking voter sends its vote to every other voter, and again after electionTimeout', () => {
  const core = createZabCore({ ...opts, voters: [1, 2, 3], observers: [4] }, { ...start, lastLoggedZxid: 7n, history: [] }, host);
  const sends = core.takeEffects().filter((e) => e.kind === 'send');
  assert.deepEqual(sends.map((e) => (e as { to: number }).to), [2, 3]);
  assert.deepEqual((sends[0] as { msg: unknown }).msg, { t: 'vote', vote: { leader: 1, zxid: 7n, peerEpoch: 0 }, electionEpoch: 1, state: 'looking' });
  for (let i = 0; i < 4; i++) core.tick();
  assert.equal(core.takeEffects().filter((e) => e.kind === 'send').length, 2);
});

test('a FOLLOWERINFO that reaches a server still in its election is answered once it leads (no re-send needed)', () => {
  // Server 2 of {1, 2, 3}; 1 decided for 2 and sent FOLLOWERINFO while 2 still waits
  // finalizeWaitTicks for a better vote than the quorum {1, 2} agrees on.
  const core = createZabCore({ ...opts, myId: 2, voters: [1, 2, 3], finalizeWaitTicks: 2 }, start, host);
  core.takeEffects();
  const vote = { leader: 2, zxid: 0n, peerEpoch: 0 };
  core.receive(1, { t: 'vote', vote, electionEpoch: 1, state: 'looking' });
  core.receive(1, { t: 'followerInfo', acceptedEpoch: 0, lastZxid: 0n, historyBase: 0n, observer: false, attempt: 1 });
  assert.equal(core.state(), 'looking');
  core.takeEffects();
  for (let i = 0; i < 3 && core.state() === 'looking' && core.phase() === 'election'; i++) core.tick();
  // It leads: acceptedEpoch 1 (decided from its own and 1's FOLLOWERINFO) is saved, then 1 hears LEADERINFO.
  assert.deepEqual(core.takeEffects().filter((e) => e.kind !== 'send' || (e.msg as { t: string }).t !== 'vote'), [{ kind: 'persistEpochs', acceptedEpoch: 1, currentEpoch: 0 }]);
  core.epochsPersisted();
  const sent = core.takeEffects().filter((e) => e.kind === 'send');
  assert.deepEqual(sent, [{ kind: 'send', to: 1, msg: { t: 'leaderInfo', epoch: 1 } }]);
});
