// The main thread's periodic work, in one place: session expiry and the container/TTL sweep.
// Both only decide what to submit; the requests go through the write path like any other.

/** Session expiry runs on a monotonic clock: a wall clock stepping back or forward must neither
 *  stop expiry nor expire every session at once. ~Date.now() at start. */
export const monotonicNowMs = (): number => Math.floor(performance.timeOrigin + performance.now());

export interface TimerJobs {
  tickMs: number;
  containerCheckMs: number;
  /** Expires the sessions whose timeout passed by `nowMs` (monotonic). */
  expire(nowMs: number): void;
  /** Deletes empty containers and expired TTL nodes as of `nowMs` (wall clock: node mtimes). */
  sweep(nowMs: number): void;
}

/** Starts both timers; the returned function stops them. */
export function startTimers(jobs: TimerJobs): () => void {
  const expireTimer = setInterval(() => jobs.expire(monotonicNowMs()), Math.max(10, Math.floor(jobs.tickMs / 2)));
  const sweepTimer = setInterval(() => jobs.sweep(Date.now()), jobs.containerCheckMs);
  return () => {
    clearInterval(expireTimer);
    clearInterval(sweepTimer);
  };
}
