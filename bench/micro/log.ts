// The txn log (src/server/storage): append + group commit (one fdatasync per batch) on a real file
// in a temp dir. Figures are per record.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as StorageModule from '../../src/server/storage/index.js';
import { importBuilt, runBench, skipped, type MicroOptions, type MicroRow } from './common.js';

export async function logMicro(o: MicroOptions): Promise<MicroRow[]> {
  const s = await importBuilt<typeof StorageModule>('src/server/storage/index.js');
  if (s === null) return skipped('log', 'module missing (src/server/storage)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'zookooper-bench-log-'));
  try {
    const layout = s.storageLayout({ dataDir: dir });
    await s.ensureLayout(layout);
    const log = await s.openTxnLog(layout, { tail: null, lastZxid: null });
    const payload = new Uint8Array(1100).fill(7); // a 1 KiB setData txn with its header
    let zxid = 1n;
    const rec = () => ({ zxid: zxid++, bytes: payload });
    const sizes = [1, 32, 1000];
    const rows = await runBench(
      'log',
      o,
      (b) => {
        for (const n of sizes) {
          b.add(`append ${n} x 1.1 KB + 1 fdatasync`, async () => {
            const batch = Array.from({ length: n }, rec);
            log.append(batch);
            await log.sync();
          });
        }
        // 32 writers each appending one record and awaiting sync: the syncs queue up behind each
        // other, which is the back-to-back pattern of the write pipeline under load.
        b.add('32 concurrent append+sync of 1 record', async () => {
          await Promise.all(
            Array.from({ length: 32 }, () => {
              log.append([rec()]);
              return log.sync();
            }),
          );
        });
      },
      { 'append 32 x 1.1 KB + 1 fdatasync': 32, 'append 1000 x 1.1 KB + 1 fdatasync': 1000, '32 concurrent append+sync of 1 record': 32 },
    );
    await log.close();
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
