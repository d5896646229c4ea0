// The transaction log: append-only, preallocated segment files with group commit.
//
//   append(batch) ... append(batch)   encode into one pending buffer (no I/O, main thread)
//   await sync()                       one pwrite per segment touched + ONE fdatasync
//
// Only after sync() resolves may the caller acknowledge the records (save before you send).
// append() may be called while a sync is in flight; those records go to the next sync, and
// sync() calls run one after another. A failed write or fdatasync poisons the log: on Linux a
// failed fsync may already have dropped the dirty pages, so retrying could "succeed" without the
// data (native-notes/fsync.md) — the server must stop.
//
// A new segment is prepared ahead (the "spare": header + zero fill, fsynced) when the active one
// is half full, so a roll is only a rename and a directory fsync. A record whose zxid does not
// directly follow the previous one (a Zab SNAP sync jumped ahead) also starts a new segment, so
// gaps only ever sit between segments and recovery can tell them from damage.
import { join } from 'node:path';
import { assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';
import { zxidHex } from '../../common/zxid.js';
import type { Disk, DiskFile } from '../../io/disk.js';
import type { LogRecord } from '../pipeline/api.js';
import { logFileName, type StorageLayout, tmpSuffix } from './layout.js';
import { storageLimits as L } from './limits.js';
import { encodeRecord, encodeSegmentHeader, recordBytes, zxidFollows } from './logformat.js';

export interface TxnLogOptions {
  /** Preallocated size of each new segment (default constants.logSegmentBytes). */
  segmentBytes?: number;
  /**
   * Whether sync() may write + fdatasync with blocking calls on the calling thread when nothing
   * is queued (default true: the standalone write loop, whose main thread has nothing else to do
   * meanwhile). An ensemble server passes false: its main thread also reads peer links, sends
   * proposals and counts ACKs, which must go on while an fdatasync is under way.
   */
  syncInline?: boolean;
}

/** Where the recovered log ends; recovery hands it to openTxnLog. */
export interface LogTail {
  path: string;
  nameZxid: bigint;
  /** Byte after the last good record: the next append goes here. */
  endOffset: number;
}

export interface LogState {
  /** The segment to continue in, or null to start a new one at the next sync. */
  tail: LogTail | null;
  /** The last record's zxid in the whole log (appends must go above it), null if empty. */
  lastZxid: bigint | null;
}

interface Segment {
  fh: DiskFile;
  path: string;
  nameZxid: bigint;
  sizeBytes: number; // file size (preallocated)
  offset: number; // next write position
}

interface Batch {
  buf: Buffer;
  ends: number[]; // end offset of each record in buf
  zxids: bigint[];
  mustRoll: boolean[]; // record starts a new segment (zxid gap)
}

const spareName = 'log.spare' + tmpSuffix;
const pendingInitialBytes = 64 * 1024;

/** Opens the log for appends. Use Recovery.openLog(); this is its building block. */
export async function openTxnLog(layout: StorageLayout, state: LogState, options: TxnLogOptions = {}): Promise<TxnLog> {
  const { tail } = state;
  const segmentBytes = options.segmentBytes ?? constants.logSegmentBytes;
  assert(segmentBytes >= L.logSegmentBytesMin, 'segment size above minimum');
  assert(segmentBytes % 8 === 0, 'segment size is a multiple of 8');
  let active: Segment | null = null;
  if (tail !== null) {
    const fh = await layout.disk.open(tail.path, 'r+');
    const size = await fh.size();
    assert(tail.endOffset >= L.logSegmentHeaderBytes && tail.endOffset <= size, 'tail offset inside the segment');
    // A tail cut back by recovery has no zero fill left: nothing fits, so the next sync rolls.
    active = { fh, path: tail.path, nameZxid: tail.nameZxid, sizeBytes: size, offset: tail.endOffset };
  }
  return new TxnLog(layout.disk, layout.logDir, segmentBytes, active, state.lastZxid, options.syncInline ?? true);
}

export class TxnLog {
  private pending: Batch;
  private pendingBytes = 0;
  private lastAppended: bigint | null;
  private lastSynced: bigint | null;
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;
  private failed: Error | null = null;
  private spare: Promise<{ fh: DiskFile; path: string }> | null = null;
  private closed = false;
  /** Counters for tests and metrics. */
  readonly stats = { syncs: 0, fdatasyncs: 0, writes: 0, rolls: 0, recordsSynced: 0 };

  constructor(
    private readonly disk: Disk,
    private readonly logDir: string,
    private readonly segmentBytes: number,
    private active: Segment | null,
    lastZxid: bigint | null,
    private readonly inlineAllowed: boolean,
  ) {
    this.pending = emptyBatch(pendingInitialBytes);
    this.lastAppended = lastZxid;
    this.lastSynced = lastZxid;
  }

  /** Zxid of the last record appended (synced or not), null for an empty log. */
  get lastAppendedZxid(): bigint | null {
    return this.lastAppended;
  }

  /** Zxid of the last record known durable. */
  get lastSyncedZxid(): bigint | null {
    return this.lastSynced;
  }

  /** Buffers records for the next sync(). zxids strictly increase across all calls. */
  append(records: readonly LogRecord[]): void {
    this.checkUsable();
    for (const r of records) {
      const prev = this.lastAppended;
      assert(prev === null || r.zxid > prev, () => `zxid ${zxidHex(r.zxid)} above last appended ${prev === null ? '-' : zxidHex(prev)}`);
      assert(r.bytes.length <= L.logRecordPayloadBytesMax, () => `record ${zxidHex(r.zxid)} of ${r.bytes.length} bytes within bound`);
      const size = recordBytes(r.bytes.length);
      assert(L.logSegmentHeaderBytes + size <= this.segmentBytes, 'record fits an empty segment');
      this.reserve(size);
      const b = this.pending;
      encodeRecord(b.buf, this.pendingBytes, r.zxid, r.bytes);
      this.pendingBytes += size;
      b.ends.push(this.pendingBytes);
      b.zxids.push(r.zxid);
      b.mustRoll.push(prev !== null && !zxidFollows(prev, r.zxid));
      this.lastAppended = r.zxid;
    }
  }

  /**
   * Makes every record appended so far durable: writes them with one write per segment and one
   * fdatasync (two only when the batch crosses into a new segment). Resolves after the fdatasync.
   */
  sync(): Promise<void> {
    this.checkUsable();
    assert(this.queued < L.logSyncsQueuedMax, 'sync() calls queued within bound');
    if (this.syncInline()) return Promise.resolve();
    const batch = this.takePending();
    this.queued++;
    const done = this.chain.then(() => this.runSync(batch));
    this.chain = done.then(
      () => void this.queued--,
      () => void this.queued--,
    );
    return done;
  }

  /**
   * The common case done with blocking calls: nothing queued, the batch fits the active segment
   * and starts no new one. A blocking write + fdatasync of a batch takes ~0.2-1.3 ms here, while
   * the same through libuv's thread pool adds ~0.6 ms of hand-off latency to every batch, which
   * caps a group-committing writer at far fewer batches per second (native-notes/fsync.md).
   */
  private syncInline(): boolean {
    const seg = this.active;
    const b = this.pending;
    if (!this.inlineAllowed || seg === null || this.queued !== 0 || this.pendingBytes === 0) return false;
    if (seg.offset + this.pendingBytes > seg.sizeBytes) return false;
    for (const roll of b.mustRoll) if (roll) return false;
    const batch = this.takePending();
    try {
      let done = 0;
      while (done < batch.buf.length) {
        const n = seg.fh.writeSync(batch.buf, done, batch.buf.length - done, seg.offset + done);
        this.stats.writes++;
        assert(n > 0, 'write makes progress');
        done += n;
      }
      seg.fh.datasyncSync();
    } catch (err) {
      this.failed = err instanceof Error ? err : new Error(String(err));
      throw err;
    }
    this.stats.syncs++;
    this.stats.fdatasyncs++;
    seg.offset += batch.buf.length;
    this.lastSynced = batch.zxids[batch.zxids.length - 1]!;
    this.stats.recordsSynced += batch.zxids.length;
    if (this.spare === null && seg.offset > seg.sizeBytes / 2) this.prepareSpare();
    return true;
  }

  /** Waits for queued syncs, then closes files. Unsynced appends are an error (they'd be lost). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    assert(this.failed !== null || this.pendingBytes === 0, 'close() after the last sync()');
    if (this.active !== null) await this.active.fh.close();
    this.active = null;
    if (this.spare !== null) {
      const spare = await this.spare.catch(() => null);
      if (spare !== null) {
        await spare.fh.close();
        await this.disk.unlink(spare.path);
      }
    }
  }

  private checkUsable(): void {
    if (this.failed !== null) throw new Error(`txn log failed earlier, restart the server: ${this.failed.message}`);
    assert(!this.closed, 'txn log is open');
  }

  private reserve(size: number): void {
    const need = this.pendingBytes + size;
    assert(need <= L.logPendingBytesMax, () => `pending log bytes ${need} within ${L.logPendingBytesMax}: sync more often`);
    if (need <= this.pending.buf.length) return;
    let cap = this.pending.buf.length * 2;
    while (cap < need) cap *= 2;
    const buf = Buffer.allocUnsafe(Math.min(cap, L.logPendingBytesMax));
    this.pending.buf.copy(buf, 0, 0, this.pendingBytes);
    this.pending.buf = buf;
  }

  private takePending(): Batch {
    const b = this.pending;
    const taken = { ...b, buf: b.buf.subarray(0, this.pendingBytes) };
    // The taken bytes stay referenced by the queued sync, so the next batch needs its own buffer.
    this.pending = emptyBatch(Math.max(pendingInitialBytes, Math.min(b.buf.length, 4 * 1_048_576)));
    this.pendingBytes = 0;
    return taken;
  }

  private async runSync(batch: Batch): Promise<void> {
    this.checkUsable();
    try {
      await this.writeBatch(batch);
    } catch (err) {
      this.failed = err instanceof Error ? err : new Error(String(err));
      throw err;
    }
  }

  private async writeBatch(batch: Batch): Promise<void> {
    this.stats.syncs++;
    const n = batch.ends.length;
    if (n === 0) return;
    let runStart = 0;
    for (let i = 0; i < n; i++) {
      const recStart = i === 0 ? 0 : batch.ends[i - 1]!;
      const size = batch.ends[i]! - recStart;
      const seg = this.active;
      const fits = seg !== null && seg.offset + (recStart - runStart) + size <= seg.sizeBytes;
      if (fits && !batch.mustRoll[i]) continue;
      if (seg !== null) {
        if (recStart > runStart) await this.writeRun(seg, batch.buf.subarray(runStart, recStart));
        await seg.fh.close();
        this.active = null;
      }
      this.active = await this.roll(batch.zxids[i]!);
      runStart = recStart;
    }
    const seg = this.active;
    assert(seg !== null, 'a segment is active after writing records');
    await this.writeRun(seg, batch.buf.subarray(runStart));
    this.lastSynced = batch.zxids[n - 1]!;
    this.stats.recordsSynced += n;
    if (this.spare === null && seg.offset > seg.sizeBytes / 2) this.prepareSpare();
  }

  /** One positioned write of contiguous records, then fdatasync: the records are durable. */
  private async writeRun(seg: Segment, bytes: Buffer): Promise<void> {
    assert(seg.offset + bytes.length <= seg.sizeBytes, 'run stays inside the preallocated segment');
    let done = 0;
    while (done < bytes.length) {
      const bytesWritten = await seg.fh.write(bytes, done, bytes.length - done, seg.offset + done);
      this.stats.writes++;
      assert(bytesWritten > 0, 'write makes progress');
      done += bytesWritten;
    }
    // fdatasync, not fsync: the file size and blocks are fixed by preallocation, so only the
    // data (and no inode metadata needed to read it back) must reach the disk.
    await seg.fh.datasync();
    this.stats.fdatasyncs++;
    seg.offset += bytes.length;
  }

  /**
   * Starts preparing the next segment now, in the background, if none is being prepared: for a
   * log that has no active segment (after a SNAP) the first sync otherwise waits for a whole
   * segment to be zero-filled and fsynced.
   */
  prepareSegment(): void {
    this.checkUsable();
    if (this.spare === null) this.prepareSpare();
  }

  private prepareSpare(): void {
    const spare = this.createSpare();
    spare.catch(() => undefined); // reported when the roll awaits it
    this.spare = spare;
  }

  /** A fully written, fsynced segment file under a temporary name. */
  private async createSpare(): Promise<{ fh: DiskFile; path: string }> {
    const path = join(this.logDir, spareName);
    const fh = await this.disk.open(path, 'w+');
    try {
      await fh.write(encodeSegmentHeader(), 0, L.logSegmentHeaderBytes, 0);
      const zeros = Buffer.alloc(Math.min(L.logPreallocChunkBytes, this.segmentBytes));
      for (let pos = L.logSegmentHeaderBytes; pos < this.segmentBytes; ) {
        const n = Math.min(zeros.length, this.segmentBytes - pos);
        const bytesWritten = await fh.write(zeros, 0, n, pos);
        assert(bytesWritten > 0, 'prealloc write makes progress');
        pos += bytesWritten;
      }
      // Full fsync: the size and the block allocation are metadata, made durable here once so
      // that every later fdatasync has only data to flush.
      await fh.sync();
      return { fh, path };
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** Turns the spare into log.<hex zxid> and makes the new name durable. */
  private async roll(firstZxid: bigint): Promise<Segment> {
    const spare = await (this.spare ?? this.createSpare());
    this.spare = null;
    const path = join(this.logDir, logFileName(firstZxid));
    await this.disk.rename(spare.path, path);
    // Without this the new name may be lost in a power failure, and with it every record the
    // segment holds, although each fdatasync succeeded.
    await this.disk.fsyncDir(this.logDir);
    this.stats.rolls++;
    return { fh: spare.fh, path, nameZxid: firstZxid, sizeBytes: this.segmentBytes, offset: L.logSegmentHeaderBytes };
  }
}

function emptyBatch(bytes: number): Batch {
  return { buf: Buffer.allocUnsafe(bytes), ends: [], zxids: [], mustRoll: [] };
}
