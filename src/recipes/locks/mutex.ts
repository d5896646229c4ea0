// InterProcessMutex (Curator's): a re-entrant lock across processes. Re-entrant per instance, as
// Curator's is per thread: one instance that holds the lock may acquire it again and must release
// it as many times. Holding is tied to the session: see the 'lost' event.
//
// States of one instance:
//   free       no node of ours; acquire() queues one
//   acquiring  our node is queued; we wait on our predecessor only
//   held       our node is first (count >= 1 acquisitions to release)
//   lost       held, then the session ended (or our node vanished): the lock is no longer ours.
//              isAcquiredInThisProcess() is false; release() only resets the instance
import { EventEmitter } from 'node:events';
import type { ClientState, ZookooperClient } from '../../client/index.js';
import type { Data } from '../../common/types.js';
import { isCode } from '../util.js';
import { apiError, deadlineOf, sessionEnded, type WatchEventHook } from './common.js';
import { LockInternals, standardDriver, type LockDriver } from './lock-internals.js';

export interface MutexOptions {
  /** Data of our lock node (Curator puts the host address there); '' by default. */
  lockData?: Data;
  /** Called with every watch event this instance's waits receive (instrumentation: herd checks). */
  onWatchEvent?: WatchEventHook;
}

export interface MutexEvents {
  /** The lock was held and is no longer ours: the session expired/closed, or our node vanished. */
  lost: [];
  /** Held, and the connection dropped: the lock is ours only if the session survives. */
  suspended: [];
  /** Held, reconnected with the same session and our node still there. */
  reconnected: [];
}

/** @internal How the read/write lock and the semaphore specialise the queue. */
export interface MutexInternals {
  lockName: string;
  maxLeases: number;
  driver: LockDriver;
}

export class InterProcessMutex extends EventEmitter<MutexEvents> {
  private readonly internals: LockInternals;
  private ourPath: string | null = null;
  private count = 0;
  private lost = false;
  private chain: Promise<unknown> = Promise.resolve(); // acquires on one instance run one at a time
  private readonly onState = (state: ClientState): void => this.stateChanged(state);

  constructor(
    readonly zk: ZookooperClient,
    readonly path: string,
    opts: MutexOptions = {},
    internals: MutexInternals = { lockName: 'lock-', maxLeases: 1, driver: standardDriver },
  ) {
    super();
    this.internals = new LockInternals(zk, path, internals.lockName, internals.maxLeases, internals.driver, opts);
  }

  /**
   * Acquires the lock, waiting at most `timeoutMs` (no limit if omitted). Resolves true once held,
   * false if the time ran out (our queued node is deleted then); rejects with a ZookooperError
   * (SESSIONEXPIRED, CONNECTIONLOSS after bounded retries, ...) or the signal's reason if aborted.
   */
  acquire(timeoutMs?: number, opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    let deadline: number | null;
    try {
      deadline = deadlineOf(timeoutMs);
    } catch (err) {
      return Promise.reject(err);
    }
    const before = this.chain;
    const run = (async (): Promise<boolean> => {
      // An acquire already running on this instance goes first (then this one re-enters if it won);
      // our own deadline still counts while we wait for it.
      if (!(await settlesBefore(before, deadline))) return false;
      return this.acquireNow(deadline, opts.signal);
    })();
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async acquireNow(deadline: number | null, signal?: AbortSignal): Promise<boolean> {
    if (this.ourPath !== null && !this.lost) {
      this.count++;
      return true;
    }
    this.reset();
    const path = await this.internals.attemptLock(deadline, signal);
    if (path === null) return false;
    this.ourPath = path;
    this.count = 1;
    this.zk.on('state', this.onState);
    if (sessionEnded(this.zk)) this.markLost(); // ended between the last answer and now
    return true;
  }

  /** Releases one acquisition; the last one deletes our node. Not held: APIERROR. */
  async release(): Promise<void> {
    if (this.ourPath === null) throw apiError('you do not own the lock', this.path);
    if (this.lost) {
      this.reset(); // nothing to delete: the node went with the session
      return;
    }
    this.count--;
    if (this.count > 0) return;
    const path = this.ourPath;
    this.reset();
    await this.internals.releaseLock(path);
  }

  isAcquiredInThisProcess(): boolean {
    return this.ourPath !== null && !this.lost;
  }

  /** Our lock node while held (with its protected prefix), else null. */
  get lockNodePath(): string | null {
    return this.isAcquiredInThisProcess() ? this.ourPath : null;
  }

  /** Every node queued on this lock, in order: the first holds it. */
  async getParticipantNodes(): Promise<string[]> {
    try {
      return (await this.internals.sortedChildren()).map((c) => `${this.path}/${c}`);
    } catch (err) {
      if (isCode(err, 'NONODE')) return [];
      throw err;
    }
  }

  private reset(): void {
    this.zk.off('state', this.onState);
    this.ourPath = null;
    this.count = 0;
    this.lost = false;
  }

  private markLost(): void {
    if (this.lost || this.ourPath === null) return;
    this.lost = true;
    this.zk.off('state', this.onState);
    this.emit('lost');
  }

  private stateChanged(state: ClientState): void {
    if (this.ourPath === null || this.lost) return;
    if (state === 'expired' || state === 'closed') this.markLost();
    else if (state === 'disconnected') this.emit('suspended');
    else if (state === 'connected') void this.verifyAfterReconnect(this.ourPath);
  }

  /** Same session, so our ephemeral should be there; if someone deleted it, the lock is not ours. */
  private async verifyAfterReconnect(path: string): Promise<void> {
    try {
      const stat = await this.zk.exists(path);
      if (this.ourPath !== path) return; // released meanwhile
      if (stat === null) this.markLost();
      else this.emit('reconnected');
    } catch {
      // Lost again or expired: the next state change decides.
    }
  }
}

/** Whether `p` settles before the deadline (null: it waits for it). */
async function settlesBefore(p: Promise<unknown>, deadline: number | null): Promise<boolean> {
  if (deadline === null) {
    await p;
    return true;
  }
  let timer: NodeJS.Timeout | null = null;
  const timedOut = new Promise<false>((res) => {
    timer = setTimeout(() => res(false), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([p.then(() => true as const), timedOut]);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}
