// acceptedEpoch / currentEpoch files: ZooKeeper's format and defaults, and atomic replacement.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeZxid } from '../../src/common/zxid.js';
import { EpochFileError, ensureLayout, readEpochs, storageLayout, writeEpochs } from '../../src/server/storage/index.js';
import { SimDisk } from '../io/sim-disk.js';
import { diskCases } from './disks.js';

for (const dc of diskCases) {
  test(`${dc.name}: epochs default from the last zxid, then read back what was written`, async (t) => {
    const { disk, dataDir } = await dc.setup(t);
    const layout = storageLayout({ dataDir }, disk);
    await ensureLayout(layout);
    assert.deepEqual(await readEpochs(layout, 0n), { acceptedEpoch: 0, currentEpoch: 0, derived: true }, 'a new data dir');
    assert.deepEqual(await readEpochs(layout, makeZxid(7, 3)), { acceptedEpoch: 7, currentEpoch: 7, derived: true }, 'files missing: from the log');
    await writeEpochs(layout, { acceptedEpoch: 9, currentEpoch: 8 });
    assert.deepEqual(await readEpochs(layout, makeZxid(7, 3)), { acceptedEpoch: 9, currentEpoch: 8, derived: false });
    assert.equal((await disk.readFile(join(layout.snapDir, 'currentEpoch'))).toString(), '8', "ZooKeeper's format: decimal, no newline");
    assert.equal((await disk.readFile(join(layout.snapDir, 'acceptedEpoch'))).toString(), '9');
  });

  test(`${dc.name}: a damaged epoch file is an error, not a default`, async (t) => {
    const { disk, dataDir } = await dc.setup(t);
    const layout = storageLayout({ dataDir }, disk);
    await ensureLayout(layout);
    await writeEpochs(layout, { acceptedEpoch: 2, currentEpoch: 2 });
    const f = await disk.open(join(layout.snapDir, 'currentEpoch'), 'w+');
    await f.write(Buffer.from('x1'), 0, 2, 0);
    await f.close();
    await assert.rejects(readEpochs(layout, 0n), EpochFileError);
  });
}

test('sim disk: a crash at any step of writeEpochs leaves the old or the new values, never garbage', async () => {
  const seen = new Set<string>();
  for (let k = 1; ; k++) {
    let disk = new SimDisk(k);
    disk.mkdirDurable('/data');
    const layout = storageLayout({ dataDir: '/data' }, disk);
    await ensureLayout(layout);
    await writeEpochs(layout, { acceptedEpoch: 4, currentEpoch: 3 });
    disk.scheduleCrash(k, { unsynced: k % 2 === 0 ? 'none' : 'prefix' });
    let completed = true;
    try {
      await writeEpochs(layout, { acceptedEpoch: 12, currentEpoch: 11 });
    } catch {
      assert.ok(disk.crashed);
      completed = false;
    }
    disk = disk.crashed ? disk.restarted() : disk.crash();
    const e = await readEpochs(storageLayout({ dataDir: '/data' }, disk), makeZxid(3, 1));
    assert.ok(e.acceptedEpoch === 4 || e.acceptedEpoch === 12, `step ${k}: acceptedEpoch ${e.acceptedEpoch}`);
    assert.ok(e.currentEpoch === 3 || e.currentEpoch === 11, `step ${k}: currentEpoch ${e.currentEpoch}`);
    assert.ok(e.currentEpoch <= e.acceptedEpoch, `step ${k}: current <= accepted`);
    assert.equal(e.derived, false);
    seen.add(`${e.acceptedEpoch}/${e.currentEpoch}`);
    if (completed) {
      assert.deepEqual([e.acceptedEpoch, e.currentEpoch], [12, 11], 'a completed write is durable');
      break;
    }
  }
  assert.deepEqual([...seen].sort(), ['12/11', '12/3', '4/3'], 'crashes landed between the two files too');
});
