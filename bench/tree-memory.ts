// Bytes per znode of the shared-memory tree: 1,000,000 znodes with 100-byte data and paths like
// /bench/n0000123456, created in write windows of 1,000 (as the pipeline batches). Prints the
// used bytes beyond the path and data bytes themselves, per znode (the target is <= 200).
// Run: npx tsc -p . && node dist/bench/tree-memory.js [nodes]
import { createTree } from '../src/server/tree/index.js';

const nodes = Number(process.argv[2] ?? 1_000_000);
const data = new Uint8Array(100).fill(7);
const tree = createTree({ initialBytes: 64 * 1_048_576 });
const before = tree.memoryUsage();
const t0 = performance.now();
tree.beginWrite();
tree.createNode('/bench', { data: new Uint8Array(0), aclIndex: 0, ephemeralOwner: 0n, zxid: 1n, timeMs: Date.now() });
tree.endWrite(1n);
let pathBytes = '/bench'.length;
for (let i = 0; i < nodes; i += 1_000) {
  tree.beginWrite();
  for (let j = i; j < Math.min(nodes, i + 1_000); j++) {
    const path = '/bench/n' + String(j).padStart(10, '0');
    pathBytes += path.length;
    tree.createNode(path, { data, aclIndex: 0, ephemeralOwner: 0n, zxid: BigInt(j + 2), timeMs: Date.now() });
  }
  tree.endWrite(BigInt(i + 2));
}
const ms = performance.now() - t0;
const after = tree.memoryUsage();
const used = after.usedBytes - before.usedBytes;
const payload = pathBytes + nodes * data.length;
const perNode = (used - payload) / (nodes + 1);
const r = tree.getData('/bench/n0000000123');
console.log(JSON.stringify({
  nodes: nodes + 1,
  usedBytes: used,
  pathAndDataBytes: payload,
  overheadBytesPerZnode: Number(perNode.toFixed(1)),
  totalBytesPerZnode: Number((used / (nodes + 1)).toFixed(1)),
  freeListBytes: after.freeListBytes,
  capacityBytes: after.capacityBytes,
  createsPerSec: Math.round((nodes / ms) * 1000),
  check: r.value?.data.length === 100,
}, null, 2));
