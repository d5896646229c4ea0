// The leader's DIFF / SNAP choice for one learner (src/server/quorum/sync.ts): a DIFF the window
// allows still goes as a SNAP when its txns outweigh constants.zabSnapDiffFactor of the image.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { constants } from '../../src/common/constants.js';
import type { Proposal } from '../../src/server/quorum/api.js';
import type { Core } from '../../src/server/quorum/core.js';
import { makeZxid } from '../../src/server/quorum/messages.js';
import type { PeerMessage } from '../../src/server/quorum/messages.js';
import { chooseSync as choosePlan } from '../../src/server/quorum/sync.js';
import { SyncStream } from '../../src/server/quorum/sync-stream.js';

const txnBytes = 100;

/** A leader's core with `n` txns (after `epochOneTxns` of epoch 1, of epoch 2) in its window and an image of `imageBytes`. */
function leaderCore(n: number, imageBytes: number | undefined, epochOneTxns = 0): Core {
  const history: Proposal[] = [];
  for (let i = 1; i <= epochOneTxns; i++) history.push({ zxid: makeZxid(1, i), txn: new Uint8Array(txnBytes), origin: null });
  const epoch = epochOneTxns > 0 ? 2 : 1;
  for (let i = 1; i <= n; i++) history.push({ zxid: makeZxid(epoch, i), txn: new Uint8Array(txnBytes), origin: null });
  const last = makeZxid(epoch, n);
  const image = new Uint8Array(imageBytes ?? 1024);
  return {
    lastAppended: last,
    historyBase: 0n,
    now: 0,
    history,
    historyHas: (z: bigint) => z === 0n || history.some((p) => p.zxid === z),
    historyIndexAfter: (z: bigint) => {
      const i = history.findIndex((p) => p.zxid > z);
      return i < 0 ? history.length : i;
    },
    historyBefore: (z: bigint) => [...history].reverse().find((p) => p.zxid < z)?.zxid ?? 0n,
    host: {
      snapshotImage: () => ({ zxid: last, image }),
      ...(imageBytes === undefined ? {} : { snapshotImageBytes: () => imageBytes }),
    },
  } as unknown as Core;
}

/** Every message of the chosen sync, sent with unlimited credit (NEWLEADER is the leader's, not here). */
function chooseSync(core: Core, peerLast: bigint, peerBase: bigint, committed: bigint): PeerMessage[] {
  const step = new SyncStream(core, choosePlan(core, peerLast, peerBase), () => committed, Number.MAX_SAFE_INTEGER, constants.zabSnapChunkBytes).next();
  assert.equal(step.kind, 'done');
  return step.kind === 'done' ? step.msgs : [];
}

const txnsOf = (msgs: PeerMessage[]): number => msgs.reduce((n, m) => n + (m.t === 'proposals' ? m.txns.length : m.t === 'proposal' ? 1 : 0), 0);

const kinds = (msgs: { t: string }[]): string[] => [...new Set(msgs.map((m) => m.t))];

test('a learner a few txns behind gets a DIFF of exactly what it lacks', () => {
  const core = leaderCore(100, 1_000_000);
  const msgs = chooseSync(core, makeZxid(1, 90), 0n, makeZxid(1, 100));
  assert.deepEqual(msgs[0], { t: 'diff', zxid: makeZxid(1, 90) });
  assert.equal(txnsOf(msgs), 10);
  assert.deepEqual(kinds(msgs), ['diff', 'proposals', 'commit'], 'the DIFF goes in PROPOSALS runs');
  assert.deepEqual(msgs[msgs.length - 1], { t: 'commit', zxid: makeZxid(1, 100) });
});

test('a DIFF heavier than zabSnapDiffFactor of the image is sent as a SNAP', () => {
  const n = 1_000;
  // The image is just small enough that n txns outweigh the factor of it.
  const imageBytes = Math.floor((n * txnBytes) / constants.zabSnapDiffFactor) - 1_000;
  const core = leaderCore(n, imageBytes);
  const msgs = chooseSync(core, 0n, 0n, makeZxid(1, n));
  assert.equal(msgs[0]!.t, 'snap');
  assert.deepEqual(kinds(msgs), ['snap']);
  // The same learner with a larger image (the DIFF is light beside it) gets the DIFF.
  const big = chooseSync(leaderCore(n, imageBytes * 2), 0n, 0n, makeZxid(1, n));
  assert.equal(big[0]!.t, 'diff');
});

test('a TRUNC whose following DIFF outweighs the image becomes a SNAP too', () => {
  const n = 1_000;
  const imageBytes = Math.floor((n * txnBytes) / constants.zabSnapDiffFactor) - 1_000;
  // Our log: txns 1..2 of epoch 1, then n of epoch 2. The learner led epoch 1 past txn 2 (a tail
  // we lack): TRUNC to (1, 2), then the n txns of epoch 2, too heavy beside the image.
  const heavy = chooseSync(leaderCore(n, imageBytes, 2), makeZxid(1, 3), 0n, makeZxid(2, n));
  assert.deepEqual(kinds(heavy), ['snap']);
  const light = chooseSync(leaderCore(n, imageBytes * 2, 2), makeZxid(1, 3), 0n, makeZxid(2, n));
  assert.deepEqual(light[0], { t: 'trunc', zxid: makeZxid(1, 2) });
});

test('without an image size from the host the window alone decides (DIFF)', () => {
  const msgs = chooseSync(leaderCore(1_000, undefined), 0n, 0n, makeZxid(1, 1_000));
  assert.equal(msgs[0]!.t, 'diff');
});
