// Waiting on ZooKeeper with a bound: a pause, and "until this node is gone" via a one-shot watch.
import type { ZookooperClient } from '../../client/index.js';
import type { WatchedEvent } from '../../common/types.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves when the client's session ends (expired/closed) — a watch would never fire then. */
function sessionEnded(zk: ZookooperClient): { promise: Promise<void>; cancel(): void } {
  let cancel = (): void => {};
  const promise = new Promise<void>((resolve) => {
    if (zk.state === 'expired' || zk.state === 'closed') return resolve();
    const listener = (s: string): void => {
      if (s === 'expired' || s === 'closed') resolve();
    };
    zk.on('state', listener);
    cancel = () => zk.off('state', listener);
  });
  return { promise, cancel };
}

/**
 * Waits until `path` does not exist, via an exists watch (no polling), until `deadlineMs`.
 * Returns true once it is gone, false at the deadline or if the session ends first. Bounded: one
 * round per change of the node (a data change re-arms the watch), and never past the deadline.
 */
export async function waitUntilGone(zk: ZookooperClient, path: string, deadlineMs: number, roundsMax = 100): Promise<boolean> {
  for (let round = 0; round < roundsMax; round++) {
    const left = deadlineMs - Date.now();
    if (left <= 0) return false;
    let fire!: (e: WatchedEvent) => void;
    const fired = new Promise<WatchedEvent>((r) => (fire = r));
    const stat = await zk.exists(path, { watch: fire });
    if (stat === null) return true; // the exist watch left behind fires once on our own create: harmless
    let timer: NodeJS.Timeout | undefined;
    const ended = sessionEnded(zk);
    const outcome = await Promise.race([
      fired,
      ended.promise.then(() => 'ended' as const),
      new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), deadlineMs - Date.now()))),
    ]);
    clearTimeout(timer);
    ended.cancel();
    if (outcome === 'ended') return false;
    if (outcome === 'timeout') {
      await zk.removeWatches(path, fire, 'data').catch(() => {}); // best effort: it is one-shot anyway
      return false;
    }
    if (outcome.type === 'deleted') return true;
  }
  return false;
}
