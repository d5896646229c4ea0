// Where storage files live and what they are called.
//
// As ZooKeeper: snapshots under <dataDir>/version-2/, txn log segments under
// <dataLogDir>/version-2/ (dataLogDir defaults to dataDir; putting the log on its own disk keeps
// snapshot writes from delaying log fsyncs). File names carry the zxid in lowercase hex without
// padding, exactly ZooKeeper's `log.<hex>` / `snapshot.<hex>`, so operators' habits and scripts
// (zkTxnLogToolkit-style listings, manual purges) still make sense. A `.tmp` suffix marks a file
// that is not complete yet; it never counts and is deleted at recovery.
import { dirname, join } from 'node:path';
import { assert } from '../../common/assert.js';
import type { Disk } from '../../io/disk.js';

export const versionSubdir = 'version-2';
export const tmpSuffix = '.tmp';

/** The directories a server is configured with (zoo.cfg dataDir / dataLogDir). */
export interface DataDirs {
  dataDir: string;
  /** Defaults to dataDir. */
  dataLogDir?: string;
}

/** The directories files are actually written to, and the disk they are on. */
export interface StorageLayout {
  snapDir: string;
  logDir: string;
  disk: Disk;
}

export interface StorageFile {
  zxid: bigint;
  name: string;
  path: string;
}

export function storageLayout(dirs: DataDirs, disk: Disk): StorageLayout {
  assert(dirs.dataDir.length > 0, 'dataDir is set');
  return {
    snapDir: join(dirs.dataDir, versionSubdir),
    logDir: join(dirs.dataLogDir ?? dirs.dataDir, versionSubdir),
    disk,
  };
}

/** Creates the version-2 directories if missing, making their creation durable. */
export async function ensureLayout(layout: StorageLayout): Promise<void> {
  for (const dir of new Set([layout.snapDir, layout.logDir])) {
    const created = await layout.disk.mkdirp(dir);
    // mkdir -p may have created the parent too; fsync every level it created plus the one
    // above, so the new directory entries survive a power loss.
    if (created === undefined) continue;
    for (let p = dir; ; p = dirname(p)) {
      await layout.disk.fsyncDir(dirname(p));
      if (p === created || dirname(p) === p) break;
    }
  }
}

export function logFileName(zxid: bigint): string {
  assert(zxid >= 0n, 'zxid is unsigned');
  return `log.${zxid.toString(16)}`;
}

export function snapshotFileName(zxid: bigint): string {
  assert(zxid >= 0n, 'zxid is unsigned');
  return `snapshot.${zxid.toString(16)}`;
}

const hexZxidMaxDigits = 16;

function parseName(name: string, prefix: string): bigint | null {
  if (!name.startsWith(prefix)) return null;
  const hex = name.slice(prefix.length);
  if (hex.length === 0 || hex.length > hexZxidMaxDigits || !/^[0-9a-f]+$/.test(hex)) return null;
  return BigInt('0x' + hex);
}

export function parseLogFileName(name: string): bigint | null {
  return parseName(name, 'log.');
}

export function parseSnapshotFileName(name: string): bigint | null {
  return parseName(name, 'snapshot.');
}

async function listFiles(disk: Disk, dir: string, parse: (name: string) => bigint | null): Promise<StorageFile[]> {
  const files: StorageFile[] = [];
  for (const name of await disk.list(dir)) {
    const zxid = parse(name);
    if (zxid !== null) files.push({ zxid, name, path: join(dir, name) });
  }
  files.sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
  for (let i = 1; i < files.length; i++) {
    assert(files[i - 1]!.zxid < files[i]!.zxid, 'file names are unique per zxid');
  }
  return files;
}

/** Log segments, oldest first. */
export function listLogSegments(disk: Disk, logDir: string): Promise<StorageFile[]> {
  return listFiles(disk, logDir, parseLogFileName);
}

/** Snapshots, oldest first. */
export function listSnapshots(disk: Disk, snapDir: string): Promise<StorageFile[]> {
  return listFiles(disk, snapDir, parseSnapshotFileName);
}

/** The segments that can hold records after snapZxid: the last one named <= snapZxid+1 and on. */
export function segmentsFrom(segments: StorageFile[], snapZxid: bigint | null): StorageFile[] {
  if (snapZxid === null) return segments;
  let start = 0;
  for (let i = 0; i < segments.length; i++) if (segments[i]!.zxid <= snapZxid + 1n) start = i;
  return segments.slice(start);
}

/** Deletes leftovers of writes a crash interrupted (`*.tmp`). Returns the names removed. */
export async function removeTempFiles(disk: Disk, dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await disk.list(dir)) {
    if (!name.endsWith(tmpSuffix)) continue;
    await disk.unlink(join(dir, name));
    removed.push(name);
  }
  if (removed.length > 0) await disk.fsyncDir(dir);
  return removed;
}
