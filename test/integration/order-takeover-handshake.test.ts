// Against a real server: watch events vs. write answers in zxid order, a session
// taken over while its close is in flight, and a refused handshake (lastZxidSeen ahead of the
// server) that must not disturb the connection that holds the session.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeConnectRequest, encodeRequest, Opcode, type ServerMessage } from '../../src/protocol/index.js';
import { RawConnection } from '../helpers/raw.js';
import { startServer, type TestServer } from '../helpers/server.js';

function show(m: ServerMessage): string {
  if (m.kind === 'response') return `response xid=${m.xid} zxid=${m.zxid} error=${m.error}`;
  if (m.kind === 'watch') return `watch ${m.type} ${m.path} zxid=${m.zxid}`;
  return m.kind;
}

describe('ordering and session edges', () => {
  let server: TestServer;
  before(async () => {
    // tickMs 500: sessions may last up to 10 s, so an idle-connection close cannot pass for a fix.
    server = await startServer({ workers: 1, tickMs: 500 });
  });
  after(async () => {
    await server?.stop();
    server?.cleanup();
  });

  test('watch events and write answers reach a session in zxid order (same commit batch)', async () => {
    const { raw } = await RawConnection.session(server.port);
    raw.sendBytes(encodeRequest({ opcode: Opcode.create, xid: 1, path: '/ord-b', data: new Uint8Array(1), acl: [{ perms: 31, scheme: 'world', id: 'anyone' }], mode: 'persistent', ttlMs: 0 }));
    const created = await raw.next();
    assert.equal(created.kind === 'response' ? created.error : created.kind, null);
    for (let round = 0; round < 20; round++) {
      let xid = 10 + round * 10;
      raw.sendBytes(encodeRequest({ opcode: Opcode.exists, xid: xid++, path: '/ord-b', watch: true }));
      const ex = await raw.next();
      assert.equal(ex.kind, 'response');
      // Pipelined: both writes usually travel to the main thread together and commit in one batch.
      raw.sendBytes(encodeRequest({ opcode: Opcode.setData, xid: xid++, path: '/', data: new Uint8Array(1), version: -1 }));
      raw.sendBytes(encodeRequest({ opcode: Opcode.setData, xid: xid++, path: '/ord-b', data: new Uint8Array(1), version: -1 }));
      const got: ServerMessage[] = [];
      while (got.filter((m) => m.kind === 'response').length < 2) got.push(await raw.next());
      // Every frame's zxid must be non-decreasing: the answer of the write at Z1 comes before the
      // event of the change at Z2 > Z1 (ZooKeeper's order of replies and watch events).
      let last = 0n;
      for (const m of got) {
        assert.ok(m.kind === 'response' || m.kind === 'watch', show(m));
        const z = m.zxid;
        assert.ok(z >= last, `out of zxid order: ${got.map(show).join(' | ')}`);
        last = z;
      }
    }
    raw.close();
  });

  test('a session taken over while its close is in flight: the new connection is closed too', async () => {
    const big = new Uint8Array(1_000_000);
    for (let attempt = 0; attempt < 5; attempt++) {
      const a = await RawConnection.session(server.port);
      const b = await RawConnection.open(server.port);
      // A slow batch (a big write) in front of the close keeps the close in the pipeline while
      // the takeover is handled.
      a.raw.sendBytes(encodeRequest({ opcode: Opcode.setData, xid: 1, path: '/', data: big, version: -1 }));
      a.raw.sendBytes(encodeRequest({ opcode: Opcode.close, xid: 2 }));
      b.sendBytes(encodeConnectRequest({ protocolVersion: 1, lastZxidSeen: 0n, sessionTimeoutMs: 10_000, sessionId: a.sessionId, password: a.password, readOnly: false }));
      const first = await b.next();
      if (first.kind === 'connected') {
        // Two legal outcomes: A's close was read before the takeover, so the session ends and
        // this connection must be closed with SESSIONEXPIRED; or A was closed (SESSIONMOVED)
        // before its close was read, so the close never happened and the session lives on here.
        // The bug was a third: this connection open on a dead session, its writes refused.
        b.sendBytes(encodeRequest({ opcode: Opcode.setData, xid: 1, path: '/', data: new Uint8Array(1), version: -1 }));
        let verdict: ServerMessage | null = null;
        for (;;) {
          const m = await b.next(10_000).catch(() => null);
          if (m === null) break;
          if (m.kind === 'watch') continue;
          verdict = m;
          break;
        }
        if (verdict === null) throw new Error(`attempt ${attempt}: no answer and no close; frames: ${b.messages.map(show).join(' | ')}`);
        if (verdict.kind === 'closing') assert.equal(verdict.code, 'SESSIONEXPIRED', `attempt ${attempt}`);
        else if (verdict.kind === 'response' && verdict.error === 'SESSIONEXPIRED') {
          // The write raced the session's end: it was refused, and the connection must then close.
          await b.waitClosed(3_000).catch(() => {
            throw new Error(`attempt ${attempt}: connection attached to a closed session stayed open; frames: ${b.messages.map(show).join(' | ')}`);
          });
          const last = b.messages[b.messages.length - 1]!;
          assert.equal(last.kind === 'closing' ? last.code : show(last), 'SESSIONEXPIRED', `attempt ${attempt}`);
        } else assert.equal(verdict.kind === 'response' ? verdict.error : show(verdict), null, `attempt ${attempt}: frames: ${b.messages.map(show).join(' | ')}`);
      } else {
        assert.equal(first.kind === 'closing' ? first.code : first.kind, 'SESSIONEXPIRED');
      }
      a.raw.close();
      b.close();
    }
  });

  test('a handshake refused for a lastZxidSeen ahead of the server leaves the holding connection alone', async () => {
    const a = await RawConnection.session(server.port);
    const b = await RawConnection.open(server.port);
    b.sendBytes(encodeConnectRequest({ protocolVersion: 1, lastZxidSeen: 1n << 60n, sessionTimeoutMs: 10_000, sessionId: a.sessionId, password: a.password, readOnly: false }));
    const refused = await b.next();
    assert.equal(refused.kind === 'closing' ? refused.code : refused.kind, 'CONNECTIONLOSS');
    await b.waitClosed();
    a.raw.sendBytes(encodeRequest({ opcode: Opcode.exists, xid: 1, path: '/', watch: false }));
    const m = await a.raw.next();
    assert.equal(m.kind, 'response', `holding connection disturbed: ${show(m)}`);
    a.raw.sendBytes(encodeRequest({ opcode: Opcode.close, xid: 2 }));
    await a.raw.waitClosed();
  });
});
