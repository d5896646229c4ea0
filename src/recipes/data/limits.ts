// Every bound of the data recipes, named with its unit last. Each can be overridden per instance
// through the recipe's options; these are the defaults.
import { assert } from '../../common/assert.js';

export const dataLimits = {
  /** Attempts of one atomic-counter operation before AtomicRetriesExhaustedError (Curator: RetryNTimes). */
  atomicAttemptsMax: 64,
  /** First pause after a lost compare-and-set race; doubles per attempt up to the max, with jitter. */
  atomicBackoffMsMin: 1,
  atomicBackoffMsMax: 100,
  /** Attempts of an idempotent read/delete after CONNECTIONLOSS before the error reaches the caller. */
  connectionLossAttemptsMax: 10,
  /** Nodes a TreeCache holds; beyond it new nodes are not cached and 'error' reports QUOTAEXCEEDED. */
  cacheNodesMax: 100_000,
  /** Reads a cache keeps in flight while (re)loading a subtree, so a big tree does not flood the client queue. */
  cacheReadsInFlightMax: 64,
  /** Items a queue accepts by default (a soft bound: concurrent puts may overshoot by their number). */
  queueItemsMax: 1_000_000,
  /**
   * Listings in a row in which one take() saw every item go to other consumers before it gives up
   * with OPERATIONTIMEOUT (each such round is progress for others, so this only caps starvation).
   */
  queueTakeLostRoundsMax: 10_000,
  /** Values a config change iterator buffers for a slow reader; the oldest are dropped beyond it. */
  configIteratorBufferMax: 64,
  /** Largest timeout a caller may pass (what a Node timer holds). */
  timeoutMsMax: 0x7fff_ffff,
} as const;

assert(dataLimits.atomicBackoffMsMin <= dataLimits.atomicBackoffMsMax, 'backoff bounds ordered');
assert(dataLimits.cacheReadsInFlightMax < 1000, 'cache loads stay under the client outstanding-request bound');
