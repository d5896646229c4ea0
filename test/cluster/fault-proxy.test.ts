// The peer-link fault proxy on real loopback sockets: forwarding, cut (live connections dropped,
// new ones refused), heal, delay keeping order, and the mesh's per-server address lists and
// partitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { LinkProxy, PeerMesh } from '../helpers/fault-proxy.js';

async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.pipe(s));
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return { server, port: (server.address() as { port: number }).port };
}

/** Connects and resolves with the socket and a reader of what has come back so far. */
async function client(port: number): Promise<{ s: Socket; got: () => string; closed: Promise<void> }> {
  const s = connect(port, '127.0.0.1');
  let data = '';
  s.on('data', (b: Buffer) => (data += b.toString()));
  s.on('error', () => {});
  const closed = new Promise<void>((res) => s.once('close', () => res()));
  await new Promise<void>((res, rej) => {
    s.once('connect', () => res());
    s.once('error', rej);
  });
  return { s, got: () => data, closed };
}

async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('a link proxy forwards, cuts live connections, refuses new ones until healed', async () => {
  const echo = await echoServer();
  const proxy = await LinkProxy.start(echo.port, 'a->b');
  try {
    const c = await client(proxy.port);
    c.s.write('hello');
    await until(() => c.got() === 'hello', 'echo through the proxy');
    assert.equal(proxy.state, 'open');
    assert.equal(proxy.connections, 1);

    proxy.cut();
    await c.closed; // the live connection is gone
    assert.equal(proxy.state, 'cut');
    const refused = await client(proxy.port);
    refused.s.write('lost');
    await refused.closed; // accepted by the kernel, then dropped at once: nothing comes back
    assert.equal(refused.got(), '');
    assert.ok(proxy.refused >= 1);

    proxy.heal();
    const again = await client(proxy.port);
    again.s.write('back');
    await until(() => again.got() === 'back', 'echo after heal');
    again.s.destroy();
  } finally {
    await proxy.close();
    echo.server.close();
  }
});

test('a delayed link holds bytes back and keeps their order', async () => {
  const echo = await echoServer();
  const proxy = await LinkProxy.start(echo.port);
  try {
    const c = await client(proxy.port);
    proxy.delay(150);
    assert.equal(proxy.state, 'delayed');
    const sentAt = Date.now();
    const expected: string[] = [];
    for (let i = 0; i < 50; i++) {
      expected.push(`<${i}>`);
      c.s.write(`<${i}>`);
    }
    await until(() => c.got().length === expected.join('').length, 'all delayed bytes');
    // Held back at least the delay (both directions go through it; allow timer granularity).
    assert.ok(Date.now() - sentAt >= 145, `bytes arrived after ${Date.now() - sentAt} ms`);
    assert.equal(c.got(), expected.join(''));
    proxy.delay(0);
    c.s.write('now');
    await until(() => c.got().endsWith('now'), 'undelayed bytes');
    c.s.destroy();
  } finally {
    await proxy.close();
    echo.server.close();
  }
});

test('a delayed link carries a large stream intact under backpressure (a SNAP through the proxy)', async () => {
  const received: Buffer[] = [];
  let receivedBytes = 0;
  const sink = createServer((s) => s.on('data', (b: Buffer) => {
    received.push(b);
    receivedBytes += b.length;
  }));
  await new Promise<void>((res) => sink.listen(0, '127.0.0.1', res));
  const proxy = await LinkProxy.start((sink.address() as { port: number }).port);
  try {
    proxy.delay(20);
    const c = await client(proxy.port);
    const sent = randomBytes(24 * 1_048_576); // more than the proxy holds before pausing the sender
    for (let off = 0; off < sent.length; off += 65_536) c.s.write(sent.subarray(off, off + 65_536));
    await until(() => receivedBytes >= sent.length, 'the whole stream', 60_000);
    assert.equal(receivedBytes, sent.length);
    assert.equal(createHash('sha256').update(Buffer.concat(received)).digest('hex'), createHash('sha256').update(sent).digest('hex'));
    c.s.destroy();
  } finally {
    await proxy.close();
    sink.close();
  }
});

test('the mesh gives each server its own entry real and every other peer port through its proxy', async () => {
  const mesh = await PeerMesh.start([
    { id: 1, peerPort: 41001, electionPort: 42001 },
    { id: 2, peerPort: 41002, electionPort: 42002 },
    { id: 3, peerPort: 41003, electionPort: 42003, observer: true },
  ]);
  try {
    const entries = mesh.serversArg(2).split(',');
    assert.equal(entries.length, 3);
    assert.equal(entries[1], '2=127.0.0.1:41002:42002');
    assert.equal(entries[0], `1=127.0.0.1:${mesh.link(2, 1).port}:42001`);
    assert.equal(entries[2], `3=127.0.0.1:${mesh.link(2, 3).port}:42003:observer`);
    assert.equal(mesh.serversArg(3).split(',')[2], '3=127.0.0.1:41003:42003:observer');
    assert.equal(mesh.link(2, 1).targetPort, 41001);
    assert.notEqual(mesh.link(2, 1).port, mesh.link(3, 1).port, 'each directed link has its own proxy');

    mesh.partition([1], [2, 3]);
    assert.deepEqual(mesh.faults().sort(), ['1->2:cut', '1->3:cut', '2->1:cut', '3->1:cut']);
    mesh.heal();
    assert.deepEqual(mesh.faults(), []);
    mesh.oneWayCut(3, 2);
    mesh.delay(1, 2, 20);
    assert.deepEqual(mesh.faults().sort(), ['1->2:delayed', '3->2:cut']);
    mesh.heal();
    mesh.isolate(2);
    assert.deepEqual(mesh.faults().sort(), ['1->2:cut', '2->1:cut', '2->3:cut', '3->2:cut']);
  } finally {
    await mesh.close();
  }
});
