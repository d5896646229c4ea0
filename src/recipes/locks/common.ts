// Shared pieces of the lock, election and barrier recipes: bounds, deadlines, bounded retry of
// idempotent calls across a lost connection, and the errors the recipes throw.
import type { ZookooperClient } from '../../client/index.js';
import { ZookooperError } from '../../common/errors.js';
import type { WatchedEvent } from '../../common/types.js';

export const lockConstants = {
  /** Attempts of one idempotent call that failed with CONNECTIONLOSS (Curator's RetryNTimes-like policy). */
  retryAttemptsMax: 5,
  /** Attempts of a protected create that lost its answer or its parent (container swept meanwhile). */
  createAttemptsMax: 5,
  /**
   * Rounds of a waiter's loop. Each round either returns or consumes a predecessor that left (nodes
   * created after ours sort after ours), so the real bound is the number of nodes ahead of ours;
   * this cap only turns a broken invariant into a loud error instead of a spin.
   */
  waitRoundsMax: 1_000_000,
  /** Largest timeout a caller may pass (about 24 days: what a Node timer can hold). */
  timeoutMsMax: 0x7fff_ffff,
} as const;

/** Optional instrumentation: every watch event a recipe's waiter receives (tests count wake-ups with it). */
export type WatchEventHook = (event: WatchedEvent) => void;

/** An absolute deadline (Date.now() ms) from a caller's timeout; null waits without a deadline. */
export function deadlineOf(timeoutMs: number | undefined): number | null {
  if (timeoutMs === undefined) return null;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0 || timeoutMs > lockConstants.timeoutMsMax) {
    throw new ZookooperError('BADARGUMENTS', `timeoutMs must be a number in [0, ${lockConstants.timeoutMsMax}], got ${String(timeoutMs)}`);
  }
  return Date.now() + timeoutMs;
}

export function expiredDeadline(deadline: number | null): boolean {
  return deadline !== null && Date.now() >= deadline;
}

/** Whether the client's session is over for good (the client never starts a new one). */
export function sessionEnded(zk: ZookooperClient): boolean {
  return zk.state === 'expired' || zk.state === 'closed';
}

export function sessionEndedError(zk: ZookooperClient, path?: string): ZookooperError {
  return new ZookooperError('SESSIONEXPIRED', `session ${zk.state}`, path);
}

/** A caller used a recipe the wrong way (released a lock it does not hold, used a closed latch). */
export function apiError(message: string, path?: string): ZookooperError {
  return new ZookooperError('APIERROR', message, path);
}

/**
 * Runs an idempotent call, again after CONNECTIONLOSS (the client queues the retry until it has
 * reconnected with the same session). Bounded; not for creates, whose retry could duplicate a node
 * (those go through createProtected).
 */
export async function withRetry<T>(zk: ZookooperClient, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const retriable = err instanceof ZookooperError && err.code === 'CONNECTIONLOSS';
      if (!retriable || attempt >= lockConstants.retryAttemptsMax || sessionEnded(zk)) throw err;
    }
  }
}

/** Deletes a node we own, retrying on a lost connection; already gone is fine. */
export async function deleteOwned(zk: ZookooperClient, path: string): Promise<void> {
  try {
    await withRetry(zk, () => zk.delete(path));
  } catch (err) {
    if (!(err instanceof ZookooperError && err.code === 'NONODE')) throw err;
  }
}

/** Best-effort cleanup on a failure path: the first error is the one the caller sees. */
export async function deleteQuietly(zk: ZookooperClient, path: string): Promise<void> {
  if (sessionEnded(zk)) return; // the server drops our ephemerals with the session
  try {
    await deleteOwned(zk, path);
  } catch {
    // The node is ephemeral: if we cannot delete it now it goes with the session.
  }
}

export function nodeName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}
