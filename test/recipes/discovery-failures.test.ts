// Service discovery when things go wrong, against a real server (tickMs 200: session timeouts
// 400-4000 ms): a registered process is killed; connections are cut and come back (same
// session); sessions expire (registry re-registers, discovery re-watches, on new sessions).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect, ServiceDiscovery, ServiceRegistry, type ServiceInstance, type ZookooperClient } from '../../src/index.js';
import { CuttableProxy } from '../helpers/proxy.js';
import { eventually, startServer, type TestServer } from '../helpers/server.js';

const childScript = join(fileURLToPath(new URL('.', import.meta.url)), 'discovery-child.js');

/** `p`, or a failure naming `what` once `ms` passed (a deadline against hanging, not a speed figure). */
async function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

function tally(cache: { on(e: 'added' | 'updated' | 'removed', l: (i: ServiceInstance) => void): unknown }): string[] {
  const events: string[] = [];
  for (const e of ['added', 'updated', 'removed'] as const) cache.on(e, (i) => events.push(`${e} ${i.id}`));
  return events;
}

describe('service discovery under failures', () => {
  let server: TestServer;
  const closers: (() => Promise<unknown>)[] = [];
  const client = async (connectString = server.connectString, sessionTimeoutMs = 4_000): Promise<ZookooperClient> => {
    const zk = await connect(connectString, { sessionTimeoutMs });
    closers.push(() => zk.close());
    return zk;
  };
  const proxy = async (): Promise<CuttableProxy> => {
    const p = await CuttableProxy.start(server.port);
    closers.push(() => p.close());
    return p;
  };
  before(async () => {
    server = await startServer({ workers: 2, tickMs: 200 });
  });
  after(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await server?.stop();
    server?.cleanup();
  });

  test("a registered process is killed (-9): discoverers see it removed within the session timeout", async (t) => {
    const discovery = new ServiceDiscovery(await client(), { basePath: '/f1' });
    closers.push(() => discovery.close());
    const cache = await discovery.cache('api');
    const child = spawn(process.execPath, [childScript, server.connectString, '/f1', 'api', 'doomed'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    closers.push(async () => {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
      await exited;
    });
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (b: Buffer) => {
        buf += b.toString();
        if (buf.includes('\n')) resolve(buf.split('\n')[0]!);
      });
      child.once('exit', (code) => reject(new Error(`child exited (${code}) before registering`)));
    });
    const { sessionTimeoutMs } = JSON.parse(line) as { sessionTimeoutMs: number };
    await eventually(() => cache.get('doomed'), 5_000, 'child instance seen');
    const removed = new Promise<void>((r) => cache.on('removed', (i) => i.id === 'doomed' && r()));
    const linesBefore = server.lines.length;
    process.kill(child.pid!, 'SIGKILL');
    await exited;
    // Events, not a clock: the server expires the dead child's session (a session timeout after
    // it last heard from it), its ephemeral goes, and the cache hears of it. The deadline is only
    // there so a lost event fails the test instead of hanging it.
    await eventually(() => server.lines.slice(linesBefore).some((l) => l.includes('"msg":"session expired"')), 60_000, 'the child session expired');
    await withDeadline(removed, 60_000, "the cache's removed event");
    t.diagnostic(`removed after the child's session (timeout ${sessionTimeoutMs} ms) expired`);
    assert.equal(cache.size, 0);
  });

  test('reconnect without expiry: nothing lost or duplicated in the cache, registration kept', async () => {
    const p = await proxy();
    const via = `127.0.0.1:${p.port}`;
    const regZk = await client(via, 4_000);
    const registry = new ServiceRegistry(regZk, { basePath: '/f2' });
    closers.push(() => registry.close());
    const other = new ServiceRegistry(await client(), { basePath: '/f2' });
    closers.push(() => other.close());
    await registry.register({ name: 'api', id: 'a', address: 'h', port: 1 });
    await other.register({ name: 'api', id: 'b', address: 'h', port: 2 });
    await other.register({ name: 'api', id: 'd', address: 'h', port: 4 });
    const discovery = new ServiceDiscovery(await client(via, 4_000), { basePath: '/f2' });
    closers.push(() => discovery.close());
    const cache = await discovery.cache('api');
    const events = tally(cache);
    assert.deepEqual(cache.instances().map((i) => i.id), ['a', 'b', 'd']);
    const sessionBefore = regZk.sessionId;

    p.cut();
    await eventually(() => regZk.state === 'disconnected' && discovery.client.state === 'disconnected', 5_000, 'both disconnected');
    // Changes the discoverer cannot hear about while cut: the persistent watch will not replay them.
    await other.register({ name: 'api', id: 'c', address: 'h', port: 3 });
    await other.unregister({ name: 'api', id: 'b' });
    await other.update({ name: 'api', id: 'd', address: 'h', port: 44 });
    p.unblock();
    await eventually(() => regZk.state === 'connected' && discovery.client.state === 'connected', 10_000, 'reconnected');
    assert.equal(regZk.sessionId, sessionBefore, 'same session: no expiry');

    await eventually(() => cache.instances().map((i) => i.id).join() === 'a,c,d' && cache.get('d')?.port === 44, 5_000, 'cache reconciled');
    await registry.settled();
    assert.deepEqual([...events].sort(), ['added c', 'removed b', 'updated d'], 'each change once; a untouched');
    const stat = await (await client()).exists('/f2/api/a');
    assert.equal(stat?.ephemeralOwner, sessionBefore, 'registration still there, same owner');
    assert.equal(registry.stats.creates, 1, 'not re-created');
  });

  test('session expiry of the registry: re-registered on a new session, no NODEEXISTS failure', async (t) => {
    const p = await proxy();
    const regZk = await client(`127.0.0.1:${p.port}`, 1_000);
    const errors: unknown[] = [];
    const reregistered: bigint[] = [];
    const registry = new ServiceRegistry(regZk, {
      basePath: '/f3',
      connect: () => client(server.connectString, 4_000), // the new session goes around the cut
    });
    registry.on('error', (e) => errors.push(e));
    registry.on('reregistered', (_list, sessionId) => reregistered.push(sessionId));
    closers.push(() => registry.close());
    await registry.register({ name: 'api', id: 'a', address: 'h', port: 1, payload: { load: 3 } });
    await registry.register({ name: 'api', id: 'b', address: 'h', port: 2 });
    const discovery = new ServiceDiscovery(await client(), { basePath: '/f3' });
    closers.push(() => discovery.close());
    const cache = await discovery.cache('api');
    const oldSession = regZk.sessionId;

    p.cut(); // and stays cut: the client gives the session up after its timeout
    await eventually(() => regZk.state === 'expired', 10_000, 'registry client expired');
    await eventually(() => reregistered.length === 1, 15_000, 're-registered');
    const newSession = registry.client.sessionId;
    assert.notEqual(newSession, oldSession);
    assert.equal(reregistered[0], newSession);
    assert.deepEqual(errors, [], 'no NODEEXISTS (or any) failure');
    const zk = await client();
    for (const id of ['a', 'b']) assert.equal((await zk.exists(`/f3/api/${id}`))?.ephemeralOwner, newSession, `${id} owned by the new session`);
    await eventually(() => cache.size === 2 && cache.instances().every((i) => i.registeredAtMs! > 0), 5_000, 'discoverer sees both');
    assert.equal(cache.get('a')?.payload?.load, 3, 'desired state kept across sessions');
    t.diagnostic(`stale-owner waits: ${registry.stats.staleOwnerWaits}, own nodes adopted: ${registry.stats.ownNodeAdopted}`);
    // Still fully usable on the new session.
    await registry.update({ name: 'api', id: 'a', address: 'h', port: 10 });
    await eventually(() => cache.get('a')?.port === 10, 5_000, 'update on the new session');
  });

  test('the race itself: the old session still holds the node when re-registration starts', async () => {
    // reattach() onto a new session while the old one is alive: exactly the lingering-ephemeral
    // case (the old session expires only later). The registry waits for the old node, then creates.
    const oldZk = await connect(server.connectString, { sessionTimeoutMs: 1_000 });
    const registry = new ServiceRegistry(oldZk, { basePath: '/f4' });
    const errors: unknown[] = [];
    registry.on('error', (e) => errors.push(e));
    closers.push(() => registry.close());
    await registry.register({ name: 'api', id: 'a', address: 'h', port: 1 });
    const reregistered = new Promise<bigint>((r) => registry.once('reregistered', (_l, s) => r(s)));
    const fresh = await client();
    registry.reattach(fresh);
    await eventually(() => registry.stats.staleOwnerWaits === 1, 5_000, 'waiting on the old node');
    await oldZk.close(); // the old session ends (as the server's expiry would do)
    assert.equal(await reregistered, fresh.sessionId);
    assert.equal((await fresh.exists('/f4/api/a'))?.ephemeralOwner, fresh.sessionId);
    assert.deepEqual(errors, []);
  });

  test('session expiry of the discoverer: the cache watches again on the new session and catches up', async () => {
    const p = await proxy();
    const discZk = await client(`127.0.0.1:${p.port}`, 1_000);
    const discovery = new ServiceDiscovery(discZk, { basePath: '/f5', connect: () => client(server.connectString, 4_000) });
    closers.push(() => discovery.close());
    const reattached = new Promise<bigint>((r) => discovery.once('reattached', r));
    const registry = new ServiceRegistry(await client(), { basePath: '/f5' });
    closers.push(() => registry.close());
    await registry.register({ name: 'api', id: 'a', address: 'h', port: 1 });
    await registry.register({ name: 'api', id: 'b', address: 'h', port: 2 });
    const cache = await discovery.cache('api');
    assert.equal(cache.size, 2);
    p.cut();
    await eventually(() => discZk.state === 'expired', 10_000, 'discovery client expired');
    await registry.unregister({ name: 'api', id: 'a' });
    await registry.register({ name: 'api', id: 'c', address: 'h', port: 3 });
    const session = await reattached;
    assert.equal(discovery.client.sessionId, session);
    await eventually(() => cache.instances().map((i) => i.id).join() === 'b,c', 5_000, 'caught up');
    await registry.register({ name: 'api', id: 'd', address: 'h', port: 4 });
    await eventually(() => cache.get('d'), 5_000, 'new watch delivers');
  });
});
