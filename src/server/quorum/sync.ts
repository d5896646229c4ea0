// The leader's choice of how to bring one learner to its history (ZooKeeper's syncFollower):
//   DIFF       the learner's last zxid is in our log: our log extends its log, send the rest;
//   TRUNC+DIFF it has a tail we lack, in the same epoch as a zxid we both have: cut it there;
//   SNAP       anything else (too far behind, or a divergent tail we cannot place safely).
// Logs of Zab agree on everything before a zxid they share, and within one epoch a log is a
// contiguous run of that epoch's single leader's proposals — which is what makes TRUNC safe only
// to a zxid of the learner's own last epoch that is not older than its log's base.
// The chosen sync is then sent as a SyncStream (sync-stream.ts), under the learner's credit.
import { assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';
import type { SnapSource } from './api.js';
import type { Core } from './core.js';
import { epochOf, type PeerMessage } from './messages.js';

/** What one learner gets: a first packet (DIFF / TRUNC) or an image, then our history after `from`. */
export interface SyncPlan {
  first: Extract<PeerMessage, { t: 'diff' | 'trunc' }> | null;
  snap: SnapSource | null;
  /** The zxid the learner's log ends at once the first packet or the image is applied. */
  from: bigint;
}

export function chooseSync(core: Core, peerLast: bigint, peerBase: bigint): SyncPlan {
  if (peerLast === core.lastAppended || (peerLast < core.lastAppended && core.historyHas(peerLast))) {
    if (!outweighsImage(core, peerLast)) return { first: { t: 'diff', zxid: peerLast }, snap: null, from: peerLast };
    return snap(core);
  }
  const prev = core.historyBefore(peerLast);
  if (prev !== null && prev >= peerBase && epochOf(prev) === epochOf(peerLast) && prev > 0n) {
    if (!outweighsImage(core, prev)) return { first: { t: 'trunc', zxid: prev }, snap: null, from: prev };
  }
  return snap(core);
}

/**
 * Whether sending our txns after `from` costs more than the image: a learner applies a txn slower
 * than it copies its bytes of image, so past a fraction of the image's size a SNAP is the faster
 * catch-up (ZooKeeper's snapSizeLimitFactor, 0.33 by default).
 */
function outweighsImage(core: Core, from: bigint): boolean {
  const imageBytes = core.host.snapshotImageBytes?.();
  if (imageBytes === undefined) return false;
  const limit = constants.zabSnapDiffFactor * imageBytes;
  let bytes = 0;
  for (let i = core.historyIndexAfter(from); i < core.history.length; i++) {
    bytes += core.history[i]!.txn.byteLength;
    if (bytes > limit) return true;
  }
  return false;
}

function snap(core: Core): SyncPlan {
  const source = core.host.snapshotSource?.() ?? wholeImage(core.host.snapshotImage());
  assert(source.zxid >= core.historyBase, () => `SNAP image at ${source.zxid} older than the history window ${core.historyBase}`);
  // A leader that replayed its whole log at start-up has its tail in the image before it is
  // committed: harmless, the learner reports the image as its history base (no TRUNC below it).
  assert(source.zxid <= core.lastAppended, 'the SNAP image is of our own log');
  assert(source.totalBytes <= constants.zabSnapImageBytesMax, 'SNAP image too large');
  return { first: null, snap: source, from: source.zxid };
}

function wholeImage({ zxid, image }: { zxid: bigint; image: Uint8Array }): SnapSource {
  return { zxid, totalBytes: image.byteLength, read: (offset, maxBytes) => image.subarray(offset, Math.min(offset + maxBytes, image.byteLength)) };
}

/** Proposals a DIFF carries are charged their bytes plus a fixed overhead against the credit. */
export function syncTxnBytes(txn: Uint8Array): number {
  return txn.byteLength + constants.zabSyncTxnOverheadBytes;
}

/** The credit one sync message uses (0 for the control packets: DIFF, TRUNC, COMMIT, NEWLEADER). */
export function syncBytesOf(m: PeerMessage): number {
  switch (m.t) {
    case 'snap': return m.chunk.byteLength;
    case 'proposal': return syncTxnBytes(m.txn);
    case 'proposals': {
      let n = 0;
      for (const t of m.txns) n += syncTxnBytes(t);
      return n;
    }
    default: return 0;
  }
}
