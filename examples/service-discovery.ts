// Service discovery and soft load balancing in one process:
//   npm run build && node dist/examples/service-discovery.js [host:port]
// Registers 3 instances of "greeter", discovers them through a cache, publishes loads, picks with
// a load-aware provider, then cleans up and exits by itself.
import { connect, deleteIfExists, formatInstancesTable, ServiceDiscovery, ServiceRegistry, strategies } from '../src/index.js';

const connectString = process.argv[2] ?? '127.0.0.1:2181';
const basePath = `/examples-${process.pid}`; // a fresh base: runs never see each other's leftovers

// Each side has its own session, as separate processes would.
const registryZk = await connect(connectString, { sessionTimeoutMs: 10_000 });
const discoveryZk = await connect(connectString, { sessionTimeoutMs: 10_000 });
const registry = new ServiceRegistry(registryZk, { basePath, loadMinIntervalMs: 100 });
const discovery = new ServiceDiscovery(discoveryZk, { basePath });
registry.on('error', (e) => console.error('registry:', e));
discovery.on('error', (e) => console.error('discovery:', e));

try {
  const cache = await discovery.cache('greeter');
  cache.on('added', (i) => console.log(`added ${i.id} at ${i.address}:${i.port}`));

  const ids = ['greeter-1', 'greeter-2', 'greeter-3'];
  for (const [n, id] of ids.entries()) {
    await registry.register({ name: 'greeter', id, address: '127.0.0.1', port: 9001 + n, zone: n === 2 ? 'us' : 'eu' });
  }
  // The cache fills from its watch; wait for it (bounded) rather than sleeping.
  for (let i = 0; i < 500 && cache.size < ids.length; i++) await new Promise((r) => setTimeout(r, 10));
  if (cache.size < ids.length) throw new Error(`only ${cache.size} instances discovered`);

  // Each instance reports how busy it is; the registry writes at most once per 100 ms each.
  const loads = [0, 5, 20];
  ids.forEach((id, n) => registry.publishLoad({ name: 'greeter', id }, loads[n]!));
  for (let i = 0; i < 500 && !cache.instances().every((x, n) => x.payload?.load === loads[n]); i++) await new Promise((r) => setTimeout(r, 10));

  console.log(`services: ${(await discovery.queryForNames()).join(', ')}`);
  process.stdout.write(formatInstancesTable(cache.instances()));

  const roundRobin = await discovery.provider('greeter', { strategy: strategies.roundRobin() });
  console.log(`round-robin: ${[1, 2, 3, 4].map(() => roundRobin.getInstance()?.id).join(' ')}`);

  const loadAware = await discovery.provider('greeter', { strategy: strategies.loadAware() });
  const share = new Map<string, number>();
  for (let i = 0; i < 1_000; i++) {
    const id = loadAware.getInstance()?.id ?? 'none';
    share.set(id, (share.get(id) ?? 0) + 1);
  }
  console.log(`load-aware, 1000 picks: ${ids.map((id) => `${id}=${share.get(id) ?? 0}`).join(' ')}`);

  await registry.setEnabled({ name: 'greeter', id: 'greeter-1' }, false);
  for (let i = 0; i < 500 && cache.get('greeter-1')?.enabled !== false; i++) await new Promise((r) => setTimeout(r, 10));
  const answer = await loadAware.call(async (instance) => `hello from ${instance.id}`);
  console.log(`after disabling greeter-1, a call went to: ${answer.slice('hello from '.length)}`);
} finally {
  await registry.close(); // unregisters: the instances' znodes go at once
  await discovery.close();
  await deleteIfExists(registryZk, `${basePath}/greeter`); // the persistent parents the registry made
  await deleteIfExists(registryZk, basePath);
  await registryZk.close();
  await discoveryZk.close();
}
console.log('done');
