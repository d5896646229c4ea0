// Fast leader election, as ZooKeeper's FastLeaderElection:
// - a LOOKING voter proposes itself (id, last zxid, currentEpoch) in a new logical clock
//   (electionEpoch) and adopts any greater vote it hears, re-broadcasting on every change;
// - notifications of a higher logical clock reset the round; lower ones are answered with our vote,
//   and so are worse votes of our round (their sender may have missed our broadcast);
// - a vote backed by every voter decides at once, one backed by a quorum after a short wait
//   (finalizeWaitTicks) for a better one;
// - notifications from LEADING/FOLLOWING servers are collected apart ("out of election"): if a
//   quorum follows a leader that itself says LEADING, join it instead of disrupting it (restart);
// - observers never vote: they ask, and follow what a quorum of voters already follows.
import { assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';
import type { ServerState } from './api.js';
import type { Core, Role } from './core.js';
import { sameVote, voteGreater, type PeerMessage, type Vote } from './messages.js';

interface Notification {
  vote: Vote;
  electionEpoch: number;
  state: ServerState;
}

export class Election implements Role {
  readonly kind = 'looking';
  private proposed: Vote;
  /** Votes of voters in our round (LOOKING ones, and decided ones of the same electionEpoch). */
  private readonly recv = new Map<number, Vote>();
  /** What decided servers (LEADING/FOLLOWING/OBSERVING) told us, whatever their round. */
  private readonly outOfElection = new Map<number, Notification>();
  private lastBroadcast = 0;
  private decideAt: number | null = null;
  private stopped = false;
  /** FOLLOWERINFOs that reached us during this election (one per peer: the latest). */
  private readonly followerInfos = new Map<number, Extract<PeerMessage, { t: 'followerInfo' }>>();

  constructor(private readonly core: Core) {
    this.proposed = this.selfVote();
  }

  private selfVote(): Vote {
    if (this.core.opts.unsafe?.voteEmptyLog) return { leader: this.core.myId, zxid: 0n, peerEpoch: 0 };
    return { leader: this.core.myId, zxid: this.core.lastAppended, peerEpoch: this.core.currentEpoch };
  }

  start(): void {
    this.core.logicalClock++;
    this.proposed = this.selfVote();
    if (!this.core.isObserver) this.recv.set(this.core.myId, this.proposed);
    this.broadcast();
    this.check();
  }

  stop(): void { this.stopped = true; }

  private notification(): PeerMessage {
    return { t: 'vote', vote: this.proposed, electionEpoch: this.core.logicalClock, state: 'looking' };
  }

  private broadcast(): void {
    this.lastBroadcast = this.core.now;
    const msg = this.notification();
    for (const id of this.core.opts.voters) if (id !== this.core.myId) this.core.send(id, msg);
  }

  tick(): void {
    if (this.decideAt !== null && this.core.now >= this.decideAt) {
      this.decideAt = null;
      if (this.quorumFor(this.recv, this.proposed)) return this.decide(this.proposed, this.core.logicalClock);
    }
    if (this.core.now - this.lastBroadcast >= this.core.opts.electionTimeoutTicks) this.broadcast();
  }

  linkDown(peer: number): void {
    // Its learner starts over on the new connection (and sends a new FOLLOWERINFO).
    this.followerInfos.delete(peer);
  }

  linkUp(peer: number): void {
    // What we sent while the link was down is lost: say it again to that peer.
    if (this.core.isVoter(peer)) this.core.send(peer, this.notification());
  }

  logSynced(): void {}

  receive(from: number, m: PeerMessage): void {
    if (m.t === 'followerInfo') {
      // A peer decided for us before we did (our quorum may still be in finalizeWait): keep its
      // FOLLOWERINFO for our leader role instead of making it wait for its re-send.
      this.followerInfos.set(from, m);
      return;
    }
    if (m.t !== 'vote') return; // leader/learner traffic of a term we are not in
    const fromVoter = this.core.isVoter(from);
    if (this.core.isObserver) return this.observerReceive(from, m);
    if (!fromVoter) {
      // An observer asks who leads: tell it what we think (it only acts on decided servers).
      this.core.send(from, this.notification());
      return;
    }
    if (m.state === 'looking') this.lookingNotification(from, m);
    else this.decidedNotification(from, m);
  }

  private lookingNotification(from: number, m: Notification): void {
    const clock = this.core.logicalClock;
    if (m.electionEpoch > clock) {
      this.core.logicalClock = m.electionEpoch;
      this.recv.clear();
      const self = this.selfVote();
      this.proposed = voteGreater(m.vote, self) ? m.vote : self;
      this.broadcast();
    } else if (m.electionEpoch < clock) {
      this.core.send(from, this.notification()); // bring it to our round
      return;
    } else if (voteGreater(m.vote, this.proposed)) {
      this.proposed = m.vote;
      this.broadcast();
    } else if (!sameVote(m.vote, this.proposed)) {
      // Ours is better and the sender does not know it: it may have missed our broadcast, sent
      // while it still followed the old leader (a learner answers a vote and forgets it). Tell it
      // now, or it would wait for our next re-send (the election timeout, 1 s by default).
      this.core.send(from, this.notification());
    }
    this.recv.set(from, m.vote);
    this.recv.set(this.core.myId, this.proposed);
    this.check();
  }

  private check(): void {
    if (this.stopped) return;
    const voters = this.core.opts.voters;
    let agree = 0;
    for (const id of voters) {
      const v = this.recv.get(id);
      if (v !== undefined && sameVote(v, this.proposed)) agree++;
    }
    if (agree === voters.length) return this.decide(this.proposed, this.core.logicalClock);
    if (agree >= this.core.quorumSize) {
      if (this.decideAt === null) this.decideAt = this.core.now + (this.core.opts.finalizeWaitTicks ?? constants.zabFinalizeWaitTicks);
    } else {
      this.decideAt = null;
    }
  }

  private decidedNotification(from: number, m: Notification): void {
    if (m.electionEpoch === this.core.logicalClock) {
      this.recv.set(from, m.vote);
      if (this.quorumFor(this.recv, m.vote) && this.leaderConfirmed(m.vote.leader, true)) return this.decide(m.vote, m.electionEpoch);
    }
    this.outOfElection.set(from, m);
    if (this.joinable(m.vote.leader)) {
      this.core.logicalClock = Math.max(this.core.logicalClock, m.electionEpoch);
      this.decide(m.vote, m.electionEpoch);
    }
  }

  /** A leader we did not elect may be joined only if it says itself that it leads. */
  private leaderConfirmed(leader: number, inRound: boolean): boolean {
    if (leader === this.core.myId) return inRound;
    const n = this.outOfElection.get(leader) ?? null;
    return n !== null && n.state === 'leading';
  }

  /** A quorum of voters (counting us, since we would follow) already follows `leader`. */
  private joinable(leader: number): boolean {
    if (leader === this.core.myId || !this.leaderConfirmed(leader, false)) return false;
    let n = this.core.isObserver ? 0 : 1;
    for (const [id, note] of this.outOfElection) {
      if (id !== this.core.myId && this.core.isVoter(id) && note.vote.leader === leader && note.state !== 'looking') n++;
    }
    return n >= this.core.quorumSize;
  }

  private quorumFor(votes: Map<number, Vote>, vote: Vote): boolean {
    let n = 0;
    for (const id of this.core.opts.voters) {
      const v = votes.get(id);
      if (v !== undefined && sameVote(v, vote)) n++;
    }
    return n >= this.core.quorumSize;
  }

  private observerReceive(from: number, m: Notification): void {
    if (!this.core.isVoter(from) || m.state === 'looking') return;
    this.outOfElection.set(from, m);
    if (this.joinable(m.vote.leader)) this.decide(m.vote, m.electionEpoch);
  }

  private decide(vote: Vote, electionEpoch: number): void {
    assert(!this.stopped, 'a stopped election decides nothing');
    assert(this.core.isVoter(vote.leader), 'only a voter leads');
    this.stopped = true;
    if (vote.leader === this.core.myId) this.core.lead(vote, [...this.followerInfos]);
    else this.core.learn(vote, electionEpoch);
    if (!this.core.isObserver) {
      // Observers only ask now and then: tell them at once so they need not wait for a re-send.
      const msg: PeerMessage = { t: 'vote', vote, electionEpoch, state: vote.leader === this.core.myId ? 'leading' : 'following' };
      for (const id of this.core.opts.observers) this.core.send(id, msg);
    }
  }
}

/** What a decided server answers a LOOKING peer: its final vote and its state. */
export function decidedNotification(core: Core, state: ServerState): PeerMessage | null {
  if (core.finalVote === null) return null;
  return { t: 'vote', vote: core.finalVote, electionEpoch: core.finalElectionEpoch, state };
}
