// The broadcast's batching, with two real Zab cores wired by hand (leader 2, follower 1): a
// proposed batch travels as one PROPOSALS message, the follower logs it as one append and ACKs it
// once, only after the fdatasync that covers it, and the leader commits it with one COMMIT.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Effect, Proposal } from '../../src/server/quorum/api.js';
import { createZabCore, type Core } from '../../src/server/quorum/core.js';
import { makeZxid, type PeerMessage } from '../../src/server/quorum/messages.js';
import { proposalMessages } from '../../src/server/quorum/proposal-messages.js';
import { constants } from '../../src/common/constants.js';

const opts = { voters: [1, 2], observers: [], electionTimeoutTicks: 4, initLimitTicks: 40, syncLimitTicks: 10, heartbeatTicks: 2 };
const start = { acceptedEpoch: 0, currentEpoch: 0, lastLoggedZxid: 0n, history: [], historyBaseZxid: 0n };
const host = { snapshotImage: () => ({ zxid: 0n, image: new Uint8Array() }) };

interface Pair {
  cores: Map<number, Core>;
  /** Every message delivered, in order. */
  wire: { from: number; to: number; msg: PeerMessage }[];
  /** Appends each server's disk was given. */
  appends: Map<number, Proposal[][]>;
  /** Whether server id's appends complete at once (else they wait for sync()). */
  instantDisk: Map<number, boolean>;
  pending: Map<number, bigint[]>;
  run(): void;
  sync(id: number): void;
}

function pair(): Pair {
  const cores = new Map<number, Core>([1, 2].map((id) => [id, createZabCore({ ...opts, myId: id }, start, host)]));
  const p: Pair = {
    cores,
    wire: [],
    appends: new Map([[1, []], [2, []]]),
    instantDisk: new Map([[1, true], [2, true]]),
    pending: new Map([[1, []], [2, []]]),
    run() {
      for (let round = 0; round < 1_000; round++) {
        let moved = false;
        for (const [id, core] of cores) {
          const effects: Effect[] = core.takeEffects();
          for (const e of effects) {
            moved = true;
            if (e.kind === 'send') {
              p.wire.push({ from: id, to: e.to, msg: e.msg as PeerMessage });
              cores.get(e.to)!.receive(id, e.msg);
            } else if (e.kind === 'persistEpochs') core.epochsPersisted();
            else if (e.kind === 'append') {
              p.appends.get(id)!.push(e.proposals);
              const last = e.proposals[e.proposals.length - 1]!.zxid;
              if (p.instantDisk.get(id)) core.logSynced(last);
              else p.pending.get(id)!.push(last);
            }
          }
        }
        if (!moved) return;
      }
      assert.fail('the cores did not settle');
    },
    sync(id) {
      const queued = p.pending.get(id)!;
      const last = queued[queued.length - 1]!;
      queued.length = 0;
      cores.get(id)!.logSynced(last); // one fdatasync covering every queued append
      p.run();
    },
  };
  for (const id of [1, 2]) for (const peer of [1, 2]) if (peer !== id) cores.get(id)!.linkUp(peer);
  for (let t = 0; t < 50 && !(cores.get(2)!.state() === 'leading' && cores.get(1)!.state() === 'following'); t++) {
    p.run();
    for (const core of cores.values()) core.tick();
  }
  p.run();
  assert.equal(cores.get(2)!.state(), 'leading', 'server 2 (the higher id) leads');
  assert.equal(cores.get(1)!.state(), 'following');
  return p;
}

test('a proposed batch goes to the follower as one PROPOSALS message, is logged as one append and ACKed once after its fdatasync', () => {
  const p = pair();
  const leader = p.cores.get(2)!;
  const follower = p.cores.get(1)!;
  p.instantDisk.set(1, false);
  p.wire.length = 0;
  p.appends.set(1, []);
  const epoch = leader.epoch();
  const batch = [1, 2, 3].map((n) => ({ zxid: makeZxid(epoch, n), txn: new Uint8Array([n]), origin: null }));
  leader.propose(batch);
  p.run();
  const toFollower = p.wire.filter((w) => w.to === 1).map((w) => w.msg);
  assert.deepEqual(toFollower, [{ t: 'proposals', zxid: makeZxid(epoch, 1), txns: batch.map((b) => b.txn), origins: [null, null, null] }]);
  assert.deepEqual(p.appends.get(1)!.map((a) => a.map((x) => x.zxid)), [batch.map((b) => b.zxid)], 'one append of the whole run');
  assert.deepEqual(p.wire.filter((w) => w.from === 1), [], 'no ACK before the fdatasync');
  assert.equal(leader.committedZxid() < batch[0]!.zxid, true);
  p.sync(1);
  assert.deepEqual(p.wire.filter((w) => w.from === 1).map((w) => w.msg), [{ t: 'ack', zxid: makeZxid(epoch, 3) }]);
  assert.deepEqual(p.wire.filter((w) => w.to === 1 && w.msg.t === 'commit').map((w) => w.msg), [{ t: 'commit', zxid: makeZxid(epoch, 3) }]);
  assert.equal(leader.committedZxid(), makeZxid(epoch, 3));
  assert.equal(follower.lastAppended, makeZxid(epoch, 3));
});

test('a batch is cut into PROPOSALS messages within the count and byte bounds; a txn larger than the byte bound travels alone', () => {
  const big = constants.zabProposalsMessageBytesMax;
  const sizes = [10, big - 20, 11, big + 1, 5]; // [10, big-20] fill up to big-10; 11 more would pass it
  const ps = sizes.map((n, i) => ({ zxid: makeZxid(1, i + 1), txn: new Uint8Array(n), origin: null }));
  const msgs = proposalMessages(ps) as Extract<PeerMessage, { t: 'proposals' }>[];
  assert.deepEqual(msgs.map((m) => [m.zxid, m.txns.length]), [[makeZxid(1, 1), 2], [makeZxid(1, 3), 1], [makeZxid(1, 4), 1], [makeZxid(1, 5), 1]]);
  const many = Array.from({ length: constants.zabProposalsPerMessageMax + 1 }, (_, i) => ({ zxid: makeZxid(1, i + 1), txn: new Uint8Array(1), origin: null }));
  assert.deepEqual(proposalMessages(many).map((m) => (m as Extract<PeerMessage, { t: 'proposals' }>).txns.length), [constants.zabProposalsPerMessageMax, 1]);
});
