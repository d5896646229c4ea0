// The simulated disk's own model: what a crash keeps and loses, directory entries, faults.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimDisk } from './sim-disk.js';

const bytes = (s: string): Buffer => Buffer.from(s);

async function writeFile(disk: SimDisk, path: string, s: string, sync: boolean): Promise<void> {
  const f = await disk.open(path, 'w+');
  await f.write(bytes(s), 0, s.length, 0);
  if (sync) await f.sync();
  await f.close();
}

test('unsynced writes are lost, synced ones survive, reads see both before the crash', async () => {
  let disk = new SimDisk(1);
  disk.mkdirDurable('/d');
  await writeFile(disk, '/d/a', 'synced', true);
  await disk.fsyncDir('/d');
  const f = await disk.open('/d/a', 'r+');
  await f.write(bytes('XX'), 0, 2, 0);
  assert.equal((await disk.readFile('/d/a')).toString(), 'XXnced', 'the page cache shows the write');
  disk = disk.crash({ unsynced: 'none' });
  assert.equal((await disk.readFile('/d/a')).toString(), 'synced');
});

test('a new name is lost unless its directory was fsynced; a rename too', async () => {
  let disk = new SimDisk(2);
  disk.mkdirDurable('/d');
  await writeFile(disk, '/d/new', 'data', true);
  disk = disk.crash();
  assert.deepEqual(await disk.list('/d'), [], 'file fsynced, directory not: gone');

  await writeFile(disk, '/d/tmp', 'v1', true);
  await disk.fsyncDir('/d');
  await disk.rename('/d/tmp', '/d/final');
  disk = disk.crash();
  assert.deepEqual(await disk.list('/d'), ['tmp'], 'rename not fsynced: the old name is back');

  await disk.rename('/d/tmp', '/d/final');
  await disk.fsyncDir('/d');
  disk = disk.crash();
  assert.deepEqual(await disk.list('/d'), ['final']);
  assert.equal((await disk.readFile('/d/final')).toString(), 'v1');
});

test('a directory created without fsyncing its parent is lost with its files', async () => {
  let disk = new SimDisk(3);
  disk.mkdirDurable('/d');
  assert.equal(await disk.mkdirp('/d/x/y'), '/d/x');
  await writeFile(disk, '/d/x/y/f', 'z', true);
  await disk.fsyncDir('/d/x/y');
  await disk.fsyncDir('/d/x');
  disk = disk.crash();
  assert.deepEqual(await disk.list('/d'), []);
});

test('a failed fsync drops the dirty data: a retry succeeds and the data is still lost (fsyncgate)', async () => {
  let disk = new SimDisk(4);
  disk.mkdirDurable('/d');
  await writeFile(disk, '/d/f', 'old', true);
  await disk.fsyncDir('/d');
  const f = await disk.open('/d/f', 'r+');
  await f.write(bytes('new'), 0, 3, 0);
  disk.injectFault({ op: 'sync', pathIncludes: '/d/f' });
  await assert.rejects(f.sync(), /EIO/);
  await f.sync(); // healed: "succeeds"
  assert.equal((await disk.readFile('/d/f')).toString(), 'new');
  disk = disk.crash({ unsynced: 'prefix' });
  assert.equal((await disk.readFile('/d/f')).toString(), 'old', 'the write the failed fsync covered is gone');
});

test('a write fault fails that write only, then heals', async () => {
  const disk = new SimDisk(5);
  disk.mkdirDurable('/d');
  const f = await disk.open('/d/f', 'w+');
  disk.injectFault({ op: 'write', count: 2 });
  assert.throws(() => f.writeSync(bytes('a'), 0, 1, 0), /EIO/);
  await assert.rejects(f.write(bytes('a'), 0, 1, 0), /EIO/);
  assert.equal(f.writeSync(bytes('a'), 0, 1, 0), 1);
  assert.equal(disk.stats.faultsFired, 2);
});

test('the crashed process disk and its files are dead', async () => {
  const disk = new SimDisk(6);
  disk.mkdirDurable('/d');
  const f = await disk.open('/d/f', 'w+');
  const next = disk.crash();
  assert.throws(() => f.writeSync(bytes('a'), 0, 1, 0), /EBADF/);
  await assert.rejects(disk.open('/d/g', 'w+'), /EBADF/);
  assert.deepEqual(await next.list('/d'), []);
});

test('crash keeps a seeded prefix of the unsynced writes, sometimes tearing the last one', async () => {
  let torn = 0;
  let prefixes = 0;
  for (let seed = 0; seed < 200; seed++) {
    let disk = new SimDisk(seed);
    disk.mkdirDurable('/d');
    await writeFile(disk, '/d/f', '', true);
    await disk.fsyncDir('/d');
    const f = await disk.open('/d/f', 'r+');
    const full = 'aaaabbbbccccdddd';
    for (let i = 0; i < 4; i++) await f.write(bytes(full.slice(4 * i, 4 * i + 4)), 0, 4, 4 * i);
    const before = disk.stats.tornWrites;
    disk = disk.crash();
    const got = (await disk.readFile('/d/f')).toString();
    assert.ok(full.startsWith(got), `seed ${seed}: ${JSON.stringify(got)} is a prefix of what was written`);
    if (got.length % 4 !== 0) torn++;
    if (got.length > 0 && got.length < full.length) prefixes++;
    if (disk.stats.tornWrites > before && got.length % 4 !== 0) assert.ok(got.length < full.length);
  }
  assert.ok(torn > 0, 'some crashes tore a write');
  assert.ok(prefixes > 0, 'some crashes kept part of the unsynced writes');
});
