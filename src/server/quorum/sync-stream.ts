// One learner's sync, sent under its credit: the first packet (DIFF / TRUNC) or the SNAP image in
// chunks, then our history after the sync point in PROPOSALS runs, then COMMIT and NEWLEADER.
// The leader keeps at most `windowBytes` of it unacknowledged; the learner's syncAck (cumulative
// bytes received) opens the window again. The history is read where it stands when the window
// opens, so proposals made during a long SNAP reach the learner behind the image, in order,
// before NEWLEADER — and a learner that stops reading costs the leader one window, not its image.
import { assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';
import type { Core } from './core.js';
import type { SnapSource } from './api.js';
import { proposalMessageFrom } from './proposal-messages.js';
import type { PeerMessage } from './messages.js';
import { syncBytesOf, type SyncPlan } from './sync.js';

export type StreamStep =
  | { kind: 'more'; msgs: PeerMessage[] } //   sent what the window allows; waiting for credit
  | { kind: 'done'; msgs: PeerMessage[] } //   everything up to our log's end is in msgs (then NEWLEADER)
  | { kind: 'lost' }; //                        our history no longer reaches the learner's point

export class SyncStream {
  sentBytes = 0;
  ackedBytes = 0;
  /** Tick of the last progress (start, or an ack that moved the window). */
  progressAt: number;
  private snapOffset = 0;
  /** The last zxid the learner will have once it applied what we sent so far. */
  private cursor: bigint;
  private started = false;
  private snapSent = false;
  private closed = false;

  constructor(
    private readonly core: Core,
    private readonly plan: SyncPlan,
    private readonly committed: () => bigint,
    private readonly windowBytes: number,
    private readonly chunkBytes: number,
  ) {
    assert(windowBytes > 0 && chunkBytes > 0, 'a sync window and chunk are positive');
    this.progressAt = core.now;
    this.cursor = plan.from;
  }

  /** The learner received `bytes` in all; true if that moved the window. */
  acked(bytes: number, now: number): boolean {
    const b = Math.min(bytes, this.sentBytes);
    if (b <= this.ackedBytes) return false;
    this.ackedBytes = b;
    this.progressAt = now;
    return true;
  }

  /** Whether it has sent more than was acknowledged (a silent learner is then stalled). */
  waiting(): boolean {
    return this.sentBytes > this.ackedBytes;
  }

  next(): StreamStep {
    const msgs: PeerMessage[] = [];
    if (!this.started) {
      this.started = true;
      if (this.plan.first !== null) msgs.push(this.plan.first);
    }
    while (this.sentBytes - this.ackedBytes < this.windowBytes) {
      const m = this.nextPiece();
      if (m === 'lost') return { kind: 'lost' };
      if (m === null) return { kind: 'done', msgs: [...msgs, ...this.closing()] };
      this.sentBytes += syncBytesOf(m);
      msgs.push(m);
    }
    return { kind: 'more', msgs };
  }

  private nextPiece(): PeerMessage | null | 'lost' {
    if (this.plan.snap !== null && !this.snapSent) return this.nextChunk(this.plan.snap);
    const core = this.core;
    if (this.cursor === core.lastAppended) return null;
    // The window may have moved past the learner's point while it was reading (a long SNAP under
    // heavy writes): what it lacks is then no longer ours to send.
    if (!core.historyHas(this.cursor)) return 'lost';
    const i = core.historyIndexAfter(this.cursor);
    assert(i < core.history.length, 'the history holds what follows the cursor');
    // Cut to the credit left (counted in txn bytes; the per-txn overhead adds a little), so a run
    // does not overshoot the window by a whole PROPOSALS message.
    const creditBytes = this.windowBytes - (this.sentBytes - this.ackedBytes);
    const msg = proposalMessageFrom(core.history, i, false, Math.min(constants.zabProposalsMessageBytesMax, Math.max(1, creditBytes)));
    this.cursor = msg.zxid + BigInt(msg.txns.length - 1);
    return msg;
  }

  private nextChunk(snap: SnapSource): PeerMessage {
    const offset = this.snapOffset;
    const chunk = snap.read(offset, this.chunkBytes);
    assert(chunk.byteLength > 0 || snap.totalBytes === 0, 'a SNAP chunk moves forward');
    this.snapOffset = offset + chunk.byteLength;
    const last = this.snapOffset === snap.totalBytes;
    if (last) {
      this.snapSent = true;
      this.close(); // the rest is history: the image's source is not needed any more
    }
    // The chunk last: the transport writes a trailing binary from where it lies (peer-frame.ts).
    return { t: 'snap', zxid: snap.zxid, offset, totalBytes: snap.totalBytes, last, chunk };
  }

  /** Lets go of the SNAP source (once); the stream sends no more image after this. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.plan.snap?.close?.();
  }

  /** COMMIT through what of the sent history is committed. */
  private closing(): PeerMessage[] {
    const committed = this.committed();
    const through = committed < this.cursor ? committed : this.cursor;
    return through > this.plan.from ? [{ t: 'commit', zxid: through }] : [];
  }
}

