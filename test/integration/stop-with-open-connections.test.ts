// Stopping with connections open: an HTTP client that keeps its connection alive (a Prometheus
// scraper, a browser on /metrics) must not turn a SIGTERM into a wait for uWS's idle timeout and
// an abort ("uv_loop_close() while having open handles" in a worker); an idle raw TCP connection
// must not keep the final flush from happening.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { startServer } from '../helpers/server.js';

/** `p`, or a failure naming `what` once `ms` passed (against hanging, not a speed figure). */
async function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

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

describe('stop with open connections', () => {
  test('SIGTERM exits cleanly while HTTP clients keep their connections busy', async () => {
    const server = await startServer({ workers: 2 });
    const sockets: Socket[] = [];
    let polling: NodeJS.Timeout | undefined;
    try {
      for (const path of ['/health', '/cons', '/metrics', '/nope']) sockets.push(await keepAliveGet(server.port, path));
      // Keep asking on every connection while the server stops, so none of them ever goes idle:
      // a stop that waited for idle connections would never end (the deadline below fails it),
      // one that gave up on them would abort (a non-zero exit). Events, not a clock, decide.
      const closedByServer = sockets.map((s) => (s.closed ? Promise.resolve() : new Promise<void>((res) => s.once('close', () => res())))); // /nope's 404 closes at once
      polling = setInterval(() => {
        for (const s of sockets) if (s.writable) s.write('GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
      }, 50);
      const exit = await withDeadline(server.stop('SIGTERM'), 60_000, 'the server exit');
      assert.deepEqual(exit, { code: 0, signal: null }, `last lines:\n${server.lines.slice(-8).join('\n')}`);
      await withDeadline(Promise.all(closedByServer), 60_000, 'every HTTP connection closed');
    } finally {
      clearInterval(polling);
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
