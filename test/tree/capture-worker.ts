// Worker half of capture.test.ts: reads a capture chunk by chunk (yielding between chunks, so the
// main thread's writes land in the middle of the read) and posts the whole image back.
import { parentPort, workerData } from 'node:worker_threads';
import { readCaptureInto, type CaptureHandle } from '../../src/server/tree/capture.js';

const { handle, chunkBytes } = workerData as { handle: CaptureHandle; chunkBytes: number };
const out = new Uint8Array(handle.bytes);
const pause = new Int32Array(new SharedArrayBuffer(4));
for (let off = 0; off < handle.bytes; off += chunkBytes) {
  readCaptureInto(handle, off, out.subarray(off, Math.min(off + chunkBytes, handle.bytes)));
  Atomics.wait(pause, 0, 0, 1); // 1 ms: the writer gets windows in between
}
parentPort!.postMessage({ image: out.buffer }, [out.buffer]);
