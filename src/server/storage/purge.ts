// Purge: keep the newest `retain` snapshots and every log segment needed to replay from the
// oldest of them; delete the rest (ZooKeeper's PurgeTxnLog / autopurge). Snapshots are not
// verified here: a corrupt newest one makes recovery fall back to an older retained one, which
// is why at least 3 are kept and the logs are kept from the OLDEST retained snapshot.
import { assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';
import type { Disk } from '../../io/disk.js';
import { type DataDirs, listLogSegments, listSnapshots, segmentsFrom, type StorageFile, storageLayout } from './layout.js';

export interface PurgeOptions {
  /** Snapshots to keep (default constants.snapRetainCount); below 3 counts as 3, as in ZooKeeper. */
  retain?: number;
}

export interface PurgeResult {
  deletedSnapshots: string[];
  deletedLogs: string[];
  /** zxid of the oldest snapshot kept, null if there are none (then nothing is deleted). */
  oldestRetainedZxid: bigint | null;
}

export const snapRetainCountMin = constants.snapRetainCountMin;

/** Which files purge would delete. Pure, so the rule is easy to test. */
export function purgePlan(snaps: StorageFile[], logs: StorageFile[], retain: number): { snaps: StorageFile[]; logs: StorageFile[]; oldest: bigint | null } {
  assert(retain >= snapRetainCountMin, () => `retain at least ${snapRetainCountMin} snapshots`);
  const deleteSnaps = snaps.slice(0, Math.max(0, snaps.length - retain));
  const oldest = snaps[deleteSnaps.length]?.zxid ?? null;
  // No snapshot at all: the log is the only copy of the data, keep all of it.
  if (oldest === null) return { snaps: [], logs: [], oldest };
  const keepLogs = segmentsFrom(logs, oldest);
  return { snaps: deleteSnaps, logs: logs.slice(0, logs.length - keepLogs.length), oldest };
}

export async function purge(disk: Disk, dirs: DataDirs, options: PurgeOptions = {}): Promise<PurgeResult> {
  // ZooKeeper's DatadirCleanupManager also raises a smaller autopurge.snapRetainCount to 3.
  const retain = Math.max(snapRetainCountMin, options.retain ?? constants.snapRetainCount);
  const layout = storageLayout(dirs, disk);
  const snaps = await listSnapshots(disk, layout.snapDir);
  const logs = await listLogSegments(disk, layout.logDir);
  const plan = purgePlan(snaps, logs, retain);
  // Snapshots first: if we crash halfway, every snapshot left still has the logs after it.
  for (const f of plan.snaps) await disk.unlink(f.path);
  for (const f of plan.logs) await disk.unlink(f.path);
  const touched = new Set<string>();
  if (plan.snaps.length > 0) touched.add(layout.snapDir);
  if (plan.logs.length > 0) touched.add(layout.logDir);
  for (const dir of touched) await disk.fsyncDir(dir);
  return { deletedSnapshots: plan.snaps.map((f) => f.path), deletedLogs: plan.logs.map((f) => f.path), oldestRetainedZxid: plan.oldest };
}
