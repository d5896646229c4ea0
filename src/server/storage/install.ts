// Installing a SNAP from memory. The image a leader sent becomes two things: the memory of the
// new tree and the durable state (snapshot.<zxid>, fsynced, the old log deleted:
// history.installSnapshot). Reading the file back after writing it (what a restart does) is a
// second pass over every byte; instead the tree's buffer is filled from the received image
// (8 MiB at a time, yielding to the event loop between chunks), checked, and then the same bytes
// are written. A buffer the caller already made a tree buffer (allocImage's kind) is adopted with
// no copy at all, and only the file remains.
//
// One after the other, not side by side: on this 2-core VM the copy and the file write are both
// mostly first-touching fresh memory (the buffer, the page cache), and run together they slowed
// each other down more than they overlapped (a 230 MB image: ~1.0 s side by side, 0.4-1.0 s in
// turn; bench/results/2026-12-03-syncperf.md). The rule that a learner persists the SNAP before
// it ACKs NEWLEADER (ZOOKEEPER-3911) holds: this resolves only once the file and the log deletion
// are durable, and an image that fails the check leaves the durable state as it was.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { installSnapshot, type InstallResult } from './history.js';
import type { StorageLayout } from './layout.js';
import { storageLimits as L } from './limits.js';
import type { SnapshotContent } from './snapshot.js';

const pageBytes = 4096; // a write every 4 KiB touches every page (x86-64, arm64)
const touchSplitMinBytes = 16 * 1_048_576; // below this the hand-off costs more than it saves

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
   * First-touches image[from, to) on another thread (the job pool's touchPages). The fill then
   * touches the first half here and the second half there at the same time before copying:
   * first touch is most of a fresh buffer's cost on this VM (230 MB: ~0.8 s on one thread,
   * ~0.4 s on two).
   */
  touchElsewhere?: (image: Uint8Array, from: number, to: number) => Promise<unknown>;
  /** Checks the filled buffer (e.g. the tree's structure walk); a throw leaves the durable state as it was. */
  checkBeforeWrite?: (image: Uint8Array) => void;
  /** Completes the snapshot file written while the SNAP arrived (returns its path), instead of writing it now. */
  writtenFile?: () => Promise<string>;
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
export async function installFromMemory(layout: StorageLayout, content: SnapshotContent & { image: Uint8Array }, o: InstallFromMemoryOptions): Promise<InstalledFromMemory> {
  const source = content.image;
  const adopted = o.adoptable(source);
  const t0 = performance.now();
  let copyMs = 0;
  let filesMs = 0;
  const fill = async (): Promise<Uint8Array> => {
    if (adopted) return source;
    const target = o.allocImage(source.byteLength);
    if (o.touchElsewhere !== undefined && source.byteLength >= touchSplitMinBytes) {
      const half = Math.floor(source.byteLength / 2 / pageBytes) * pageBytes;
      const there = o.touchElsewhere(target, half, source.byteLength);
      for (let off = 0; off < half; off += L.snapshotChunkBytes) {
        const end = Math.min(off + L.snapshotChunkBytes, half);
        for (let i = off; i < end; i += pageBytes) target[i] = 0;
        await yieldToLoop();
      }
      await there;
    }
    for (let off = 0; off < source.byteLength; off += L.snapshotChunkBytes) {
      target.set(source.subarray(off, Math.min(off + L.snapshotChunkBytes, source.byteLength)), off);
      // Peer links and timers go on between chunks (a 230 MB copy is 0.2-1 s here).
      await yieldToLoop();
    }
    copyMs = performance.now() - t0;
    return target;
  };
  const files = async (): Promise<InstallResult> => {
    const start = performance.now();
    const result = await installSnapshot(layout, { ...content, imageIsStable: true }, o.writtenFile);
    filesMs = performance.now() - start;
    return result;
  };
  const image = await fill();
  o.checkBeforeWrite?.(image);
  const result = await files();
  return { image, adopted, copyMs: Math.round(copyMs), filesMs: Math.round(filesMs), result };
}
