// Review finding: an HTTP client that keeps its connection alive (a Prometheus scraper, a browser
// on /metrics) must not turn a SIGTERM into a 5 s wait and an abort ("uv_loop_close() while having
// open handles" in a worker).
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { startServer } from '../helpers/server.js';

async function keepAliveGet(port: number, path: string): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  s.on('error', () => {});
  await new Promise<void>((res, rej) => {
    s.once('connect', res);
    s.once('error', rej);
  });
  let got = '';
  const answered = new Promise<void>((res) => {
    s.on('data', (d: Buffer) => {
      got += d.toString();
      if (/\r\n\r\n/.test(got)) res();
    });
  });
  s.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n`);
  await answered;
  return s;
}

describe('review: stop with HTTP keep-alive connections', () => {
  test('SIGTERM exits cleanly and promptly while HTTP clients keep their connections', async () => {
    const server = await startServer({ workers: 2 });
    const sockets: Socket[] = [];
    try {
      for (const path of ['/health', '/cons', '/metrics', '/nope']) sockets.push(await keepAliveGet(server.port, path));
      const t0 = Date.now();
      const exit = await server.stop('SIGTERM');
      const ms = Date.now() - t0;
      assert.deepEqual(exit, { code: 0, signal: null }, `exit after ${ms} ms; last lines:\n${server.lines.slice(-8).join('\n')}`);
      // Not a speed figure: it shows stop did not sit out uWS's 10 s idle timeout for these sockets.
      assert.ok(ms < 9_000, `stop took ${ms} ms`);
    } finally {
      for (const s of sockets) s.destroy();
      server.cleanup();
    }
  });

  test('SIGTERM with an idle raw TCP connection still exits 0, after flushing data', async () => {
    const server = await startServer({ workers: 1 });
    const { connect: zkConnect } = await import('../../src/index.js');
    const zk = await zkConnect(server.connectString);
    await zk.create('/flushed', 'x');
    await zk.close();
    const idle = connect(server.port, '127.0.0.1');
    idle.on('error', () => {});
    await new Promise<void>((res) => idle.once('connect', () => res()));
    try {
      const exit = await server.stop('SIGTERM');
      assert.deepEqual(exit, { code: 0, signal: null }, `last lines:\n${server.lines.slice(-8).join('\n')}`);
      assert.ok(server.lines.some((l) => l.includes('"msg":"snapshot written"')), 'final snapshot written before the workers were stopped');
    } finally {
      idle.destroy();
      server.cleanup();
    }
  });
});
