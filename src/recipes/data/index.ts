// Data recipes (Curator's semantics): shared value/count, atomic counters, queues, caches, config.
// Usage and reconnect semantics: src/recipes/docs/data.md.
export { AtomicRetriesExhaustedError, ConfigParseError } from './errors.js';
export { dataLimits } from './limits.js';
export type { ChildData, CacheChange } from './cache-state.js';
export { WatchedCache, type CacheEvents, type CacheOptions } from './cache-base.js';
export { NodeCache } from './node-cache.js';
export { TreeCache } from './tree-cache.js';
export { SharedValue, SharedCount, encodeCount, decodeCount, type VersionedValue, type SharedValueEvents, type SharedCountEvents } from './shared-value.js';
export { DistributedAtomicLong, AtomicCounter, encodeLong, decodeLong, type AtomicValue, type AtomicOptions } from './atomic.js';
export {
  DistributedQueue,
  DistributedPriorityQueue,
  bytesSerializer,
  jsonSerializer,
  encodePriority,
  priorityMin,
  priorityMax,
  type QueueSerializer,
  type QueueOptions,
} from './queue.js';
export { watchConfig, ConfigWatch, type ConfigOptions, type ConfigChange, type ConfigWatchEvents } from './config.js';
