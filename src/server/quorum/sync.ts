// The leader's choice of how to bring one learner to its history (ZooKeeper's syncFollower):
//   DIFF       the learner's last zxid is in our log: our log extends its log, send the rest;
//   TRUNC+DIFF it has a tail we lack, in the same epoch as a zxid we both have: cut it there;
//   SNAP       anything else (too far behind, or a divergent tail we cannot place safely).
// Logs of Zab agree on everything before a zxid they share, and within one epoch a log is a
// contiguous run of that epoch's single leader's proposals — which is what makes TRUNC safe only
// to a zxid of the learner's own last epoch that is not older than its log's base.
import { assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';
import type { Proposal } from './api.js';
import type { Core } from './core.js';
import { epochOf, type PeerMessage } from './messages.js';

export function chooseSync(core: Core, peerLast: bigint, peerBase: bigint, committed: bigint): PeerMessage[] {
  if (peerLast === core.lastAppended || (peerLast < core.lastAppended && core.historyHas(peerLast))) {
    const diff = core.historyAfter(peerLast);
    if (!outweighsImage(core, diff)) return [{ t: 'diff', zxid: peerLast }, ...entries(diff, peerLast, committed)];
    return snap(core, committed);
  }
  const prev = core.historyBefore(peerLast);
  if (prev !== null && prev >= peerBase && epochOf(prev) === epochOf(peerLast) && prev > 0n) {
    const diff = core.historyAfter(prev);
    if (!outweighsImage(core, diff)) return [{ t: 'trunc', zxid: prev }, ...entries(diff, prev, committed)];
  }
  return snap(core, committed);
}

/**
 * Whether sending these txns costs more than the image: a learner applies a txn slower than it
 * copies its bytes of image, so past a fraction of the image's size a SNAP is the faster catch-up
 * (ZooKeeper's snapSizeLimitFactor, 0.33 by default).
 */
function outweighsImage(core: Core, diff: Proposal[]): boolean {
  const imageBytes = core.host.snapshotImageBytes?.();
  if (imageBytes === undefined) return false;
  const limit = constants.zabSnapDiffFactor * imageBytes;
  let bytes = 0;
  for (const p of diff) {
    bytes += p.txn.byteLength;
    if (bytes > limit) return true;
  }
  return false;
}

/** Proposals after `from`, then one COMMIT through what of them is committed. */
function entries(ps: Proposal[], from: bigint, committed: bigint): PeerMessage[] {
  const out: PeerMessage[] = [];
  // Origins stay behind: the origin's clients were disconnected when it left its last leader.
  for (const p of ps) out.push({ t: 'proposal', zxid: p.zxid, txn: p.txn, origin: null });
  const last = ps.length > 0 ? ps[ps.length - 1]!.zxid : from;
  const through = committed < last ? committed : last;
  if (through > from) out.push({ t: 'commit', zxid: through });
  return out;
}

function snap(core: Core, committed: bigint): PeerMessage[] {
  const { zxid, image } = core.host.snapshotImage();
  assert(zxid >= core.historyBase, () => `SNAP image at ${zxid} older than the history window ${core.historyBase}`);
  // A leader that replayed its whole log at start-up has its tail in the image before it is
  // committed: harmless, the learner reports the image as its history base (no TRUNC below it).
  assert(zxid <= core.lastAppended, 'the SNAP image is of our own log');
  assert(image.byteLength <= constants.zabSnapImageBytesMax, 'SNAP image too large');
  const out: PeerMessage[] = [];
  const step = constants.zabSnapChunkBytes;
  let offset = 0;
  do {
    const end = Math.min(offset + step, image.byteLength);
    out.push({ t: 'snap', zxid, offset, totalBytes: image.byteLength, chunk: image.subarray(offset, end), last: end === image.byteLength });
    offset = end;
  } while (offset < image.byteLength);
  return [...out, ...entries(core.historyAfter(zxid), zxid, committed)];
}
