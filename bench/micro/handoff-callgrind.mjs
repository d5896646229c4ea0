// Instruction counts of the worker <-> main hand-off, repeatable on a noisy machine (no hardware
// counters in this VM, so perf stat cannot count instructions): the same batch as
// bench/micro/handoff.ts, run N times under callgrind; the per-batch figure is the difference of
// two runs (N2 - N1 batches), which cancels start-up and import costs. After `npm run build`:
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node bench/micro/handoff-callgrind.mjs writes-ring 1500
//   (variants: writes-clone writes-ring commit-clone commit-ring; compare 1500 and 4500)
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
const codec = await import(new URL('../../dist/src/server/workers/handoff-codec.js', import.meta.url).href);
const ring = await import(new URL('../../dist/src/server/workers/ring.js', import.meta.url).href);
const [variant, nStr] = process.argv.slice(2); const N = Number(nStr);
const stat = { czxid: 0x1_0000_0001n, mzxid: 0x1_0000_0a00n, pzxid: 0x1_0000_0001n, ctime: 1_700_000_000_000, mtime: 1_700_000_000_123, version: 42, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 1024, numChildren: 0 };
const requests = [];
for (let i = 0; i < 32; i++) requests.push({ sessionId: 0x1_0000_0000_0000n + BigInt(i), tag: i * 256 + 1, authIds: [{ scheme: 'ip', id: '127.0.0.1' }], op: { type: 'setData', path: `/bench/n-${i}`, data: new Uint8Array(1024).fill(i), version: -1 } });
const writes = { kind: 'writes', requests };
const commit = { kind: 'commit', zxid: 0x1_0000_0a20n, events: requests.map((r, i) => ({ type: 'dataChanged', path: r.op.path, zxid: 0x1_0000_0a00n + BigInt(i) })), replies: requests.map((r, i) => ({ tag: r.tag, sessionId: r.sessionId, zxid: 0x1_0000_0a00n + BigInt(i), result: { ok: true, value: { type: 'setData', stat } }, events: [], eventsBefore: i + 1 })), endedSessions: [] };
const ch = new MessageChannel();
const buf = ring.createRingBuffer(4 * 1048576); const p = new ring.RingProducer(buf); const c = new ring.RingConsumer(buf);
const viaPort = (m) => { ch.port1.postMessage(m); if (!receiveMessageOnPort(ch.port2)) throw new Error('lost a message'); };
const viaRing = (b) => { if (!p.tryWrite(1, b)) throw new Error('full'); codec.decodeFrame(c.take().body); };
const f = { 'writes-clone': () => viaPort(writes), 'writes-ring': () => viaRing(codec.encodeWrites(requests)), 'commit-clone': () => viaPort(commit), 'commit-ring': () => viaRing(codec.encodeCommit(commit)), none: () => {} }[variant];
for (let i = 0; i < N; i++) f();
ch.port1.close();
