// ServiceDiscovery: the reading side. Hands out one ServiceCache per service name (each with its
// one persistent recursive watch), providers over those caches, and one-off queries. Keeps every
// cache current across reconnects (resync) and session expiry (new watch + resync on the next
// session, from the `connect` factory or reattach()).
import { EventEmitter } from 'node:events';
import type { ZookooperClient } from '../../client/index.js';
import { ServiceCache } from './cache.js';
import { ClientHolder, type ClientFactory } from './client-holder.js';
import { checkBasePath, checkName, discoveryDefaults, type ServiceInstance } from './instance.js';
import { ServiceProvider, type ServiceProviderOptions } from './provider.js';
import { queryForInstance, queryForInstances, queryForNames } from './query.js';

export interface ServiceDiscoveryOptions {
  basePath?: string;
  /** Makes a new connection after the session expired (then closed by close()); else call reattach(). */
  connect?: ClientFactory;
}

export interface ServiceDiscoveryEvents {
  expired: [];
  /** Every cache is watching again on a new session and has been reloaded. */
  reattached: [sessionId: bigint];
  error: [err: unknown];
}

export class ServiceDiscovery extends EventEmitter<ServiceDiscoveryEvents> {
  readonly basePath: string;
  private readonly holder: ClientHolder;
  private readonly caches = new Map<string, Promise<ServiceCache>>();
  private closed = false;

  constructor(client: ZookooperClient, opts: ServiceDiscoveryOptions = {}) {
    super();
    this.basePath = checkBasePath(opts.basePath ?? discoveryDefaults.basePath);
    this.holder = new ClientHolder(client, opts.connect ?? null, {
      onReconnected: () => void this.forEachCache((c) => c.resync()),
      onNewSession: (zk) =>
        void this.forEachCache((c) => c.attach(zk)).then(
          () => this.emit('reattached', zk.sessionId),
          (e: unknown) => this.fail(e),
        ),
      onExpired: () => this.emit('expired'),
      onRenewFailed: (e) => this.fail(e),
    });
  }

  get client(): ZookooperClient {
    return this.holder.client;
  }

  /** The cache of `name`, loaded. The same cache for the same name; closed by close(). */
  cache(name: string): Promise<ServiceCache> {
    checkName(name, 'service name');
    let found = this.caches.get(name);
    if (found === undefined) {
      const cache = new ServiceCache(this.basePath, name);
      cache.on('error', (e) => this.fail(e)); // a cache 'error' without a listener would throw
      found = cache.attach(this.holder.client).then(() => cache);
      found.catch(() => this.caches.delete(name)); // a failed start can be tried again
      this.caches.set(name, found);
    }
    return found;
  }

  /** A provider over the (shared) cache of `name`. */
  async provider(name: string, opts?: ServiceProviderOptions): Promise<ServiceProvider> {
    return new ServiceProvider(await this.cache(name), opts);
  }

  queryForNames(): Promise<string[]> {
    return queryForNames(this.holder.client, this.basePath);
  }

  queryForInstances(name: string): Promise<ServiceInstance[]> {
    return queryForInstances(this.holder.client, this.basePath, checkName(name, 'service name'));
  }

  queryForInstance(name: string, id: string): Promise<ServiceInstance | null> {
    return queryForInstance(this.holder.client, this.basePath, checkName(name, 'service name'), checkName(id, 'instance id'));
  }

  /** Use `client` (a new session): every cache re-adds its watch and reloads. */
  reattach(client: ZookooperClient): void {
    this.holder.attach(client, false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.forEachCache((c) => c.close());
    this.caches.clear();
    await this.holder.close();
  }

  private async forEachCache(fn: (c: ServiceCache) => Promise<void>): Promise<void> {
    const started = await Promise.allSettled([...this.caches.values()]);
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? fn(s.value) : undefined)));
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else process.emitWarning(`zookooper ServiceDiscovery: ${String(err)}`);
  }
}
