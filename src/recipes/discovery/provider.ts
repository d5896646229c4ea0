// ServiceProvider: picks an instance of one service from a discovery cache with a strategy,
// skipping disabled instances and those marked down by noteError (DownInstancePolicy), and counts
// the calls it has in flight per instance (for least-outstanding).
import { ZookooperError } from '../../common/errors.js';
import { defaultDownInstancePolicy, DownInstances, type DownInstancePolicy } from './down.js';
import type { ServiceInstance } from './instance.js';
import { roundRobin, type PickContext, type ProviderStrategy } from './strategies.js';

/** What a provider picks from: a ServiceCache, or anything with the same two members. */
export interface InstanceSource {
  readonly name: string;
  /** Sorted by id. */
  instances(): readonly ServiceInstance[];
  /** Changes whenever the set of instances does (lets the provider keep its filtered view). */
  readonly version: number;
}

export interface ServiceProviderOptions {
  strategy?: ProviderStrategy;
  downInstancePolicy?: DownInstancePolicy;
  /** Uniform in [0, 1); default Math.random. Pass seededRandom(n) for reproducible picks. */
  random?: () => number;
  now?: () => number;
}

/** An instance handed out by acquire(); call release() exactly once when the call is over. */
export interface ProviderLease {
  readonly instance: ServiceInstance;
  /** `ok: false` also notes an error against the instance. */
  release(ok?: boolean): void;
}

export class ServiceProvider {
  readonly strategy: ProviderStrategy;
  private readonly down: DownInstances;
  private readonly inFlight = new Map<string, number>();
  private readonly ctx: PickContext;
  private enabledView: readonly ServiceInstance[] = [];
  private viewVersion = -1;

  constructor(
    readonly source: InstanceSource,
    opts: ServiceProviderOptions = {},
  ) {
    this.strategy = opts.strategy ?? roundRobin();
    this.down = new DownInstances(opts.downInstancePolicy ?? defaultDownInstancePolicy, opts.now ?? Date.now);
    const rnd = opts.random ?? Math.random;
    this.ctx = { random: rnd, outstanding: (id) => this.inFlight.get(id) ?? 0 };
  }

  /** Enabled instances not marked down, sorted by id. */
  available(): readonly ServiceInstance[] {
    if (this.viewVersion !== this.source.version) {
      this.viewVersion = this.source.version;
      this.enabledView = this.source.instances().filter((i) => i.enabled);
    }
    if (!this.down.any) return this.enabledView;
    return this.enabledView.filter((i) => !this.down.isDown(i.id));
  }

  /** Every instance the cache holds, disabled and down ones included. */
  allInstances(): readonly ServiceInstance[] {
    return this.source.instances();
  }

  /** One instance by the strategy, or null when none is available. */
  getInstance(): ServiceInstance | null {
    const candidates = this.available();
    if (candidates.length === 0) return null;
    return this.strategy.pick(candidates, this.ctx);
  }

  /** An error calling `instance`: after errorThreshold of them it is down for timeoutMs. */
  noteError(instance: ServiceInstance): void {
    this.down.noteError(instance.id);
    const ids = new Set(this.source.instances().map((i) => i.id));
    this.down.retain((id) => ids.has(id)); // forget instances that left, so the records stay bounded
  }

  isDown(instance: ServiceInstance): boolean {
    return this.down.isDown(instance.id);
  }

  /** Calls in flight on the instance through this provider. */
  outstanding(id: string): number {
    return this.inFlight.get(id) ?? 0;
  }

  /** Picks an instance and counts a call on it until release(). null when none is available. */
  acquire(): ProviderLease | null {
    const instance = this.getInstance();
    if (instance === null) return null;
    this.inFlight.set(instance.id, (this.inFlight.get(instance.id) ?? 0) + 1);
    let released = false;
    return {
      instance,
      release: (ok = true) => {
        if (released) return; // idempotent: a double release must not undercount
        released = true;
        const n = (this.inFlight.get(instance.id) ?? 1) - 1;
        if (n <= 0) this.inFlight.delete(instance.id);
        else this.inFlight.set(instance.id, n);
        if (!ok) this.noteError(instance);
      },
    };
  }

  /**
   * Runs `fn` against a picked instance, counted as in flight while it runs; a rejection notes an
   * error against the instance and is passed on. NONODE when no instance is available.
   */
  async call<T>(fn: (instance: ServiceInstance) => Promise<T> | T): Promise<T> {
    const lease = this.acquire();
    if (lease === null) throw new ZookooperError('NONODE', `no available instance of service ${this.source.name}`);
    let ok = false;
    try {
      const result = await fn(lease.instance);
      ok = true;
      return result;
    } finally {
      lease.release(ok);
    }
  }
}
