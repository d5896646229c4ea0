// How a ServiceProvider picks one instance among the available ones (enabled, not marked down).
// Strategies with memory (round-robin's position, sticky's choice) are per provider: make one with
// its factory function for each provider.
import { ZookooperError } from '../../common/errors.js';
import { loadOf, weightOf, type ServiceInstance } from './instance.js';

export interface PickContext {
  /** Uniform in [0, 1); the provider's (seedable) generator. */
  random(): number;
  /** Calls this provider has in flight on the instance (call()/acquire()). */
  outstanding(id: string): number;
}

export interface ProviderStrategy {
  readonly name: string;
  /** `candidates` is non-empty and sorted by id. */
  pick(candidates: readonly ServiceInstance[], ctx: PickContext): ServiceInstance;
}

const at = (list: readonly ServiceInstance[], i: number): ServiceInstance => list[Math.min(list.length - 1, Math.max(0, i))]!;

/** In turn, by id order. */
export function roundRobin(): ProviderStrategy {
  let next = 0;
  return {
    name: 'round-robin',
    pick(c) {
      const i = next % c.length;
      next = (next + 1) % 0x7fff_ffff;
      return at(c, i);
    },
  };
}

export function random(): ProviderStrategy {
  return { name: 'random', pick: (c, ctx) => at(c, Math.floor(ctx.random() * c.length)) };
}

/** Picks with probability proportional to `score`; all scores 0 = uniform. */
function proportional(c: readonly ServiceInstance[], ctx: PickContext, score: (i: ServiceInstance) => number): ServiceInstance {
  let total = 0;
  for (const i of c) total += score(i);
  if (!(total > 0)) return at(c, Math.floor(ctx.random() * c.length));
  let r = ctx.random() * total;
  for (const i of c) {
    r -= score(i);
    if (r < 0) return i;
  }
  return at(c, c.length - 1); // rounding left r a hair above 0
}

/** Probability proportional to `weight` (default 1). */
export function weightedRandom(): ProviderStrategy {
  return { name: 'weighted-random', pick: (c, ctx) => proportional(c, ctx, weightOf) };
}

/**
 * Soft load balancing: probability proportional to weight / (1 + load), load being the figure the
 * instance publishes (payload.load, 0 if none). Randomised rather than "least loaded" on purpose:
 * published loads are stale (rate-limited updates) and every client sees the same figures, so a
 * deterministic choice would send everyone to the same instance until its next update (herding);
 * proportional sampling gives each instance a share that falls smoothly as its load rises, and no
 * instance is starved, so its next figure stays meaningful.
 */
export function loadAware(): ProviderStrategy {
  return { name: 'load-aware', pick: (c, ctx) => proportional(c, ctx, (i) => weightOf(i) / (1 + loadOf(i))) };
}

/** Keeps returning the same instance while it is available; a new one from `inner` otherwise. */
export function sticky(inner: ProviderStrategy = roundRobin()): ProviderStrategy {
  let current: string | null = null;
  return {
    name: `sticky(${inner.name})`,
    pick(c, ctx) {
      if (current !== null) {
        const same = c.find((i) => i.id === current);
        if (same !== undefined) return same;
      }
      const chosen = inner.pick(c, ctx);
      current = chosen.id;
      return chosen;
    },
  };
}

/** Fewest calls in flight from this provider; ties broken at random (so idle ones share). */
export function leastOutstanding(): ProviderStrategy {
  return {
    name: 'least-outstanding',
    pick(c, ctx) {
      let best = Infinity;
      let ties = 0;
      let chosen = at(c, 0);
      for (const i of c) {
        const n = ctx.outstanding(i.id);
        if (n < best) {
          best = n;
          ties = 1;
          chosen = i;
        } else if (n === best && ctx.random() * ++ties < 1) chosen = i; // reservoir: each tie equally likely
      }
      return chosen;
    },
  };
}

/** Instances in `zone` when there are any available, else all; then `inner` among them. */
export function zonePreferring(zone: string, inner: ProviderStrategy = roundRobin()): ProviderStrategy {
  if (typeof zone !== 'string' || zone === '') throw new ZookooperError('BADARGUMENTS', 'zonePreferring needs a zone name');
  return {
    name: `zone-preferring(${zone}, ${inner.name})`,
    pick(c, ctx) {
      const local = c.filter((i) => i.zone === zone);
      return inner.pick(local.length > 0 ? local : c, ctx);
    },
  };
}

export const strategies = { roundRobin, random, weightedRandom, loadAware, sticky, leastOutstanding, zonePreferring } as const;

/** A small seedable generator (mulberry32) for reproducible picks in tests and benches. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
