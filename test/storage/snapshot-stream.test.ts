// A SNAP written to its snapshot file as it arrives (format 2, storage/snapshot-stream.ts): it
// loads back as the same image and meta, recovery picks it as any snapshot, a flipped byte or a
// body whose meta length disagrees with the header is refused by the CRC and checks, an abandoned
// one leaves nothing, and a failed write surfaces at finish with the temp file removed.
import assert from 'node:assert/strict';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Disk, DiskFile } from '../../src/io/disk.js';
import { nodeDisk } from '../../src/io/node/disk.js';
import { makeZxid } from '../../src/common/zxid.js';
import { joinSnapImage } from '../../src/server/ensemble/snap-image.js';
import { loadNewestSnapshot, loadSnapshotFile, SnapshotCorruptError, storageLayout } from '../../src/server/storage/index.js';
import { SnapshotStreamWriter } from '../../src/server/storage/snapshot-stream.js';
import { recoverAll, tempDir } from './helpers.js';

const z = (n: number): bigint => makeZxid(1, n);

function snapBody(imageBytes: number, meta: string): { image: Uint8Array; meta: Uint8Array; body: Uint8Array } {
  const image = Uint8Array.from({ length: imageBytes }, (_, i) => (i * 131 + 7) & 0xff);
  const m = new TextEncoder().encode(meta);
  return { image, meta: m, body: joinSnapImage(image, m) };
}

async function snapDirOf(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await tempDir(t);
  await recoverAll(dir); // creates the layout
  return storageLayout({ dataDir: dir }, nodeDisk).snapDir;
}

function appendInChunks(w: SnapshotStreamWriter, body: Uint8Array, chunk: number): void {
  for (let off = 0; off < body.byteLength; off += chunk) w.append(body.subarray(off, Math.min(off + chunk, body.byteLength)));
}

test('a SNAP written as it arrives loads back as its image and meta, and recovery picks it', async (t) => {
  const snapDir = await snapDirOf(t);
  const { image, meta, body } = snapBody(3 * 1_048_576 + 13, 'the session table');
  const w = new SnapshotStreamWriter(nodeDisk, snapDir, z(77), body.byteLength);
  appendInChunks(w, body, 65_537);
  const path = await w.finish(body, 1234);
  assert.equal(path, join(snapDir, 'snapshot.10000004d'));
  const loaded = await loadSnapshotFile(nodeDisk, path, z(77));
  assert.deepEqual([loaded.zxid, loaded.createdMs], [z(77), 1234]);
  assert.ok(Buffer.from(loaded.image).equals(Buffer.from(image)));
  assert.ok(Buffer.from(loaded.meta).equals(Buffer.from(meta)));
  assert.equal((await loadNewestSnapshot(nodeDisk, snapDir))?.zxid, z(77));
  assert.deepEqual((await readdir(snapDir)).filter((n) => n.endsWith('.tmp')), []);
});

test('a format-2 snapshot with a flipped byte or a meta length that disagrees is refused', async (t) => {
  const snapDir = await snapDirOf(t);
  const { body } = snapBody(100_000, 'meta');
  const w = new SnapshotStreamWriter(nodeDisk, snapDir, z(5), body.byteLength);
  appendInChunks(w, body, 4096);
  const path = await w.finish(body);
  const flip = async (position: number): Promise<void> => {
    const fh = await open(path, 'r+');
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, position);
    b[0] = b[0]! ^ 0x40;
    await fh.write(b, 0, 1, position);
    await fh.close();
  };
  await flip(48 + 5_000); // inside the image
  await assert.rejects(loadSnapshotFile(nodeDisk, path, z(5)), (e: unknown) => e instanceof SnapshotCorruptError && /CRC32C/.test(e.message));
  await flip(48 + 5_000);
  await loadSnapshotFile(nodeDisk, path, z(5)); // whole again
  await flip(48 + body.byteLength - 1); // the body's u32 meta length
  await assert.rejects(loadSnapshotFile(nodeDisk, path, z(5)), (e: unknown) => e instanceof SnapshotCorruptError && /meta length/.test(e.message));
});

test('an abandoned SNAP file is removed and never becomes a snapshot', async (t) => {
  const snapDir = await snapDirOf(t);
  const { body } = snapBody(200_000, 'meta');
  const w = new SnapshotStreamWriter(nodeDisk, snapDir, z(9), body.byteLength);
  w.append(body.subarray(0, 100_000));
  await w.abort();
  await w.abort();
  assert.deepEqual(await readdir(snapDir), []);
  assert.equal(await loadNewestSnapshot(nodeDisk, snapDir), null);
});

test('a write that fails while the SNAP arrives rejects at finish, and the temp file is gone', async (t) => {
  const snapDir = await snapDirOf(t);
  const { body } = snapBody(200_000, 'meta');
  // A disk whose file writes fail past 64 KiB: a full disk, which a test cannot cause for real here.
  const failing: Disk = new Proxy(nodeDisk, {
    get(target, key, receiver) {
      if (key !== 'open') return Reflect.get(target, key, receiver) as unknown;
      return async (path: string, mode: Parameters<Disk['open']>[1]): Promise<DiskFile> => {
        const f = await target.open(path, mode);
        return new Proxy(f, {
          get(file, k, r) {
            if (k !== 'write') return Reflect.get(file, k, r) as unknown;
            return (bytes: Uint8Array, offset: number, length: number, position: number) =>
              position > 65_536 ? Promise.reject(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })) : file.write(bytes, offset, length, position);
          },
        });
      };
    },
  });
  const w = new SnapshotStreamWriter(failing, snapDir, z(3), body.byteLength);
  appendInChunks(w, body, 16_384);
  await assert.rejects(w.finish(body), /ENOSPC/);
  assert.deepEqual(await readdir(snapDir), []);
});
