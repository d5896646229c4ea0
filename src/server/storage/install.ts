// Installing a SNAP from memory. The image a leader sent becomes two things: the durable state
// (snapshot.<zxid>, fsynced, the old log deleted: history.installSnapshot) and the memory of the
// new tree. Reading the file back after writing it (what a restart does) would cost a second pass
// over every byte, so the tree's memory is filled from the received image instead, at the same
// time as the file is written:
//
//   main thread            copy image -> new tree buffer, 8 MiB at a time, yielding between
//   libuv's threads        pwrite the same image (it does not change) + fsync, rename, dir fsync
//
// On this kind of VM both halves are dominated by first-touching fresh memory (the buffer on one
// side, the page cache on the other), so running them side by side on two cores roughly halves
// the install. A buffer the caller already made a tree buffer (allocImage's kind) is adopted with
// no copy at all. The rule that a learner persists the SNAP before it ACKs NEWLEADER
// (ZOOKEEPER-3911) holds: this resolves only once the file and the log deletion are durable.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { installSnapshot, type InstallResult } from './history.js';
import type { StorageLayout } from './layout.js';
import { storageLimits as L } from './limits.js';
import type { SnapshotContent } from './snapshot.js';

/** A SNAP image or meta that cannot be installed; nothing on disk or in memory was changed. */
export class SnapshotImageError extends Error {
  override name = 'SnapshotImageError';
  constructor(readonly reason: string) {
    super(`cannot install the SNAP image: ${reason}`);
  }
}

export interface InstallFromMemoryOptions {
  /** A fresh buffer for the new tree (allocTreeImage), `bytes` long. */
  allocImage(bytes: number): Uint8Array;
  /** Whether `image` already is such a buffer, handed over: used as it is. */
  adoptable(image: Uint8Array): boolean;
  /**
   * Checks the filled buffer (e.g. the tree's full structure walk) before anything is written:
   * the copy and the file then run one after the other. A throw leaves the durable state as it was.
   */
  checkBeforeWrite?: (image: Uint8Array) => void;
}

export interface InstalledFromMemory {
  /** The new tree's memory: `image` itself when adopted, else the filled buffer. */
  image: Uint8Array;
  adopted: boolean;
  copyMs: number;
  filesMs: number;
  result: InstallResult;
}

/** Makes `content` the durable state and returns the same image in a tree buffer. */
export async function installFromMemory(layout: StorageLayout, content: SnapshotContent, o: InstallFromMemoryOptions): Promise<InstalledFromMemory> {
  const source = content.image;
  const adopted = o.adoptable(source);
  const t0 = performance.now();
  let copyMs = 0;
  let filesMs = 0;
  const fill = async (): Promise<Uint8Array> => {
    if (adopted) return source;
    const target = o.allocImage(source.byteLength);
    for (let off = 0; off < source.byteLength; off += L.snapshotChunkBytes) {
      target.set(source.subarray(off, Math.min(off + L.snapshotChunkBytes, source.byteLength)), off);
      // Let the file's write completions run, so the next write is issued without waiting.
      await yieldToLoop();
    }
    copyMs = performance.now() - t0;
    return target;
  };
  const files = async (): Promise<InstallResult> => {
    const start = performance.now();
    const result = await installSnapshot(layout, { ...content, imageIsStable: true });
    filesMs = performance.now() - start;
    return result;
  };
  let image: Uint8Array;
  let result: InstallResult;
  if (o.checkBeforeWrite !== undefined) {
    image = await fill();
    o.checkBeforeWrite(image);
    result = await files();
  } else {
    [image, result] = await Promise.all([fill(), files()]);
  }
  return { image, adopted, copyMs: Math.round(copyMs), filesMs: Math.round(filesMs), result };
}
