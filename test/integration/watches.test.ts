// Watch kinds and event order against a real server process.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, ZookooperError, type WatchedEvent } from '../../src/index.js';
import { Opcode, encodeRequest } from '../../src/protocol/index.js';
import { eventually, startServer, type TestServer } from '../helpers/server.js';
import { RawConnection } from '../helpers/raw.js';

type Client = Awaited<ReturnType<typeof connect>>;

function recorder(): { events: WatchedEvent[]; watch: (e: WatchedEvent) => void } {
  const events: WatchedEvent[] = [];
  return { events, watch: (e) => events.push(e) };
}

describe('watches', () => {
  let server: TestServer;
  let zk: Client;
  let other: Client;
  before(async () => {
    server = await startServer({ workers: 2 });
    zk = await connect(server.connectString);
    other = await connect(server.connectString);
  });
  after(async () => {
    await zk?.close();
    await other?.close();
    await server?.stop();
    server?.cleanup();
  });

  test('one-shot data, exists and child watches fire once with the right types', async () => {
    await zk.create('/w');
    const data = recorder();
    const exist = recorder();
    const child = recorder();
    await zk.getData('/w', { watch: data.watch });
    await zk.exists('/w/new', { watch: exist.watch });
    await zk.getChildren('/w', { watch: child.watch });
    await other.setData('/w', 'x');
    await other.create('/w/new');
    await eventually(() => data.events.length === 1 && exist.events.length === 1 && child.events.length === 1, 5_000, 'three events');
    assert.deepEqual(data.events, [{ type: 'dataChanged', path: '/w' }]);
    assert.deepEqual(exist.events, [{ type: 'created', path: '/w/new' }]);
    assert.deepEqual(child.events, [{ type: 'childrenChanged', path: '/w' }]);
    await other.setData('/w', 'y');
    await other.delete('/w/new');
    await other.sync('/');
    await zk.sync('/');
    assert.equal(data.events.length, 1, 'one-shot: not fired again');
    assert.equal(child.events.length, 1);
  });

  test('delete fires deleted on data and child watchers', async () => {
    await zk.create('/d');
    const data = recorder();
    const child = recorder();
    await zk.getData('/d', { watch: data.watch });
    await zk.getChildren('/d', { watch: child.watch });
    await other.delete('/d');
    await eventually(() => data.events.length === 1 && child.events.length === 1, 5_000, 'deleted events');
    assert.deepEqual(data.events, [{ type: 'deleted', path: '/d' }]);
    assert.deepEqual(child.events, [{ type: 'deleted', path: '/d' }]);
  });

  test('persistent and persistent_recursive watches stay until removed', async () => {
    await zk.create('/pw');
    const p = recorder();
    const r = recorder();
    await zk.addWatch('/pw', 'persistent', p.watch);
    await zk.addWatch('/pw', 'persistent_recursive', r.watch);
    await other.setData('/pw', '1');
    await other.create('/pw/a');
    await other.create('/pw/a/b');
    await other.setData('/pw/a/b', '2');
    await other.delete('/pw/a/b');
    await eventually(() => r.events.length === 5 && p.events.length === 2, 5_000, 'persistent events');
    assert.deepEqual(p.events, [
      { type: 'dataChanged', path: '/pw' },
      { type: 'childrenChanged', path: '/pw' },
    ]);
    assert.deepEqual(r.events, [
      { type: 'dataChanged', path: '/pw' },
      { type: 'created', path: '/pw/a' },
      { type: 'created', path: '/pw/a/b' },
      { type: 'dataChanged', path: '/pw/a/b' },
      { type: 'deleted', path: '/pw/a/b' },
    ]);
    await zk.removeWatches('/pw', r.watch, 'any');
    await other.setData('/pw', '3');
    await eventually(() => p.events.length === 3, 5_000, 'persistent still fires');
    await zk.sync('/');
    assert.equal(r.events.filter((e) => e.type !== 'persistentWatchRemoved').length, 5, 'removed watch fires no more');
  });

  test('removeWatches with no such watch is NOWATCHER', async () => {
    await zk.create('/nw');
    await assert.rejects(zk.removeWatches('/nw', null, 'data'), (e: unknown) => e instanceof ZookooperError && e.code === 'NOWATCHER');
  });

  test('a watch event always reaches the client before data that shows the change (raw frames)', async () => {
    await zk.create('/order', '0');
    const { raw } = await RawConnection.session(server.port);
    const writer = (async () => {
      for (let i = 1; i <= 300; i++) await other.setData('/order', String(i));
    })();
    // The reader keeps a data watch set and reads; whenever a response shows a newer value than
    // the last one it read, a dataChanged event must have arrived before that response.
    let xid = 1;
    let lastValue = 0;
    let eventSinceLastRead = false;
    let sawNewer = 0;
    while (lastValue < 300) {
      raw.sendBytes(encodeRequest({ opcode: Opcode.getData, xid: xid++, path: '/order', watch: true }));
      for (;;) {
        const m = await raw.next();
        if (m.kind === 'watch') {
          assert.equal(m.type, 'dataChanged');
          eventSinceLastRead = true;
          continue;
        }
        assert.equal(m.kind, 'response');
        if (m.kind !== 'response') break;
        const [data] = m.payload as [Uint8Array, unknown];
        const value = Number(Buffer.from(data).toString());
        if (value > lastValue && lastValue !== 0) {
          assert.ok(eventSinceLastRead, `read ${value} after ${lastValue} without the dataChanged event first`);
          sawNewer++;
        }
        if (value > lastValue) eventSinceLastRead = false;
        lastValue = value;
        break;
      }
    }
    await writer;
    raw.close();
    assert.ok(sawNewer > 0, 'the reader saw changes while watching');
  });

  test('session expiry removes ephemerals and notifies other sessions', async () => {
    // A raw session that goes silent (socket closed, no close request) expires after its timeout.
    const { raw } = await RawConnection.session(server.port, 0n, new Uint8Array(16), 400);
    raw.sendBytes(encodeRequest({ opcode: Opcode.create, xid: 1, path: '/exp', data: new Uint8Array(0), acl: [{ perms: 31, scheme: 'world', id: 'anyone' }], mode: 'ephemeral', ttlMs: 0 }));
    const created = await raw.next();
    assert.equal(created.kind, 'response');
    assert.ok(await zk.exists('/exp'));
    const w = recorder();
    await zk.exists('/exp', { watch: w.watch });
    raw.close();
    await eventually(() => w.events.length === 1, 15_000, 'deleted event after expiry');
    assert.deepEqual(w.events, [{ type: 'deleted', path: '/exp' }]);
    assert.equal(await zk.exists('/exp'), null);
  });
});
