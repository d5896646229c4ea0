// Service discovery and soft load balancing (Curator's x-discovery): src/recipes/docs/discovery.md.
export {
  checkBasePath,
  checkInstance,
  checkName,
  discoveryDefaults,
  encodeInstance,
  instancePath,
  loadOf,
  parseInstance,
  servicePath,
  weightOf,
  type JsonValue,
  type ServiceInstance,
  type ServiceInstanceInput,
  type ServicePayload,
} from './instance.js';
export type { ClientFactory } from './client-holder.js';
export { ServiceRegistry, type InstanceRef, type RegistryStats, type ServiceRegistryEvents, type ServiceRegistryOptions } from './registry.js';
export { ServiceCache, type ServiceCacheEvents } from './cache.js';
export { ServiceDiscovery, type ServiceDiscoveryEvents, type ServiceDiscoveryOptions } from './discovery.js';
export { ServiceProvider, type InstanceSource, type ProviderLease, type ServiceProviderOptions } from './provider.js';
export { defaultDownInstancePolicy, type DownInstancePolicy } from './down.js';
// Strategy factories under one name: `strategies.roundRobin()` (short names like `random` would
// collide with other recipes' exports through `export *`).
export { strategies, seededRandom, type PickContext, type ProviderStrategy } from './strategies.js';
export { queryForInstance, queryForInstances, queryForNames } from './query.js';
export { formatInstancesTable } from './table.js';
