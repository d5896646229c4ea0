// The leader's term, in ZooKeeper's three phases:
//   discovery: FOLLOWERINFO from a quorum (us included) -> newEpoch = max(acceptedEpoch) + 1,
//              persisted as our acceptedEpoch -> LEADERINFO -> ACKEPOCH from a quorum;
//   sync:      per learner DIFF / TRUNC+DIFF / SNAP, then NEWLEADER; we persist currentEpoch;
//              a quorum of NEWLEADER acks (us included) -> commit our whole history, UPTODATE;
//   broadcast: PROPOSAL to synced followers, ACKs, COMMIT in zxid order on a quorum (us
//              included, after our own fsync); INFORM to observers once committed.
// A learner that arrives later goes through the same steps alone, while broadcast goes on: its
// sync packets and NEWLEADER are emitted in one step, after which it gets every new proposal.
import { assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';
import type { Proposal } from './api.js';
import type { Core, Role } from './core.js';
import { decidedNotification } from './election.js';
import { epochOf, makeZxid, type PeerMessage } from './messages.js';
import { proposalMessages } from './proposal-messages.js';
import { chooseSync } from './sync.js';
import { SyncStream } from './sync-stream.js';

/** Where one learner is in its handshake with us. */
type Stage =
  | 'info' //        FOLLOWERINFO received, LEADERINFO not sent yet (epoch undecided)
  | 'epochSent' //   LEADERINFO sent, waiting for ACKEPOCH
  | 'epochAcked' //  ACKEPOCH received, waiting for the quorum before sync starts
  | 'streaming' //   its sync is being sent under its credit (stream); gets no live proposals yet
  | 'synced' //      sync packets + NEWLEADER sent: gets every proposal; waiting for its ack
  | 'active'; //     NEWLEADER acked: counts for commits (voters), got or gets UPTODATE

interface LearnerHandle {
  id: number;
  observer: boolean;
  stage: Stage;
  acceptedEpoch: number;
  lastZxid: bigint;
  historyBase: bigint;
  /** The learner's term (followerInfo.attempt): a FOLLOWERINFO of another term starts over. */
  attempt: number;
  currentEpoch: number;
  /** The log end it will have after the sync packets; acked by its NEWLEADER ack. */
  syncedTo: bigint;
  ackedZxid: bigint;
  stream: SyncStream | null;
}

export class LeaderRole implements Role {
  readonly kind = 'leading';
  phase: 'discovery' | 'sync' | 'broadcast' = 'discovery';
  private newEpoch = -1;
  private readonly handles = new Map<number, LearnerHandle>();
  private readonly startedAt: number;
  private selfEpochAcked = false;
  private selfNewLeaderAcked = false;
  private lastPing: number;
  /** Per voter, the last tick an active follower of ours was heard from (quorum check). */
  private readonly heardAt = new Map<number, number>();
  /** Highest zxid committed in this term (or inherited before it). */
  private committed: bigint;
  private stopped = false;

  constructor(private readonly core: Core) {
    this.startedAt = core.now;
    this.lastPing = core.now;
    this.committed = core.commitEmitted;
  }

  start(): void {
    this.maybeDecideEpoch();
  }

  stop(): void {
    this.stopped = true;
    for (const h of this.handles.values()) h.stream?.close();
  }

  /** Forgets a learner's handshake; a SNAP it was being sent lets go of its image. */
  private dropHandle(id: number): void {
    this.handles.get(id)?.stream?.close();
    this.handles.delete(id);
  }

  // ---------------- discovery ----------------
  private maybeDecideEpoch(): void {
    if (this.newEpoch >= 0) return;
    let n = 1;
    let maxEpoch = this.core.acceptedEpoch;
    for (const h of this.handles.values()) {
      if (h.observer) continue;
      n++;
      if (h.acceptedEpoch > maxEpoch) maxEpoch = h.acceptedEpoch;
    }
    if (n < this.core.quorumSize) return;
    this.newEpoch = maxEpoch + 1;
    assert(this.newEpoch > this.core.acceptedEpoch, 'a leader leads an epoch it never accepted from another');
    this.core.persistEpochs(this.newEpoch, this.core.currentEpoch, this, () => {
      this.selfEpochAcked = true;
      for (const h of this.handles.values()) if (h.stage === 'info') this.sendLeaderInfo(h);
      this.maybeStartSync();
    });
  }

  private sendLeaderInfo(h: LearnerHandle): void {
    h.stage = 'epochSent';
    this.core.send(h.id, { t: 'leaderInfo', epoch: this.newEpoch });
  }

  private onFollowerInfo(from: number, m: Extract<PeerMessage, { t: 'followerInfo' }>): void {
    if (m.observer !== !this.core.isVoter(from)) return; // a member in the wrong role: ignore it
    // A re-send of the same term (it re-sends until LEADERINFO reaches it) that arrives after its
    // handshake moved on must not restart it: over a slow link one arrived after its ACKEPOCH,
    // reset the handle, and the learner — past LEADERINFO — waited out its initLimit.
    if (this.handles.get(from)?.attempt === m.attempt) return;
    const h: LearnerHandle = {
      id: from, observer: m.observer, stage: 'info', acceptedEpoch: m.acceptedEpoch, lastZxid: m.lastZxid,
      historyBase: m.historyBase, attempt: m.attempt, currentEpoch: -1, syncedTo: 0n, ackedZxid: 0n, stream: null,
    };
    // A FOLLOWERINFO restarts the handshake of that learner (a re-send, or it restarted).
    this.dropHandle(from);
    this.handles.set(from, h);
    if (this.selfEpochAcked) this.sendLeaderInfo(h);
    else this.maybeDecideEpoch();
  }

  private onAckEpoch(from: number, m: Extract<PeerMessage, { t: 'ackEpoch' }>): void {
    const h = this.handles.get(from);
    if (h === undefined || h.stage !== 'epochSent') return;
    // The election should have picked the most up-to-date server; if it did not, start over
    // rather than lose that learner's txns (ZooKeeper does the same).
    if (!h.observer && !this.core.opts.unsafe?.voteEmptyLog && (m.currentEpoch > this.core.currentEpoch || (m.currentEpoch === this.core.currentEpoch && m.lastZxid > this.core.lastAppended))) {
      return this.core.goLooking(`learner ${from} is ahead of us`);
    }
    h.stage = 'epochAcked';
    h.lastZxid = m.lastZxid;
    h.currentEpoch = m.currentEpoch;
    if (this.phase === 'discovery') this.maybeStartSync();
    else this.syncLearner(h);
  }

  private maybeStartSync(): void {
    if (this.phase !== 'discovery' || !this.selfEpochAcked) return;
    let n = 1;
    for (const h of this.handles.values()) if (!h.observer && h.stage === 'epochAcked') n++;
    if (n < this.core.quorumSize) return;
    this.phase = 'sync';
    this.core.persistEpochs(this.newEpoch, this.newEpoch, this, () => {
      this.selfNewLeaderAcked = true;
      this.maybeStartBroadcast();
    });
    for (const h of this.handles.values()) if (h.stage === 'epochAcked') this.syncLearner(h);
  }

  // ---------------- sync ----------------
  private syncLearner(h: LearnerHandle): void {
    const plan = chooseSync(this.core, h.lastZxid, h.historyBase);
    const o = this.core.opts;
    h.stream = new SyncStream(this.core, plan, () => this.committed, o.syncWindowBytes ?? constants.zabSyncWindowBytes, o.snapChunkBytes ?? constants.zabSnapChunkBytes);
    h.stage = 'streaming';
    this.pumpStream(h);
  }

  /** Sends what its credit allows; at the end of our log, NEWLEADER: from then on it gets every proposal. */
  private pumpStream(h: LearnerHandle): void {
    const step = h.stream!.next();
    if (step.kind === 'lost') return this.cutOff(h, 'the history window moved past its sync point');
    for (const msg of step.msgs) this.core.send(h.id, msg);
    if (step.kind === 'more') return;
    this.core.send(h.id, { t: 'newLeader', epoch: this.newEpoch, zxid: makeZxid(this.newEpoch, 0) });
    h.stream = null; // a SNAP's source was closed with its last chunk
    h.stage = 'synced';
    h.syncedTo = this.core.lastAppended;
  }

  private onSyncAck(h: LearnerHandle | undefined, m: Extract<PeerMessage, { t: 'syncAck' }>): void {
    if (h === undefined || h.stage !== 'streaming') return; // late: its stream already ended
    if (h.stream!.acked(m.bytes, this.core.now)) this.pumpStream(h);
  }

  /** A learner that stopped reading its sync (or can no longer be synced from our window) is cut
   *  off: its links close, it elects or reconnects, and its next FOLLOWERINFO starts over. */
  private cutOff(h: LearnerHandle, why: string): void {
    this.dropHandle(h.id);
    this.core.emit({ kind: 'disconnect', peer: h.id, reason: `learner ${h.id} cut off: ${why}` });
  }

  private cutOffStalledStreams(): void {
    for (const h of [...this.handles.values()]) {
      if (h.stream !== null && h.stream.waiting() && this.core.now - h.stream.progressAt > this.core.opts.syncLimitTicks) {
        this.cutOff(h, `no syncAck for ${this.core.opts.syncLimitTicks} ticks`);
      }
    }
  }

  private onAck(from: number, m: Extract<PeerMessage, { t: 'ack' }>): void {
    const h = this.handles.get(from);
    if (h === undefined) return;
    if (h.stage === 'synced') {
      if (m.zxid !== makeZxid(this.newEpoch, 0)) return;
      h.stage = 'active';
      h.ackedZxid = h.syncedTo;
      this.heardAt.set(from, this.core.now);
      if (this.phase === 'broadcast') {
        this.core.send(from, { t: 'upToDate', committed: this.committed });
        this.tryCommit();
      } else {
        this.maybeStartBroadcast();
      }
      return;
    }
    if (h.stage !== 'active' || h.observer) return;
    if (m.zxid > h.ackedZxid) h.ackedZxid = m.zxid;
    this.tryCommit();
  }

  private maybeStartBroadcast(): void {
    if (this.phase !== 'sync' || !this.selfNewLeaderAcked) return;
    let n = 1;
    for (const h of this.handles.values()) if (!h.observer && h.stage === 'active') n++;
    if (n < this.core.quorumSize) return;
    this.phase = 'broadcast';
    // Everything in our history is now on a quorum of logs of this epoch: committed.
    this.advanceCommit(this.core.lastAppended);
    this.core.setServing('leading', this.core.myId);
    for (const h of this.handles.values()) if (h.stage === 'active') this.core.send(h.id, { t: 'upToDate', committed: this.committed });
  }

  // ---------------- broadcast ----------------
  propose(proposals: Proposal[]): void {
    assert(this.phase === 'broadcast', 'propose before the quorum is synced');
    assert(proposals.length > 0, 'propose nothing');
    let prev = this.core.lastAppended;
    for (const p of proposals) {
      assert(epochOf(p.zxid) === this.newEpoch, () => `proposal ${p.zxid} not in epoch ${this.newEpoch}`);
      assert(p.zxid === (epochOf(prev) === this.newEpoch ? prev + 1n : makeZxid(this.newEpoch, 1)), () => `proposal ${p.zxid} does not follow ${prev}`);
      prev = p.zxid;
    }
    assert(this.inFlight() + proposals.length <= constants.zabProposalsInFlightMax, 'too many proposals in flight');
    this.core.appendLocal(proposals, null, null);
    // One PROPOSALS message per run of the batch (bounded in count and bytes), encoded once for
    // every follower: a follower decodes, logs and ACKs the run as one.
    for (const msg of proposalMessages(proposals)) {
      for (const h of this.handles.values()) {
        if (!h.observer && (h.stage === 'synced' || h.stage === 'active')) this.core.send(h.id, msg);
      }
    }
    if (this.core.opts.unsafe?.commitWithoutQuorum) this.advanceCommit(this.core.lastAppended);
  }

  inFlight(): number {
    return this.core.history.length - this.core.historyIndexAfter(this.committed);
  }

  logSynced(): void {
    if (this.phase === 'broadcast') this.tryCommit();
  }

  private tryCommit(): void {
    if (this.phase !== 'broadcast') return;
    // Acks are cumulative (a log is in zxid order): the quorum-th highest acked zxid among the
    // voters is acked by a quorum; we count only once our own fsync covered it.
    const acked: bigint[] = [this.core.lastLogged];
    for (const h of this.handles.values()) if (!h.observer && h.stage === 'active') acked.push(h.ackedZxid);
    if (acked.length < this.core.quorumSize) return;
    acked.sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
    let q = acked[this.core.quorumSize - 1]!;
    if (q > this.core.lastLogged) q = this.core.lastLogged;
    if (q > this.core.lastAppended) q = this.core.lastAppended;
    if (q > this.committed) this.advanceCommit(this.core.historyFloor(q));
  }

  private advanceCommit(target: bigint): void {
    if (target <= this.committed) return;
    const newly = this.core.opts.observers.length > 0 ? this.core.historyAfter(this.committed).filter((p) => p.zxid <= target) : [];
    this.committed = target;
    this.core.commitThrough(target);
    const commit: PeerMessage = { t: 'commit', zxid: target };
    for (const h of this.handles.values()) {
      if (h.stage !== 'synced' && h.stage !== 'active') continue;
      if (!h.observer) {
        this.core.send(h.id, commit);
        continue;
      }
      // Entries it got inside its DIFF are known to it; INFORM doubles as their commit.
      for (const p of newly) this.core.send(h.id, { t: 'inform', zxid: p.zxid, txn: p.txn, origin: p.origin });
    }
  }

  hasQuorum(): boolean {
    if (this.phase !== 'broadcast') return false;
    let n = 1;
    for (const [id, at] of this.heardAt) if (this.core.isVoter(id) && this.core.now - at <= this.core.opts.syncLimitTicks) n++;
    return n >= this.core.quorumSize;
  }

  learnerList(): { id: number; observer: boolean; ackedZxid: bigint; synced: boolean }[] {
    return [...this.handles.values()].map((h) => ({ id: h.id, observer: h.observer, ackedZxid: h.ackedZxid, synced: h.stage === 'active' }));
  }

  // ---------------- the rest of the role ----------------
  tick(): void {
    this.cutOffStalledStreams();
    if (this.phase !== 'broadcast') {
      if (this.core.now - this.startedAt > this.core.opts.initLimitTicks) this.core.goLooking('no quorum synced within initLimit');
      return;
    }
    if (!this.hasQuorum()) return this.core.goLooking('lost the quorum');
    if (this.core.now - this.lastPing >= this.core.opts.heartbeatTicks) {
      this.lastPing = this.core.now;
      const ping: PeerMessage = { t: 'ping', committed: this.committed };
      for (const h of this.handles.values()) if (h.stage === 'synced' || h.stage === 'active') this.core.send(h.id, ping);
    }
  }

  receive(from: number, m: PeerMessage): void {
    const h = this.handles.get(from);
    if (h !== undefined && h.stage === 'active' && !h.observer) this.heardAt.set(from, this.core.now);
    switch (m.t) {
      case 'vote':
        if (m.state === 'looking') this.core.send(from, decidedNotification(this.core, 'leading')!);
        return;
      case 'followerInfo': return this.onFollowerInfo(from, m);
      case 'ackEpoch': return this.onAckEpoch(from, m);
      case 'ack': return this.onAck(from, m);
      case 'syncAck': return this.onSyncAck(h, m);
      case 'pong':
        if (h !== undefined && h.stage === 'active' && m.sessionIds.length > 0) this.core.emit({ kind: 'sessionsTouched', from, sessionIds: m.sessionIds });
        return;
      case 'request':
        if (h !== undefined && h.stage === 'active' && m.origin.serverId === from) this.core.emit({ kind: 'request', from, forwarded: { origin: m.origin, request: m.request } });
        return;
      default:
        return; // leader-to-learner traffic from another leader: not for us
    }
  }

  linkDown(peer: number): void {
    // Its handshake starts over when it comes back; its last ack keeps counting until syncLimit.
    this.dropHandle(peer);
  }

  linkUp(peer: number): void {
    // A restarted member's vote can reach us before our link to it is up: our answer to it was
    // dropped, and it would wait a whole election timeout to ask again. Say who leads now.
    const n = decidedNotification(this.core, 'leading');
    if (n !== null) this.core.send(peer, n);
  }
}
