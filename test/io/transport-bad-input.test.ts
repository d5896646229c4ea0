// Bad input and slow peers: each bad connection is closed with a logged reason and harms nothing
// else; a peer that stops reading gets its link cut instead of growing the sender's memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createTcpTransport } from '../../src/io/node/transport.js';
import { closed, helloFrame, HOST, linkStats, memoryLogger, rawConnect, rawFrame, RawPeer, startTransport, until, type Recorded } from './transport-helpers.js';

// A real GC for the memory check (node --test starts this file without --expose-gc).
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const limits = { frameBytesMax: 64 * 1024, helloTimeoutMs: 300 };

/** Transport 1 and 2 linked both ways; 1 also knows peer 3, which never runs (raw sockets speak as it). */
async function pair(): Promise<[Recorded, Recorded]> {
  const a = await startTransport(1, [2, 3], 0, limits);
  const b = await startTransport(2, [1], 0, limits);
  a.t.setPeerAddress(2, HOST, b.t.port);
  b.t.setPeerAddress(1, HOST, a.t.port);
  await until('1 and 2 linked', () => linkStats(a, 2).connected && linkStats(a, 2).inboundConnected && linkStats(b, 1).connected);
  return [a, b];
}

function from2(r: Recorded): Recorded['messages'] {
  return r.messages.filter((m) => m.from === 2);
}

function lengthOnly(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

test('bad inbound connections are closed with a logged reason; the other links keep delivering', async () => {
  const [a, b] = await pair();
  try {
    const cases: { name: string; bytes: Buffer[]; reason: RegExp }[] = [
      { name: 'oversize length before hello', bytes: [lengthOnly(10_000)], reason: /frame of 10000 bytes, over the limit of 1024/ },
      { name: 'garbage body', bytes: [Buffer.concat([lengthOnly(3), Buffer.from([0xff, 0xfe, 0xfd])])], reason: /malformed MessagePack/ },
      { name: 'reserved type byte', bytes: [Buffer.concat([lengthOnly(1), Buffer.from([0xc1])])], reason: /0xc1/ },
      { name: 'empty frame', bytes: [lengthOnly(0)], reason: /empty frame/ },
      { name: 'no hello', bytes: [rawFrame({ kind: 'vote', zxid: 1n })], reason: /first frame is not a hello/ },
      { name: 'wrong protocol version', bytes: [helloFrame(3, 99)], reason: /protocol version 99/ },
      { name: 'unknown id', bytes: [helloFrame(42)], reason: /hello from server 42, not a configured peer/ },
      { name: 'hello from myself', bytes: [helloFrame(1)], reason: /hello from server 1, which is this server/ },
      { name: 'oversize frame after hello', bytes: [helloFrame(3), lengthOnly(64 * 1024 + 1)], reason: /frame of 65537 bytes, over the limit of 65536/ },
      { name: 'garbage after hello', bytes: [helloFrame(3), rawFrame({ ok: 1 }), Buffer.concat([lengthOnly(2), Buffer.from([0x93, 0x01])])], reason: /malformed MessagePack/ },
      { name: 'silent', bytes: [], reason: /no hello within 300 ms/ },
      // A header split across writes, then an oversize length: the slow path checks the bound too.
      { name: 'split oversize header', bytes: [Buffer.from([0x00, 0x10]), Buffer.from([0x00, 0x00])], reason: /frame of 1048576 bytes/ },
    ];
    let seq = 0;
    for (const c of cases) {
      const warnsBefore = a.log.lines.filter((l) => l.level === 'warn').length;
      const s = await rawConnect(a.t.port);
      for (const bytes of c.bytes) {
        s.write(bytes);
        await new Promise((r) => setTimeout(r, 5)); // separate TCP segments for the split cases
      }
      await closed(s);
      const warns = a.log.lines.filter((l) => l.level === 'warn').slice(warnsBefore);
      assert.ok(warns.some((l) => c.reason.test(String(l.obj['reason']))), `${c.name}: logged reason, got ${JSON.stringify(warns)}`);
      // The real link between 1 and 2 still delivers both ways, in order.
      a.t.send(2, { seq });
      b.t.send(1, { seq });
      seq++;
      await until(`${c.name}: 1<->2 still delivering`, () => b.messages.length === seq && from2(a).length === seq);
    }
    assert.deepEqual(from2(a).map((m) => (m.payload as { seq: number }).seq), Array.from({ length: seq }, (_, i) => i));
    assert.equal(a.downs.length, 0, 'no link of 1 went down');
    assert.equal(b.downs.length, 0, 'no link of 2 went down');
    // The valid frame a raw "peer 3" sent before its garbage was delivered, then its connection cut.
    assert.deepEqual(a.messages.filter((m) => m.from === 3).map((m) => m.payload), [{ ok: 1 }]);
    assert.equal(linkStats(a, 3).framesIn, 1);
    assert.equal(linkStats(a, 3).inboundConnected, false);
  } finally {
    await Promise.all([a.t.close(), b.t.close()]);
  }
});

test('too many connections without a hello: the excess is refused, peers still connect', async () => {
  const a = await startTransport(1, [2], 0, { helloTimeoutMs: 20_000, inboundPendingMax: 4 });
  const silent = await Promise.all(Array.from({ length: 4 }, () => rawConnect(a.t.port)));
  try {
    const extra = await rawConnect(a.t.port);
    await closed(extra);
    assert.ok(a.log.lines.some((l) => /too many connections have not said hello/.test(l.msg)));
    for (const s of silent) assert.ok(!s.destroyed, 'the pending ones stay until their hello timeout');
  } finally {
    for (const s of silent) s.destroy();
    await a.t.close();
  }
});

test('a peer that stops reading: the queue bound cuts the link, memory stays bounded, it reconnects', async () => {
  const frameBytesMax = 256 * 1024;
  const linkQueuedBytesMax = 1024 * 1024;
  const stalled = await RawPeer.start(false); // accepts and never reads
  const log = memoryLogger();
  const t = await createTcpTransport({ myId: 1, host: HOST, port: 0, peers: [{ id: 2, host: HOST, port: stalled.port }], logger: log, limits: { frameBytesMax, linkQueuedBytesMax, reconnectBackoffMsMax: 100 } });
  const downs: string[] = [];
  t.onLinkDown((_peer, reason) => downs.push(reason));
  const payload = { kind: 'snapChunk', data: new Uint8Array(200 * 1024).fill(7) };
  const rounds = 6;
  gc();
  const arrayBuffersBefore = process.memoryUsage().arrayBuffers;
  let maxQueued = 0;
  let sentBytes = 0;
  try {
    for (let cut = 1; cut <= rounds; cut++) {
      await until(`link up (round ${cut})`, () => t.stats().peers[0]?.connected === true);
      // Send until the link is cut; the bound must trip long before this many bytes.
      // Yield after each send so the kernel takes what it can: the cut must come from the peer
      // not reading, not from one burst.
      for (let i = 0; i < 5_000 && downs.length < cut; i++) {
        t.send(2, payload);
        sentBytes += payload.data.byteLength;
        maxQueued = Math.max(maxQueued, t.stats().peers[0]?.queuedBytes ?? 0);
        if (downs.length === cut) break; // checked before yielding: the reconnect timer may fire then
        await new Promise((r) => setImmediate(r));
      }
      assert.equal(downs.length, cut, `round ${cut}: the link was cut`);
      assert.match(downs[cut - 1] as string, /queued bytes over 1048576/);
      // Once down, sends are dropped rather than queued.
      const dropped = t.stats().peers[0]?.framesDropped ?? 0;
      t.send(2, payload);
      assert.equal(t.stats().peers[0]?.framesDropped, dropped + 1);
      assert.equal(t.stats().peers[0]?.queuedBytes, 0);
    }
    assert.ok(maxQueued <= linkQueuedBytesMax + frameBytesMax, `queued at most the bound plus one frame (max seen ${maxQueued})`);
    // Every cut link's queue is released: after a GC the sender holds about one link's bound,
    // not what it sent (a kept queue would hold most of sentBytes).
    // A destroyed socket frees its queued writes once libuv has closed the handle, a loop turn or
    // two later: poll (GC, measure) with a deadline.
    assert.ok(sentBytes > 10 * linkQueuedBytesMax, `sent ${sentBytes}`);
    let growth = Infinity;
    await until(() => `memory released (last growth ${growth} bytes after sending ${sentBytes})`, () => {
      gc();
      growth = process.memoryUsage().arrayBuffers - arrayBuffersBefore;
      return growth < 4 * linkQueuedBytesMax;
    });
    assert.ok(log.lines.some((l) => l.level === 'warn' && /not reading fast enough/.test(l.msg)));
    console.log(`# queue bound: sent ${(sentBytes / 1048576).toFixed(1)} MiB over ${rounds} cuts, max queued ${maxQueued} bytes, arrayBuffers growth ${(growth / 1048576).toFixed(1)} MiB`);
  } finally {
    await t.close();
    await stalled.close();
  }
});
