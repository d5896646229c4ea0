// Service registry, discovery cache and providers against a real server: normal paths, events,
// load publishing (coalesced), the stale-owner wait on NODEEXISTS.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, seededRandom, ServiceDiscovery, ServiceRegistry, strategies, ZookooperError, type ServiceInstance, type ZookooperClient } from '../../src/index.js';
import { eventually, startServer, type TestServer } from '../helpers/server.js';

type Ev = [string, string];

function record(cache: { on(e: 'added' | 'updated' | 'removed', l: (i: ServiceInstance) => void): unknown }): Ev[] {
  const events: Ev[] = [];
  for (const e of ['added', 'updated', 'removed'] as const) cache.on(e, (i) => events.push([e, i.id]));
  return events;
}

describe('service discovery', () => {
  let server: TestServer;
  const clients: ZookooperClient[] = [];
  const client = async (): Promise<ZookooperClient> => {
    const zk = await connect(server.connectString, { sessionTimeoutMs: 4_000 });
    clients.push(zk);
    return zk;
  };
  before(async () => {
    server = await startServer({ workers: 2, tickMs: 200 });
  });
  after(async () => {
    for (const c of clients) await c.close();
    await server?.stop();
    server?.cleanup();
  });

  test('register, update, disable, unregister: the cache sees each once, in order', async () => {
    const registry = new ServiceRegistry(await client(), { basePath: '/t1' });
    const discovery = new ServiceDiscovery(await client(), { basePath: '/t1' });
    const cache = await discovery.cache('api');
    assert.equal(cache.size, 0);
    const events = record(cache);
    const a = await registry.register({ name: 'api', id: 'a', address: '10.0.0.1', port: 80, zone: 'eu', weight: 2, payload: { load: 1, v: 'x' } });
    assert.equal(a.enabled, true);
    assert.ok(typeof a.registeredAtMs === 'number');
    await registry.register({ name: 'api', id: 'b', address: '10.0.0.2', port: 80 });
    await eventually(() => cache.size === 2, 5_000, 'both seen');
    assert.deepEqual(cache.get('a'), a);
    await registry.update({ ...a, port: 81 });
    await eventually(() => cache.get('a')?.port === 81, 5_000, 'update seen');
    await registry.setEnabled({ name: 'api', id: 'b' }, false);
    await eventually(() => cache.get('b')?.enabled === false, 5_000, 'disable seen');
    const provider = await discovery.provider('api', { strategy: strategies.random(), random: seededRandom(9) });
    for (let i = 0; i < 100; i++) assert.equal(provider.getInstance()?.id, 'a', 'disabled b is never picked');
    await registry.unregister({ name: 'api', id: 'a' });
    await eventually(() => cache.size === 1, 5_000, 'removal seen');
    assert.equal(provider.getInstance(), null, 'only a disabled instance left');
    await registry.setEnabled({ name: 'api', id: 'b' }, true);
    await eventually(() => provider.getInstance()?.id === 'b', 5_000, 'enabled again');
    assert.deepEqual(events, [
      ['added', 'a'],
      ['added', 'b'],
      ['updated', 'a'],
      ['updated', 'b'],
      ['removed', 'a'],
      ['updated', 'b'],
    ]);
    // One-off queries.
    await registry.register({ name: 'web', id: 'w1', address: 'h', port: 1 });
    assert.deepEqual(await discovery.queryForNames(), ['api', 'web']);
    assert.deepEqual((await discovery.queryForInstances('api')).map((i) => i.id), ['b']);
    assert.equal((await discovery.queryForInstance('web', 'w1'))?.port, 1);
    assert.equal(await discovery.queryForInstance('web', 'nope'), null);
    assert.deepEqual(await discovery.queryForInstances('nope'), []);
    assert.equal(await discovery.cache('api'), cache, 'one cache per name');
    await registry.close();
    await eventually(() => cache.size === 0, 5_000, 'close unregisters');
    await discovery.close();
  });

  test('bad input is BADARGUMENTS; update of an unknown instance is NONODE', async () => {
    const registry = new ServiceRegistry(await client(), { basePath: '/t2' });
    const base = { name: 'api', id: 'a', address: 'h', port: 1 };
    for (const bad of [{ ...base, name: 'a/b' }, { ...base, id: '' }, { ...base, port: 70_000 }, { ...base, weight: -1 }, { ...base, payload: { load: Number.NaN } }]) {
      await assert.rejects(async () => registry.register(bad), (e: unknown) => e instanceof ZookooperError && e.code === 'BADARGUMENTS', JSON.stringify(bad));
    }
    await assert.rejects(registry.update({ ...base }), { code: 'NONODE' });
    assert.throws(() => registry.publishLoad(base, 1), { code: 'NONODE' });
    assert.throws(() => new ServiceRegistry(clients[0]!, { basePath: 'relative' }), { code: 'BADARGUMENTS' });
    await registry.close();
  });

  test('a znode that is not an instance is skipped, not fatal', async () => {
    const zk = await client();
    await zk.create('/t3', '');
    await zk.create('/t3/api', '');
    await zk.create('/t3/api/junk', 'not json');
    const discovery = new ServiceDiscovery(await client(), { basePath: '/t3' });
    const cache = await discovery.cache('api');
    const registry = new ServiceRegistry(await client(), { basePath: '/t3' });
    await registry.register({ name: 'api', id: 'ok', address: 'h', port: 1 });
    await eventually(() => cache.size === 1, 5_000, 'real instance seen');
    assert.equal(cache.malformed, 1);
    await registry.close();
    await discovery.close();
  });

  test('load is published at a bounded rate (coalesced) and the last value wins', async () => {
    const registry = new ServiceRegistry(await client(), { basePath: '/t4', loadMinIntervalMs: 300 });
    const discovery = new ServiceDiscovery(await client(), { basePath: '/t4' });
    const cache = await discovery.cache('api');
    const updates: number[] = [];
    cache.on('updated', (i) => updates.push(i.payload?.load ?? -1));
    const ref = { name: 'api', id: 'a' };
    await registry.register({ ...ref, address: 'h', port: 1, payload: { load: 0 } });
    for (let i = 1; i <= 200; i++) registry.publishLoad(ref, i);
    await eventually(() => cache.get('a')?.payload?.load === 200, 30_000, 'last load seen');
    // 200 changes in one synchronous burst fall in one 300 ms interval however slow the machine:
    // at most one write at once and one at the end of the interval, carrying the last value.
    assert.ok(registry.stats.loadWrites >= 1 && registry.stats.loadWrites <= 2, `loadWrites ${registry.stats.loadWrites}`);
    assert.ok(updates.length <= registry.stats.loadWrites, `updates ${updates.length}`);
    assert.equal(cache.get('a')?.payload?.load, 200);
    await registry.close();
    await discovery.close();
  });

  test('NODEEXISTS from another session: waits for its node to go, then registers (bounded)', async () => {
    const holderZk = await connect(server.connectString, { sessionTimeoutMs: 4_000 });
    const holder = new ServiceRegistry(holderZk, { basePath: '/t5' });
    await holder.register({ name: 'api', id: 'dup', address: 'old', port: 1 });
    // Bounded: a live duplicate is refused with NODEEXISTS once staleOwnerWaitMs has passed.
    const impatient = new ServiceRegistry(await client(), { basePath: '/t5', staleOwnerWaitMs: 300 });
    await assert.rejects(impatient.register({ name: 'api', id: 'dup', address: 'new', port: 2 }), { code: 'NODEEXISTS' });
    assert.equal(impatient.stats.staleOwnerWaits, 1);
    assert.deepEqual(impatient.instances(), [], 'a refused registration is not kept');
    // Patient: registers as soon as the other session's node is gone.
    const zk = await client();
    const patient = new ServiceRegistry(zk, { basePath: '/t5', staleOwnerWaitMs: 10_000 });
    const pending = patient.register({ name: 'api', id: 'dup', address: 'new', port: 2 });
    await eventually(() => patient.stats.staleOwnerWaits === 1, 5_000, 'waiting on the old node');
    await holderZk.close(); // the old session ends: its ephemeral goes
    const got = await pending;
    assert.equal(got.address, 'new');
    const stat = await zk.exists('/t5/api/dup');
    assert.equal(stat?.ephemeralOwner, zk.sessionId);
    await patient.close();
    await impatient.close();
  });

  test('a registry on a persistent node in the way fails at once with NODEEXISTS', async () => {
    const zk = await client();
    await zk.create('/t6', '');
    await zk.create('/t6/api', '');
    await zk.create('/t6/api/p', '{}');
    const registry = new ServiceRegistry(zk, { basePath: '/t6' });
    await assert.rejects(registry.register({ name: 'api', id: 'p', address: 'h', port: 1 }), { code: 'NODEEXISTS' });
    assert.equal(registry.stats.staleOwnerWaits, 0);
    await registry.close();
  });
});
