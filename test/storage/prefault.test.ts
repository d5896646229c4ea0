// The job thread maps in the pages of a SNAP receive buffer while the main thread fills it from
// the start (touchPages whileFilled): the atomic add of 0 it touches with never loses a byte the
// filler wrote, whichever gets to a page first. The plain touch (for a buffer nobody fills yet)
// writes zeros, which is why the filled case needs the other one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { createJobPool } from '../../src/server/jobs/pool.js';

const bytes = 48 * 1_048_576;
const chunk = 256 * 1024;

async function fillWhileTouched(whileFilled: boolean): Promise<Uint8Array> {
  const jobs = createJobPool({ maxThreads: 1 });
  try {
    const view = new Uint8Array(new SharedArrayBuffer(bytes));
    const touched = jobs.touchPages({ image: view, from: 0, to: bytes, whileFilled });
    const pattern = Buffer.alloc(chunk, 0xa5);
    for (let off = 0; off < bytes; off += chunk) {
      view.set(pattern, off);
      if ((off / chunk) % 8 === 0) await yieldToLoop();
    }
    assert.equal(await touched, bytes);
    return view;
  } finally {
    await jobs.close();
  }
}

test('pages touched on the job thread while the buffer fills keep every byte written', async () => {
  const view = await fillWhileTouched(true);
  const wrong = view.findIndex((b) => b !== 0xa5);
  assert.equal(wrong, -1, `byte ${wrong} lost`);
});
