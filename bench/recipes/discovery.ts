// Service discovery figures (figures, not tests: nothing here asserts a timing):
//  - register -> seen: time from registry.register() until each of 100 discovery caches (100
//    separate sessions, one persistent recursive watch each) has the instance; p50/p99 per cache
//    and for "all 100 have it", over several rounds;
//  - provider picks per second from a cache of 10 instances, per strategy (in-process, no I/O);
//  - soft load balancing: 3 instances publishing loads 0, 5 and 20, 10,000 load-aware picks, the
//    share each got (and the share weight/(1+load) predicts).
// Alone: `node dist/bench/recipes/discovery.js [--quick]` starts its own server and prints them.
// bench/run.ts calls benchDiscovery() with its server.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { connect, seededRandom, ServiceDiscovery, ServiceProvider, ServiceRegistry, strategies, type ProviderStrategy, type ServiceCache, type ZookooperClient } from '../../src/index.js';

const round2 = (x: number): number => Math.round(x * 100) / 100;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Resolves when `check` holds, polling every 5 ms; rejects after `timeoutMs` (bounded). */
async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`bench: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function registerToSeen(connectString: string, basePath: string, caches: number, rounds: number): Promise<Record<string, number>> {
  const clients: ZookooperClient[] = [];
  const discoveries: ServiceDiscovery[] = [];
  const regZk = await connect(connectString);
  const registry = new ServiceRegistry(regZk, { basePath });
  try {
    // Warm-up registration: creates the persistent parents, so rounds time only the instance.
    await registry.register({ name: 'bench', id: 'warm', address: '127.0.0.1', port: 1 });
    const list: ServiceCache[] = [];
    for (let i = 0; i < caches; i++) {
      const zk = await connect(connectString);
      clients.push(zk);
      const d = new ServiceDiscovery(zk, { basePath });
      discoveries.push(d);
      list.push(await d.cache('bench'));
    }
    const each: number[] = [];
    const all: number[] = [];
    const acks: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const id = `r${r}`;
      const seenAt: number[] = [];
      const listeners = list.map((c) => {
        const l = (i: { id: string }): void => {
          if (i.id === id) seenAt.push(performance.now());
        };
        c.on('added', l);
        return l;
      });
      const t0 = performance.now();
      await registry.register({ name: 'bench', id, address: '127.0.0.1', port: 2 });
      acks.push(performance.now() - t0);
      await until(() => seenAt.length === caches, 30_000, `round ${r}: all caches see ${id}`);
      list.forEach((c, i) => c.off('added', listeners[i]!));
      for (const t of seenAt) each.push(t - t0);
      all.push(Math.max(...seenAt) - t0);
      await registry.unregister({ name: 'bench', id });
      await until(() => list.every((c) => c.get(id) === undefined), 30_000, `round ${r}: removal seen`);
    }
    each.sort((a, b) => a - b);
    all.sort((a, b) => a - b);
    acks.sort((a, b) => a - b);
    return {
      discovery_caches: caches,
      discovery_rounds: rounds,
      register_ack_p50_ms: round2(percentile(acks, 50)),
      register_to_cache_seen_p50_ms: round2(percentile(each, 50)),
      register_to_cache_seen_p99_ms: round2(percentile(each, 99)),
      register_to_all_caches_seen_p50_ms: round2(percentile(all, 50)),
      register_to_all_caches_seen_p99_ms: round2(percentile(all, 99)),
    };
  } finally {
    for (const d of discoveries) await d.close();
    for (const zk of clients) await zk.close();
    await registry.close();
    await regZk.close();
  }
}

async function picksAndShares(connectString: string, basePath: string, quick: boolean): Promise<Record<string, number>> {
  const regZk = await connect(connectString);
  const discZk = await connect(connectString);
  const registry = new ServiceRegistry(regZk, { basePath, loadMinIntervalMs: 50 });
  const discovery = new ServiceDiscovery(discZk, { basePath });
  const out: Record<string, number> = {};
  try {
    // Picks per second: 10 instances, weights 1..3, loads 0..9, two zones.
    for (let i = 0; i < 10; i++) {
      await registry.register({ name: 'picks', id: `p${i}`, address: '127.0.0.1', port: 3000 + i, weight: 1 + (i % 3), zone: i % 2 === 0 ? 'a' : 'b', payload: { load: i } });
    }
    const cache = await discovery.cache('picks');
    await until(() => cache.size === 10, 10_000, '10 instances in the cache');
    const picks = quick ? 200_000 : 1_000_000;
    const makers: [string, () => ProviderStrategy][] = [
      ['round_robin', strategies.roundRobin],
      ['random', strategies.random],
      ['weighted_random', strategies.weightedRandom],
      ['load_aware', strategies.loadAware],
      ['sticky', () => strategies.sticky()],
      ['least_outstanding', strategies.leastOutstanding],
      ['zone_preferring', () => strategies.zonePreferring('a')],
    ];
    for (const [name, make] of makers) {
      const provider = new ServiceProvider(cache, { strategy: make(), random: seededRandom(1) });
      for (let i = 0; i < 10_000; i++) provider.getInstance(); // warm-up (JIT)
      const t0 = performance.now();
      let sink = 0;
      for (let i = 0; i < picks; i++) sink += provider.getInstance()!.port;
      const s = (performance.now() - t0) / 1000;
      if (sink === 0) throw new Error('unreachable: no picks');
      out[`picks_per_s_${name}`] = Math.round(picks / s);
    }

    // Soft load balancing: loads published through the registry, read back through the cache.
    const loads = [0, 5, 20];
    for (let i = 0; i < loads.length; i++) await registry.register({ name: 'soft', id: `s${i}`, address: '127.0.0.1', port: 4000 + i, payload: { load: 0 } });
    loads.forEach((load, i) => registry.publishLoad({ name: 'soft', id: `s${i}` }, load));
    const soft = await discovery.cache('soft');
    await until(() => soft.size === 3 && soft.instances().every((x, i) => x.payload?.load === loads[i]), 10_000, 'published loads seen');
    const provider = new ServiceProvider(soft, { strategy: strategies.loadAware(), random: seededRandom(42) });
    const n = 10_000;
    const got = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const id = provider.getInstance()!.id;
      got.set(id, (got.get(id) ?? 0) + 1);
    }
    const scores = loads.map((l) => 1 / (1 + l));
    const total = scores.reduce((a, b) => a + b, 0);
    loads.forEach((load, i) => {
      out[`softlb_load${load}_share_pct`] = round2((100 * (got.get(`s${i}`) ?? 0)) / n);
      out[`softlb_load${load}_expected_pct`] = round2((100 * scores[i]!) / total);
    });
    out.softlb_picks = n;
    return out;
  } finally {
    await registry.close();
    await discovery.close();
    await regZk.close();
    await discZk.close();
  }
}

export async function benchDiscovery(opts: { connectString: string; quick: boolean }): Promise<Record<string, number>> {
  const basePath = `/bench-discovery-${process.pid}-${Date.now()}`;
  const seen = await registerToSeen(opts.connectString, basePath, 100, opts.quick ? 5 : 20);
  const rest = await picksAndShares(opts.connectString, basePath, opts.quick);
  return { ...seen, ...rest };
}

// Alone: start a server like the tests do (ephemeral port, temp data dir, stopped by PID).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { startServer } = await import('../../test/helpers/server.js');
  const quick = process.argv.includes('--quick');
  const server = await startServer({ workers: 2, tickMs: 2_000 });
  try {
    const started = new Date().toISOString();
    const figures = await benchDiscovery({ connectString: server.connectString, quick });
    console.log(`# node dist/bench/recipes/discovery.js${quick ? ' --quick' : ''}  (${started}, node ${process.version}, server --workers 2)`);
    for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(40)} ${v}`);
  } finally {
    await server.stop();
    server.cleanup();
  }
}
