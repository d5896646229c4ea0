// DistributedBarrier (Curator's): one node is the barrier. Processes wait while it exists; a
// controller sets and removes it. Waiting is an exists watch on that one node.
import type { ZookooperClient } from '../../client/index.js';
import { ensurePath } from '../util.js';
import { deadlineOf, deleteOwned, expiredDeadline, lockConstants, withRetry, type WatchEventHook } from './common.js';
import { ZookooperError } from '../../common/errors.js';
import { Wakeup } from './wakeup.js';

export class DistributedBarrier {
  constructor(
    readonly zk: ZookooperClient,
    readonly path: string,
    private readonly opts: { onWatchEvent?: WatchEventHook } = {},
  ) {}

  /** Sets the barrier (persistent node, parents created); already set is fine. */
  async setBarrier(): Promise<void> {
    await ensurePath(this.zk, this.path);
  }

  /** Removes the barrier, releasing every waiter; not set is fine. */
  async removeBarrier(): Promise<void> {
    await deleteOwned(this.zk, this.path);
  }

  /**
   * Waits until the barrier is removed. Resolves true once it is gone, false if `timeoutMs` passed
   * first (no limit if omitted); rejects with SESSIONEXPIRED if the session ends.
   */
  async waitOnBarrier(timeoutMs?: number): Promise<boolean> {
    const deadline = deadlineOf(timeoutMs);
    for (let round = 0; round < lockConstants.waitRoundsMax; round++) {
      const wakeup = new Wakeup(this.opts.onWatchEvent);
      const stat = await withRetry(this.zk, () => this.zk.exists(this.path, { watch: wakeup.watcher }));
      if (stat === null) {
        await wakeup.cancel(this.zk, this.path, 'data').catch(() => undefined); // the exist watch we just left
        return true;
      }
      if (expiredDeadline(deadline) || (await wakeup.wait(this.zk, deadline)) === 'timeout') {
        await wakeup.cancel(this.zk, this.path, 'data');
        return false;
      }
    }
    throw new ZookooperError('RUNTIMEINCONSISTENCY', `barrier wait exceeded ${lockConstants.waitRoundsMax} rounds`, this.path);
  }
}
