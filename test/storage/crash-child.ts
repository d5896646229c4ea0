// Child process for crash.test.ts: recovers the log in argv[2], then appends batches forever,
// printing the last zxid of each batch after its sync() resolved (= acknowledged). The parent
// kills it with SIGKILL at a random moment.
import { nodeDisk } from '../../src/io/node/disk.js';
import { makeZxid } from '../../src/common/zxid.js';
import { recover } from '../../src/server/storage/index.js';
import { payloadFor, prng } from './helpers.js';

const [dataDir, segmentBytesArg, seedArg] = process.argv.slice(2);
if (dataDir === undefined || segmentBytesArg === undefined || seedArg === undefined) throw new Error('usage: crash-child <dir> <segmentBytes> <seed>');
const rnd = prng(Number(seedArg));
const rec = await recover(nodeDisk, { dataDir });
for await (const r of rec.records) {
  const want = payloadFor(r.zxid);
  if (Buffer.compare(Buffer.from(r.bytes), Buffer.from(want)) !== 0) throw new Error(`payload of ${r.zxid} differs`);
}
const log = await rec.openLog({ segmentBytes: Number(segmentBytesArg) });
let next = (rec.lastZxid() ?? makeZxid(1, 0)) + 1n;
for (;;) {
  const n = 1 + Math.floor(rnd() * 40);
  const batch = [];
  for (let i = 0; i < n; i++, next++) batch.push({ zxid: next, bytes: payloadFor(next) });
  log.append(batch);
  await log.sync();
  process.stdout.write(`${next - 1n}\n`);
}
