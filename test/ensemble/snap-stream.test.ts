// The sync of a learner in real processes (src/server/quorum/sync-stream.ts): a follower with a
// wiped data dir gets a SNAP of a tree over two sync windows large while a client keeps writing
// through the leader; a learner whose syncAcks stop arriving is cut off by the leader and synced
// again once its link heals; a SIGSTOPped follower in broadcast is cut off at the link bound
// instead of growing the leader's queue, and catches up after SIGCONT.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { constants } from '../../src/common/constants.js';
import type { ZookooperClient } from '../../src/index.js';
import type { Ensemble } from '../cluster/harness.js';
import { clientOf, closeAll, ensembleTest, eventually, jsonPage, startEnsemble, withRole } from './helpers.js';

const ZNODES = 20_000;
const DATA = 'd'.repeat(1_800); // 20,000 x ~1.9 kB: an image of ~38 MB, over two sync windows (zabSyncWindowBytes)
const PER_MULTI = 200;

interface LearnerRow { id: number; synced: boolean; queuedBytes: number }

describe('ensemble of 3: a learner synced under its credit', () => {
  let e: Ensemble;
  const clients: ZookooperClient[] = [];
  const on = async (id: number): Promise<ZookooperClient> => {
    const zk = await clientOf(e.server(id));
    clients.push(zk);
    return zk;
  };
  const learners = async (id: number): Promise<LearnerRow[]> => ((await jsonPage(e.server(id), 'stat')).learners as LearnerRow[] | undefined) ?? [];
  const linesOf = (id: number, needle: string): string[] => e.server(id).lines.filter((l) => l.includes(needle));
  /** Server `f` is synced with the leader: it serves `path` with the leader's children and data. */
  const sameTree = async (leaderId: number, f: number, paths: string[]): Promise<void> => {
    const a = await on(leaderId);
    const b = await on(f);
    for (const p of paths) {
      await b.sync(p);
      const [ca, cb] = [(await a.getChildren(p)).sort(), (await b.getChildren(p)).sort()];
      assert.equal(cb.length, ca.length, `${p}: as many children on ${f} as on the leader`);
      assert.deepEqual(cb, ca);
      for (const c of [ca[0], ca[Math.floor(ca.length / 2)], ca[ca.length - 1]]) {
        if (c === undefined) continue;
        assert.deepEqual((await b.getData(`${p}/${c}`)).data, (await a.getData(`${p}/${c}`)).data, `${p}/${c}`);
      }
    }
  };

  before(async () => {
    // Sync limit 3 s (a learner silent that long mid-sync is cut off); init limit long enough that
    // a learner whose acks are held back does not give up first.
    e = await startEnsemble({ size: 3, syncLimitMs: 3_000, extraArgs: ['--init-limit-ms', '60000'] });
    const zk = await on(await e.leader());
    await zk.create('/big', '');
    await zk.create('/live', '');
    for (let i = 0; i < ZNODES; i += PER_MULTI) {
      await zk.multi(Array.from({ length: PER_MULTI }, (_, j) => ({ op: 'create' as const, path: `/big/n${i + j}`, data: DATA })));
    }
  });
  after(async () => {
    await closeAll(clients);
    await e?.stopAll();
  });

  test('a wiped follower gets a SNAP of a tree over two windows large while the leader keeps committing writes', async () => {
    const leaderId = await e.leader();
    const [f] = await withRole(e, 'follower');
    const s = e.server(f!);
    await s.kill9();
    rmSync(s.dataDir, { recursive: true, force: true });
    const writer = await on(leaderId);
    let writes = 0;
    let stop = false;
    const writing = (async () => {
      for (let i = 0; !stop && i < 100_000; i++) {
        await writer.create(`/live/w${i}`, `${i}`);
        writes++;
      }
    })();
    await s.start();
    await eventually(async () => (await learners(leaderId)).some((l) => l.id === f && l.synced), ensembleTest.deadlineMs, `server ${f} synced`);
    const during = writes;
    await eventually(() => writes >= during + 50, ensembleTest.deadlineMs, 'writes go on after the sync');
    stop = true;
    await writing;
    assert.ok(during > 0, 'writes were committed while the follower was being synced');
    assert.equal(await e.leader(), leaderId, 'the leader stayed');
    await sameTree(leaderId, f!, ['/big', '/live']);
    assert.deepEqual(linesOf(leaderId, 'cut off'), [], 'no learner was cut off');
  });

  test('a learner whose syncAcks are held back past syncLimit is cut off by the leader, then synced when its link heals', async () => {
    const leaderId = await e.leader();
    const [f] = await withRole(e, 'follower');
    const s = e.server(f!);
    await s.kill9();
    rmSync(s.dataDir, { recursive: true, force: true });
    // What f sends the leader (FOLLOWERINFO, ACKEPOCH, then its syncAcks) arrives 5 s late: the
    // leader sends one window of the image and then hears nothing for longer than syncLimit.
    e.mesh!.delay(f!, leaderId, 5_000);
    try {
      await s.start();
      // Generous: every step of f's handshake crosses the 5 s delay, and a loaded machine adds to it.
      await eventually(() => linesOf(leaderId, 'no syncAck').length > 0, 3 * ensembleTest.deadlineMs, 'the leader cut the learner off').catch((err: unknown) => {
        throw new Error(`${(err as Error).message}\n${e.recentLines(20)}`);
      });
    } finally {
      e.mesh!.heal();
    }
    await eventually(async () => (await learners(leaderId)).some((l) => l.id === f && l.synced), ensembleTest.deadlineMs, `server ${f} synced after the heal`);
    await sameTree(leaderId, f!, ['/big', '/live']);
  });

  test('a SIGSTOPped follower in broadcast is cut off at the link bound, not queued for, and catches up after SIGCONT', async () => {
    const leaderId = await e.leader();
    const [f] = await withRole(e, 'follower');
    const writer = await on(leaderId);
    await writer.create('/stopped', '');
    e.server(f!).pause();
    try {
      // Each txn ~1 MB: past the link bound (64 MiB) the leader cuts the link it cannot write.
      const blob = Buffer.alloc(1_000_000, 7);
      const txns = Math.ceil((2 * constants.peerLinkQueuedBytesMax) / blob.byteLength);
      for (let i = 0; i < txns && linesOf(leaderId, 'not reading fast enough').length === 0; i++) await writer.create(`/stopped/n${i}`, blob);
      assert.ok(linesOf(leaderId, 'not reading fast enough').length > 0, 'the leader cut the link of the stopped follower');
      const row = (await learners(leaderId)).find((l) => l.id === f);
      assert.ok(row === undefined || row.queuedBytes <= constants.peerLinkQueuedBytesMax + constants.peerFrameBytesMax, `queued for it: ${row?.queuedBytes}`);
    } finally {
      e.server(f!).resume();
    }
    await eventually(async () => (await learners(leaderId)).some((l) => l.id === f && l.synced), ensembleTest.deadlineMs, `server ${f} synced after SIGCONT`);
    await sameTree(leaderId, f!, ['/stopped']);
  });
});
