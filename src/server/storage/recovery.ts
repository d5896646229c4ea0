// Startup recovery: the newest snapshot that verifies, then the log records after it.
//
//   const rec = await recover(disk, { dataDir }, { onProgress, onWarning });
//   if (rec.snapshot) tree.loadImage(rec.snapshot.image), sessions.load(rec.snapshot.meta);
//   for await (const r of rec.records) applyTxn(r);      // zxid > snapshot zxid, in order
//   const log = await rec.openLog();                      // appends continue after the last record
//
// Each segment is read whole and validated before any of its records is yielded. A torn tail of
// the LAST segment (the only one ever written after its last fdatasync) is cut back to the last
// good record, fsynced, and reported through onWarning. Anything else — a bad record with valid
// data after it, a bad non-last segment, a gap between replayed zxids — throws
// LogCorruptError: the server must not start on a log with a hole in acknowledged history.
import { assert } from '../../common/assert.js';
import { zxidHex } from '../../common/zxid.js';
import type { Disk } from '../../io/disk.js';
import type { LogRecord } from '../pipeline/api.js';
import { type DataDirs, ensureLayout, listLogSegments, listSnapshots, removeTempFiles, segmentsFrom, type StorageFile, type StorageLayout, storageLayout } from './layout.js';
import { completeIntent, type Intent } from './history.js';
import { storageLimits as L } from './limits.js';
import { recordFixedBytes, type ScanEnd, scanSegment, type SegmentScan, zxidFollows } from './logformat.js';
import { type LoadedSnapshot, loadNewestSnapshot } from './snapshot.js';
import { type LogTail, openTxnLog, type TxnLog, type TxnLogOptions } from './txnlog.js';

export interface RecoveryProgress {
  phase: 'snapshot' | 'log';
  /** Bytes read so far over the whole recovery. */
  bytesRead: number;
  /** Snapshot plus the segments to replay; grows if a corrupt snapshot makes us fall back. */
  bytesTotal: number;
}

export type RecoveryWarning =
  | { kind: 'tornTail'; path: string; offset: number; lastGoodZxid: bigint | null; bytesCut: number; reason: string }
  | { kind: 'corruptSnapshot'; path: string; reason: string }
  | { kind: 'tempFileRemoved'; path: string }
  | { kind: 'emptySegmentRemoved'; path: string }
  /** A truncation or snapshot install a crash interrupted was finished before reading. */
  | { kind: 'intentCompleted'; intent: Intent };

export interface RecoverOptions {
  onProgress?: (p: RecoveryProgress) => void;
  onWarning?: (w: RecoveryWarning) => void;
  /** Where to load the snapshot image (e.g. a SharedArrayBuffer view). */
  allocImage?: (bytes: number) => Uint8Array;
  /**
   * Records read from the log that the snapshot already covers (zxid <= its zxid), oldest
   * first, before the replayed ones: the history window can include them. `bytes` is a view
   * valid during the call only.
   */
  onCoveredRecord?: (zxid: bigint, bytes: Uint8Array) => void;
}

export interface Recovery {
  layout: StorageLayout;
  snapshot: LoadedSnapshot | null;
  /** Records with zxid > snapshot zxid, oldest first. Single use; payloads are private copies. */
  records: AsyncIterable<LogRecord>;
  /** Highest zxid recovered (snapshot or log) once `records` is consumed; null if none. */
  lastZxid(): bigint | null;
  /** The log, ready for appends. Only after `records` was consumed to the end. */
  openLog(options?: TxnLogOptions): Promise<TxnLog>;
}

export class LogCorruptError extends Error {
  override name = 'LogCorruptError';
  constructor(
    readonly path: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`txn log ${path} is corrupt at byte ${offset}: ${reason}. Refusing to start; restore this server from a peer or a backup.`);
  }
}

export async function recover(disk: Disk, dirs: DataDirs, options: RecoverOptions = {}): Promise<Recovery> {
  const layout = storageLayout(dirs, disk);
  await ensureLayout(layout);
  const warn = options.onWarning ?? (() => undefined);
  for (const dir of new Set([layout.snapDir, layout.logDir])) {
    for (const name of await removeTempFiles(disk, dir)) warn({ kind: 'tempFileRemoved', path: `${dir}/${name}` });
  }
  const intent = await completeIntent(layout);
  if (intent !== null) warn({ kind: 'intentCompleted', intent });

  const snaps = await listSnapshots(disk, layout.snapDir);
  const segments = await listLogSegments(disk, layout.logDir);
  const progress = { bytesRead: 0, bytesTotal: 0 };
  const report = (phase: RecoveryProgress['phase']): void => options.onProgress?.({ phase, ...progress });
  const newest = snaps.at(-1);
  progress.bytesTotal = (newest ? await disk.size(newest.path) : 0) + (await sizeOf(disk, segmentsFrom(segments, newest?.zxid ?? null)));

  let snapBase = 0;
  const snapshot = await loadNewestSnapshot(disk, layout.snapDir, {
    ...(options.allocImage ? { allocImage: options.allocImage } : {}),
    onBytes: (read, total) => {
      progress.bytesRead = snapBase + read;
      if (read === total) snapBase += total;
      report('snapshot');
    },
    onCorrupt: (err) => {
      warn({ kind: 'corruptSnapshot', path: err.path, reason: err.reason });
    },
  });
  const snapZxid = snapshot?.zxid ?? null;
  const toRead = segmentsFrom(segments, snapZxid);
  progress.bytesRead = snapBase;
  progress.bytesTotal = snapBase + (await sizeOf(disk, toRead));
  report('log');

  let tail: LogTail | null = null;
  let consumed = false;
  let lastLogZxid: bigint | null = null;

  async function* replay(): AsyncGenerator<LogRecord> {
    let prev: { file: StorageFile; endOffset: number; lastZxid: bigint } | null = null; // last non-empty
    let lastZxid: bigint | null = null; // across segments
    let lastWasEmpty = false;
    for (let i = 0; i < toRead.length; i++) {
      const file = toRead[i]!;
      const isLast = i === toRead.length - 1;
      // The last segment is usually mostly zero fill; when the snapshot covers every record in
      // it (a clean stop snapshots at the last zxid) only its records are read, not 64 MiB.
      const covered = isLast && snapZxid !== null ? await scanCoveredPrefix(disk, file, snapZxid) : null;
      const buf = covered?.buf ?? (await disk.readFile(file.path));
      progress.bytesRead += covered?.fileBytes ?? buf.length;
      report('log');
      const scan = covered?.scan ?? scanSegment(buf, file.zxid, null);
      checkEnd(file, scan.end, isLast);
      if (covered !== null && scan.records.length > 0) {
        // The rest of the file was not checked, so it is never appended to: cut it off (zero
        // fill, or an unsynced torn write) and let the next append start a new segment.
        await cutBack(disk, file.path, scan.endOffset);
      }
      if (prev !== null && prev.lastZxid >= file.zxid) {
        throw new LogCorruptError(prev.file.path, prev.endOffset, `holds zxid ${zxidHex(prev.lastZxid)}, not below the next segment ${file.name}`);
      }
      if (scan.end.kind === 'torn') {
        assert(isLast, 'only the last segment may be torn');
        const lastGood = scan.records.at(-1)?.zxid ?? lastZxid;
        await cutBack(disk, file.path, scan.endOffset);
        warn({ kind: 'tornTail', path: file.path, offset: scan.endOffset, lastGoodZxid: lastGood, bytesCut: buf.length - scan.endOffset, reason: scan.end.reason });
      }
      for (const r of scan.records) {
        const replayed = snapZxid === null || r.zxid > snapZxid;
        if (replayed) {
          const before = lastZxid !== null && (snapZxid === null || lastZxid > snapZxid) ? lastZxid : snapZxid;
          if (before !== null && !zxidFollows(before, r.zxid)) {
            throw new LogCorruptError(file.path, r.offset, `gap in zxids: ${zxidHex(before)} then ${zxidHex(r.zxid)}`);
          }
        }
        lastZxid = r.zxid;
        if (!replayed) options.onCoveredRecord?.(r.zxid, buf.subarray(r.offset + recordFixedBytes, r.offset + r.size));
        if (replayed) yield { zxid: r.zxid, bytes: new Uint8Array(buf.subarray(r.offset + recordFixedBytes, r.offset + r.size)) };
      }
      const last = scan.records.at(-1);
      if (last !== undefined) prev = { file, endOffset: scan.endOffset, lastZxid: last.zxid };
      lastWasEmpty = last === undefined;
    }
    const lastFile = toRead.at(-1);
    if (lastFile !== undefined && lastWasEmpty) {
      // An empty last segment (a crash right after a roll): drop it, so the next segment is
      // named by its real first zxid, which may be lower after a leader change.
      await disk.unlink(lastFile.path);
      await disk.fsyncDir(layout.logDir);
      warn({ kind: 'emptySegmentRemoved', path: lastFile.path });
    }
    // Appends continue in the newest remaining segment; if that one is not the newest file
    // (an empty one sits between), the next append opens a new segment instead.
    const newestRemaining = lastWasEmpty ? toRead.at(-2) : lastFile;
    if (prev !== null && newestRemaining === prev.file) {
      tail = { path: prev.file.path, nameZxid: prev.file.zxid, endOffset: prev.endOffset };
    }
    lastLogZxid = lastZxid;
    consumed = true;
  }

  return {
    layout,
    snapshot,
    records: { [Symbol.asyncIterator]: () => replay() },
    lastZxid() {
      assert(consumed, 'records consumed before lastZxid()');
      if (lastLogZxid === null) return snapZxid;
      if (snapZxid === null) return lastLogZxid;
      return lastLogZxid > snapZxid ? lastLogZxid : snapZxid;
    },
    async openLog(logOptions: TxnLogOptions = {}) {
      assert(consumed, 'records consumed before openLog()');
      return openTxnLog(layout, { tail, lastZxid: lastLogZxid }, logOptions);
    },
  };
}

function checkEnd(file: StorageFile, end: ScanEnd, isLast: boolean): void {
  if (end.kind === 'corrupt') throw new LogCorruptError(file.path, end.offset, end.reason);
  if (end.kind === 'torn' && !isLast) throw new LogCorruptError(file.path, end.offset, `${end.reason} in a segment that is not the last`);
}

async function cutBack(disk: Disk, path: string, endOffset: number): Promise<void> {
  assert(endOffset >= L.logSegmentHeaderBytes, 'never cut into the segment header');
  const fh = await disk.open(path, 'r+');
  try {
    await fh.truncate(endOffset);
    await fh.sync(); // the new size is metadata: fsync, not fdatasync
  } finally {
    await fh.close();
  }
}

/**
 * Reads a growing prefix of the last segment while it ends cleanly inside the prefix with every
 * record at or below snapZxid. Returns that scan, or null when the whole file must be read
 * (records above the snapshot, a bad spot, or the prefix reached the end of the file).
 *
 * What goes unchecked is the region after the end marker. Anything there was never
 * acknowledged unless a synced record's length field decayed to exactly zero: the snapshot holds
 * every record the scan saw, and recovery then cuts the file at the marker.
 */
async function scanCoveredPrefix(disk: Disk, file: StorageFile, snapZxid: bigint): Promise<{ buf: Buffer; scan: SegmentScan; fileBytes: number } | null> {
  const fh = await disk.open(file.path, 'r');
  try {
    const fileBytes = await fh.size();
    for (let n = L.logCoveredPrefixBytes; n < fileBytes; n *= 4) {
      const buf = Buffer.alloc(n);
      for (let done = 0; done < n; ) {
        const got = await fh.read(buf, done, n - done, done);
        if (got === 0) return null; // shrank under us: take the normal path
        done += got;
      }
      const scan = scanSegment(buf, file.zxid, null);
      if (scan.end.kind === 'corrupt') return null;
      const last = scan.records.at(-1);
      if (last !== undefined && last.zxid > snapZxid) return null;
      if (scan.end.kind === 'clean' && scan.endOffset < n) return { buf, scan, fileBytes };
      // A record cut by the prefix's end looks torn: read more.
    }
    return null;
  } finally {
    await fh.close();
  }
}

async function sizeOf(disk: Disk, files: StorageFile[]): Promise<number> {
  let total = 0;
  for (const f of files) total += await disk.size(f.path);
  return total;
}
