// The TCP peer transport on real loopback sockets: delivery, FIFO, encode-once fan-out, restarts,
// and that close() leaves nothing running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Unpackr } from 'msgpackr';
import { pino } from 'pino';
import { createTcpTransport } from '../../src/io/node/transport.js';
import { CuttableProxy } from '../helpers/proxy.js';
import { HOST, linkStats, memoryLogger, RawPeer, splitFrames, startCluster, startTransport, until, type Recorded } from './transport-helpers.js';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' });

interface Msg {
  seq: number;
  zxid: bigint;
  data: Uint8Array;
}

function bytesFor(from: number, to: number, seq: number): Uint8Array {
  const b = new Uint8Array(1 + (seq % 200));
  for (let i = 0; i < b.length; i++) b[i] = (from * 31 + to * 7 + seq + i) & 0xff;
  return b;
}

test('3 transports exchange messages both ways: bigints and Uint8Arrays intact, FIFO per link', async () => {
  const all = await startCluster(3);
  const perLink = 300;
  try {
    for (let seq = 0; seq < perLink; seq++) {
      for (const a of all) {
        for (const b of all) {
          if (a === b) continue;
          a.t.send(b.t.myId, { seq, zxid: 0x1_0000_0001n + BigInt(seq), data: bytesFor(a.t.myId, b.t.myId, seq), big: 2 ** 40 });
        }
      }
    }
    await until('every message delivered', () => all.every((r) => r.messages.length === 2 * perLink));
    for (const r of all) {
      const next = new Map<number, number>();
      for (const { from, payload } of r.messages) {
        const m = payload as Msg & { big: number };
        const expected = next.get(from) ?? 0;
        assert.equal(m.seq, expected, `FIFO from ${from} to ${r.t.myId}`);
        next.set(from, expected + 1);
        assert.equal(typeof m.zxid, 'bigint');
        assert.equal(m.zxid, 0x1_0000_0001n + BigInt(m.seq));
        assert.equal(m.big, 2 ** 40);
        assert.ok(m.data instanceof Uint8Array);
        assert.deepEqual(new Uint8Array(m.data), bytesFor(from, r.t.myId, m.seq));
        // Copied out of the receive buffer: the binary owns exactly its bytes, not a socket chunk.
        assert.equal(m.data.buffer.byteLength, m.data.byteLength);
      }
      for (const p of r.t.stats().peers) {
        assert.equal(p.framesIn, perLink);
        assert.equal(p.framesOut, perLink);
        assert.equal(p.framesDropped, 0);
        assert.equal(p.linkDowns, 0);
      }
      assert.deepEqual([...r.ups].sort(), all.filter((x) => x !== r).map((x) => x.t.myId).sort());
      assert.equal(r.downs.length, 0);
    }
  } finally {
    await Promise.all(all.map((r) => r.t.close()));
  }
});

test('frames/s over one loopback link (a figure, not an assert on time)', async (t) => {
  const [a, b] = (await startCluster(2)) as [Recorded, Recorded];
  try {
    const n = 100_000;
    const payload = { kind: 'ack', zxid: 0x5_0000_0000n, epoch: 5 };
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      a.t.send(2, payload);
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r)); // let the socket drain
    }
    await until('all frames delivered', () => b.messages.length === n, 60_000);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    t.diagnostic(`${n} small frames one way in ${ms.toFixed(0)} ms: ${Math.round(n / (ms / 1000))} frames/s (sender and receiver in one process)`);
    assert.equal(linkStats(a, 2).framesOut, n);
  } finally {
    await Promise.all([a.t.close(), b.t.close()]);
  }
});

test('sendToMany encodes once and writes identical bytes to every link', async () => {
  const p2 = await RawPeer.start(true);
  const p3 = await RawPeer.start(true);
  const log = memoryLogger();
  const t = await createTcpTransport({ myId: 1, host: HOST, port: 0, peers: [{ id: 2, host: HOST, port: p2.port }, { id: 3, host: HOST, port: p3.port }], logger: log });
  try {
    await until('both links up', () => t.stats().peers.every((p) => p.connected));
    const before = t.stats().framesEncoded;
    const k = 20;
    for (let i = 0; i < k; i++) {
      // Large and small proposals: the large ones take the two-write path.
      t.sendToMany([2, 3], { kind: 'proposal', zxid: 0x2_0000_0000n + BigInt(i), txn: new Uint8Array(i % 2 === 0 ? 100 : 40_000).fill(i) });
    }
    assert.equal(t.stats().framesEncoded - before, k, 'one encode per sendToMany');
    const expectBytes = t.stats().peers.map((p) => p.bytesOut);
    await until('raw peers got everything', () => p2.received(0).byteLength === expectBytes[0] && p3.received(0).byteLength === expectBytes[1]);
    const f2 = splitFrames(p2.received(0));
    const f3 = splitFrames(p3.received(0));
    assert.equal(f2.length, k + 1);
    assert.deepEqual(unpackr.unpack(f2[0] as Buffer), { hello: 'zookooper-peer', version: 1, serverId: 1 });
    assert.ok(p2.received(0).equals(p3.received(0)), 'identical bytes on both links');
    const last = unpackr.unpack(f3[k] as Buffer) as { zxid: bigint; txn: Uint8Array };
    assert.equal(last.zxid, 0x2_0000_0000n + BigInt(k - 1));
    assert.equal(last.txn.byteLength, 40_000);
  } finally {
    await t.close();
    await p2.close();
    await p3.close();
  }
});

test('a peer restarted on the same port is reconnected; linkDown then linkUp are reported', async () => {
  const all = await startCluster(3);
  const [a, b] = all as [Recorded, Recorded, Recorded];
  let c = all[2] as Recorded;
  const port3 = c.t.port;
  try {
    await c.t.close();
    await until('1 and 2 see 3 go down', () => a.downs.some((d) => d.peer === 3) && b.downs.some((d) => d.peer === 3));
    assert.ok(!linkStats(a, 3).connected);
    a.t.send(3, { lost: true }); // dropped: the link is down
    assert.equal(linkStats(a, 3).framesDropped, 1);

    c = await startTransport(3, [1, 2], port3);
    c.t.setPeerAddress(1, HOST, a.t.port);
    c.t.setPeerAddress(2, HOST, b.t.port);
    await until('links with the new 3 are up both ways', () =>
      [a, b].every((r) => linkStats(r, 3).connected && linkStats(r, 3).inboundConnected) && c.t.stats().peers.every((p) => p.connected && p.inboundConnected));
    assert.deepEqual(a.ups.filter((p) => p === 3).length, 2, 'linkUp(3) before and after the restart');
    assert.deepEqual(a.downs.filter((d) => d.peer === 3).length, 1);
    a.t.send(3, { hi: 'from 1', zxid: 7n });
    c.t.send(1, { hi: 'from 3' });
    c.t.send(2, { hi: 'from 3' });
    await until('messages flow with the new 3', () => c.messages.length === 1 && a.messages.length === 1 && b.messages.length === 1);
    assert.deepEqual(c.messages[0], { from: 1, payload: { hi: 'from 1', zxid: 7n } });
    assert.ok(!a.messages.some((m) => (m.payload as { lost?: boolean }).lost));
    // Links between 1 and 2 were never disturbed.
    assert.equal(linkStats(a, 2).linkDowns, 0);
    assert.equal(linkStats(b, 1).linkDowns, 0);
  } finally {
    await Promise.all([a.t.close(), b.t.close(), c.t.close()]);
  }
});

test('close() stops everything: a process using transports exits by itself', async () => {
  const child = fileURLToPath(new URL('./transport-child.js', import.meta.url));
  const proc = spawn(process.execPath, [child], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((res) => proc.on('exit', (code) => res(code)));
  // Generous: the child exchanges a few messages and closes; it only hangs if a handle is left.
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(timer);
  assert.equal(code, 0, `child exited by itself (output: ${out})`);
  assert.match(out, /exchanged 6 messages, closed/);
});

test('one direction cut (proxy on 1->2): both sides report linkDown, 2->1 keeps working, then 1->2 heals', async () => {
  const a = await startTransport(1, [2]);
  const b = await startTransport(2, [1]);
  const proxy = await CuttableProxy.start(b.t.port);
  try {
    a.t.setPeerAddress(2, HOST, proxy.port);
    b.t.setPeerAddress(1, HOST, a.t.port);
    await until('linked both ways', () => linkStats(a, 2).connected && linkStats(b, 1).connected && linkStats(a, 2).inboundConnected && linkStats(b, 1).inboundConnected);
    proxy.cut();
    // 2 only lost its inbound connection, yet reports the link down: messages from 1 may be lost.
    await until('both sides down', () => a.downs.length >= 1 && b.downs.length >= 1);
    assert.match(b.downs[0]?.reason ?? '', /inbound connection from the peer closed/);
    // 2 redials 1 directly (that direction works): its messages reach 1 even though 1's own
    // outbound cannot get through.
    // The proxy accepts and then drops 1's attempts, so 1 sees brief ups and downs, and each down
    // cuts 2's connection too (by design): send again whenever 2 is up until one gets through.
    await until('1 got a message from 2 over the working direction', () => {
      if (linkStats(b, 1).connected) b.t.send(1, { oneWay: 1n });
      return a.messages.some((m) => (m.payload as { oneWay?: bigint }).oneWay === 1n);
    });
    proxy.unblock();
    await until('1->2 healed', () => linkStats(a, 2).connected && linkStats(b, 1).inboundConnected);
    a.t.send(2, { healed: true });
    await until('2 got it', () => b.messages.some((m) => (m.payload as { healed?: boolean }).healed === true));
  } finally {
    await Promise.all([a.t.close(), b.t.close(), proxy.close()]);
  }
});

test('disconnect(peer) cuts both connections: both sides see linkDown, then the link comes back', async () => {
  const [a, b] = (await startCluster(2)) as [Recorded, Recorded];
  try {
    a.t.disconnect(2, 'invalid peer message: test');
    assert.deepEqual(a.downs, [{ peer: 2, reason: 'invalid peer message: test' }]);
    assert.ok(a.log.lines.some((l) => l.level === 'warn' && l.obj['reason'] === 'invalid peer message: test'));
    await until('2 sees it too', () => b.downs.length === 1);
    await until('back up both ways', () => linkStats(a, 2).connected && linkStats(b, 1).connected && linkStats(a, 2).inboundConnected && linkStats(b, 1).inboundConnected);
    a.t.send(2, { after: 1 });
    b.t.send(1, { after: 2 });
    await until('delivered both ways', () => a.messages.length === 1 && b.messages.length === 1);
    assert.equal(a.ups.length, 2);
    assert.equal(b.ups.length, 2);
  } finally {
    await Promise.all([a.t.close(), b.t.close()]);
  }
});

test('a pino logger is accepted as the transport logger', async () => {
  const t = await createTcpTransport({ myId: 1, host: HOST, port: 0, peers: [{ id: 2, host: HOST, port: 0 }], logger: pino({ level: 'silent' }) });
  try {
    assert.ok(t.port > 0, 'port 0 was bound to an ephemeral port');
    assert.deepEqual(t.stats().peers.map((p) => [p.peer, p.connected]), [[2, false]]);
    t.sendToMany([2], { nobody: 'listens' });
    assert.equal(t.stats().framesEncoded, 0, 'nothing encoded when every link is down');
    assert.equal(t.stats().peers[0]?.framesDropped, 1);
  } finally {
    await t.close();
  }
});
