// InterProcessSemaphoreV2, Curator's design (not the plain ZooKeeper-recipe one): at most maxLeases
// leases across processes.
//   <path>/locks   an InterProcessMutex; only its holder may try to take a lease
//   <path>/leases  one ephemeral-sequential node per lease held or being taken
// To take a lease: acquire the inner lock, create a lease node, then while there are more lease
// nodes than maxLeases wait on a child watch of <path>/leases; release the inner lock. Only the
// inner lock's holder ever watches the leases, and the inner lock queue is herd-free, so a
// returned lease wakes exactly one process. Every participant must use the same maxLeases.
import type { ZookooperClient } from '../../client/index.js';
import { ZookooperError } from '../../common/errors.js';
import type { Data } from '../../common/types.js';
import { isCode } from '../util.js';
import { deadlineOf, deleteOwned, deleteQuietly, expiredDeadline, joinPath, lockConstants, nodeName, sessionEnded, withRetry, type WatchEventHook } from './common.js';
import { InterProcessMutex } from './mutex.js';
import { createProtected } from './protected.js';
import { Wakeup } from './wakeup.js';

export interface Lease {
  /** The lease's node. */
  readonly nodePath: string;
  /** Returns the lease (deletes its node). Idempotent. */
  close(): Promise<void>;
}

export interface SemaphoreOptions {
  /** Data of each lease node ('' by default). */
  leaseData?: Data;
  onWatchEvent?: WatchEventHook;
}

/** A lease taken for an acquire that then failed or timed out is returned; bounded retries if our lease node vanished. */
const missingNodeRetriesMax = 3;

export class InterProcessSemaphoreV2 {
  private readonly lock: InterProcessMutex;
  private readonly leasesPath: string;

  constructor(
    readonly zk: ZookooperClient,
    readonly path: string,
    readonly maxLeases: number,
    private readonly opts: SemaphoreOptions = {},
  ) {
    if (!Number.isInteger(maxLeases) || maxLeases < 1) throw new ZookooperError('BADARGUMENTS', `maxLeases must be a positive integer, got ${maxLeases}`);
    this.lock = new InterProcessMutex(zk, joinPath(path, 'locks'), opts.onWatchEvent ? { onWatchEvent: opts.onWatchEvent } : {});
    this.leasesPath = joinPath(path, 'leases');
  }

  /**
   * Takes `qty` leases, waiting at most `timeoutMs` overall (no limit if omitted). Resolves with the
   * leases, or null if the time ran out (any taken meanwhile are returned).
   */
  async acquire(qty = 1, timeoutMs?: number): Promise<Lease[] | null> {
    if (!Number.isInteger(qty) || qty < 1 || qty > this.maxLeases) {
      throw new ZookooperError('BADARGUMENTS', `qty must be an integer in [1, ${this.maxLeases}], got ${qty}`);
    }
    const deadline = deadlineOf(timeoutMs);
    const leases: Lease[] = [];
    try {
      while (leases.length < qty) {
        const lease = await this.acquireOne(deadline);
        if (lease === null) {
          await this.returnAll(leases);
          return null;
        }
        leases.push(lease);
      }
      return leases;
    } catch (err) {
      await Promise.all(leases.map((l) => l.close().catch(() => undefined)));
      throw err;
    }
  }

  async returnLease(lease: Lease): Promise<void> {
    await lease.close();
  }

  async returnAll(leases: readonly Lease[]): Promise<void> {
    for (const lease of leases) await lease.close();
  }

  /** Lease nodes currently held or being taken. */
  async getParticipantNodes(): Promise<string[]> {
    try {
      return await withRetry(this.zk, () => this.zk.getChildren(this.leasesPath));
    } catch (err) {
      if (isCode(err, 'NONODE')) return [];
      throw err;
    }
  }

  private async acquireOne(deadline: number | null): Promise<Lease | null> {
    for (let attempt = 0; attempt < missingNodeRetriesMax; attempt++) {
      const remaining = deadline === null ? undefined : Math.max(0, deadline - Date.now());
      if (!(await this.lock.acquire(remaining))) return null;
      try {
        const nodePath = await createProtected(this.zk, this.leasesPath, 'lease-', this.opts.leaseData ?? '', 'ephemeral_sequential');
        const outcome = await this.waitForRoom(nodePath, deadline);
        if (outcome === 'held') return this.makeLease(nodePath);
        await deleteQuietly(this.zk, nodePath);
        if (outcome === 'timeout') return null;
        // 'missing': our lease node vanished under us (Curator retries); go round again
      } finally {
        await this.lock.release().catch(() => undefined); // lost with the session: nothing to release
      }
    }
    throw new ZookooperError('NONODE', `lease node vanished ${missingNodeRetriesMax} times`, this.leasesPath);
  }

  private async waitForRoom(nodePath: string, deadline: number | null): Promise<'held' | 'timeout' | 'missing'> {
    const ourName = nodeName(nodePath);
    for (let round = 0; round < lockConstants.waitRoundsMax; round++) {
      const wakeup = new Wakeup(this.opts.onWatchEvent);
      const children = await withRetry(this.zk, () => this.zk.getChildren(this.leasesPath, { watch: wakeup.watcher }));
      if (!children.includes(ourName)) return 'missing';
      if (children.length <= this.maxLeases) {
        await wakeup.cancel(this.zk, this.leasesPath, 'children'); // as Curator: no stale watch left behind
        return 'held';
      }
      if (expiredDeadline(deadline)) return 'timeout';
      if ((await wakeup.wait(this.zk, deadline)) === 'timeout') {
        await wakeup.cancel(this.zk, this.leasesPath, 'children');
        return 'timeout';
      }
    }
    throw new ZookooperError('RUNTIMEINCONSISTENCY', `lease wait exceeded ${lockConstants.waitRoundsMax} rounds`, nodePath);
  }

  private makeLease(nodePath: string): Lease {
    const zk = this.zk;
    let closed = false;
    return {
      nodePath,
      async close(): Promise<void> {
        if (closed) return;
        closed = true;
        if (sessionEnded(zk)) return; // the lease node went with the session
        await deleteOwned(zk, nodePath);
      },
    };
  }
}
