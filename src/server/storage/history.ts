// Rewriting history for Zab's sync: TRUNC (cut the log back to a zxid) and SNAP (replace the
// whole state with a leader's image). Both touch several files, which a crash could leave half
// done — a log cut in one segment but not the next is a hole, a new snapshot with the old
// divergent log after it is a mix of two histories. So each first writes an intent file
// (`storage.intent`, replaced atomically) naming what it does; recovery finds an intent left by a
// crash and finishes it before reading anything. Every step is idempotent, so redoing a
// half-done one is safe. A crash before the intent is durable leaves the old history untouched.
//
//   truncateLog(layout, z)        snapshots > z deleted (they hold the cut txns: ZOOKEEPER-1549),
//                                 segments named > z deleted, the one holding z cut after it
//   installSnapshot(layout, snap) snapshot.<z> written, snapshots > z and every segment deleted:
//                                 the history restarts at z + 1
//
// Callers close the TxnLog first (it holds the active segment open) and recover afresh after.
import { assert } from '../../common/assert.js';
import { zxidHex } from '../../common/zxid.js';
import { readSmallFile, removeFileDurably, writeFileDurably } from './durable-file.js';
import { listLogSegments, listSnapshots, type StorageFile, type StorageLayout } from './layout.js';
import { storageLimits as L } from './limits.js';
import { scanSegment } from './logformat.js';
import { type SnapshotContent, writeSnapshotFile } from './snapshot.js';

export const intentFile = 'storage.intent';

export type Intent = { kind: 'truncate'; zxid: bigint } | { kind: 'install'; zxid: bigint };

export interface TruncateResult {
  zxid: bigint;
  deletedSnapshots: string[];
  deletedSegments: string[];
  /** The segment cut after zxid, if one held records above it. */
  cutSegment: { path: string; offset: number } | null;
}

export interface InstallResult {
  path: string;
  deletedSnapshots: string[];
  deletedSegments: string[];
}

export class TruncateError extends Error {
  override name = 'TruncateError';
  constructor(
    readonly zxid: bigint,
    readonly reason: string,
  ) {
    super(`cannot truncate the log to ${zxidHex(zxid)}: ${reason}`);
  }
}

export class IntentFileError extends Error {
  override name = 'IntentFileError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`storage intent file ${path}: ${reason}. Refusing to start.`);
  }
}

/**
 * Removes every log record with zxid > `zxid` and every snapshot above it, durably. Afterwards
 * recovery gives exactly the history through zxid, and appends continue above it (in a new
 * segment: the cut one has no zero fill left). Throws TruncateError if it would delete every
 * snapshot while an older state may have been purged (the caller then needs a SNAP).
 */
export async function truncateLog(layout: StorageLayout, zxid: bigint): Promise<TruncateResult> {
  assert(zxid >= 0n, 'zxid is unsigned');
  const snaps = await listSnapshots(layout.disk, layout.snapDir);
  const kept = snaps.filter((s) => s.zxid <= zxid);
  // Without a snapshot at or below zxid the log alone must rebuild the state, and purge may have
  // deleted its beginning (it keeps logs only from the oldest retained snapshot).
  if (snaps.length > 0 && kept.length === 0 && zxid > 0n) {
    throw new TruncateError(zxid, `every snapshot (oldest ${zxidHex(snaps[0]!.zxid)}) is above it and the log may not reach back far enough`);
  }
  await writeIntent(layout, { kind: 'truncate', zxid });
  const result = await applyTruncate(layout, zxid);
  await removeFileDurably(layout.disk, layout.logDir, intentFile);
  return result;
}

/**
 * SNAP: makes `content` the whole durable state at content.zxid. The snapshot file is written
 * (fsynced, renamed, directory fsynced), then every log segment and every newer snapshot goes.
 * `writtenFile`, if given, completes a file of the same state written as the SNAP arrived instead.
 */
export async function installSnapshot(layout: StorageLayout, content: SnapshotContent, writtenFile?: () => Promise<string>): Promise<InstallResult> {
  await writeIntent(layout, { kind: 'install', zxid: content.zxid });
  // writtenFile: the same snapshot, already written as it arrived (snapshot-stream.ts), made durable.
  const path = writtenFile !== undefined ? await writtenFile() : await writeSnapshotFile(layout.disk, layout.snapDir, content);
  const result = await applyInstall(layout, content.zxid);
  await removeFileDurably(layout.disk, layout.logDir, intentFile);
  return { path, ...result };
}

/**
 * Recovery's first step: finishes a truncation or install a crash interrupted. An install whose
 * snapshot never became durable is dropped (the old state is intact). Returns what was done.
 */
export async function completeIntent(layout: StorageLayout): Promise<Intent | null> {
  const intent = await readIntent(layout);
  if (intent === null) return null;
  if (intent.kind === 'truncate') {
    await applyTruncate(layout, intent.zxid);
  } else {
    const snaps = await listSnapshots(layout.disk, layout.snapDir);
    if (snaps.some((s) => s.zxid === intent.zxid)) await applyInstall(layout, intent.zxid);
  }
  await removeFileDurably(layout.disk, layout.logDir, intentFile);
  return intent;
}

async function writeIntent(layout: StorageLayout, intent: Intent): Promise<void> {
  await writeFileDurably(layout.disk, layout.logDir, intentFile, Buffer.from(`${intent.kind} ${zxidHex(intent.zxid)}\n`));
}

async function readIntent(layout: StorageLayout): Promise<Intent | null> {
  const buf = await readSmallFile(layout.disk, layout.logDir, intentFile);
  if (buf === null) return null;
  // The file only ever appears complete (tmp + fsync + rename), so anything else is damage.
  const m = /^(truncate|install) 0x([0-9a-f]{1,16})\n$/.exec(buf.toString('utf8'));
  if (m === null) throw new IntentFileError(`${layout.logDir}/${intentFile}`, `unreadable content ${JSON.stringify(buf.toString('utf8').slice(0, 40))}`);
  return { kind: m[1] as Intent['kind'], zxid: BigInt('0x' + m[2]!) };
}

async function unlinkAll(layout: StorageLayout, dir: string, files: StorageFile[]): Promise<string[]> {
  // Newest first: a crash midway (without the intent) would still leave a prefix, not a hole.
  for (const f of [...files].reverse()) await layout.disk.unlink(f.path);
  if (files.length > 0) await layout.disk.fsyncDir(dir);
  return files.map((f) => f.path);
}

async function applyTruncate(layout: StorageLayout, zxid: bigint): Promise<TruncateResult> {
  const { disk } = layout;
  const snaps = await listSnapshots(disk, layout.snapDir);
  const deletedSnapshots = await unlinkAll(layout, layout.snapDir, snaps.filter((s) => s.zxid > zxid));
  const segments = await listLogSegments(disk, layout.logDir);
  const deletedSegments = await unlinkAll(layout, layout.logDir, segments.filter((s) => s.zxid > zxid));
  const holding = segments.filter((s) => s.zxid <= zxid).at(-1);
  let cutSegment: TruncateResult['cutSegment'] = null;
  if (holding !== undefined) {
    const buf = await disk.readFile(holding.path);
    const scan = scanSegment(buf, holding.zxid, null);
    let offset = L.logSegmentHeaderBytes;
    let lastKept: bigint | null = null;
    for (const r of scan.records) {
      if (r.zxid > zxid) break;
      offset = r.offset + r.size;
      lastKept = r.zxid;
    }
    if (scan.end.kind === 'corrupt' && (lastKept === null || lastKept < zxid)) {
      // Records at or below zxid may sit behind the damage: cutting would lose them silently.
      throw new TruncateError(zxid, `${holding.path} is damaged at byte ${scan.end.offset} (${scan.end.reason})`);
    }
    // Records above zxid, or anything that is not a clean end: cut. A clean segment that ends
    // at or below zxid keeps its zero fill, so appends may continue in it.
    const above = scan.records.some((r) => r.zxid > zxid);
    if (above || scan.end.kind !== 'clean') {
      assert(offset >= L.logSegmentHeaderBytes && offset <= buf.length, 'cut inside the segment');
      const fh = await disk.open(holding.path, 'r+');
      try {
        await fh.truncate(offset);
        await fh.sync(); // the size is metadata: fsync, not fdatasync
      } finally {
        await fh.close();
      }
      cutSegment = { path: holding.path, offset };
    }
  }
  return { zxid, deletedSnapshots, deletedSegments, cutSegment };
}

async function applyInstall(layout: StorageLayout, zxid: bigint): Promise<Omit<InstallResult, 'path'>> {
  const { disk } = layout;
  const snaps = await listSnapshots(disk, layout.snapDir);
  const deletedSnapshots = await unlinkAll(layout, layout.snapDir, snaps.filter((s) => s.zxid > zxid));
  const deletedSegments = await unlinkAll(layout, layout.logDir, await listLogSegments(disk, layout.logDir));
  return { deletedSnapshots, deletedSegments };
}
