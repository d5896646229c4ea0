// Piscina worker for storage jobs. Each export is a task, selected by `name` in pool.run().
// Synchronous file I/O is right here: this thread does nothing else while a task runs, and the
// main thread (the only writer of the tree and the log) never waits on it.
import { nodeDisk } from '../../io/node/disk.js';
import { type DataDirs, storageLayout } from '../storage/layout.js';
import { purge as purgeFiles, type PurgeOptions, type PurgeResult } from '../storage/purge.js';
import { type ImageSource, writeSnapshotFileSync } from '../storage/snapshot.js';
import { type CaptureHandle, readCaptureInto } from '../tree/capture.js';

export interface WriteSnapshotTask {
  dirs: DataDirs;
  zxid: bigint;
  meta: Uint8Array;
  /**
   * A SharedArrayBuffer view is read in place (no copy crosses the thread boundary); a tree
   * capture is read page by page while the main thread goes on writing (tree/capture.ts).
   */
  image: Uint8Array | CaptureHandle;
}

export interface TouchPagesTask {
  /** A view of a SharedArrayBuffer nobody uses yet (a tree buffer about to be filled). */
  image: Uint8Array;
  from: number;
  to: number;
  /**
   * The buffer is being filled meanwhile (a SNAP arriving from its start): touch from the end
   * backwards with an atomic add of 0, which never changes a byte whoever wrote it first.
   */
  whileFilled?: boolean;
}

export interface PurgeTask {
  dirs: DataDirs;
  options: PurgeOptions;
}

/** Returns the path of the snapshot written. */
export function writeSnapshot(task: WriteSnapshotTask): string {
  // This thread builds its own Disk: a Disk object cannot cross the thread boundary.
  const { snapDir } = storageLayout(task.dirs, nodeDisk);
  return writeSnapshotFileSync(nodeDisk, snapDir, { zxid: task.zxid, meta: task.meta, image: imageOf(task.image) });
}

function imageOf(image: Uint8Array | CaptureHandle): Uint8Array | ImageSource {
  if (image instanceof Uint8Array) return image;
  return { byteLength: image.bytes, readInto: (offset, into) => readCaptureInto(image, offset, into) };
}

export function purge(task: PurgeTask): Promise<PurgeResult> {
  return purgeFiles(nodeDisk, task.dirs, task.options);
}

/** Bytes between two writes that certainly land on different pages (x86-64 and arm64: 4 KiB or more). */
const pageBytes = 4096;

/**
 * Writes a zero into every page of image[from, to): the kernel maps fresh pages on first touch,
 * which on a VM costs more than the copy that follows, and two threads do it in about half the time.
 */
export function touchPages(task: TouchPagesTask): number {
  const { image, from, to } = task;
  if (task.whileFilled === true) {
    for (let i = to - 1 - ((to - 1 - from) % pageBytes); i >= from; i -= pageBytes) Atomics.add(image, i, 0);
  } else {
    for (let i = from; i < to; i += pageBytes) image[i] = 0;
  }
  return to - from;
}
