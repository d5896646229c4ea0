// Per-session FIFO across connections: a session that moves to a new connection sees, in its
// first read there, every write it sent on the old connection (ZooKeeper orders per session).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeRequest, Opcode } from '../../src/protocol/index.js';
import { RawConnection } from '../helpers/raw.js';
import { startServer } from '../helpers/server.js';

test('writes sent on the old connection are visible to the first read on the new one', async () => {
  const server = await startServer({ workers: 1 });
  try {
    const setup = await RawConnection.session(server.port);
    setup.raw.sendBytes(encodeRequest({ opcode: Opcode.create, xid: 1, path: '/moved', data: new Uint8Array(0), acl: [{ perms: 31, scheme: 'world', id: 'anyone' }], mode: 'persistent', ttlMs: 0 }));
    assert.equal((await setup.raw.next()).kind, 'response');
    setup.raw.close();
    let expectedVersion = 0;
    let { raw, sessionId, password } = await RawConnection.session(server.port);
    for (let round = 0; round < 20; round++) {
      const writes = 20;
      for (let i = 1; i <= writes; i++) raw.sendBytes(encodeRequest({ opcode: Opcode.setData, xid: i, path: '/moved', data: new Uint8Array(64), version: -1 }));
      expectedVersion += writes;
      // Let the frames leave this process, then move the session without waiting for answers.
      while (raw.ws.bufferedAmount > 0) await new Promise((r) => setImmediate(r));
      const next = await RawConnection.session(server.port, sessionId, password);
      next.raw.sendBytes(encodeRequest({ opcode: Opcode.exists, xid: 1, path: '/moved', watch: false }));
      const m = await next.raw.next();
      assert.equal(m.kind, 'response');
      const stat = m.kind === 'response' ? (m.payload as unknown[]) : [];
      assert.equal(stat[5], expectedVersion, `round ${round}: the first read on the new connection saw version ${String(stat[5])}, not all ${expectedVersion} writes`);
      raw.close();
      ({ raw, sessionId, password } = { raw: next.raw, sessionId: next.sessionId, password: next.password });
    }
    raw.close();
  } finally {
    await server.stop();
    server.cleanup();
  }
});
