// The worker pool with a real worker thread and real WebSocket clients on loopback, without the
// rest of the server: the main thread's side is played by this test (attach answers by hand).
// Checks the two ensemble capabilities end to end: a new tree, and serving on and off.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultConfig } from '../../src/common/config.js';
import { OPEN_ACL_UNSAFE } from '../../src/common/types.js';
import { encodeConnectRequest, encodeRequest, Opcode, type ServerMessage } from '../../src/protocol/index.js';
import { probePort } from '../../src/server/port.js';
import { createTree, type TreeWriter } from '../../src/server/tree/index.js';
import { WorkerPool } from '../../src/server/workers/pool.js';
import { planSecurity } from '../../src/server/security-load.js';
import { RawConnection } from '../helpers/raw.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: unknown): string => new TextDecoder().decode(b as Uint8Array);

function treeWith(path: string, value: string, zxid: bigint): TreeWriter {
  const tree = createTree();
  tree.beginWrite();
  tree.createNode(path, { data: enc(value), aclIndex: tree.internAcl(OPEN_ACL_UNSAFE), ephemeralOwner: 0n, zxid, timeMs: 0 });
  tree.endWrite(zxid);
  return tree;
}

async function getData(raw: RawConnection, xid: number, path: string): Promise<ServerMessage> {
  raw.sendBytes(encodeRequest({ opcode: Opcode.getData, xid, path, watch: false }));
  return raw.next();
}

describe('WorkerPool with a real worker', () => {
  test('a new tree is served after swapTree; serving=false drops clients and refuses handshakes until true', async () => {
    const config = { ...defaultConfig(), port: 0, workers: 1, logLevel: 'silent', allowUwsFallback: true };
    const port = await probePort(config.host, 0);
    const pool = WorkerPool.prestart(config, port, planSecurity(config, port));
    const first = treeWith('/a', 'first', 3n);
    let fatal: unknown = null;
    let nextSession = 0x42n;
    try {
      await pool.start(first.buffer, {
        message: (workerId, msg) => {
          if (msg.kind === 'attach') pool.post(workerId, { kind: 'attached', reqId: msg.reqId, sessionId: nextSession++, password: new Uint8Array(16), timeoutMs: 10_000 });
        },
        fatal: (err) => (fatal = err),
      });
      const { raw } = await RawConnection.session(port);
      const r1 = await getData(raw, 1, '/a');
      assert.ok(r1.kind === 'response' && r1.zxid === 3n);
      assert.equal(dec((r1.payload as unknown[])[0]), 'first');

      // A follower loaded a SNAP: the worker swaps to the new buffer (ordered on the commit port).
      const second = treeWith('/a', 'second', 9n);
      pool.swapTree(second.buffer);
      let xid = 2;
      let seen = '';
      const deadline = Date.now() + 10_000;
      while (seen !== 'second' && Date.now() < deadline) {
        const r = await getData(raw, xid++, '/a');
        assert.ok(r.kind === 'response' && r.error === null);
        seen = dec((r.payload as unknown[])[0]);
      }
      assert.equal(seen, 'second', 'reads come from the new tree');

      // Out of the quorum: every client connection is closed with CONNECTIONLOSS.
      pool.setServing(false, 'looking for a leader');
      const closing = await raw.next();
      assert.ok(closing.kind === 'closing' && closing.code === 'CONNECTIONLOSS' && /looking for a leader/.test(closing.reason), JSON.stringify(closing.kind));
      await raw.waitClosed();
      const refused = await RawConnection.open(port);
      refused.sendBytes(encodeConnectRequest({ protocolVersion: 1, lastZxidSeen: 0n, sessionTimeoutMs: 10_000, sessionId: 0n, password: new Uint8Array(16), readOnly: false }));
      const no = await refused.next();
      assert.ok(no.kind === 'closing' && no.code === 'CONNECTIONLOSS' && /not serving/.test(no.reason));
      await refused.waitClosed();

      // Back in a quorum: handshakes succeed, and a client ahead of the tree is still refused.
      pool.setServing(true, 'following');
      const again = await RawConnection.session(port);
      const r2 = await getData(again.raw, 1, '/a');
      assert.ok(r2.kind === 'response' && r2.zxid === 9n);
      again.raw.close();
      const ahead = await RawConnection.open(port);
      ahead.sendBytes(encodeConnectRequest({ protocolVersion: 1, lastZxidSeen: 10n, sessionTimeoutMs: 10_000, sessionId: 0n, password: new Uint8Array(16), readOnly: false }));
      const behind = await ahead.next();
      assert.ok(behind.kind === 'closing' && behind.code === 'CONNECTIONLOSS' && /newer zxid/.test(behind.reason));
      assert.equal(fatal, null);
    } finally {
      await pool.stop();
      await pool.terminate();
    }
  });
});
