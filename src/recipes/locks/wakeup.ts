// One wait of a recipe's waiter: armed by passing `watcher` to a one-shot watch, it ends when that
// watch fires, when the deadline passes, when the caller aborts, or when the session ends. A fresh
// Wakeup per wait: the client fires the same function on one path and kind only once.
import type { ZookooperClient } from '../../client/index.js';
import type { ClientState } from '../../client/index.js';
import type { WatchedEvent, Watcher } from '../../common/types.js';
import { sessionEnded, sessionEndedError, type WatchEventHook } from './common.js';

export type WaitOutcome = 'fired' | 'timeout';

export class Wakeup {
  private fired = false;
  private wake: (() => void) | null = null;

  constructor(private readonly hook?: WatchEventHook) {}

  /** Pass to getData/exists/getChildren as the one-shot watch. */
  readonly watcher: Watcher = (event: WatchedEvent) => {
    // removeWatches tells the removed watcher; that is our own cancel, not a change.
    if (event.type === 'dataWatchRemoved' || event.type === 'childWatchRemoved' || event.type === 'persistentWatchRemoved') return;
    this.hook?.(event);
    this.fired = true;
    this.wake?.();
  };

  get hasFired(): boolean {
    return this.fired;
  }

  /**
   * Waits until the watch fires ('fired') or the deadline passes ('timeout'). Rejects with
   * SESSIONEXPIRED if the session ends first (no watch would ever fire then), or with the signal's
   * reason if aborted.
   */
  wait(zk: ZookooperClient, deadline: number | null, signal?: AbortSignal): Promise<WaitOutcome> {
    if (this.fired) return Promise.resolve('fired');
    if (sessionEnded(zk)) return Promise.reject(sessionEndedError(zk));
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    return new Promise<WaitOutcome>((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      const onState = (state: ClientState): void => {
        if (state === 'expired' || state === 'closed') finish(() => reject(sessionEndedError(zk)));
      };
      const onAbort = (): void => finish(() => reject(signal?.reason));
      const finish = (settle: () => void): void => {
        if (timer !== null) clearTimeout(timer);
        zk.off('state', onState);
        signal?.removeEventListener('abort', onAbort);
        this.wake = null;
        settle();
      };
      this.wake = () => finish(() => resolve('fired'));
      zk.on('state', onState);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (deadline !== null) timer = setTimeout(() => finish(() => resolve('timeout')), Math.max(0, deadline - Date.now()));
    });
  }

  /** After a timeout: drop the watch so a later change does not wake nobody (best effort). */
  async cancel(zk: ZookooperClient, path: string, type: 'data' | 'children'): Promise<void> {
    if (this.fired || sessionEnded(zk)) return;
    try {
      await zk.removeWatches(path, this.watcher, type);
    } catch {
      // NOWATCHER (it fired meanwhile) or a lost connection: a stale one-shot watch is harmless,
      // it fires into a finished Wakeup.
    }
  }
}
