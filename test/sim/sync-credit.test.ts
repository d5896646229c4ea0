// Stories of a sync streamed under the learner's credit (src/server/quorum/sync-stream.ts): the
// leader keeps at most a window of SNAP chunks / DIFF txns unacknowledged, proposals made while a
// learner streams reach it behind its image, a learner that stops reading is cut off, and crashes
// mid-stream on either side heal. The invariant checker runs under every story.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Cluster, converge as convergeFor, others, type ClusterOptions } from './cluster.js';

const WINDOW = 96;
const ACK = 32;
const CHUNK = 16;

const converge = (c: Cluster, maxTicks = 400): void => convergeFor(c, maxTicks);

function cluster(o: Partial<ClusterOptions> = {}): Cluster {
  return new Cluster({ voters: 3, seed: 42, historyTxnsMax: 2, syncWindowBytes: WINDOW, syncAckBytes: ACK, snapChunkBytes: CHUNK, ...o });
}



/** A follower crashed while the leader committed `writes` (more than its window): it will get a SNAP. */
function behindBySnap(c: Cluster, writes = 12): { l: number; f: number } {
  const l = c.stabilize();
  const f = others(c, l)[0]!;
  c.crash(f);
  for (let i = 0; i < writes; i++) c.writeAndWait(l, i);
  return { l, f };
}

/** Counts, on the link leader -> f, sync bytes sent and never acknowledged by f's syncAck. */
function watchCredit(c: Cluster, l: number, f: number): { maxUnacked: () => number; chunks: () => number; acks: () => number; proposalsBeforeNewLeader: () => number } {
  let sent = 0;
  let acked = 0;
  let max = 0;
  let chunks = 0;
  let acks = 0;
  let streaming = false;
  let live = 0;
  c.onDeliver = (from, to, m) => {
    const msg = m as { t: string; chunk?: Uint8Array; txns?: Uint8Array[]; bytes?: number };
    if (from === l && to === f) {
      if (msg.t === 'snap') {
        if ((m as { offset?: number }).offset === 0) {
          sent = 0; // a new sync: the learner counts from zero again
          acked = 0;
        }
        streaming = true;
        chunks++;
        sent += msg.chunk!.byteLength;
      } else if (msg.t === 'proposals' && streaming) {
        live += msg.txns!.length;
        for (const t of msg.txns!) sent += t.byteLength + 16;
      } else if (msg.t === 'newLeader') {
        streaming = false;
        sent = 0;
        acked = 0;
      }
      max = Math.max(max, sent - acked);
    } else if (from === f && to === l && msg.t === 'syncAck') {
      acks++;
      acked = msg.bytes!;
    }
  };
  return { maxUnacked: () => max, chunks: () => chunks, acks: () => acks, proposalsBeforeNewLeader: () => live };
}

test('a SNAP streams in chunks under the credit while the leader keeps committing; what it proposed meanwhile follows the image', () => {
  const c = cluster();
  const { l, f } = behindBySnap(c);
  const w = watchCredit(c, l, f);
  c.start(f);
  for (let t = 0; t < 60; t++) {
    c.write(l, 100 + (t % 7));
    c.runTicks(1);
  }
  converge(c);
  c.onDeliver = null;
  assert.ok(w.chunks() > 3, `the image went in many chunks (${w.chunks()})`);
  assert.ok(w.acks() > 0, 'the learner acknowledged as it read');
  // The leader sends while under the window; one message may overshoot it by at most its size.
  assert.ok(w.maxUnacked() <= WINDOW + CHUNK + 64, `unacknowledged sync bytes stayed near the window (max ${w.maxUnacked()})`);
  assert.ok(w.proposalsBeforeNewLeader() > 0, 'proposals made during the stream reached the learner inside its sync');
  assert.equal(c.server(f).app.pos, c.server(l).app.pos);
});

test('a learner that stops reading its SNAP is cut off, then synced again when it resumes', () => {
  const c = cluster();
  const { l, f } = behindBySnap(c);
  let paused = false;
  c.onDeliver = (from, to, m) => {
    if (!paused && from === l && to === f && m.t === 'snap') {
      paused = true;
      c.pause(f, 40); // SIGSTOP longer than syncLimit (10 ticks)
    }
  };
  c.start(f);
  c.runTicks(30);
  assert.ok(paused);
  assert.ok((c.stats.get('cutOff') ?? 0) > 0, 'the leader cut the silent learner off');
  c.onDeliver = null;
  c.runTicks(30);
  c.writeAndWait(c.stabilize(), 200);
  converge(c);
});

for (const who of ['leader', 'learner'] as const) {
  test(`the ${who} crashes in the middle of a SNAP stream; the ensemble heals and agrees`, () => {
    const c = cluster();
    const { l, f } = behindBySnap(c);
    let chunks = 0;
    let crashed = false;
    c.onDeliver = (from, to, m) => {
      if (!crashed && from === l && to === f && m.t === 'snap' && ++chunks === 3) {
        crashed = true;
        c.crash(who === 'leader' ? l : f);
      }
    };
    c.start(f);
    c.runTicks(40);
    c.onDeliver = null;
    assert.ok(crashed, 'it crashed mid-stream');
    c.start(who === 'leader' ? l : f);
    const l2 = c.stabilize();
    c.writeAndWait(l2, 300);
    converge(c);
  });
}

test('a DIFF longer than the window goes in PROPOSALS runs under the credit, cut by a link break midway', () => {
  const c = cluster({ historyTxnsMax: 1_000, syncWindowBytes: 64, syncAckBytes: 24 });
  const l = c.stabilize();
  const f = others(c, l)[0]!;
  c.crash(f);
  for (let i = 0; i < 30; i++) c.writeAndWait(l, i);
  let runs = 0;
  let acks = 0;
  c.onDeliver = (from, to, m) => {
    if (from === l && to === f && m.t === 'proposals' && ++runs === 2) c.dropLink(l, f);
    if (from === f && to === l && m.t === 'syncAck') acks++;
  };
  c.start(f);
  c.runTicks(80);
  c.onDeliver = null;
  assert.ok(runs >= 2 && acks > 0, `the DIFF streamed under the credit (${runs} runs, ${acks} acks)`);
  assert.equal(c.stats.get('snap') ?? 0, 0, 'a DIFF, not a SNAP');
  c.writeAndWait(c.stabilize(), 400);
  converge(c);
});
