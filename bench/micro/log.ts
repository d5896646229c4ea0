// The txn log (src/server/storage): append + group commit (one fdatasync per batch) on a real file
// in a temp dir. Figures are per record.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as DiskModule from '../../src/io/node/disk.js';
import type * as StorageModule from '../../src/server/storage/index.js';
import { importBuilt, runBench, skipped, type MicroOptions, type MicroRow } from './common.js';

export async function logMicro(o: MicroOptions): Promise<MicroRow[]> {
  const s = await importBuilt<typeof StorageModule>('src/server/storage/index.js');
  const d = await importBuilt<typeof DiskModule>('src/io/node/disk.js');
  if (s === null || d === null) return skipped('log', 'module missing (src/server/storage)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'zookooper-bench-log-'));
  let log: StorageModule.TxnLog | undefined;
  let offLogRef: StorageModule.TxnLog | undefined;
  try {
    const layout = s.storageLayout({ dataDir: dir }, d.nodeDisk);
    await s.ensureLayout(layout);
    const txnLog = await s.openTxnLog(layout, { tail: null, lastZxid: null });
    log = txnLog;
    // The ensemble's log: the same, with the write + fdatasync on libuv's pool (syncInline off).
    const offDir = path.join(dir, 'off-thread');
    const offLayout = s.storageLayout({ dataDir: offDir }, d.nodeDisk);
    await s.ensureLayout(offLayout);
    const offLog = await s.openTxnLog(offLayout, { tail: null, lastZxid: null }, { syncInline: false });
    offLogRef = offLog;
    let offZxid = 1n;
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
            txnLog.append(batch);
            await txnLog.sync();
          });
        }
        for (const n of [1, 32]) {
          b.add(`off-thread: append ${n} x 1.1 KB + 1 fdatasync`, async () => {
            offLog.append(Array.from({ length: n }, () => ({ zxid: offZxid++, bytes: payload })));
            await offLog.sync();
          });
        }
        // The write pipeline's pattern under load: the next batch is appended and its sync queued
        // while the previous fdatasync is still running (the log allows a few queued syncs).
        b.add('2 syncs in flight x 32 records', async () => {
          const one = (): Promise<void> => {
            txnLog.append(Array.from({ length: 32 }, rec));
            return txnLog.sync();
          };
          await Promise.all([one(), one()]);
        });
      },
      { 'append 32 x 1.1 KB + 1 fdatasync': 32, 'append 1000 x 1.1 KB + 1 fdatasync': 1000, '2 syncs in flight x 32 records': 64, 'off-thread: append 32 x 1.1 KB + 1 fdatasync': 32 },
    );
    return rows;
  } finally {
    await log?.close().catch(() => undefined);
    await offLogRef?.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
