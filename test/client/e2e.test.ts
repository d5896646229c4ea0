// The client against a real server process: chroot, state machine, reconnects, timeouts, bounds,
// watch bookkeeping. Loss and stalls come from a proxy between client and server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, ZookooperError, type ClientState, type WatchedEvent } from '../../src/index.js';
import { eventually, startServer, type TestServer } from '../helpers/server.js';
import { StallProxy } from './stall-proxy.js';

type Client = Awaited<ReturnType<typeof connect>>;

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    assert.ok(e instanceof ZookooperError, `not a ZookooperError: ${String(e)}`);
    return e.code;
  }
}

function stateLog(zk: Client): ClientState[] {
  const log: ClientState[] = [];
  zk.on('state', (s) => log.push(s));
  return log;
}

function nextState(zk: Client, want: ClientState, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (zk.state === want) return resolve();
    const timer = setTimeout(() => reject(new Error(`state ${want} not reached within ${timeoutMs} ms (now ${zk.state})`)), timeoutMs);
    const l = (s: ClientState): void => {
      if (s !== want) return;
      clearTimeout(timer);
      zk.off('state', l);
      resolve();
    };
    zk.on('state', l);
  });
}

describe('client against a real server', () => {
  let server: TestServer;
  let root: Client;
  before(async () => {
    server = await startServer({ workers: 2 });
    root = await connect(server.connectString);
  });
  after(async () => {
    await root?.close();
    await server?.stop();
    server?.cleanup();
  });

  test('chroot: paths in, results, ephemerals, multi and events are relative', async () => {
    await root.create('/app');
    const zk = await connect(`${server.connectString}/app`);
    try {
      assert.equal(await zk.create('/x', 'v'), '/x');
      assert.ok(await root.exists('/app/x'));
      const seq = await zk.create('/s-', '', { mode: 'persistent_sequential' });
      assert.match(seq, /^\/s-\d{10}$/);
      assert.equal((await zk.createWithStat('/y')).path, '/y');
      await zk.create('/e', '', { mode: 'ephemeral' });
      assert.deepEqual(await zk.getEphemerals(), ['/e']);
      const res = await zk.multi([{ op: 'create', path: '/m' }, { op: 'check', path: '/m', version: 0 }]);
      assert.deepEqual(res, [{ op: 'create', path: '/m' }, { op: 'check' }]);
      assert.deepEqual((await zk.getChildren('/')).sort(), ['e', 'm', 's-' + seq.slice(3), 'x', 'y'].sort());
      const events: WatchedEvent[] = [];
      await zk.getData('/x', { watch: (e) => events.push(e) });
      await zk.addWatch('/', 'persistent_recursive', (e) => events.push(e));
      await root.setData('/app/x', 'w');
      await eventually(() => events.length >= 2, 5_000, 'events');
      assert.deepEqual(events, [
        { type: 'dataChanged', path: '/x' },
        { type: 'dataChanged', path: '/x' },
      ]);
      const err = await zk.getData('/nope').catch((e: unknown) => e);
      assert.ok(err instanceof ZookooperError);
      assert.equal(err.path, '/nope', 'errors name the caller path');
    } finally {
      await zk.close();
    }
  });

  test('watchers: same function once, per-watcher removal, removal events, NOWATCHER', async () => {
    const zk = await connect(server.connectString);
    try {
      await zk.create('/w', '0');
      const a: WatchedEvent[] = [];
      const b: WatchedEvent[] = [];
      const wa = (e: WatchedEvent): void => void a.push(e);
      const wb = (e: WatchedEvent): void => void b.push(e);
      await zk.getData('/w', { watch: wa });
      await zk.getData('/w', { watch: wa });
      await zk.exists('/w', { watch: wa });
      await zk.getData('/w', { watch: wb });
      await zk.removeWatches('/w', wb, 'data');
      assert.deepEqual(b, [{ type: 'dataWatchRemoved', path: '/w' }]);
      await zk.setData('/w', '1');
      await eventually(() => a.length === 1, 5_000, 'wa fired');
      await zk.sync('/');
      await zk.getData('/w'); // a later read: any second event would have arrived before it
      assert.deepEqual(a, [{ type: 'dataChanged', path: '/w' }], 'fired once');
      assert.equal(b.length, 1, 'removed watcher did not fire');
      assert.equal(await codeOf(zk.removeWatches('/w', wa, 'data')), 'NOWATCHER', 'one-shot is gone');
      assert.equal(await codeOf(zk.removeWatches('/w', null, 'any')), 'NOWATCHER');
      // removing the only watcher drops the server registration: no event reaches the client
      await zk.getChildren('/w', { watch: wa });
      await zk.removeWatches('/w', null, 'children');
      await zk.create('/w/c');
      await zk.getData('/w');
      assert.deepEqual(a.at(-1), { type: 'childWatchRemoved', path: '/w' });
    } finally {
      await zk.close();
    }
  });

  test('close: state closed, later calls SESSIONEXPIRED, idempotent', async () => {
    const zk = await connect(server.connectString);
    const log = stateLog(zk);
    await zk.close();
    await zk.close();
    assert.equal(zk.state, 'closed');
    assert.deepEqual(log, ['closed']);
    assert.equal(await codeOf(zk.getData('/')), 'SESSIONEXPIRED');
  });

  test('connect to nothing rejects with CONNECTIONLOSS', async () => {
    const proxy = await StallProxy.start(server.port);
    proxy.blocked = true;
    const t0 = Date.now();
    assert.equal(await codeOf(connect(proxy.connectString, { sessionTimeoutMs: 500, connectTimeoutMs: 200 })), 'CONNECTIONLOSS');
    assert.ok(Date.now() - t0 < 5_000);
    await proxy.close();
  });

  test('pipelining with a small outstanding bound keeps order; a full queue is THROTTLEDOP', async () => {
    const zk = await connect(server.connectString, { outstandingRequestsMax: 3, queuedRequestsMax: 50 });
    try {
      await zk.create('/pipe');
      const names = await Promise.all(Array.from({ length: 40 }, (_, i) => zk.create('/pipe/n-', String(i), { mode: 'persistent_sequential' })));
      assert.deepEqual(names, [...names].sort(), 'sequence numbers follow call order');
      for (let i = 0; i < names.length; i++) assert.equal((await zk.getData(names[i]!)).data.toString(), String(i));
      const burst = Array.from({ length: 60 }, () => codeOf(zk.exists('/pipe')));
      const codes = await Promise.all(burst);
      assert.equal(codes.filter((c) => c === 'OK').length, 53, '3 in flight + 50 queued');
      assert.equal(codes.filter((c) => c === 'THROTTLEDOP').length, 7);
    } finally {
      await zk.close();
    }
  });

  test('connection loss: in-flight CONNECTIONLOSS, queued calls wait, watches re-registered, missed events delivered', async () => {
    const proxy = await StallProxy.start(server.port);
    const zk = await connect(proxy.connectString, { sessionTimeoutMs: 4_000 });
    try {
      const log = stateLog(zk);
      const sid = zk.sessionId;
      await zk.create('/loss', '0');
      await zk.create('/loss/eph', '', { mode: 'ephemeral' });
      const events: WatchedEvent[] = [];
      await zk.getData('/loss', { watch: (e) => events.push(e) });
      await zk.getChildren('/loss', { watch: (e) => events.push(e) });
      await zk.exists('/loss/new', { watch: (e) => events.push(e) });
      proxy.stall();
      const inFlight = zk.getData('/loss');
      proxy.blocked = true;
      proxy.cut();
      assert.equal(await codeOf(inFlight), 'CONNECTIONLOSS');
      await nextState(zk, 'disconnected');
      const queued = zk.getData('/loss'); // waits for the reconnect
      await root.setData('/loss', '1'); // missed while disconnected
      await root.create('/loss/new');
      proxy.stalled = false;
      proxy.blocked = false;
      await nextState(zk, 'connected');
      assert.equal((await queued).data.toString(), '1');
      assert.equal(zk.sessionId, sid, 'same session');
      await eventually(() => events.length === 3, 5_000, 'missed events');
      assert.deepEqual(
        events.map((e) => `${e.type} ${e.path}`).sort(),
        ['childrenChanged /loss', 'created /loss/new', 'dataChanged /loss'],
      );
      assert.deepEqual(log, ['disconnected', 'connected']);
      assert.ok(await root.exists('/loss/eph'), 'the ephemeral survived the reconnect');
    } finally {
      await zk.close();
      await proxy.close();
    }
  });

  test('a stalled server: OPERATIONTIMEOUT, then the client reconnects', async () => {
    const proxy = await StallProxy.start(server.port);
    const zk = await connect(proxy.connectString, { sessionTimeoutMs: 20_000, requestTimeoutMs: 300 });
    try {
      proxy.stall();
      const t0 = Date.now();
      assert.equal(await codeOf(zk.getData('/')), 'OPERATIONTIMEOUT');
      assert.ok(Date.now() - t0 >= 300);
      proxy.unstall();
      await nextState(zk, 'connected');
      assert.ok(await zk.exists('/'));
    } finally {
      await zk.close();
      await proxy.close();
    }
  });

  test('a silent server: the read timeout drops the connection (pings keep a healthy one)', async () => {
    const proxy = await StallProxy.start(server.port);
    const zk = await connect(proxy.connectString, { sessionTimeoutMs: 4_000 });
    try {
      const negotiated = zk.sessionTimeoutMs;
      const log = stateLog(zk);
      // idle for longer than the read timeout: pings keep it connected
      const t0 = Date.now();
      await eventually(() => Date.now() - t0 > negotiated, negotiated + 2_000, 'idle');
      assert.deepEqual(log, [], 'no disconnect while idle');
      proxy.stall();
      await nextState(zk, 'disconnected', negotiated * 2);
      proxy.unstall();
      await nextState(zk, 'connected');
    } finally {
      await zk.close();
      await proxy.close();
    }
  });

  test('no server for longer than the session timeout: expired, every call SESSIONEXPIRED', async () => {
    const proxy = await StallProxy.start(server.port);
    const zk = await connect(proxy.connectString, { sessionTimeoutMs: 4_000 });
    const log = stateLog(zk);
    proxy.blocked = true;
    proxy.cut();
    await nextState(zk, 'expired', 20_000);
    assert.deepEqual(log, ['disconnected', 'expired']);
    assert.equal(await codeOf(zk.exists('/')), 'SESSIONEXPIRED');
    await zk.close();
    assert.equal(zk.state, 'expired');
    await proxy.close();
  });

  test('many watches are re-registered in chunks after a reconnect', async () => {
    const proxy = await StallProxy.start(server.port);
    const zk = await connect(proxy.connectString, { sessionTimeoutMs: 10_000 });
    try {
      await root.create('/many');
      const n = 1_500;
      const long = 'x'.repeat(100);
      const fired = new Set<string>();
      await Promise.all(Array.from({ length: n }, (_, i) => zk.exists(`/many/${long}${i}`, { watch: (e) => fired.add(e.path) })));
      proxy.blocked = true;
      proxy.cut();
      await nextState(zk, 'disconnected');
      await root.multi(Array.from({ length: n }, (_, i) => ({ op: 'create' as const, path: `/many/${long}${i}` })));
      proxy.blocked = false;
      await nextState(zk, 'connected');
      await eventually(() => fired.size === n, 10_000, `all ${n} created events (got ${fired.size})`);
    } finally {
      await zk.close();
      await proxy.close();
    }
  });

  test('auth option: credentials sent at connect and again after a reconnect', async () => {
    const proxy = await StallProxy.start(server.port);
    const zk = await connect(proxy.connectString, { auth: [{ scheme: 'digest', credential: 'bob:pw' }] });
    try {
      await zk.create('/bobs', 'secret', { acl: [{ perms: 31, scheme: 'auth', id: '' }] });
      assert.equal(await codeOf(root.getData('/bobs')), 'NOAUTH');
      proxy.cut();
      await nextState(zk, 'disconnected');
      await nextState(zk, 'connected');
      assert.equal((await zk.getData('/bobs')).data.toString(), 'secret', 'auth re-sent on reconnect');
    } finally {
      await zk.close();
      await proxy.close();
    }
  });

  test('multi failure names the failing op and reports every op', async () => {
    await root.create('/mf');
    const err = await root
      .multi([
        { op: 'setData', path: '/mf', data: 'a' },
        { op: 'delete', path: '/mf/none' },
        { op: 'create', path: '/mf/c' },
      ])
      .catch((e: unknown) => e);
    assert.ok(err instanceof ZookooperError);
    assert.equal(err.code, 'NONODE');
    assert.equal(err.path, '/mf/none');
    assert.deepEqual(err.results, [
      { op: 'error', code: 'OK' },
      { op: 'error', code: 'NONODE' },
      { op: 'error', code: 'RUNTIMEINCONSISTENCY' },
    ]);
    assert.equal((await root.getData('/mf')).data.length, 0);
  });
});
