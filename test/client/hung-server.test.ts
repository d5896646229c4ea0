// A connect string naming a server that accepts connections and never answers (SIGSTOPped,
// partitioned): each reconnect attempt's deadline is the session timeout shared by the servers,
// so a client that lost its server reaches a live one before its session expires. With connectTimeoutMs
// alone bounding an attempt, trying the hung server first let a session expire on the live server.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { connect } from '../../src/index.js';
import { CuttableProxy } from '../helpers/proxy.js';
import { startServer } from '../helpers/server.js';

test('a hung server in the connect string does not make a reconnecting session expire', async () => {
  const server = await startServer({ workers: 1, tickMs: 1_000 }); // session timeouts up to 20 s
  const proxy = await CuttableProxy.start(server.port);
  const held = new Set<Socket>();
  const hung = createServer((s) => void held.add(s.on('error', () => {}))); // accepts, never answers
  await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
  const address = hung.address();
  const hungPort = typeof address === 'object' && address !== null ? address.port : 0;
  try {
    // The hung server and the live one: in half the orders the hung one is tried first. Its share
    // of the session (half) plus the ping interval (a third) still leaves time for the live one.
    const live = `127.0.0.1:${proxy.port}`;
    const zk = await connect([`127.0.0.1:${hungPort}`, live].join(','), {
      sessionTimeoutMs: 8_000,
      // Longer than the session: without the shared deadline one hung attempt outlasts it.
      connectTimeoutMs: 10_000,
    });
    const sessionId = zk.sessionId;
    for (let i = 0; i < 4; i++) {
      const reconnected = new Promise<void>((resolve) => {
        const onState = (s: string): void => {
          if (s !== 'connected') return;
          zk.off('state', onState);
          resolve();
        };
        zk.on('state', onState);
      });
      proxy.cut(); // the live server's connection drops; the session lives on there
      setTimeout(() => proxy.unblock(), 100);
      const gaveUp = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not reconnected (state ${zk.state})`)), 60_000).unref());
      await Promise.race([reconnected, gaveUp]);
      await zk.create(`/alive-${i}`, '');
      assert.equal(zk.sessionId, sessionId, 'the same session after every reconnect');
    }
    await zk.close();
  } finally {
    for (const s of held) s.destroy();
    hung.close();
    await proxy.close();
    await server.stop();
    server.cleanup();
  }
});
