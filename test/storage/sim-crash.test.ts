// The txn log and recovery on the simulated disk, through seeded power losses: every record
// whose sync completed survives, a torn tail is cut and reported, nothing that was never synced
// comes back, and the log never claims a record durable that a crash then loses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeZxid, zxidEpoch } from '../../src/common/zxid.js';
import { type TxnLog, writeSnapshotFile } from '../../src/server/storage/index.js';
import { SimDisk } from '../io/sim-disk.js';
import { payloadFor, prng, recoverAll, records, seedFromEnv } from './helpers.js';

const dataDir = '/data';
const seedsPerRun = 60;
const roundsPerSeed = 6;

async function microturns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

interface Marks {
  torn: number;
  rolls: number;
  crashInFlight: number;
  tempRemoved: number;
  snapshots: number;
}

async function runSeed(seed: number, marks: Marks): Promise<void> {
  const rnd = prng(seed);
  // Small segments roll often; big ones (above the covered-prefix read) take the prefix path.
  const segmentBytes = seed % 3 === 0 ? 2 * 1_048_576 : 4096;
  let disk = new SimDisk(seed);
  disk.mkdirDurable(dataDir);
  let acked: bigint | null = null; // highest zxid whose sync() resolved
  let syncStarted: bigint | null = null; // highest zxid handed to a sync() call
  let claimed: bigint | null = null; // log.lastSyncedZxid when the crash hit
  for (let round = 0; round < roundsPerSeed; round++) {
    const back = await recoverAll(dataDir, {}, disk);
    const got = back.records;
    const where = `seed ${seed} round ${round}`;
    for (let i = 1; i < got.length; i++) {
      const a = got[i - 1]!.zxid;
      const b = got[i]!.zxid;
      assert.ok(b === a + 1n || zxidEpoch(b) > zxidEpoch(a), `${where}: no gap between ${a} and ${b}`);
    }
    for (const r of got) assert.deepEqual(r.bytes, payloadFor(r.zxid), `${where}: payload of ${r.zxid}`);
    const last = back.rec.lastZxid();
    if (acked !== null) assert.ok(last !== null && last >= acked, `${where}: recovered ${last} covers acked ${acked}`);
    if (claimed !== null) assert.ok(last !== null && last >= claimed, `${where}: recovered ${last} covers what the log called synced (${claimed})`);
    if (last !== null) assert.ok(syncStarted !== null && last <= syncStarted, `${where}: recovered ${last} was handed to a sync (${syncStarted})`);
    if (got.length > 0 && back.rec.snapshot === null) assert.equal(got[0]!.zxid, makeZxid(1, 1), `${where}: history starts at the first zxid`);
    if (back.rec.snapshot !== null && got.length > 0) assert.ok(got[0]!.zxid > back.rec.snapshot.zxid, `${where}: replay starts after the snapshot`);
    for (const w of back.warnings) {
      assert.ok(w.kind === 'tornTail' || w.kind === 'tempFileRemoved' || w.kind === 'emptySegmentRemoved', `${where}: ${w.kind}`);
      if (w.kind === 'tornTail') marks.torn++;
      if (w.kind === 'tempFileRemoved') marks.tempRemoved++;
    }
    // What recovery returned is the history now: a later crash may not lose it either.
    acked = last;
    claimed = null;

    const snapped = last !== null && rnd() < 0.3;
    if (snapped) {
      // As a clean stop does: a snapshot at the last zxid, so the tail segment is "covered".
      await writeSnapshotFile(disk, back.rec.layout.snapDir, { zxid: last!, meta: new Uint8Array(0), image: new Uint8Array(8), createdMs: 0 });
      marks.snapshots++;
    }
    const stopAfterSnapshot = snapped && rnd() < 0.5; // a clean stop: restart with the tail covered
    const log = await back.rec.openLog({ segmentBytes });
    let next = (last ?? makeZxid(1, 0)) + 1n;
    const batches = stopAfterSnapshot ? 0 : 1 + Math.floor(rnd() * 8);
    for (let b = 0; b < batches; b++) {
      if (next > makeZxid(1, 1) && rnd() < 0.05) next = makeZxid(zxidEpoch(next) + 1, 1); // a new epoch starts a segment
      const batch = records(next, 1 + Math.floor(rnd() * 12));
      next += BigInt(batch.length);
      log.append(batch);
      const upTo = batch.at(-1)!.zxid;
      syncStarted = upTo;
      if (b < batches - 1 || rnd() < 0.3) {
        await log.sync();
        acked = upTo;
        continue;
      }
      // Power loss inside this sync: at a seeded disk call from now (write, fdatasync, rename,
      // directory fsync, the spare's preallocation...). If the sync finishes first, it counts.
      disk.scheduleCrash(1 + Math.floor(rnd() * 12), { unsynced: rnd() < 0.3 ? 'none' : 'prefix' });
      try {
        await log.sync();
        acked = upTo;
      } catch (err) {
        assert.ok(disk.crashed, `${where}: only the crash fails a sync: ${(err as Error).message}`);
        marks.crashInFlight++;
      }
    }
    if (!disk.crashed && rnd() < 0.3) log.append(records(next, 3)); // appended, never synced: must not survive
    await microturns(Math.floor(rnd() * 10)); // let background work (the spare) run into the crash
    marks.rolls += log.stats.rolls;
    claimed = log.lastSyncedZxid;
    disk = disk.crashed ? disk.restarted() : disk.crash({ unsynced: rnd() < 0.3 ? 'none' : 'prefix' });
  }
}

test('seeded power losses on the simulated disk: synced records survive, torn tails are cut', async (t) => {
  const base = seedFromEnv();
  t.diagnostic(`replay with ZK_SEED=${base}`);
  const marks: Marks = { torn: 0, rolls: 0, crashInFlight: 0, tempRemoved: 0, snapshots: 0 };
  for (let i = 0; i < seedsPerRun; i++) {
    const seed = (base + i) >>> 0;
    try {
      await runSeed(seed, marks);
    } catch (err) {
      t.diagnostic(`failed: replay with ZK_SEED=${seed} (one seed)`);
      throw err;
    }
  }
  t.diagnostic(JSON.stringify(marks));
  // Coverage marks: the rare paths ran.
  assert.ok(marks.torn > 0, 'some crash tore the tail');
  assert.ok(marks.rolls > 0, 'segments rolled');
  assert.ok(marks.crashInFlight > 0, 'some crashes hit a sync in flight');
});

async function freshLog(seed: number): Promise<{ disk: SimDisk; log: TxnLog }> {
  const disk = new SimDisk(seed);
  disk.mkdirDurable(dataDir);
  const back = await recoverAll(dataDir, {}, disk);
  return { disk, log: await back.rec.openLog({ segmentBytes: 4096 }) };
}

async function syncResult(log: TxnLog): Promise<Error | null> {
  try {
    await log.sync();
    return null;
  } catch (err) {
    return err as Error;
  }
}

for (const op of ['sync', 'write'] as const) {
  test(`a failed ${op} poisons the log even after the disk heals (ZOOKEEPER-4882)`, async () => {
    const { disk, log } = await freshLog(7);
    log.append(records(makeZxid(1, 1), 5));
    await log.sync();
    log.append(records(makeZxid(1, 6), 5));
    disk.injectFault({ op, pathIncludes: 'log.', count: 1 });
    const err = await syncResult(log);
    assert.ok(err !== null && /EIO/.test(err.message), `the ${op} error reaches the caller: ${err?.message}`);
    assert.equal(log.lastSyncedZxid, makeZxid(1, 5), 'the failed batch is not reported durable');
    // The fault healed; a retry would "succeed" on Linux without the data. The log refuses.
    assert.throws(() => log.append(records(makeZxid(1, 11), 1)), /failed earlier/);
    assert.throws(() => void log.sync(), /failed earlier/);
    const back = await recoverAll(dataDir, {}, disk.crash());
    assert.equal(back.rec.lastZxid(), makeZxid(1, 5), 'recovery gives exactly the synced records');
  });
}
