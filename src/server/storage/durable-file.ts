// Small files replaced atomically: write `<name>.tmp`, fsync it, rename over `<name>`, fsync
// the directory. A crash leaves the old file or the new one, never a mix; a leftover `.tmp` is
// deleted at recovery (layout.removeTempFiles). Used for the epoch files and the intent file.
import { join } from 'node:path';
import { assert } from '../../common/assert.js';
import { type Disk, isNotFound } from '../../io/disk.js';
import { tmpSuffix } from './layout.js';

/** Bounds what is read back: these files hold a number or a line, never more. */
export const smallFileBytesMax = 256;

export async function writeFileDurably(disk: Disk, dir: string, name: string, bytes: Uint8Array): Promise<void> {
  assert(bytes.length <= smallFileBytesMax, () => `${name}: ${bytes.length} bytes within ${smallFileBytesMax}`);
  const path = join(dir, name);
  const tmp = path + tmpSuffix;
  const fh = await disk.open(tmp, 'w+');
  try {
    for (let done = 0; done < bytes.length; ) {
      const n = await fh.write(bytes, done, bytes.length - done, done);
      assert(n > 0, 'write makes progress');
      done += n;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  await disk.rename(tmp, path);
  await disk.fsyncDir(dir);
}

/** The file's bytes, or null if it does not exist. */
export async function readSmallFile(disk: Disk, dir: string, name: string): Promise<Buffer | null> {
  try {
    const buf = await disk.readFile(join(dir, name));
    if (buf.length > smallFileBytesMax) throw new Error(`${join(dir, name)}: ${buf.length} bytes, expected at most ${smallFileBytesMax}`);
    return buf;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** Deletes the file if present and makes the deletion durable. */
export async function removeFileDurably(disk: Disk, dir: string, name: string): Promise<void> {
  try {
    await disk.unlink(join(dir, name));
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  await disk.fsyncDir(dir);
}
