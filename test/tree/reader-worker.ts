// Worker half of threads.test.ts: reads the shared tree in place, as fast as it can, until the
// main thread raises the stop flag, and checks every read against the writer's invariants:
//   - every node /t/kI holds data(c) for ONE counter c, with dataLength and version === c
//     (a torn node would mix bytes or lengths of two counters);
//   - inside one batch, all K nodes carry the same c, c equals the batch's zxid, and the
//     children of /t are exactly the ones that exist at c (half a transaction would differ).
import { parentPort, workerData } from 'node:worker_threads';
import { SharedTreeReader } from '../../src/server/tree/reader.js';
import { checkData, expectedChildren, K, PUBLISH_EVERY_READS, S } from './threads-shared.js';

interface Input {
  tree: SharedArrayBuffer;
  control: SharedArrayBuffer;
  noSeqlock: boolean;
}

const input = workerData as Input;
const control = new Int32Array(input.control);
const reader = new SharedTreeReader(input.tree, { unsafeNoSeqlock: input.noSeqlock });
const paths = Array.from({ length: K }, (_, i) => `/t/k${i}`);

let reads = 0;
let violations = 0;
let firstViolation = '';
let lastZxid = 0n;

let publishedReads = 0;
let publishedRetries = 0;

/** Progress for the writer, which runs until the readers have done enough (not for a fixed time). */
function publish(): void {
  Atomics.add(control, S.READS, reads - publishedReads);
  Atomics.add(control, S.RETRIES, reader.retries - publishedRetries);
  publishedReads = reads;
  publishedRetries = reader.retries;
}

function violation(what: string): void {
  violations++;
  if (firstViolation === '') firstViolation = what;
  Atomics.add(control, S.VIOLATIONS, 1);
}

Atomics.add(control, S.READY, 1);
parentPort?.postMessage({ ready: true });
while (Atomics.load(control, S.STOP) === 0 && reads < 50_000_000) {
  reads++;
  if (reads % PUBLISH_EVERY_READS === 0) publish();
  if (reads % 4 === 0) {
    // One node alone: never torn.
    const one = reader.getData(paths[reads % K]!).value;
    if (one === null) {
      violation('a /t/k node missing');
      continue;
    }
    const problem = checkData(one.data, one.stat.version, one.stat.dataLength);
    if (problem !== null) violation(`single read: ${problem}`);
    continue;
  }
  // Several paths in one section: never half a transaction.
  const snap = reader.batch((v) => ({
    children: v.getChildren('/t')?.children ?? null,
    nodes: paths.map((p) => v.getData(p)),
  }));
  const c = Number(snap.zxid);
  if (snap.zxid < lastZxid) violation(`zxid went back from ${lastZxid} to ${snap.zxid}`);
  lastZxid = snap.zxid;
  for (const n of snap.value.nodes) {
    if (n === null) {
      violation('a /t/k node missing in a batch');
      break;
    }
    const problem = checkData(n.data, n.stat.version, n.stat.dataLength);
    if (problem !== null) {
      violation(`batch read: ${problem}`);
      break;
    }
    if (n.stat.version !== c) {
      violation(`node at version ${n.stat.version} in a batch at zxid ${c}`);
      break;
    }
  }
  const want = expectedChildren(c);
  const got = snap.value.children?.slice().sort().join(',') ?? 'null';
  if (got !== want) violation(`children at ${c}: ${got.slice(0, 120)} want ${want.slice(0, 120)}`);
}
publish();
parentPort?.postMessage({ reads, violations, firstViolation, retries: reader.retries, lastZxid: String(lastZxid) });
