// The producer thread of ring.test.ts: sends `frames` numbered frames of pseudo-random sizes
// through a HandoffSender, in bursts, honouring the back-pressure a waiting sender reports (as a
// session worker does: it stops reading when its bounds are reached).
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { HandoffSender, type FullPolicy } from '../../src/server/workers/handoff.js';

export interface ProducerInit {
  seed: number;
  frames: number;
  maxBytes: number;
  inlineBytesMax: number;
  full: FullPolicy;
  ring: SharedArrayBuffer;
  side: MessagePort;
}

/** Frame i's length: deterministic, so the consumer can check it. */
export function frameBytes(seed: number, i: number): number {
  let x = (seed * 0x9e3779b1 + i * 0x85ebca6b) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x2c1b3c6d) >>> 0;
  x ^= x >>> 12;
  return x % 7 === 0 ? 0 : x % 11 === 0 ? (x >>> 4) % (i % 3 === 0 ? 4 * 1024 : 64) : (x >>> 4) % 4 === 0 ? 1 + ((x >>> 8) % 4096) : (x >>> 4) % 64;
}

function bytesOf(seed: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (seed * 31 + i * 7) & 0xff;
  return b;
}

if (!isMainThread) {
  const init = workerData as ProducerInit;
  const sender = new HandoffSender(init.ring, init.side, init.full, init.inlineBytesMax);
  const lengthOf = (i: number): number => Math.min(init.maxBytes, frameBytes(init.seed, i));
  let i = 0;
  let backlogMax = 0;
  const keepAlive = setInterval(() => {}, 1_000); // waitAsync alone does not keep a thread alive
  const burst = (): void => {
    for (let n = 0; n < 97 && i < init.frames; n++) {
      if (sender.backlogged > 0) break; // back-pressure: wait for the consumer
      sender.send(bytesOf(i, lengthOf(i)));
      i++;
      backlogMax = Math.max(backlogMax, sender.backlogged);
    }
    if (i < init.frames || sender.backlogged > 0) setImmediate(burst);
    else {
      parentPort!.postMessage({ overflowed: sender.overflowed, backlogMax });
      clearInterval(keepAlive);
    }
  };
  burst();
}
