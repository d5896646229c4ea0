// The effect runner's ordering rules (src/server/ensemble/effects.ts), with a scripted core and a
// disk whose operations finish when the test says so.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { constants } from '../../src/common/constants.js';
import { EffectRunner, type LocalEffect } from '../../src/server/ensemble/effects.js';
import type { Effect, Proposal, ZabCore } from '../../src/server/quorum/api.js';

function proposal(zxid: bigint): Proposal {
  return { zxid, txn: new Uint8Array([Number(zxid)]), origin: null };
}

/** A core that hands out scripted effects and records the completions it is given. */
function scriptedCore(): { core: ZabCore; queue: Effect[]; inputs: string[] } {
  const queue: Effect[] = [];
  const inputs: string[] = [];
  const core = {
    takeEffects: () => queue.splice(0),
    logSynced: (z: bigint) => void inputs.push(`logSynced ${z}`),
    truncated: (z: bigint) => void inputs.push(`truncated ${z}`),
    snapshotInstalled: (z: bigint) => void inputs.push(`snapshotInstalled ${z}`),
    epochsPersisted: () => void inputs.push('epochsPersisted'),
  } as unknown as ZabCore;
  return { core, queue, inputs };
}

/** A disk whose every operation waits until release() (in order). */
function heldDisk(log: string[]): { disk: EffectTarget['disk']; release(): void; pending(): number } {
  const waiting: (() => void)[] = [];
  const op = (what: string) => () => {
    log.push(`disk ${what}`);
    return new Promise<void>((r) => waiting.push(r));
  };
  return {
    disk: {
      append: (ps) => op(`append ${ps.map((p) => p.zxid).join(',')}`)(),
      truncate: (z) => op(`truncate ${z}`)(),
      installSnapshot: (z) => op(`install ${z}`)(),
      persistEpochs: (a, c) => op(`epochs ${a} ${c}`)(),
    },
    release: () => waiting.shift()?.(),
    pending: () => waiting.length,
  };
}
type EffectTarget = ConstructorParameters<typeof EffectRunner>[1];

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

test('appends queued behind a running one share one write + fdatasync, reported to the core as one logSynced of the last zxid (one ACK per fdatasync)', async () => {
  const { core, queue, inputs } = scriptedCore();
  const log: string[] = [];
  const d = heldDisk(log);
  const runner = new EffectRunner(core, { disconnect: () => {}, sendToMany: () => {}, disk: d.disk, local: () => {}, fatal: (e) => assert.fail(String(e)) });
  queue.push({ kind: 'append', proposals: [proposal(1n)] });
  runner.pump();
  queue.push({ kind: 'append', proposals: [proposal(2n)] }, { kind: 'append', proposals: [proposal(3n), proposal(4n)] });
  runner.pump();
  await settle();
  d.release(); // the first append's sync
  await settle();
  d.release(); // the group of two
  await settle();
  assert.deepEqual(log, ['disk append 1', 'disk append 2,3,4']);
  assert.deepEqual(inputs, ['logSynced 1', 'logSynced 4']);
  assert.equal(runner.busy(), false);
});

test('local effects after a TRUNC or SNAP wait until it is done; sends never wait', async () => {
  const { core, queue, inputs } = scriptedCore();
  const log: string[] = [];
  const d = heldDisk(log);
  const sent: unknown[] = [];
  const local: string[] = [];
  const runner = new EffectRunner(core, {
    disconnect: () => {},
    sendToMany: (to, msg) => void sent.push([to, msg]),
    disk: d.disk,
    local: (e: LocalEffect) => void local.push(e.kind === 'commit' ? `commit ${e.zxid}` : e.kind),
    fatal: (e) => assert.fail(String(e)),
  });
  const ack = { t: 'ack' };
  queue.push(
    { kind: 'commit', zxid: 1n },
    { kind: 'truncate', zxid: 1n },
    { kind: 'append', proposals: [proposal(2n)] },
    { kind: 'send', to: 2, msg: ack },
    { kind: 'send', to: 3, msg: ack },
    { kind: 'commit', zxid: 2n },
  );
  runner.pump();
  assert.deepEqual(local, ['commit 1'], 'before the TRUNC: at once; after it: held');
  assert.deepEqual(sent, [[[2, 3], ack]], 'two sends of one message object go out as one encoding, at once');
  await settle();
  d.release(); // truncate done
  await settle();
  assert.deepEqual(local, ['commit 1', 'append', 'commit 2'], 'released in order once the tree is reloaded');
  d.release(); // the append
  await settle();
  assert.deepEqual(inputs, ['truncated 1', 'logSynced 2']);
  assert.deepEqual(log, ['disk truncate 1', 'disk append 2'], 'the append runs after the truncation');
});

test('a failed disk operation stops the runner and reports the error once', async () => {
  const { core, queue } = scriptedCore();
  const errors: unknown[] = [];
  const runner = new EffectRunner(core, {
    disconnect: () => {},
    sendToMany: () => {},
    disk: {
      append: () => Promise.reject(new Error('EIO')),
      truncate: () => Promise.resolve(),
      installSnapshot: () => Promise.resolve(),
      persistEpochs: () => Promise.resolve(),
    },
    local: () => {},
    fatal: (e) => void errors.push(e),
  });
  queue.push({ kind: 'append', proposals: [proposal(1n)] }, { kind: 'append', proposals: [proposal(2n)] });
  runner.pump();
  await settle();
  await settle();
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /EIO/);
  queue.push({ kind: 'commit', zxid: 1n });
  runner.pump(); // nothing runs after a disk failure
  assert.equal(queue.length, 1, 'a failed runner takes no more effects');
});

test('an append whose fdatasync is under way holds back neither the sends after it nor the next appends', async () => {
  const { core, queue, inputs } = scriptedCore();
  const log: string[] = [];
  const d = heldDisk(log);
  const sent: unknown[] = [];
  const runner = new EffectRunner(core, { disconnect: () => {}, sendToMany: (to, msg) => void sent.push([to, msg]), disk: d.disk, local: () => {}, fatal: (e) => assert.fail(String(e)) });
  const p1 = { t: 'proposal', zxid: 1n };
  queue.push({ kind: 'append', proposals: [proposal(1n)] }, { kind: 'send', to: 2, msg: p1 }, { kind: 'send', to: 3, msg: p1 });
  runner.pump();
  assert.deepEqual(log, ['disk append 1'], 'the write + fdatasync started');
  assert.deepEqual(sent, [[[2, 3], p1]], 'the proposal went out while its own fdatasync runs');
  const p2 = { t: 'proposal', zxid: 2n };
  queue.push({ kind: 'append', proposals: [proposal(2n)] }, { kind: 'send', to: 2, msg: p2 });
  runner.pump();
  assert.equal(sent.length, 2, 'the next proposal too');
  assert.deepEqual(inputs, [], 'nothing is reported durable before its fdatasync');
  d.release();
  await settle();
  assert.deepEqual(inputs, ['logSynced 1']);
  assert.deepEqual(log, ['disk append 1', 'disk append 2'], 'what queued meanwhile is the next batch');
  d.release();
  await settle();
  assert.deepEqual(inputs, ['logSynced 1', 'logSynced 2']);
});

test('one group commit covers at most zabLogBatchTxnsMax proposals; the rest go into the next one', async () => {
  const { core, queue, inputs } = scriptedCore();
  const sizes: number[] = [];
  const waiting: (() => void)[] = [];
  const runner = new EffectRunner(core, {
    disconnect: () => {},
    sendToMany: () => {},
    disk: {
      append: (ps) => {
        sizes.push(ps.length);
        return new Promise<void>((r) => waiting.push(r));
      },
      truncate: () => Promise.resolve(),
      installSnapshot: () => Promise.resolve(),
      persistEpochs: () => Promise.resolve(),
    },
    local: () => {},
    fatal: (e) => assert.fail(String(e)),
  });
  const max = constants.zabLogBatchTxnsMax;
  let zxid = 1n;
  const batch = (n: number): Effect => {
    const ps: Proposal[] = [];
    for (let i = 0; i < n; i++) ps.push(proposal(zxid++));
    return { kind: 'append', proposals: ps };
  };
  queue.push(batch(1));
  runner.pump();
  // While the first fdatasync runs, three batches of max/2 + 1 queue: two cannot share one sync.
  const half = max / 2 + 1;
  queue.push(batch(half), batch(half), batch(half));
  runner.pump();
  for (let i = 0; i < 4; i++) {
    waiting.shift()!();
    await settle();
  }
  assert.deepEqual(sizes, [1, half, half, half]);
  assert.equal(inputs.length, 4);
  assert.equal(inputs[inputs.length - 1], `logSynced ${zxid - 1n}`);
});
