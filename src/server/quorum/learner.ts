// A follower's or observer's term with one leader:
//   discovery: FOLLOWERINFO (re-sent until answered) -> LEADERINFO(e): refuse e < acceptedEpoch,
//              persist acceptedEpoch = e, then ACKEPOCH(currentEpoch, last zxid);
//   sync:      DIFF / TRUNC / SNAP chunks, proposals and commits, then NEWLEADER (syncAck after
//              every zabSyncAckBytes received lets the leader send more): the synced
//              txns are appended first, then currentEpoch is persisted, and only when that
//              completed is NEWLEADER acked (ZOOKEEPER-3911: the disk queue is ordered, so the
//              persist completing means every append before it is durable too);
//   broadcast: after UPTODATE. Proposals are logged and ACKed once fsynced (followers only);
//              a commit is applied through min(leader's commit, own durable log).
// Proposals and commits may arrive at any point after the sync packets began (a leader already
// broadcasting sends new proposals behind NEWLEADER at once): they are handled the same in every
// phase (ZOOKEEPER-4394, 4925).
import { assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';
import type { ForwardedRequest, Proposal } from './api.js';
import type { Core, Role } from './core.js';
import { decidedNotification } from './election.js';
import { counterOf, epochOf, makeZxid, type PeerMessage } from './messages.js';
import { syncBytesOf } from './sync.js';

type Stage =
  | 'info' //      FOLLOWERINFO sent, waiting for LEADERINFO
  | 'epoch' //     LEADERINFO accepted: persisting acceptedEpoch, then ACKEPOCH
  | 'sync' //      ACKEPOCH sent: sync packets, proposals, commits until NEWLEADER
  | 'newLeader' // NEWLEADER received: persisting currentEpoch, then ACK
  | 'acked' //     NEWLEADER acked: waiting for UPTODATE (proposals keep coming)
  | 'serving'; //  UPTODATE received: broadcast

export class LearnerRole implements Role {
  readonly kind: 'following' | 'observing';
  phase: 'discovery' | 'sync' | 'broadcast' = 'discovery';
  private stage: Stage = 'info';
  private readonly startedAt: number;
  private lastHeard: number;
  private lastInfoSent = 0;
  private infosSent = 0;
  private epoch = -1;
  /** The highest zxid the leader said is committed. */
  private leaderCommit = 0n;
  /** The sync point decided by the first sync packet; proposals before it are refused. */
  private synced = false;
  /** The SNAP image being received, allocated whole at its first chunk (totalBytes is bounded). */
  private snapImage: Uint8Array | null = null;
  private snapBytes = 0;
  /** Sync bytes received in this sync (the leader's credit counts the same), and the last acked. */
  private syncReceived = 0;
  private syncAcked = 0;
  private touched: bigint[] = [];
  private stopped = false;
  /** This term's number (see followerInfo.attempt): distinct per term and per process. */
  private readonly attempt: number;

  constructor(private readonly core: Core, readonly leader: number) {
    this.attempt = (core.opts.incarnation ?? 0) * 2 ** 20 + (++core.learnerAttempts % 2 ** 20);
    this.kind = core.isObserver ? 'observing' : 'following';
    this.startedAt = core.now;
    this.lastHeard = core.now;
  }

  start(): void { this.sendInfo(); }
  stop(): void { this.stopped = true; }

  private sendInfo(): void {
    this.lastInfoSent = this.core.now;
    this.infosSent++;
    this.core.send(this.leader, {
      t: 'followerInfo', acceptedEpoch: this.core.acceptedEpoch, lastZxid: this.core.lastAppended,
      historyBase: this.core.historyBase, observer: this.core.isObserver, attempt: this.attempt,
    });
  }

  /**
   * The leader we chose may decide a little after us (its quorum waits finalizeWaitTicks for a
   * better vote) and an Election drops the FOLLOWERINFO that reaches it: the first re-send comes
   * just after that wait, later ones after the election timeout. Without the early one every
   * failover could wait a whole election timeout here.
   */
  private infoResendTicks(): number {
    const early = (this.core.opts.finalizeWaitTicks ?? constants.zabFinalizeWaitTicks) + 1;
    return this.infosSent <= 1 ? Math.min(early, this.core.opts.electionTimeoutTicks) : this.core.opts.electionTimeoutTicks;
  }

  private leave(why: string): void {
    if (!this.stopped) this.core.goLooking(why);
  }

  tick(): void {
    if (this.stage !== 'serving') {
      if (this.core.now - this.startedAt > this.core.opts.initLimitTicks) return this.leave('not synced within initLimit');
      if (this.stage === 'info' && this.core.now - this.lastInfoSent >= this.infoResendTicks()) this.sendInfo();
      return;
    }
    if (this.core.now - this.lastHeard > this.core.opts.syncLimitTicks) this.leave('leader silent for syncLimit');
  }

  linkDown(peer: number): void {
    if (peer === this.leader) this.leave('link to the leader down');
  }

  linkUp(peer: number): void {
    if (peer === this.leader && this.stage === 'info') this.sendInfo();
  }

  receive(from: number, m: PeerMessage): void {
    if (m.t === 'vote') {
      // The server we chose follows someone else (it answered our FOLLOWERINFO so): elect again
      // at once rather than wait out initLimit. One still LOOKING may yet lead: keep waiting.
      if (from === this.leader && this.stage === 'info' && (m.state === 'following' || m.state === 'observing')) return this.leave('our leader follows another');
      if (m.state === 'looking') {
        const n = decidedNotification(this.core, this.kind);
        if (n !== null) this.core.send(from, n);
      }
      return;
    }
    if (from !== this.leader) {
      // Only our leader talks to us in this role; tell a would-be learner whom we follow.
      if (m.t === 'followerInfo') this.core.send(from, decidedNotification(this.core, this.kind)!);
      return;
    }
    this.lastHeard = this.core.now;
    if (this.stage === 'sync') this.countSync(m);
    switch (m.t) {
      case 'leaderInfo': return this.onLeaderInfo(m.epoch);
      case 'diff': return this.onSyncStart(m.zxid, 'diff');
      case 'trunc': return this.onSyncStart(m.zxid, 'trunc');
      case 'snap': return this.onSnap(m);
      case 'proposal': return this.onProposal(m.zxid, m.txn, m.origin);
      case 'proposals': return this.onProposals(m);
      case 'inform': return this.onInform(m);
      case 'commit': return this.onCommit(m.zxid);
      case 'newLeader': return this.onNewLeader(m.epoch, m.zxid);
      case 'upToDate': return this.onUpToDate(m.committed);
      case 'ping': return this.onPing(m.committed);
      case 'reply':
        if (m.origin.serverId === this.core.myId) this.core.emit({ kind: 'reply', origin: m.origin, afterZxid: m.afterZxid, result: m.result });
        return;
      default:
        return; // learner-to-leader traffic: not for a learner
    }
  }

  private onLeaderInfo(epoch: number): void {
    if (this.stage !== 'info') return; // an answer to a re-sent FOLLOWERINFO
    if (epoch < this.core.acceptedEpoch) return this.leave(`LEADERINFO epoch ${epoch} below acceptedEpoch ${this.core.acceptedEpoch}`);
    this.stage = 'epoch';
    this.epoch = epoch;
    const ack = (): void => {
      this.stage = 'sync';
      this.phase = 'sync';
      this.core.send(this.leader, { t: 'ackEpoch', currentEpoch: this.core.currentEpoch, lastZxid: this.core.lastAppended });
    };
    // Persist even an unchanged epoch: the write is a barrier behind every disk effect queued
    // before (an acceptedEpoch of a previous term may still be on its way to disk), so what
    // ACKEPOCH promises is durable when it leaves.
    this.core.persistEpochs(epoch, this.core.currentEpoch, this, ack);
  }

  private protocolError(why: string): void {
    this.leave(`protocol: ${why}`);
  }

  private onSyncStart(zxid: bigint, kind: 'diff' | 'trunc'): void {
    if (this.stage !== 'sync' || this.synced) return this.protocolError(`${kind} outside sync`);
    this.synced = true;
    if (kind === 'diff') {
      if (zxid !== this.core.lastAppended) return this.protocolError(`DIFF from ${zxid}, our log ends at ${this.core.lastAppended}`);
      return;
    }
    if (zxid >= this.core.lastAppended || zxid < this.core.historyBase || zxid < this.core.commitEmitted) {
      return this.protocolError(`TRUNC to ${zxid} outside [${this.core.historyBase}, ${this.core.lastAppended})`);
    }
    this.core.truncateLocal(zxid, this, null);
  }

  /** The leader sends more of our sync as we say we received it (zabSyncAckBytes at a time). */
  private countSync(m: PeerMessage): void {
    const bytes = syncBytesOf(m);
    if (bytes === 0) return;
    this.syncReceived += bytes;
    if (this.syncReceived - this.syncAcked >= (this.core.opts.syncAckBytes ?? constants.zabSyncAckBytes)) {
      this.syncAcked = this.syncReceived;
      this.core.send(this.leader, { t: 'syncAck', bytes: this.syncReceived });
    }
  }

  private onSnap(m: Extract<PeerMessage, { t: 'snap' }>): void {
    if (this.stage !== 'sync' || this.synced) return this.protocolError('SNAP outside sync');
    if (m.offset !== this.snapBytes) return this.protocolError('SNAP chunk out of order');
    if (this.snapImage === null) this.snapImage = this.core.host.snapReceiveBuffer?.(m.totalBytes) ?? new Uint8Array(m.totalBytes);
    else if (this.snapImage.byteLength !== m.totalBytes) return this.protocolError('SNAP chunks of different images');
    this.snapImage.set(m.chunk, m.offset);
    this.snapBytes += m.chunk.byteLength;
    this.core.host.snapReceived?.(m.zxid, this.snapImage, m.offset, m.chunk.byteLength);
    if (!m.last) return;
    const image = this.snapImage;
    this.snapImage = null;
    this.synced = true;
    this.core.installLocal(m.zxid, image, this, null);
    if (m.zxid > this.leaderCommit) this.leaderCommit = m.zxid;
  }

  private onProposal(zxid: bigint, txn: Uint8Array, origin: ForwardedRequest['origin'] | null): void {
    if (this.core.isObserver && this.stage === 'serving') return this.protocolError('PROPOSAL to an observer');
    if (!this.synced || this.stage === 'info' || this.stage === 'epoch') return this.protocolError('PROPOSAL before sync');
    if (!follows(zxid, this.core.lastAppended)) return this.protocolError(`PROPOSAL ${zxid} does not follow ${this.core.lastAppended}`);
    if (this.epoch >= 0 && epochOf(zxid) > this.epoch) return this.protocolError(`PROPOSAL of a later epoch`);
    const acking = !this.core.isObserver && (this.stage === 'acked' || this.stage === 'serving');
    this.core.appendLocal([{ zxid, txn, origin }], null, null);
    if (acking && this.core.opts.unsafe?.ackBeforeFsync) this.core.send(this.leader, { t: 'ack', zxid });
  }

  /** A run of consecutive proposals: the same checks as one PROPOSAL, logged as one append. */
  private onProposals(m: Extract<PeerMessage, { t: 'proposals' }>): void {
    if (this.core.isObserver && this.stage === 'serving') return this.protocolError('PROPOSALS to an observer');
    if (!this.synced || this.stage === 'info' || this.stage === 'epoch') return this.protocolError('PROPOSALS before sync');
    if (!follows(m.zxid, this.core.lastAppended)) return this.protocolError(`PROPOSALS from ${m.zxid} do not follow ${this.core.lastAppended}`);
    if (this.epoch >= 0 && epochOf(m.zxid) > this.epoch) return this.protocolError(`PROPOSALS of a later epoch`);
    const proposals: Proposal[] = m.txns.map((txn, i) => ({ zxid: m.zxid + BigInt(i), txn, origin: m.origins[i] ?? null }));
    const acking = !this.core.isObserver && (this.stage === 'acked' || this.stage === 'serving');
    this.core.appendLocal(proposals, null, null);
    if (acking && this.core.opts.unsafe?.ackBeforeFsync) this.core.send(this.leader, { t: 'ack', zxid: proposals[proposals.length - 1]!.zxid });
  }

  private onInform(m: Extract<PeerMessage, { t: 'inform' }>): void {
    if (!this.core.isObserver || !this.synced) return this.protocolError('INFORM to a follower or before sync');
    if (m.zxid > this.core.lastAppended && !follows(m.zxid, this.core.lastAppended)) return this.protocolError(`INFORM ${m.zxid} does not follow ${this.core.lastAppended}`);
    if (m.zxid > this.core.lastAppended) this.core.appendLocal([{ zxid: m.zxid, txn: m.txn, origin: m.origin }], null, null);
    this.onCommit(m.zxid);
  }

  private onCommit(zxid: bigint): void {
    if (!this.synced) return this.protocolError('COMMIT before sync');
    if (zxid > this.core.lastAppended) return this.protocolError(`COMMIT ${zxid} of a txn we do not have`);
    if (zxid > this.leaderCommit) this.leaderCommit = zxid;
    this.core.commitThrough(this.leaderCommit);
  }

  private onNewLeader(epoch: number, zxid: bigint): void {
    if (this.stage !== 'sync' || !this.synced) return this.protocolError('NEWLEADER outside sync');
    if (epoch !== this.epoch || zxid !== makeZxid(epoch, 0)) return this.protocolError(`NEWLEADER of epoch ${epoch}, accepted ${this.epoch}`);
    this.stage = 'newLeader';
    // Appends of the synced txns are queued before this: ordered disk, so this completes last.
    this.core.persistEpochs(this.core.acceptedEpoch, epoch, this, () => {
      this.stage = 'acked';
      this.core.send(this.leader, { t: 'ack', zxid });
      // Proposals that arrived behind NEWLEADER and are already durable get their ACK now.
      if (!this.core.isObserver && this.core.lastLogged > makeZxid(epoch, 0)) this.core.send(this.leader, { t: 'ack', zxid: this.core.lastLogged });
    });
  }

  private onUpToDate(committed: bigint): void {
    if (this.stage !== 'acked') return this.protocolError('UPTODATE before our NEWLEADER ack');
    this.stage = 'serving';
    this.phase = 'broadcast';
    this.lastHeard = this.core.now;
    this.core.setServing(this.kind, this.leader);
    this.onCommit(committed < this.core.lastAppended ? committed : this.core.lastAppended);
  }

  private onPing(committed: bigint): void {
    if (this.stage === 'serving' && committed <= this.core.lastAppended) this.onCommit(committed);
    const n = Math.min(this.touched.length, constants.zabSessionsPerPongMax);
    this.core.send(this.leader, { t: 'pong', sessionIds: this.touched.slice(0, n) });
    this.touched = this.touched.slice(n);
  }

  logSynced(): void {
    if (!this.core.isObserver && (this.stage === 'acked' || this.stage === 'serving') && !this.core.opts.unsafe?.ackBeforeFsync) {
      if (this.core.lastLogged > makeZxid(this.epoch, 0)) this.core.send(this.leader, { t: 'ack', zxid: this.core.lastLogged });
    }
    if (this.synced) this.core.commitThrough(this.leaderCommit);
  }

  forward(forwarded: ForwardedRequest): boolean {
    if (this.stage !== 'serving') return false;
    assert(forwarded.origin.serverId === this.core.myId, 'a learner forwards only its own requests');
    this.core.send(this.leader, { t: 'request', origin: forwarded.origin, request: forwarded.request });
    return true;
  }

  touchSessions(sessionIds: bigint[]): void {
    if (this.touched.length + sessionIds.length > 4 * constants.zabSessionsPerPongMax) return; // a ping is overdue anyway
    for (const id of sessionIds) this.touched.push(id);
  }
}

/** A log has no holes: the next zxid is the next counter, or the first of a later epoch. */
function follows(zxid: bigint, last: bigint): boolean {
  return zxid === last + 1n || (epochOf(zxid) > epochOf(last) && counterOf(zxid) === 1);
}
