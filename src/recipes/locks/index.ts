// Locks, leader election and barriers with Apache Curator's semantics (docs: ../docs/locks.md).
export { InterProcessMutex, type MutexOptions, type MutexEvents } from './mutex.js';
export { InterProcessReadWriteLock } from './rw-lock.js';
export { InterProcessSemaphoreV2, type Lease, type SemaphoreOptions } from './semaphore.js';
export { LeaderLatch, type LeaderLatchOptions, type LeaderLatchEvents, type LatchState, type ErrorPolicy } from './leader-latch.js';
export { LeaderSelector, type LeaderSelectorOptions, type LeaderSelectorEvents, type TakeLeadership } from './leader-selector.js';
export { type Participant } from './participants.js';
export { DistributedBarrier } from './barrier.js';
export { DistributedDoubleBarrier } from './double-barrier.js';
export { lockConstants, type WatchEventHook } from './common.js';
