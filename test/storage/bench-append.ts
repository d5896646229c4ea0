// Measures append+sync throughput of the txn log with 1 KiB records (native-notes/fsync.md).
//   node dist/test/storage/bench-append.js [seconds-per-case]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeDisk } from '../../src/io/node/disk.js';
import { makeZxid } from '../../src/common/zxid.js';
import { recover } from '../../src/server/storage/index.js';

const seconds = Number(process.argv[2] ?? 3);
const payload = new Uint8Array(1024).fill(7);

for (const batch of [1, 10, 100]) {
  const dir = await mkdtemp(join(tmpdir(), 'zk-bench-'));
  const rec = await recover(nodeDisk, { dataDir: dir });
  for await (const _ of rec.records) throw new Error('fresh dir');
  const log = await rec.openLog();
  let zxid = makeZxid(1, 1);
  const step = async (): Promise<void> => {
    const rs = [];
    for (let i = 0; i < batch; i++) rs.push({ zxid: zxid++, bytes: payload });
    log.append(rs);
    await log.sync();
  };
  for (let i = 0; i < 50; i++) await step(); // creates and preallocates the first segment
  const start = process.hrtime.bigint();
  const endAt = start + BigInt(seconds * 1e9);
  let syncs = 0;
  while (process.hrtime.bigint() < endAt) {
    await step();
    syncs++;
  }
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  const recs = syncs * batch;
  console.log(
    `batch ${String(batch).padStart(3)}: ${Math.round(recs / s).toString().padStart(7)} records/s, ${Math.round(syncs / s)} syncs/s, ` +
      `${((recs * (1024 + 16)) / s / 1_048_576).toFixed(1)} MiB/s, ${((s / syncs) * 1000).toFixed(3)} ms per append+sync`,
  );
  await log.close();
  await rm(dir, { recursive: true, force: true });
}
