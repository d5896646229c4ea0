// watchConfig against a real server process: typed value, change stream (events and async
// iterator), a value that fails to parse keeps the last good one, missing node, reconnect.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigParseError, connect, watchConfig, type ConfigChange } from '../../src/index.js';
import { CuttableProxy } from '../helpers/proxy.js';
import { eventually, startServer, type TestServer } from '../helpers/server.js';

type Client = Awaited<ReturnType<typeof connect>>;

interface AppConfig {
  poolSize: number;
  mode: 'fast' | 'safe';
}

/** A strict parser, as a caller would write one: anything else throws. */
function parseAppConfig(data: Buffer): AppConfig {
  const v: unknown = JSON.parse(data.toString('utf8'));
  if (typeof v !== 'object' || v === null) throw new Error('not an object');
  const o = v as Record<string, unknown>;
  if (typeof o.poolSize !== 'number' || (o.mode !== 'fast' && o.mode !== 'safe')) throw new Error('bad fields');
  return { poolSize: o.poolSize, mode: o.mode };
}

describe('data recipes: watchConfig', () => {
  let server: TestServer;
  let zk: Client;
  let admin: Client;
  before(async () => {
    server = await startServer({ workers: 2, tickMs: 100 });
    zk = await connect(server.connectString);
    admin = await connect(server.connectString);
  });
  after(async () => {
    await zk?.close();
    await admin?.close();
    await server?.stop();
    server?.cleanup();
  });

  test('typed value, change events and iterator, parse error keeps the last good value, delete -> initial', async () => {
    const initial: AppConfig = { poolSize: 1, mode: 'safe' };
    const cfg = await watchConfig(zk, '/config/app', parseAppConfig, { initial });
    const changes: ConfigChange<AppConfig>[] = [];
    const errors: Error[] = [];
    cfg.on('change', (c) => changes.push(c));
    cfg.on('error', (e) => errors.push(e));
    const iterated: (AppConfig | undefined)[] = [];
    const iterating = (async () => {
      for await (const c of cfg) {
        iterated.push(c.value);
        if (iterated.length === 3) break;
      }
    })();
    try {
      assert.deepEqual(cfg.current, initial, 'node missing: the initial value');
      assert.equal(cfg.version, -1);
      await admin.create('/config', '');
      await admin.create('/config/app', JSON.stringify({ poolSize: 8, mode: 'fast' }));
      await eventually(() => cfg.current?.poolSize === 8, 5_000, 'created');
      assert.equal(cfg.version, 0);
      await admin.setData('/config/app', '{"poolSize": 16, "mode": "fast"');
      await eventually(() => errors.length === 1, 5_000, 'parse error reported');
      assert.ok(errors[0] instanceof ConfigParseError);
      assert.equal((errors[0] as ConfigParseError).code, 'MARSHALLINGERROR');
      assert.deepEqual(cfg.current, { poolSize: 8, mode: 'fast' }, 'last good value kept');
      assert.equal(cfg.lastError, errors[0]);
      await admin.setData('/config/app', JSON.stringify({ poolSize: 16, mode: 'safe' }));
      await eventually(() => cfg.current?.poolSize === 16, 5_000, 'good again');
      await admin.delete('/config/app');
      await eventually(() => cfg.version === -1, 5_000, 'deleted');
      assert.deepEqual(cfg.current, initial);
      await iterating;
      assert.deepEqual(iterated, [{ poolSize: 8, mode: 'fast' }, { poolSize: 16, mode: 'safe' }, initial]);
      assert.deepEqual(
        changes.map((c) => [c.previous?.poolSize, c.value?.poolSize, c.version]),
        [
          [1, 8, 0],
          [8, 16, 2],
          [16, 1, -1],
        ],
      );
    } finally {
      await cfg.close();
    }
  });

  test('bad bytes at start: initial value and lastError; close() ends iterators; no listener does not crash', async () => {
    await admin.create('/config/broken', 'nope');
    const cfg = await watchConfig(zk, '/config/broken', parseAppConfig);
    assert.equal(cfg.current, undefined);
    assert.ok(cfg.lastError instanceof ConfigParseError);
    await admin.setData('/config/broken', 'still nope'); // no 'error' listener: kept, not thrown
    await eventually(() => cfg.lastError !== null && cfg.lastError.message.includes('broken'), 5_000, 'error kept');
    const it = cfg.changes();
    const next = it.next();
    await cfg.close();
    assert.deepEqual(await next, { done: true, value: undefined });
  });

  test('a change made while the connection is cut arrives after the reconnect, once', async () => {
    await admin.create('/config/rc', JSON.stringify({ poolSize: 1, mode: 'safe' }));
    const proxy = await CuttableProxy.start(server.port);
    const viaProxy = await connect(`127.0.0.1:${proxy.port}`, { sessionTimeoutMs: 4_000 });
    const cfg = await watchConfig(viaProxy, '/config/rc', parseAppConfig);
    const seen: number[] = [];
    cfg.on('change', (c) => seen.push(c.value?.poolSize ?? -1));
    try {
      proxy.cut();
      await eventually(() => viaProxy.state === 'disconnected', 5_000, 'cut');
      await admin.setData('/config/rc', JSON.stringify({ poolSize: 2, mode: 'safe' }));
      await admin.setData('/config/rc', JSON.stringify({ poolSize: 3, mode: 'safe' }));
      proxy.unblock();
      await eventually(() => cfg.current?.poolSize === 3, 10_000, 'caught up');
      await admin.setData('/config/rc', JSON.stringify({ poolSize: 4, mode: 'safe' }));
      await eventually(() => cfg.current?.poolSize === 4, 5_000, 'live again');
      assert.deepEqual(seen, [3, 4], 'the missed intermediate value is coalesced; nothing repeats');
    } finally {
      await cfg.close();
      await viaProxy.close();
      await proxy.close();
    }
  });
});
