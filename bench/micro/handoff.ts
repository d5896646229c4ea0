// The worker <-> main hand-off (src/server/workers/handoff*.ts, ring.ts), both ends in this one
// thread so the figure is the CPU of sender plus receiver: a batch of 32 forwarded 1 KiB setData
// requests and the commit message answering them, as structured clone through a MessagePort
// (what the server did before the rings: postMessage + receiveMessageOnPort) and as an encoded
// frame through the ring (encode, write, take, decode). Neither includes the wake-up of the other
// thread (a uv_async for the port, an Atomics.notify for the ring).
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import type * as Codec from '../../src/server/workers/handoff-codec.js';
import type * as Ring from '../../src/server/workers/ring.js';
import type { Stat } from '../../src/common/types.js';
import type { WriteRequest } from '../../src/server/pipeline/api.js';
import type { CommitMessage } from '../../src/server/workers/messages.js';
import { importBuilt, runBench, skipped, type MicroOptions, type MicroRow } from './common.js';

const batch = 32;

export async function handoffMicro(o: MicroOptions): Promise<MicroRow[]> {
  const codec = await importBuilt<typeof Codec>('src/server/workers/handoff-codec.js');
  const ring = await importBuilt<typeof Ring>('src/server/workers/ring.js');
  if (codec === null || ring === null) return skipped('handoff', 'module missing (src/server/workers/handoff-codec, ring)');
  const stat: Stat = { czxid: 0x1_0000_0001n, mzxid: 0x1_0000_0a00n, pzxid: 0x1_0000_0001n, ctime: 1_700_000_000_000, mtime: 1_700_000_000_123, version: 42, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 1024, numChildren: 0 };
  const requests: WriteRequest[] = [];
  for (let i = 0; i < batch; i++) {
    requests.push({ sessionId: 0x1_0000_0000_0000n + BigInt(i), tag: i * 256 + 1, authIds: [{ scheme: 'ip', id: '127.0.0.1' }], op: { type: 'setData', path: `/bench/n-${i}`, data: new Uint8Array(1024).fill(i), version: -1 } });
  }
  const writes = { kind: 'writes' as const, requests };
  const commit: CommitMessage = {
    kind: 'commit',
    zxid: 0x1_0000_0a20n,
    events: requests.map((r, i) => ({ type: 'dataChanged' as const, path: (r.op as { path: string }).path, zxid: 0x1_0000_0a00n + BigInt(i) })),
    replies: requests.map((r, i) => ({ tag: r.tag, sessionId: r.sessionId, zxid: 0x1_0000_0a00n + BigInt(i), result: { ok: true, value: { type: 'setData', stat } }, events: [], eventsBefore: i + 1 })),
    endedSessions: [],
  };
  const channel = new MessageChannel();
  const buf = ring.createRingBuffer(4 * 1_048_576);
  const producer = new ring.RingProducer(buf);
  const consumer = new ring.RingConsumer(buf);
  const viaPort = (m: unknown): void => {
    channel.port1.postMessage(m);
    if (receiveMessageOnPort(channel.port2) === undefined) throw new Error('lost a message');
  };
  const viaRing = (body: Uint8Array): void => {
    if (!producer.tryWrite(1, body)) throw new Error('ring full');
    const f = consumer.take();
    if (f === null) throw new Error('lost a frame');
    codec.decodeFrame(f.body);
  };
  const rows = await runBench(
    'handoff',
    o,
    (b) => {
      b.add(`writes x${batch}: structured clone via MessagePort`, () => viaPort(writes));
      b.add(`writes x${batch}: encoded frame via ring`, () => viaRing(codec.encodeWrites(requests)));
      b.add(`commit x${batch}: structured clone via MessagePort`, () => viaPort(commit));
      b.add(`commit x${batch}: encoded frame via ring`, () => viaRing(codec.encodeCommit(commit)));
    },
    {
      [`writes x${batch}: structured clone via MessagePort`]: batch,
      [`writes x${batch}: encoded frame via ring`]: batch,
      [`commit x${batch}: structured clone via MessagePort`]: batch,
      [`commit x${batch}: encoded frame via ring`]: batch,
    },
  );
  channel.port1.close();
  return rows;
}
