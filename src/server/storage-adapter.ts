// Start-up and the background side of storage for the composition root: recovery (newest valid
// snapshot + log replay, with progress), the txn log the write loop appends to, snapshots taken
// from the shared tree every snapCount txns and written by a piscina job, and autopurge.
//
// For the ensemble it also keeps the epoch files, reads back the log's tail as the Zab history
// window, and rewrites history for Zab's sync: truncate(zxid) (TRUNC), followed by a fresh
// recovery, and installSnapshot (SNAP), which builds the new tree straight from the received
// image while the same bytes are made durable (storage/install.ts); either gives a NEW tree,
// pipeline and log (the getters below return the current ones; whoever holds the old tree —
// workers attached to its SharedArrayBuffer — must be re-pointed by the caller).
import cliProgress from 'cli-progress';
import type { Logger } from 'pino';
import { pack, unpack } from 'msgpackr';
import { isEnsemble, type ServerConfig } from '../common/config.js';
import { assert } from '../common/assert.js';
import { constants } from '../common/constants.js';
import { zxidEpoch, zxidHex } from '../common/zxid.js';
import { nodeClock } from '../io/node/clock.js';
import type { Disk } from '../io/disk.js';
import { nodeDisk } from '../io/node/disk.js';
import { createJobPool, type JobPool } from './jobs/pool.js';
import type { LogRecord } from './pipeline/api.js';
import { Pipeline } from './pipeline/index.js';
import { type Epochs, readEpochs, writeEpochs } from './storage/epochs.js';
import { HistoryWindow } from './storage/history-window.js';
import { truncateLog } from './storage/history.js';
import { installFromMemory, SnapshotImageError } from './storage/install.js';
import { type DataDirs, type StorageLayout, storageLayout } from './storage/layout.js';
import { recover, type RecoveryProgress } from './storage/recovery.js';
import { openTxnLog, type TxnLog } from './storage/txnlog.js';
import { SnapshotStreamWriter } from './storage/snapshot-stream.js';
import { writeSnapshotFile } from './storage/snapshot.js';
import type { SessionManager } from './sessions/manager.js';
import { serverOwnerCheck } from './sessions/server-owner.js';
import { allocTreeImage, createTree, treeFromLoadedImage, imageAppliedZxid, type TreeCapture, type TreeWriter } from './tree/index.js';

/** The applied state at one zxid: the tree as a capture (close it when read), the sessions packed. */
export interface StateCapture {
  zxid: bigint;
  capture: TreeCapture;
  meta: Uint8Array;
}

/** What openStorage uses for files on the main thread (tests pass a wrapped one); default real. */
export interface StorageIo {
  disk?: Disk;
}

export interface Storage {
  /** The current tree, pipeline and log (replaced by truncate() and installSnapshot()). */
  readonly tree: TreeWriter;
  readonly pipeline: Pipeline;
  readonly log: TxnLog;
  sessionsMax: number;
  containerCheckMs: number;
  afterBatch(txns: number): void;
  /**
   * Snapshots (every snapCount txns, and at a clean stop) are taken only while `guard` says so.
   * An ensemble server's tree may hold logged txns no leader has committed yet (the whole log is
   * replayed at start-up); a snapshot of them could later sit above a TRUNC point.
   */
  setSnapshotGuard(guard: () => boolean): void;
  findExpiredNodes(nowMs: number): string[];
  close(): Promise<void>;

  // ---- for the ensemble (Zab) ----
  /** acceptedEpoch / currentEpoch as last read or persisted (derived from the log if missing). */
  epochs(): Epochs;
  /** Writes both epoch files durably (acceptedEpoch first). */
  persistEpochs(epochs: Epochs): Promise<void>;
  /** The last zxid durable in the log, or the snapshot's when the log has none above it; 0n if none. */
  lastLoggedZxid(): bigint;
  /**
   * The newest log records as of the last (re)load, oldest first, ending at lastLoggedZxid()
   * (or empty): at most constants.recoveredHistoryTxnsMax records / recoveredHistoryBytesMax bytes.
   */
  history(): readonly LogRecord[];
  /**
   * The tree and the session table at the applied zxid, to send as a SNAP: the tree as a capture
   * (read while writes go on; the caller closes it), the sessions as snapshot meta.
   */
  snapshotCapture(): StateCapture;
  /** The same as one copied image (tests, and hosts that want the bytes at once). */
  snapshotContent(): { zxid: bigint; image: Uint8Array; meta: Uint8Array };
  /**
   * TRUNC: drops every logged txn above zxid (and snapshots above it), then reloads tree,
   * sessions and log from disk. Appends in flight must have been synced (the write loop idle).
   */
  truncate(zxid: bigint): Promise<void>;
  /**
   * SNAP: makes (image, meta) at zxid the whole durable state (resolves once the snapshot file
   * is fsynced and the old log is gone) and the tree, sessions and log the server runs on. The
   * tree is built from `image` in memory, not read back from the file. A whole view of a
   * SharedArrayBuffer from allocTreeImage() is adopted without a copy: the caller hands it over
   * and must not touch it again. Throws SnapshotImageError, with nothing changed, on an image
   * or meta that cannot be a tree. `written`: the same SNAP, written to a file as it arrived
   * (openSnapshotStream; `body` the whole SNAP byte string it was appended from): only completed.
   */
  installSnapshot(zxid: bigint, image: Uint8Array, meta: Uint8Array, written?: WrittenSnap): Promise<void>;
  /** A snapshot file of a SNAP of `totalBytes` at zxid, written as its bytes arrive (append them in order). */
  openSnapshotStream(zxid: bigint, totalBytes: number): SnapshotStreamWriter;
  /**
   * Maps in the pages of a fresh SharedArrayBuffer view on the job thread while this thread fills
   * it from the start (a SNAP arriving): first-touching 241 MB cost the receiving thread ~1 s here.
   */
  prefault(view: Uint8Array): void;
}

/** A SNAP's file written as it arrived, and the byte string it was written from. */
export interface WrittenSnap {
  writer: SnapshotStreamWriter;
  body: Uint8Array;
}

interface SnapshotMeta {
  formatVersion: 1;
  sessions: { sessionId: bigint; timeoutMs: number; password: Uint8Array }[];
}

/** What one recovery gives: the state the server runs on until the next reload. */
interface Loaded {
  tree: TreeWriter;
  pipeline: Pipeline;
  log: TxnLog;
  snapZxid: bigint;
  replayed: number;
  history: LogRecord[];
}

const standaloneEpoch = 1;
const progressMinBytes = 64 * 1_048_576; // smaller data dirs load too fast to need a bar

function clearSessions(sessions: SessionManager): void {
  for (const s of [...sessions.all()]) sessions.closed(s.sessionId);
}

function loadSessions(sessions: SessionManager, meta: SnapshotMeta): void {
  for (const s of meta.sessions) sessions.created(BigInt(s.sessionId), s.timeoutMs, new Uint8Array(s.password));
}

/** The pipeline over a tree whose state is the snapshot at snapZxid (log records not yet replayed). */
function newPipeline(config: ServerConfig, tree: TreeWriter, snapZxid: bigint, sessions: SessionManager): Pipeline {
  return new Pipeline(tree, {
    clock: { nowMs: nodeClock.wallMs }, // ctime/mtime are wall time
    // Standalone keeps the epoch of its data (1 for a new one); in an ensemble the leader
    // election hands out new ones. A snapshot an ensemble wrote may be of a later epoch.
    epoch: Math.max(standaloneEpoch, zxidEpoch(snapZxid)),
    lastZxid: snapZxid,
    serverId: config.serverId,
    dataBytesMax: config.dataBytesMax,
    isSessionLive: (sessionId) => sessions.get(sessionId) !== undefined,
    // An ensemble's leader refuses writes a session's old server still forwards (SESSIONMOVED).
    ...(isEnsemble(config) ? { checkOwner: serverOwnerCheck(sessions) } : {}),
  });
}

/** Recovers the data dir into a new tree and pipeline, filling `sessions` (emptied first). */
async function load(config: ServerConfig, logger: Logger, sessions: SessionManager, dirs: DataDirs, disk: Disk): Promise<Loaded> {
  const startMs = Date.now();
  clearSessions(sessions);
  const progress = progressReporter(logger);
  const window = new HistoryWindow(constants.recoveredHistoryTxnsMax, constants.recoveredHistoryBytesMax);
  const rec = await recover(disk, dirs, {
    onProgress: progress.update,
    allocImage: (bytes) => allocTreeImage(bytes),
    onCoveredRecord: (zxid, bytes) => window.push(zxid, bytes),
    onWarning: (w) => {
      if (w.kind === 'tornTail') {
        logger.warn({ file: w.path, offset: w.offset, lastGoodZxid: w.lastGoodZxid === null ? null : zxidHex(w.lastGoodZxid), bytesCut: w.bytesCut, reason: w.reason }, 'txn log had a torn or corrupt tail: truncated after the last good record');
      } else if (w.kind === 'intentCompleted') {
        logger.warn({ intent: w.intent.kind, zxid: zxidHex(w.intent.zxid) }, 'storage recovery: finished an interrupted log truncation or snapshot install');
      } else {
        logger.warn(w, `storage recovery: ${w.kind}`);
      }
    },
  });
  let tree: TreeWriter;
  if (rec.snapshot) {
    // The snapshot's CRC32C and header are always checked; the full structure walk is opt-in
    // (--verify-snapshot) because it costs ~0.5 s per million znodes at every start, and the
    // image comes from a tree whose writer asserts its invariants on every change.
    tree = treeFromLoadedImage(rec.snapshot.image, { verify: config.verifySnapshot });
    loadSessions(sessions, unpack(rec.snapshot.meta) as SnapshotMeta);
  } else {
    tree = createTree();
  }
  const snapZxid = rec.snapshot?.zxid ?? 0n;
  const pipeline = newPipeline(config, tree, snapZxid, sessions);
  let replayed = 0;
  for await (const record of rec.records) {
    window.push(record.zxid, record.bytes);
    const txn = pipeline.replay(record.zxid, record.bytes);
    if (txn.type === 'createSession') sessions.created(txn.sessionId, txn.timeoutMs, txn.password);
    else if (txn.type === 'closeSession') sessions.closed(txn.sessionId);
    replayed++;
  }
  progress.stop();
  pipeline.continueEpochOf(tree.appliedZxid());
  // An ensemble server's main thread must keep serving its peer links during an fdatasync.
  const log = await rec.openLog({ syncInline: !isEnsemble(config) });
  logger.info({ snapshotZxid: zxidHex(snapZxid), replayedTxns: replayed, zxid: zxidHex(tree.appliedZxid()), nodes: tree.nodeCount(), sessions: sessions.size, ms: Date.now() - startMs }, 'recovered');
  return { tree, pipeline, log, snapZxid, replayed, history: window.toArray() };
}

export async function openStorage(config: ServerConfig, logger: Logger, sessions: SessionManager, io: StorageIo = {}): Promise<Storage> {
  const disk = io.disk ?? nodeDisk;
  const dirs: DataDirs = { dataDir: config.dataDir, dataLogDir: config.dataLogDir };
  const layout: StorageLayout = storageLayout(dirs, disk);
  let state = await load(config, logger, sessions, dirs, disk);
  const jobs: JobPool = createJobPool({ maxThreads: 1 });
  const lastLoggedZxid = (): bigint => {
    const logged = state.log.lastSyncedZxid ?? 0n;
    return logged > state.snapZxid ? logged : state.snapZxid;
  };
  const read = await readEpochs(layout, lastLoggedZxid());
  let epochs: Epochs = { acceptedEpoch: read.acceptedEpoch, currentEpoch: read.currentEpoch };

  let txnsSinceSnapshot = state.replayed;
  let snapshotRunning: Promise<void> | null = null;
  let snapshotGuard: () => boolean = () => true;
  let lastPurgeMs = Date.now();

  const capture = (): StateCapture => {
    // Consistent: we are the only writer and not inside a write window. The tree's capture copies
    // nothing now; each page the writer changes later is saved first (tree/capture.ts).
    const meta: SnapshotMeta = { formatVersion: 1, sessions: sessions.exportTable() };
    const tree = state.tree.capture();
    return { zxid: tree.zxid, capture: tree, meta: new Uint8Array(pack(meta)) };
  };

  const snapshotCapture = (): StateCapture => {
    const t0 = performance.now();
    const c = capture();
    // The SNAP's first phase on the leader (the bench reads this line to split a SNAP's time).
    logger.info({ zxid: zxidHex(c.zxid), bytes: c.capture.bytes, ms: Math.round(performance.now() - t0) }, 'SNAP image captured');
    return c;
  };

  const takeSnapshot = (): void => {
    // The job reads the capture page by page (CRC, write, fsync) while this thread goes on
    // writing; the write path pays a 4 KiB copy for each page it changes before the job is done.
    const { zxid, capture: tree, meta } = capture();
    const t0 = Date.now();
    snapshotRunning = jobs
      .writeSnapshot({ dirs, zxid, meta, image: tree.handle, transfer: true })
      .then(
        (path) => logger.info({ path, zxid: zxidHex(zxid), bytes: tree.bytes, savedPages: tree.savedPageCount, ms: Date.now() - t0 }, 'snapshot written'),
        (err: unknown) => logger.error({ err }, 'snapshot failed'),
      )
      .finally(() => tree.close())
      .then(() => maybePurge())
      .finally(() => {
        snapshotRunning = null;
      });
  };

  const maybePurge = async (): Promise<void> => {
    if (config.purgeIntervalMs <= 0) return;
    if (Date.now() - lastPurgeMs < config.purgeIntervalMs) return;
    lastPurgeMs = Date.now();
    const r = await jobs.purge(dirs, { retain: config.snapRetainCount });
    logger.info(r, 'autopurge');
  };
  const purgeTimer =
    config.purgeIntervalMs > 0
      ? setInterval(() => {
          if (!snapshotRunning) void maybePurge().catch((err: unknown) => logger.error({ err }, 'autopurge failed'));
        }, config.purgeIntervalMs)
      : null;
  purgeTimer?.unref();

  /** Rewrites history on disk, then recovers into a new state. */
  const rewrite = async (what: string, zxid: bigint, change: () => Promise<unknown>): Promise<void> => {
    // A background snapshot job could otherwise write a snapshot of the old history after the
    // rewrite deleted the newer ones (ZOOKEEPER-1549); purge runs only inside that chain.
    while (snapshotRunning) await snapshotRunning;
    await state.log.close();
    const result = await change();
    logger.info({ zxid: zxidHex(zxid), result }, what);
    state = await load(config, logger, sessions, dirs, disk);
    txnsSinceSnapshot = state.replayed;
  };

  /** The SNAP's file written as it arrived, completed; if that fails, the file written from memory. */
  const finishWritten = async (zxid: bigint, image: Uint8Array, meta: Uint8Array, written: WrittenSnap): Promise<string> => {
    assert(written.writer.zxid === zxid && written.writer.appended === written.body.byteLength, 'a whole SNAP of this zxid was written');
    try {
      return await written.writer.finish(written.body);
    } catch (err) {
      logger.warn({ err, zxid: zxidHex(zxid) }, 'the SNAP file written as it arrived failed; writing it again from memory');
      await written.writer.abort();
      return writeSnapshotFile(layout.disk, layout.snapDir, { zxid, image, meta, imageIsStable: true });
    }
  };

  /** SNAP: the tree from the image in memory while the same bytes become the durable state. */
  const install = async (zxid: bigint, image: Uint8Array, metaBytes: Uint8Array, written?: WrittenSnap): Promise<void> => {
    const startMs = performance.now();
    // Checked before anything is touched: a bad image or meta leaves the old state as it was.
    const meta = parseMeta(metaBytes);
    checkImage(zxid, image);
    while (snapshotRunning) await snapshotRunning;
    await state.log.close();
    let verified: TreeWriter | null = null;
    const done = await installFromMemory(
      layout,
      { zxid, image, meta: metaBytes },
      {
        allocImage: (bytes) => allocTreeImage(bytes),
        adoptable: isTreeBuffer,
        touchElsewhere: (view, from, to) => jobs.touchPages({ image: view, from, to }),
        // --verify-snapshot walks the whole structure before the image replaces anything durable.
        ...(config.verifySnapshot ? { checkBeforeWrite: (view: Uint8Array) => void (verified = treeFromLoadedImage(view, { verify: true })) } : {}),
        ...(written !== undefined ? { writtenFile: () => finishWritten(zxid, image, metaBytes, written) } : {}),
      },
    );
    const tree = verified ?? treeFromLoadedImage(done.image, { verify: false });
    clearSessions(sessions);
    loadSessions(sessions, meta);
    const pipeline = newPipeline(config, tree, zxid, sessions);
    pipeline.continueEpochOf(tree.appliedZxid());
    // The log restarts after zxid: no segment is left (installFromMemory deleted them all).
    const log = await openTxnLog(layout, { tail: null, lastZxid: null }, { syncInline: !isEnsemble(config) });
    // The first append after a SNAP (the sync's tail, the first proposal) would otherwise wait
    // for a whole new segment to be zero-filled and fsynced.
    log.prepareSegment();
    state = { tree, pipeline, log, snapZxid: zxid, replayed: 0, history: [] };
    txnsSinceSnapshot = 0;
    logger.info(
      { zxid: zxidHex(zxid), bytes: image.byteLength, nodes: tree.nodeCount(), sessions: sessions.size, adopted: done.adopted, copyMs: done.copyMs, filesMs: done.filesMs, ms: Math.round(performance.now() - startMs), result: done.result },
      'snapshot installed (SNAP)',
    );
  };

  return {
    get tree() {
      return state.tree;
    },
    get pipeline() {
      return state.pipeline;
    },
    get log() {
      return state.log;
    },
    sessionsMax: constants.sessionsPerServerMax,
    containerCheckMs: Math.max(config.tickMs, 1_000),
    setSnapshotGuard(guard) {
      snapshotGuard = guard;
    },
    afterBatch(txns) {
      txnsSinceSnapshot += txns;
      if (txnsSinceSnapshot >= config.snapshotEveryTxns && snapshotRunning === null && snapshotGuard()) {
        txnsSinceSnapshot = 0;
        takeSnapshot();
      }
    },
    findExpiredNodes(nowMs) {
      return state.pipeline.findExpired(nowMs);
    },
    async close() {
      if (purgeTimer) clearInterval(purgeTimer);
      if (snapshotRunning) await snapshotRunning;
      // A clean stop leaves a snapshot at the last zxid, so the next start loads it and replays
      // nothing (ZooKeeper snapshots after loading instead; this keeps restarts fast).
      if (txnsSinceSnapshot > 0 && snapshotGuard()) {
        txnsSinceSnapshot = 0;
        takeSnapshot();
        if (snapshotRunning) await snapshotRunning;
      }
      await state.log.close();
      await jobs.close();
    },
    epochs: () => ({ ...epochs }),
    async persistEpochs(next) {
      await writeEpochs(layout, next);
      epochs = { ...next };
    },
    lastLoggedZxid,
    history: () => state.history,
    snapshotCapture,
    snapshotContent() {
      const c = capture();
      try {
        return { zxid: c.zxid, image: c.capture.read(0, c.capture.bytes), meta: c.meta };
      } finally {
        c.capture.close();
      }
    },
    truncate(zxid) {
      return rewrite('log truncated (TRUNC)', zxid, () => truncateLog(layout, zxid));
    },
    prefault(view) {
      jobs.touchPages({ image: view, from: 0, to: view.byteLength, whileFilled: true }).catch((err: unknown) => logger.warn({ err }, 'prefaulting a SNAP buffer failed'));
    },
    openSnapshotStream(zxid, totalBytes) {
      return new SnapshotStreamWriter(layout.disk, layout.snapDir, zxid, totalBytes);
    },
    installSnapshot(zxid, image, meta, written) {
      return install(zxid, image, meta, written);
    },
  };
}

/** A whole view of a growable SharedArrayBuffer, as allocTreeImage makes: a tree can adopt it. */
function isTreeBuffer(image: Uint8Array): boolean {
  const buffer = image.buffer as ArrayBufferLike & { growable?: boolean };
  return buffer instanceof SharedArrayBuffer && buffer.growable === true && image.byteOffset === 0;
}

/** The image's header, checked: SnapshotImageError if it cannot be the tree at zxid. */
function checkImage(zxid: bigint, image: Uint8Array): void {
  let at: bigint;
  try {
    at = imageAppliedZxid(image);
  } catch (err) {
    throw new SnapshotImageError((err as Error).message);
  }
  if (at !== zxid) throw new SnapshotImageError(`the image is of zxid ${zxidHex(at)}, the SNAP of ${zxidHex(zxid)}`);
}

/** The session table of a SNAP's meta, checked: SnapshotImageError if it is not one. */
function parseMeta(bytes: Uint8Array): SnapshotMeta {
  let meta: unknown;
  try {
    meta = unpack(bytes);
  } catch (err) {
    throw new SnapshotImageError(`meta is not msgpack: ${(err as Error).message}`);
  }
  const m = meta as Partial<SnapshotMeta> | null;
  if (m === null || typeof m !== 'object' || m.formatVersion !== 1 || !Array.isArray(m.sessions)) {
    throw new SnapshotImageError('meta is not a session table of format 1');
  }
  return m as SnapshotMeta;
}

/** Start-up progress on big data dirs: a bar on a terminal, log lines otherwise. */
function progressReporter(logger: Logger): { update: (p: RecoveryProgress) => void; stop: () => void } {
  let bar: cliProgress.SingleBar | null = null;
  let lastLogMs = 0;
  return {
    update(p) {
      if (p.bytesTotal < progressMinBytes) return;
      if (process.stderr.isTTY) {
        if (!bar) {
          bar = new cliProgress.SingleBar({ format: 'recovering {phase} [{bar}] {percentage}% {value}/{total} MiB', stream: process.stderr }, cliProgress.Presets.shades_classic);
          bar.start(Math.ceil(p.bytesTotal / 1_048_576), 0, { phase: p.phase });
        }
        bar.setTotal(Math.ceil(p.bytesTotal / 1_048_576));
        bar.update(Math.floor(p.bytesRead / 1_048_576), { phase: p.phase });
        return;
      }
      const now = Date.now();
      if (now - lastLogMs < 1_000 && p.bytesRead < p.bytesTotal) return;
      lastLogMs = now;
      logger.info({ phase: p.phase, readMiB: Math.floor(p.bytesRead / 1_048_576), totalMiB: Math.ceil(p.bytesTotal / 1_048_576), percent: Math.floor((100 * p.bytesRead) / p.bytesTotal) }, 'recovering');
    },
    stop() {
      bar?.stop();
    },
  };
}
