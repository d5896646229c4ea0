// Bounds of the storage module. Candidates for src/common/constants.ts are marked (common);
// the rest are format facts that only this folder needs.
import { assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';

const MiB = 1_048_576;

export const storageLimits = {
  // Log segment layout: [16-byte segment header][records...][zero fill]
  logSegmentHeaderBytes: 16,
  // Record layout: [u32 length][u32 crc32c][u64 zxid][payload]; length counts zxid + payload,
  // so a real record has length >= 8 and a length of 0 (zero fill) marks the end of the log.
  logRecordHeadBytes: 8, // length + crc
  logRecordZxidBytes: 8,
  /** (common) largest encoded txn; a txn is at most one frame plus its Stat bookkeeping. */
  logRecordPayloadBytesMax: constants.logRecordPayloadBytesMax,
  /** (common) bytes buffered between append() and sync(); the pipeline's batch bound keeps it far below. */
  logPendingBytesMax: constants.logPendingBytesMax,
  /** sync() calls queued behind each other (a pipelining caller may overlap two or three). */
  logSyncsQueuedMax: 4,
  /** Smallest segment accepted (tests use tiny segments to exercise the roll). */
  logSegmentBytesMin: 4_096,
  /** Zero-fill is written in chunks of this size, so preallocation needs no 64 MiB buffer. */
  logPreallocChunkBytes: 1 * MiB,
  /** First prefix of a snapshot-covered last segment read at recovery (then x4 while needed). */
  logCoveredPrefixBytes: 1 * MiB,

  snapshotHeaderBytes: 48,
  snapshotTrailerBytes: 8,
  /** Snapshot files are copied, checksummed and written in chunks of this size. */
  snapshotChunkBytes: 8 * MiB,
  /** (common) session table and other metadata in a snapshot. */
  snapshotMetaBytesMax: constants.snapshotMetaBytesMax,
  snapshotImageBytesMax: constants.treeMaxBytes,
} as const;

assert(
  constants.logSegmentBytes >=
    storageLimits.logSegmentHeaderBytes +
      storageLimits.logRecordHeadBytes +
      storageLimits.logRecordZxidBytes +
      storageLimits.logRecordPayloadBytesMax,
  'the largest record fits in an empty segment',
);
assert(storageLimits.logPendingBytesMax >= 2 * storageLimits.logRecordPayloadBytesMax, 'a batch holds big records');
assert(constants.logSegmentBytes % storageLimits.logPreallocChunkBytes === 0, 'prealloc chunks tile a segment');
assert(constants.snapRetainCount >= 3, "ZooKeeper's minimum snapshot retention is 3");
