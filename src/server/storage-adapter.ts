// Start-up and the background side of storage for the composition root: recovery (newest valid
// snapshot + log replay, with progress), the txn log the write loop appends to, snapshots taken
// from the shared tree every snapCount txns and written by a piscina job, and autopurge.
import cliProgress from 'cli-progress';
import type { Logger } from 'pino';
import { pack, unpack } from 'msgpackr';
import type { ServerConfig } from '../common/config.js';
import { constants } from '../common/constants.js';
import { zxidHex } from '../common/zxid.js';
import { nodeDisk } from '../io/node/disk.js';
import { createJobPool, type JobPool } from './jobs/pool.js';
import { Pipeline } from './pipeline/index.js';
import type { DataDirs } from './storage/layout.js';
import { recover, type RecoveryProgress } from './storage/recovery.js';
import type { TxnLog } from './storage/txnlog.js';
import type { SessionManager } from './sessions/manager.js';
import { allocTreeImage, createTree, treeFromLoadedImage, type TreeWriter } from './tree/index.js';

export interface Storage {
  tree: TreeWriter;
  pipeline: Pipeline;
  log: TxnLog;
  sessionsMax: number;
  containerCheckMs: number;
  afterBatch(txns: number): void;
  findExpiredNodes(nowMs: number): string[];
  close(): Promise<void>;
}

interface SnapshotMeta {
  formatVersion: 1;
  sessions: { sessionId: bigint; timeoutMs: number; password: Uint8Array }[];
}

const standaloneEpoch = 1;
const progressMinBytes = 64 * 1_048_576; // smaller data dirs load too fast to need a bar

export async function openStorage(config: ServerConfig, logger: Logger, sessions: SessionManager): Promise<Storage> {
  const dirs: DataDirs = { dataDir: config.dataDir, dataLogDir: config.dataLogDir };
  const startMs = Date.now();
  const progress = progressReporter(logger);
  const rec = await recover(nodeDisk, dirs, {
    onProgress: progress.update,
    allocImage: (bytes) => allocTreeImage(bytes),
    onWarning: (w) => {
      if (w.kind === 'tornTail') {
        logger.warn({ file: w.path, offset: w.offset, lastGoodZxid: w.lastGoodZxid === null ? null : zxidHex(w.lastGoodZxid), bytesCut: w.bytesCut, reason: w.reason }, 'txn log had a torn or corrupt tail: truncated after the last good record');
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
    const meta = unpack(rec.snapshot.meta) as SnapshotMeta;
    for (const s of meta.sessions) sessions.created(BigInt(s.sessionId), s.timeoutMs, new Uint8Array(s.password));
  } else {
    tree = createTree();
  }
  const snapZxid = rec.snapshot?.zxid ?? 0n;
  const pipeline = new Pipeline(tree, {
    clock: { nowMs: () => Date.now() },
    // Standalone keeps one epoch; the ensemble's leader election will hand out new ones.
    epoch: standaloneEpoch,
    lastZxid: snapZxid,
    dataBytesMax: config.dataBytesMax,
    isSessionLive: (sessionId) => sessions.get(sessionId) !== undefined,
  });
  let replayed = 0;
  for await (const record of rec.records) {
    const txn = pipeline.replay(record.zxid, record.bytes);
    if (txn.type === 'createSession') sessions.created(txn.sessionId, txn.timeoutMs, txn.password);
    else if (txn.type === 'closeSession') sessions.closed(txn.sessionId);
    replayed++;
  }
  progress.stop();
  const log = await rec.openLog();
  const jobs: JobPool = createJobPool({ maxThreads: 1 });
  logger.info({ snapshotZxid: zxidHex(snapZxid), replayedTxns: replayed, zxid: zxidHex(tree.appliedZxid()), nodes: tree.nodeCount(), sessions: sessions.size, ms: Date.now() - startMs }, 'recovered');

  let txnsSinceSnapshot = replayed;
  let snapshotRunning: Promise<void> | null = null;
  let lastPurgeMs = Date.now();

  const takeSnapshot = (): void => {
    const zxid = tree.appliedZxid();
    // A consistent copy (we are the only writer and not inside a write window), written in the
    // background: the main thread pays one memcpy, the job pays CRC + write + fsync.
    const image = tree.image();
    const meta: SnapshotMeta = { formatVersion: 1, sessions: sessions.exportTable() };
    const metaBytes = new Uint8Array(pack(meta));
    const t0 = Date.now();
    snapshotRunning = jobs
      .writeSnapshot({ dirs, zxid, meta: metaBytes, image, transfer: false })
      .then(
        (path) => logger.info({ path, zxid: zxidHex(zxid), bytes: image.byteLength, ms: Date.now() - t0 }, 'snapshot written'),
        (err: unknown) => logger.error({ err }, 'snapshot failed'),
      )
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

  return {
    tree,
    pipeline,
    log,
    sessionsMax: constants.sessionsPerServerMax,
    containerCheckMs: Math.max(config.tickMs, 1_000),
    afterBatch(txns) {
      txnsSinceSnapshot += txns;
      if (txnsSinceSnapshot >= config.snapshotEveryTxns && snapshotRunning === null) {
        txnsSinceSnapshot = 0;
        takeSnapshot();
      }
    },
    findExpiredNodes(nowMs) {
      return pipeline.findExpired(nowMs);
    },
    async close() {
      if (purgeTimer) clearInterval(purgeTimer);
      if (snapshotRunning) await snapshotRunning;
      // A clean stop leaves a snapshot at the last zxid, so the next start loads it and replays
      // nothing (ZooKeeper snapshots after loading instead; this keeps restarts fast).
      if (txnsSinceSnapshot > 0) {
        txnsSinceSnapshot = 0;
        takeSnapshot();
        if (snapshotRunning) await snapshotRunning;
      }
      await log.close();
      await jobs.close();
    },
  };
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
