// NodeCache and TreeCache against a real server process: initial load, every event type, a nested
// subtree, reconnect without expiry (a proxy cuts the connection for real; changes made meanwhile
// show up once each), session expiry then rebuild(newClient).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, NodeCache, TreeCache, type ClientState } from '../../src/index.js';
import { CuttableProxy } from '../helpers/proxy.js';
import { eventually, startServer, type TestServer } from '../helpers/server.js';
import { cacheContent, record, snapshot, summary } from './data-helpers.js';

type Client = Awaited<ReturnType<typeof connect>>;

describe('data recipes: caches', () => {
  let server: TestServer;
  let other: Client; // the writer: never cut
  before(async () => {
    server = await startServer({ workers: 2, tickMs: 100 });
    other = await connect(server.connectString);
  });
  after(async () => {
    await other?.close();
    await server?.stop();
    server?.cleanup();
  });

  test('TreeCache: initial load of a nested subtree, then created/changed/deleted events', async () => {
    await other.create('/tc1', 'root');
    await other.create('/tc1/a', 'a1');
    await other.create('/tc1/b', 'b1');
    await other.create('/tc1/b/c', 'c1');
    await other.create('/tc1/b/c/d', 'd1');
    const zk = await connect(server.connectString);
    const cache = new TreeCache(zk, '/tc1');
    const log = record(cache);
    try {
      await cache.start();
      assert.deepEqual(log, [{ type: 'initialized' }], 'the initial load is not reported node by node');
      assert.deepEqual(cacheContent(cache.entries()), await snapshot(other, '/tc1'));
      assert.deepEqual(cache.children('/tc1'), ['a', 'b']);
      assert.deepEqual(cache.children('/tc1/b/c'), ['d']);
      assert.equal(cache.children('/tc1/nope'), undefined);
      assert.equal(cache.get('/tc1/b/c/d')?.data.toString(), 'd1');
      assert.equal(cache.get('/tc1/b/c/d')?.stat.version, 0);

      await other.create('/tc1/b/e', 'e1');
      await other.create('/tc1/b/e/f', 'f1');
      await other.setData('/tc1/a', 'a2');
      await other.delete('/tc1/b/c/d');
      await other.setData('/tc1', 'root2');
      await eventually(() => log.length === 6, 5_000, 'five events');
      assert.deepEqual(summary(log), ['changed /tc1/a=a2', 'changed /tc1=root2', 'created /tc1/b/e/f=f1', 'created /tc1/b/e=e1', 'deleted /tc1/b/c/d=d1']);
      assert.deepEqual(cacheContent(cache.entries()), await snapshot(other, '/tc1'));
      assert.equal(cache.get('/tc1/a')?.stat.version, 1);
      assert.deepEqual(cache.children('/tc1/b'), ['c', 'e']);
      assert.equal(cache.lastError, null);
    } finally {
      await cache.close();
      await zk.close();
    }
  });

  test('TreeCache: the root may be missing at start and come and go', async () => {
    const zk = await connect(server.connectString);
    const cache = new TreeCache(zk, '/tc2');
    const log = record(cache);
    try {
      await cache.start();
      assert.equal(cache.size, 0);
      await other.create('/tc2', 'r');
      await other.create('/tc2/x', 'x');
      await eventually(() => cache.size === 2, 5_000, 'root and child cached');
      await other.delete('/tc2/x');
      await other.delete('/tc2');
      await eventually(() => cache.size === 0, 5_000, 'both gone');
      assert.deepEqual(summary(log), ['created /tc2/x=x', 'created /tc2=r', 'deleted /tc2/x=x', 'deleted /tc2=r']);
    } finally {
      await cache.close();
      await zk.close();
    }
  });

  test('TreeCache: reconnect without expiry - changes made while cut arrive once each, nothing lost', async () => {
    await other.create('/tc3', '');
    for (const n of ['a', 'b', 'c', 'd']) await other.create(`/tc3/${n}`, `${n}0`);
    await other.create('/tc3/b/deep', 'deep0');
    const proxy = await CuttableProxy.start(server.port);
    const zk = await connect(`127.0.0.1:${proxy.port}`, { sessionTimeoutMs: 4_000 });
    const cache = new TreeCache(zk, '/tc3');
    const log = record(cache);
    const states: ClientState[] = [];
    zk.on('state', (s) => states.push(s));
    try {
      await cache.start();
      const sessionId = zk.sessionId;
      proxy.cut();
      await eventually(() => zk.state === 'disconnected', 5_000, 'client saw the cut');
      // While cut off: every kind of change, a re-create, and a node that comes and goes unseen.
      await other.setData('/tc3/a', 'a1');
      await other.delete('/tc3/b/deep');
      await other.delete('/tc3/c');
      await other.create('/tc3/e', 'e0');
      await other.create('/tc3/e/f', 'f0');
      await other.delete('/tc3/d');
      await other.create('/tc3/d', 'd-again');
      await other.create('/tc3/ghost', '');
      await other.delete('/tc3/ghost');
      proxy.unblock();
      await eventually(() => log.some((e) => e.type === 'resynced'), 10_000, 'resynced after reconnect');
      assert.equal(zk.sessionId, sessionId, 'same session: no expiry');
      assert.deepEqual(cacheContent(cache.entries()), await snapshot(other, '/tc3'), 'cache equals the server');
      assert.deepEqual(summary(log), [
        'changed /tc3/a=a1',
        'created /tc3/d=d-again',
        'created /tc3/e/f=f0',
        'created /tc3/e=e0',
        'deleted /tc3/b/deep=deep0',
        'deleted /tc3/c=c0',
        'deleted /tc3/d=d0',
      ]);
      // The re-created node reads as deleted then created, in that order.
      const d = log.filter((e) => e.path === '/tc3/d').map((e) => e.type);
      assert.deepEqual(d, ['deleted', 'created']);
      // Live again: a later change arrives exactly once, and nothing earlier repeats.
      const before = log.length;
      await other.setData('/tc3/e/f', 'f1');
      await eventually(() => log.length > before, 5_000, 'live event after reconnect');
      await other.sync('/');
      await zk.sync('/');
      assert.deepEqual(log.slice(before), [{ type: 'changed', path: '/tc3/e/f', data: 'f1' }]);
      assert.ok(states.includes('disconnected'));
    } finally {
      await cache.close();
      await zk.close();
      await proxy.close();
    }
  });

  test('TreeCache under churn with repeated cuts: the event stream replays exactly to the server state', async () => {
    // A seeded writer churns a two-level tree while the cache's connection is cut three times.
    // Replaying the cache's events on its initial content must give the server's final content, and
    // every event must be legal where it lands (no created twice, no change or delete of a missing
    // node, no change without a newer mzxid): nothing lost, nothing duplicated.
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    await other.create('/churn', '');
    for (let i = 0; i < 4; i++) await other.create(`/churn/d${i}`, 'init');
    const proxy = await CuttableProxy.start(server.port);
    const zk = await connect(`127.0.0.1:${proxy.port}`, { sessionTimeoutMs: 4_000 });
    const cache = new TreeCache(zk, '/churn');
    const replay = new Map<string, { data: string; mzxid: bigint }>();
    const violations: string[] = [];
    let resyncs = 0;
    cache.on('resynced', () => resyncs++);
    cache.on('created', (n) => {
      if (replay.has(n.path)) violations.push(`created twice ${n.path}`);
      replay.set(n.path, { data: n.data.toString(), mzxid: n.stat.mzxid });
    });
    cache.on('changed', (n) => {
      const had = replay.get(n.path);
      if (had === undefined) violations.push(`changed missing ${n.path}`);
      else if (had.mzxid >= n.stat.mzxid) violations.push(`changed without newer mzxid ${n.path}`);
      replay.set(n.path, { data: n.data.toString(), mzxid: n.stat.mzxid });
    });
    cache.on('deleted', (n) => {
      if (!replay.delete(n.path)) violations.push(`deleted missing ${n.path}`);
    });
    try {
      await cache.start();
      for (const n of cache.entries()) replay.set(n.path, { data: n.data.toString(), mzxid: n.stat.mzxid });
      const opsTotal = 300;
      for (let op = 0; op < opsTotal; op++) {
        if (op % 100 === 30) proxy.cut();
        if (op % 100 === 60) proxy.unblock();
        const dir = `/churn/d${rand(4)}`;
        const leaf = `${dir}/n${rand(5)}`;
        const r = rand(3);
        try {
          if (r === 0) await other.create(leaf, `c${op}`);
          else if (r === 1) await other.setData(leaf, `s${op}`);
          else await other.delete(leaf);
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code !== 'NODEEXISTS' && code !== 'NONODE') throw err;
        }
      }
      proxy.unblock();
      const truth = await snapshot(other, '/churn');
      await eventually(() => JSON.stringify([...cacheContent(cache.entries())].sort()) === JSON.stringify([...truth].sort()), 10_000, 'cache equals the server');
      assert.deepEqual(violations, []);
      assert.deepEqual(new Map([...replay].map(([p, v]) => [p, v.data])), truth, 'events replay to the server state');
      assert.ok(resyncs >= 1, `re-read after reconnects (${resyncs})`);
    } finally {
      await cache.close();
      await zk.close();
      await proxy.close();
    }
  });

  test('TreeCache: session expiry makes it stale; rebuild(newClient) emits the differences', async () => {
    await other.create('/tc4', '');
    await other.create('/tc4/keep', 'k0');
    await other.create('/tc4/gone', 'g0');
    const proxy = await CuttableProxy.start(server.port);
    const zk = await connect(`127.0.0.1:${proxy.port}`, { sessionTimeoutMs: 1_000 });
    const cache = new TreeCache(zk, '/tc4');
    const log = record(cache);
    let fresh: Client | undefined;
    try {
      await cache.start();
      proxy.cut();
      await eventually(() => cache.stale, 10_000, 'cache stale after the session expired');
      assert.equal(zk.state, 'expired');
      assert.equal(cache.get('/tc4/keep')?.data.toString(), 'k0', 'last content kept while stale');
      await other.setData('/tc4/keep', 'k1');
      await other.delete('/tc4/gone');
      await other.create('/tc4/new', 'n0');
      fresh = await connect(server.connectString);
      await cache.rebuild(fresh);
      assert.equal(cache.stale, false);
      assert.deepEqual(cacheContent(cache.entries()), await snapshot(other, '/tc4'));
      assert.deepEqual(summary(log), ['changed /tc4/keep=k1', 'created /tc4/new=n0', 'deleted /tc4/gone=g0']);
      assert.deepEqual(
        log.filter((e) => e.path === undefined).map((e) => e.type),
        ['initialized', 'stale', 'resynced'],
      );
      await other.setData('/tc4/new', 'n1');
      await eventually(() => cache.get('/tc4/new')?.data.toString() === 'n1', 5_000, 'follows through the new client');
    } finally {
      await cache.close();
      await zk.close();
      await fresh?.close();
      await proxy.close();
    }
  });

  test('TreeCache: nodesMax bounds the cache and reports QUOTAEXCEEDED', async () => {
    await other.create('/tc5', '');
    for (let i = 0; i < 5; i++) await other.create(`/tc5/n${i}`, '');
    const zk = await connect(server.connectString);
    const cache = new TreeCache(zk, '/tc5', { nodesMax: 3 });
    const errors: string[] = [];
    cache.on('error', (e) => errors.push((e as { code?: string }).code ?? e.message));
    try {
      await cache.start();
      assert.equal(cache.size, 3);
      assert.deepEqual(errors, ['QUOTAEXCEEDED'], 'reported once, not per node left out');
    } finally {
      await cache.close();
      await zk.close();
    }
  });

  test('NodeCache: missing node, then created/changed/deleted; reconnect brings a missed change once', async () => {
    const proxy = await CuttableProxy.start(server.port);
    const zk = await connect(`127.0.0.1:${proxy.port}`, { sessionTimeoutMs: 4_000 });
    const cache = new NodeCache(zk, '/nc');
    const log = record(cache);
    const current = (): string | undefined => cache.current?.data.toString();
    try {
      await cache.start();
      assert.equal(current(), undefined);
      await other.create('/nc', 'v0');
      await eventually(() => cache.current?.data.toString() === 'v0', 5_000, 'created');
      await other.create('/nc/child', ''); // a child change is not this cache's concern
      await other.setData('/nc', 'v1');
      await eventually(() => cache.current?.data.toString() === 'v1', 5_000, 'changed');
      proxy.cut();
      await eventually(() => zk.state === 'disconnected', 5_000, 'cut');
      await other.setData('/nc', 'v2');
      await other.setData('/nc', 'v3');
      proxy.unblock();
      await eventually(() => log.some((e) => e.type === 'resynced'), 10_000, 'resynced');
      assert.equal(current(), 'v3');
      await other.delete('/nc/child');
      await other.delete('/nc');
      await eventually(() => cache.current === null, 5_000, 'deleted');
      assert.deepEqual(
        log.map((e) => `${e.type}${e.data === undefined ? '' : ' ' + e.data}`),
        ['initialized', 'created v0', 'changed v1', 'changed v3', 'resynced', 'deleted v3'],
      );
    } finally {
      await cache.close();
      await zk.close();
      await proxy.close();
    }
  });

  test('close() stops the cache (no events after it); a closed cache or a dead client cannot start', async () => {
    const zk = await connect(server.connectString);
    const cache = new TreeCache(zk, '/tc6');
    await cache.start();
    await cache.close();
    await other.create('/tc6', '');
    await other.sync('/');
    await zk.sync('/');
    assert.equal(cache.size, 0, 'no events after close');
    await assert.rejects(cache.start(), { code: 'APIERROR' });
    await zk.close();
    const onDead = new NodeCache(zk, '/tc6');
    await assert.rejects(onDead.start(), { code: 'SESSIONEXPIRED' }, 'a closed client cannot feed a cache');
    assert.equal(onDead.stale, false);
  });
});
