// Sessions against a real server: close, reconnect with the same session and its watches (missed
// events delivered), takeover (SESSIONMOVED), timeout negotiation.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, ZookooperError, type WatchedEvent } from '../../src/index.js';
import { encodeRequest, Opcode } from '../../src/protocol/index.js';
import { CuttableProxy } from '../helpers/proxy.js';
import { RawConnection } from '../helpers/raw.js';
import { eventually, startServer, type TestServer } from '../helpers/server.js';

describe('sessions', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ workers: 2, tickMs: 200 });
  });
  after(async () => {
    await server?.stop();
    server?.cleanup();
  });

  test('timeout is negotiated into [2, 20] ticks', async () => {
    const low = await connect(server.connectString, { sessionTimeoutMs: 10 });
    const high = await connect(server.connectString, { sessionTimeoutMs: 1_000_000 });
    try {
      assert.equal(low.sessionTimeoutMs, 400);
      assert.equal(high.sessionTimeoutMs, 4_000);
      assert.equal(typeof low.sessionId, 'bigint');
      assert.notEqual(low.sessionId, high.sessionId);
    } finally {
      await low.close();
      await high.close();
    }
  });

  test('close ends the session: its ephemerals go at once, later calls fail', async () => {
    const a = await connect(server.connectString);
    const b = await connect(server.connectString);
    await a.create('/closing', '', { mode: 'ephemeral' });
    assert.ok(await b.exists('/closing'));
    await a.close();
    assert.equal(a.state, 'closed');
    assert.equal(await b.exists('/closing'), null, 'gone as soon as close returned');
    await assert.rejects(a.getData('/'), ZookooperError);
    await b.close();
  });

  test('a dropped connection reconnects with the same session; watches survive and missed events arrive', async () => {
    const proxy = await CuttableProxy.start(server.port);
    const other = await connect(server.connectString);
    const zk = await connect(`127.0.0.1:${proxy.port}`, { sessionTimeoutMs: 4_000 });
    try {
      const sessionId = zk.sessionId;
      await zk.create('/rc', 'v0');
      await zk.create('/rc-eph', '', { mode: 'ephemeral' });
      const events: WatchedEvent[] = [];
      await zk.getData('/rc', { watch: (e) => events.push(e) });
      await zk.getChildren('/rc', { watch: (e) => events.push(e) });
      const states: string[] = [];
      zk.on('state', (s: string) => states.push(s));
      proxy.cut();
      await eventually(() => zk.state !== 'connected', 5_000, 'client noticed the lost connection');
      // Changes while the client cannot reach the server.
      await other.setData('/rc', 'v1');
      await other.create('/rc/child');
      proxy.unblock();
      await eventually(() => zk.state === 'connected', 10_000, 'reconnected');
      assert.equal(zk.sessionId, sessionId, 'same session');
      await eventually(() => events.length === 2, 5_000, 'missed events delivered');
      assert.deepEqual(
        events.map((e) => e.type).sort(),
        ['childrenChanged', 'dataChanged'],
      );
      assert.ok(await other.exists('/rc-eph'), 'ephemeral kept: the session never expired');
      assert.ok(states.includes('disconnected'));
      assert.equal((await zk.getData('/rc')).data.toString(), 'v1');
    } finally {
      await zk.close();
      await other.close();
      await proxy.close();
    }
  });

  test('a second connection taking over the session closes the first with SESSIONMOVED', async () => {
    const first = await RawConnection.session(server.port);
    const second = await RawConnection.session(server.port, first.sessionId, first.password);
    const m = await first.raw.next();
    assert.equal(m.kind, 'closing');
    assert.equal(m.kind === 'closing' ? m.code : null, 'SESSIONMOVED');
    await first.raw.waitClosed();
    second.raw.sendBytes(encodeRequest({ opcode: Opcode.exists, xid: 1, path: '/', watch: false }));
    const r = await second.raw.next();
    assert.equal(r.kind, 'response');
    second.raw.sendBytes(encodeRequest({ opcode: Opcode.close, xid: 2 }));
    await second.raw.waitClosed();
  });

  test('a wrong password or unknown session is SESSIONEXPIRED', async () => {
    const first = await RawConnection.session(server.port);
    const raw = await RawConnection.open(server.port);
    const { encodeConnectRequest } = await import('../../src/protocol/index.js');
    raw.sendBytes(encodeConnectRequest({ protocolVersion: 1, lastZxidSeen: 0n, sessionTimeoutMs: 4000, sessionId: first.sessionId, password: new Uint8Array(16).fill(9), readOnly: false }));
    const m = await raw.next();
    assert.equal(m.kind === 'closing' ? m.code : m.kind, 'SESSIONEXPIRED');
    first.raw.close();
  });
});
