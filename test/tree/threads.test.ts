// The DESIGN's thread test for the tree: the main thread applies multi-node write windows at full
// speed (rewrites K nodes, creates and deletes nodes, grows the buffer, moves the ACL directory)
// while two worker threads read the same memory and check they never see a torn node or half a
// window. The second test turns the seqlock off in the readers and requires the same checks to
// catch torn reads: proof that the first test can fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { createTree, verifyTree, type TreeWriter } from '../../src/server/tree/index.js';
import { CHURN, CONTROL_BYTES, K, S, dataFor } from './threads-shared.js';

interface WorkerResult {
  reads: number;
  violations: number;
  firstViolation: string;
  retries: number;
  lastZxid: string;
}

const READERS = 2;
/** Blob sizes repeat after this many bytes of growth (bounded memory however long the run). */
const BLOB_SIZE_CYCLE_BYTES = 4_096;
const none = new Uint8Array(0);

function setup(): TreeWriter {
  const t = createTree({ initialBytes: 65536, maxBytes: 512 * 1_048_576 });
  t.beginWrite();
  for (const p of ['/t', '/g']) t.createNode(p, { data: none, aclIndex: 0, ephemeralOwner: 0n, zxid: 0n, timeMs: 0 });
  for (let i = 0; i < K; i++) t.createNode(`/t/k${i}`, { data: dataFor(0), aclIndex: 0, ephemeralOwner: 0n, zxid: 0n, timeMs: 0 });
  t.endWrite(0n);
  return t;
}

/** Write window c: what reader-worker.ts expects to find (see threads-shared.ts). */
function applyWindow(t: TreeWriter, c: number, big: { n: number }): void {
  t.beginWrite();
  const data = dataFor(c);
  for (let i = 0; i < K; i++) {
    t.setData(`/t/k${i}`, data);
    t.updateStat(`/t/k${i}`, { version: c, mzxid: BigInt(c), mtime: c });
  }
  t.createNode(`/t/e${c}`, { data: dataFor(c + 1), aclIndex: 0, ephemeralOwner: 1n, zxid: BigInt(c), timeMs: c });
  if (c > CHURN) t.deleteNode(`/t/e${c - CHURN}`);
  if (c % 20 === 0) {
    // Big blobs grow the buffer several times, then are freed and their blocks reused. Their size
    // cycles (it must not grow with c: blocks of ever new sizes are never reused, and a long run
    // then exhausted the tree's 512 MiB mid-window, which left the readers spinning forever).
    if (big.n === 200) {
      for (let j = 0; j < big.n; j++) t.deleteNode(`/g/b${j}`);
      big.n = 0;
    }
    t.createNode(`/g/b${big.n++}`, { data: Buffer.alloc(32_768 + (c % BLOB_SIZE_CYCLE_BYTES), 7), aclIndex: 0, ephemeralOwner: 0n, zxid: BigInt(c), timeMs: c });
  }
  if (c % 97 === 0) t.internAcl([{ perms: 1, scheme: 'ip', id: `10.0.${c >> 8}.${c & 0xff}` }]);
  t.endWrite(BigInt(c));
}

/** What the writer sees of the run while it goes: its own windows and grows, the readers' counts. */
interface Progress {
  windows: number;
  grows: number;
  reads: number;
  retries: number;
  violations: number;
}

/**
 * Applies write windows while the readers read, until `enough(progress)` holds: the run is sized
 * by work done and events seen (reads, seqlock retries, buffer grows), not by a clock, so a
 * loaded machine makes it slower, never weaker. `deadlineMs` only stops a run that can never get
 * there (the assertions then say what was missing).
 */
async function run(noSeqlock: boolean, deadlineMs: number, enough: (p: Progress) => boolean): Promise<{ results: WorkerResult[]; windows: number; grows: number; tree: TreeWriter }> {
  const tree = setup();
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_BYTES));
  const url = new URL('./reader-worker.js', import.meta.url);
  const workers = Array.from({ length: READERS }, () => new Worker(url, { workerData: { tree: tree.buffer, control: control.buffer, noSeqlock } }));
  const results = workers.map(
    (w) =>
      new Promise<WorkerResult>((resolve, reject) => {
        w.on('message', (m: WorkerResult | { ready: true }) => {
          if (!('ready' in m)) resolve(m);
        });
        w.on('error', reject);
        w.on('exit', (code) => reject(new Error(`reader exited (${code}) before reporting`)));
      }),
  );
  try {
    // Wait (on events, not sleeps) until both readers are reading.
    await Promise.all(workers.map((w) => new Promise<void>((resolve) => w.once('message', () => resolve()))));
    const deadline = performance.now() + deadlineMs;
    const big = { n: 0 };
    const p: Progress = { windows: 0, grows: 0, reads: 0, retries: 0, violations: 0 };
    let capacity = tree.buffer.byteLength;
    while (p.windows < 1_000_000 && !enough(p) && performance.now() < deadline) {
      applyWindow(tree, ++p.windows, big);
      if (tree.buffer.byteLength !== capacity) {
        p.grows++;
        capacity = tree.buffer.byteLength;
      }
      p.reads = Atomics.load(control, S.READS);
      p.retries = Atomics.load(control, S.RETRIES);
      p.violations = Atomics.load(control, S.VIOLATIONS);
    }
    const c = p.windows;
    const grows = p.grows;
    Atomics.store(control, S.STOP, 1);
    return { results: await Promise.all(results), windows: c, grows, tree };
  } catch (err) {
    // A writer that threw may have left a window open: readers would wait on it forever.
    await Promise.all(workers.map((w) => w.terminate()));
    throw err;
  } finally {
    Atomics.store(control, S.STOP, 1);
    await Promise.allSettled(results);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Windows the safe run applies at least (about 2 s of writing on an idle 2-core machine). */
const SAFE_RUN_WINDOWS_MIN = 20_000;
/** Reads the readers do at least, in all, during the safe run. */
const SAFE_RUN_READS_MIN = 100_000;

test('readers in worker threads never see a torn node or half a write window', { timeout: 180_000 }, async () => {
  const enough = (p: Progress): boolean => p.windows >= SAFE_RUN_WINDOWS_MIN && p.reads >= SAFE_RUN_READS_MIN && p.retries > 0 && p.grows >= 3;
  const { results, windows, grows, tree } = await run(false, 120_000, enough);
  const reads = results.reduce((n, r) => n + r.reads, 0);
  const retries = results.reduce((n, r) => n + r.retries, 0);
  for (const r of results) assert.equal(r.violations, 0, `a reader saw: ${r.firstViolation}`);
  assert.equal(results.length, READERS);
  assert.ok(windows >= SAFE_RUN_WINDOWS_MIN, `only ${windows} write windows`);
  assert.ok(reads >= SAFE_RUN_READS_MIN, `only ${reads} reads`);
  assert.ok(retries > 0, 'readers never raced the writer: the test proved nothing');
  assert.ok(grows >= 3, `the buffer grew only ${grows} times`);
  for (const r of results) assert.ok(BigInt(r.lastZxid) > 0n, 'every reader saw writes');
  verifyTree(tree);
  console.log(`# ${windows} windows, ${reads} reads, ${retries} retries, ${grows} grows`);
});

test('the same checks catch torn reads when the seqlock is off (the test can fail)', { timeout: 180_000 }, async () => {
  const { results, windows } = await run(true, 120_000, (p) => p.violations > 0);
  const violations = results.reduce((n, r) => n + r.violations, 0);
  assert.ok(violations > 0, `no torn read seen in ${windows} windows without the seqlock`);
  console.log(`# without the seqlock: ${violations} violations after ${windows} windows, e.g. ${results.find((r) => r.violations > 0)?.firstViolation}`);
});
