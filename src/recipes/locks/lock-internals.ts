// Curator's LockInternals: the queue of ephemeral-sequential nodes under one path that the mutex,
// the read/write lock and the semaphore's inner lock share. A driver decides, from the children
// sorted by sequence number, whether our node holds the lock and, if not, which single node to
// watch. Watching one node (never the parent's children) is what keeps the queue free of the herd
// effect: a release changes one node and so wakes only the waiter behind it.
import type { ZookooperClient } from '../../client/index.js';
import { ZookooperError } from '../../common/errors.js';
import type { Data } from '../../common/types.js';
import { sequenceOf, sortBySequence } from '../util.js';
import { deleteOwned, deleteQuietly, expiredDeadline, joinPath, lockConstants, nodeName, withRetry, type WatchEventHook } from './common.js';
import { createProtected } from './protected.js';
import { Wakeup } from './wakeup.js';

export type DriverResult = { acquired: true } | { acquired: false; watch: string };

export interface LockDriver {
  /** `children` are sorted by sequence; `ourName` is among them unless our node vanished. */
  getsTheLock(children: readonly string[], ourName: string, maxLeases: number): DriverResult;
}

function ourIndexOf(children: readonly string[], ourName: string): number {
  const i = children.indexOf(ourName);
  // Our ephemeral node is gone: the session expired, or someone deleted it. Curator throws too.
  if (i < 0) throw new ZookooperError('NONODE', 'our lock node is gone (session expired or node deleted)', ourName);
  return i;
}

/** Curator's StandardLockInternalsDriver: the first maxLeases nodes hold; others watch the node maxLeases ahead. */
export const standardDriver: LockDriver = {
  getsTheLock(children, ourName, maxLeases) {
    const i = ourIndexOf(children, ourName);
    if (i < maxLeases) return { acquired: true };
    return { acquired: false, watch: children[i - maxLeases]! };
  },
};

export interface LockInternalsOptions {
  lockData?: Data;
  onWatchEvent?: WatchEventHook;
}

export class LockInternals {
  constructor(
    readonly zk: ZookooperClient,
    readonly basePath: string,
    readonly lockName: string,
    readonly maxLeases: number,
    private readonly driver: LockDriver,
    private readonly opts: LockInternalsOptions = {},
  ) {}

  /** The lock's sequential children, sorted by sequence number (all lock names: the RW lock needs both). */
  async sortedChildren(): Promise<string[]> {
    const children = await withRetry(this.zk, () => this.zk.getChildren(this.basePath));
    return sortBySequence(children.filter((c) => sequenceOf(c) >= 0));
  }

  /**
   * Queues a node and waits until the driver says it holds. Returns our node's path, or null if the
   * deadline passed first; on a timeout or any failure our node is deleted before returning.
   */
  async attemptLock(deadline: number | null, signal?: AbortSignal): Promise<string | null> {
    const ourPath = await createProtected(this.zk, this.basePath, this.lockName, this.opts.lockData ?? '', 'ephemeral_sequential');
    let held = false;
    try {
      held = await this.waitForLock(ourPath, deadline, signal);
    } catch (err) {
      await deleteQuietly(this.zk, ourPath);
      throw err;
    }
    if (!held) await deleteQuietly(this.zk, ourPath);
    return held ? ourPath : null;
  }

  async releaseLock(ourPath: string): Promise<void> {
    await deleteOwned(this.zk, ourPath);
  }

  private async waitForLock(ourPath: string, deadline: number | null, signal?: AbortSignal): Promise<boolean> {
    const ourName = nodeName(ourPath);
    for (let round = 0; round < lockConstants.waitRoundsMax; round++) {
      const verdict = this.driver.getsTheLock(await this.sortedChildren(), ourName, this.maxLeases);
      if (verdict.acquired) return true;
      if (expiredDeadline(deadline)) return false;
      const watchPath = joinPath(this.basePath, verdict.watch);
      const wakeup = new Wakeup(this.opts.onWatchEvent);
      try {
        // getData, not exists: a watch is left only on a node that exists (Curator does the same).
        await withRetry(this.zk, () => this.zk.getData(watchPath, { watch: wakeup.watcher }));
      } catch (err) {
        if (err instanceof ZookooperError && err.code === 'NONODE') continue; // it left already: look again
        throw err;
      }
      const outcome = await wakeup.wait(this.zk, deadline, signal);
      if (outcome === 'timeout') {
        await wakeup.cancel(this.zk, watchPath, 'data');
        return false;
      }
    }
    throw new ZookooperError('RUNTIMEINCONSISTENCY', `lock wait exceeded ${lockConstants.waitRoundsMax} rounds`, ourPath);
  }
}
