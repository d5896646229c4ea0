// The Zab core: one synchronous state machine per server. It owns what every role shares — the
// epochs, the in-memory window of the log (history), the ordered disk queue, the commit point and
// the effect list — and delegates messages and ticks to the current role:
//
//   Election (looking) --decide--> LeaderRole  (discovery -> sync -> broadcast)
//                                  LearnerRole (follower or observer, same phases)
//   any role --timeout, lost quorum, link down, protocol surprise--> Election
//
// Roles are objects created per term; a disk completion's continuation runs only if the role that
// asked for it is still the current one (otherwise the work it would have sent is void).
import { assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';
import type { WriteResult } from '../pipeline/api.js';
import type { Effect, ForwardedRequest, Origin, Proposal, ServerState, ZabCore, ZabHost, ZabOptions, ZabStart } from './api.js';
import { Election } from './election.js';
import { LeaderRole } from './leader.js';
import { LearnerRole } from './learner.js';
import type { PeerMessage, Vote } from './messages.js';

/** Broken variants, for the simulator's test that it catches bugs. Never set in production. */
export interface ZabUnsafeOptions {
  /** Followers ACK a proposal as soon as it arrives, before it is fsynced. */
  ackBeforeFsync?: boolean;
  /** The leader commits a proposal as soon as it logged it itself, without a quorum. */
  commitWithoutQuorum?: boolean;
  /** Votes claim an empty log (anyone may win, however far behind) and the new leader does not
   *  check whether a learner is ahead of it. */
  voteEmptyLog?: boolean;
}

export interface ZabCoreOptions extends ZabOptions {
  unsafe?: ZabUnsafeOptions;
  /** The DIFF window in txns (default constants.zabHistoryTxnsMax; the simulator makes it tiny). */
  historyTxnsMax?: number;
  /** Makes learner attempts of this process distinct from an earlier process's (a restart):
   *  the real host gives a random number below 2^32, the simulator its seed-derived one. */
  incarnation?: number;
  /** Sync credit (defaults constants.zabSyncWindowBytes / zabSyncAckBytes / zabSnapChunkBytes;
   *  the simulator makes them tiny so its small images stream in many pieces). */
  syncWindowBytes?: number;
  syncAckBytes?: number;
  snapChunkBytes?: number;
}

export interface Role {
  readonly kind: ServerState;
  tick(): void;
  receive(from: number, m: PeerMessage): void;
  linkDown(peer: number): void;
  linkUp(peer: number): void;
  /** The durable log now ends at core.lastLogged (after an append's fsync). */
  logSynced(): void;
  /** This role ends (another replaces it). */
  stop(): void;
}

type DiskOp = { kind: 'truncate' | 'append' | 'installSnapshot' | 'persistEpochs'; zxid: bigint; owner: Role | null; then: (() => void) | null };

export class Core implements ZabCore {
  readonly myId: number;
  readonly opts: ZabCoreOptions;
  readonly host: ZabHost;
  readonly isObserver: boolean;
  readonly quorumSize: number;
  readonly peers: number[]; // everyone but me

  acceptedEpoch: number;
  currentEpoch: number;
  /** The log window: txns handed to the disk queue (maybe not fsynced yet), oldest first. */
  history: Proposal[];
  historyBytes = 0;
  /** Learner terms begun by this core (each one's FOLLOWERINFOs carry its number). */
  learnerAttempts = 0;
  /** The zxid just before history[0]: the oldest point this server can DIFF from or TRUNC to. */
  historyBase: bigint;
  lastAppended: bigint;
  /** The durable end of the log: every record through it is fsynced. */
  lastLogged: bigint;
  /** The end of the log as the last completion left it (cuts included). */
  private lastSynced: bigint;
  /** Pending TRUNC / SNAP cut points, in queue order. */
  private cuts: bigint[] = [];
  /** Highest commit effect emitted (never beyond lastLogged). */
  commitEmitted: bigint;
  appliedZxid: bigint;
  /** What the start-up replay applied (may be beyond what is known committed). */
  private readonly startApplied: bigint;
  now = 0;
  logicalClock = 0;
  /** The vote this server settled on in its last election (answered to LOOKING peers). */
  finalVote: Vote | null = null;
  finalElectionEpoch = 0;

  role: Role;
  private servingState: ServerState = 'looking';
  private servingLeader: number | null = null;
  private effects: Effect[] = [];
  private disk: DiskOp[] = [];
  private diskHead = 0;

  constructor(options: ZabCoreOptions, start: ZabStart, host: ZabHost) {
    this.myId = options.myId;
    this.opts = options;
    this.host = host;
    this.isObserver = options.observers.includes(options.myId);
    assert(this.isObserver !== options.voters.includes(options.myId), 'a server is either a voter or an observer');
    assert(options.voters.length > 0, 'at least one voter');
    this.quorumSize = Math.floor(options.voters.length / 2) + 1;
    this.peers = [...options.voters, ...options.observers].filter((id) => id !== options.myId);
    assert(start.currentEpoch <= start.acceptedEpoch, 'currentEpoch <= acceptedEpoch');
    this.acceptedEpoch = start.acceptedEpoch;
    this.currentEpoch = start.currentEpoch;
    // Without its base the first record of the window serves as the base.
    this.history = start.historyBaseZxid === undefined ? start.history.slice(1) : start.history.slice();
    for (const p of this.history) this.historyBytes += p.txn.byteLength;
    for (let i = 1; i < this.history.length; i++) assert(this.history[i]!.zxid > this.history[i - 1]!.zxid, 'history in zxid order');
    const last = this.history[this.history.length - 1];
    assert(last === undefined || last.zxid === start.lastLoggedZxid, 'history ends at lastLoggedZxid');
    this.lastAppended = start.lastLoggedZxid;
    this.lastLogged = start.lastLoggedZxid;
    this.lastSynced = start.lastLoggedZxid;
    if (start.historyBaseZxid !== undefined) this.historyBase = start.historyBaseZxid;
    else this.historyBase = start.history.length > 0 ? start.history[0]!.zxid : start.lastLoggedZxid;
    assert(this.history.length === 0 || this.history[0]!.zxid > this.historyBase, 'the window starts after its base');
    assert(this.historyBase <= this.lastLogged, 'the base is in the log');
    // What the log replay applied is not known to be committed; the first commit comes from a leader.
    this.commitEmitted = this.historyBase;
    this.appliedZxid = start.appliedZxid ?? this.historyBase;
    this.startApplied = this.appliedZxid;
    this.role = new Election(this);
    this.effects.push({ kind: 'role', state: 'looking', epoch: this.currentEpoch, leaderId: null });
    (this.role as Election).start();
  }

  // ---------------- ZabCore ----------------
  state(): ServerState { return this.servingState; }
  epoch(): number { return this.currentEpoch; }
  leaderId(): number | null { return this.servingLeader; }
  lastLoggedZxid(): bigint { return this.lastLogged; }
  committedZxid(): bigint { return this.commitEmitted; }
  /** The role's phase, finer than state(): election, discovery, sync or broadcast. */
  phase(): 'election' | 'discovery' | 'sync' | 'broadcast' {
    const r = this.role;
    if (r instanceof LeaderRole || r instanceof LearnerRole) return r.phase;
    return 'election';
  }
  learners(): { id: number; observer: boolean; ackedZxid: bigint; synced: boolean }[] {
    return this.role instanceof LeaderRole ? this.role.learnerList() : [];
  }
  /** Leader: proposals not committed yet; the pipeline keeps this below zabProposalsInFlightMax. */
  inFlight(): number {
    return this.role instanceof LeaderRole ? this.role.inFlight() : 0;
  }

  tick(): void {
    this.now++;
    this.role.tick();
  }
  receive(from: number, msg: unknown): void {
    if (from === this.myId || !this.peers.includes(from)) return; // not a member: ignore
    this.role.receive(from, msg as PeerMessage);
  }
  linkDown(peer: number): void { this.role.linkDown(peer); }
  linkUp(peer: number): void { this.role.linkUp(peer); }

  truncated(zxid: bigint): void {
    const op = this.completeDisk('truncate', zxid);
    this.cutDone(zxid);
    this.runThen(op);
    this.role.logSynced();
  }
  logSynced(zxid: bigint): void {
    // One fsync may cover several queued appends: complete every one through zxid.
    assert(zxid > this.lastSynced, () => `logSynced ${zxid} not past ${this.lastSynced}`);
    const ops: DiskOp[] = [];
    for (;;) {
      const next = this.disk[this.diskHead];
      const covered = next !== undefined && next.kind === 'append' && next.zxid <= zxid;
      if (!covered) {
        if (ops.length > 0) break;
        this.completeDisk('append', zxid); // asserts with the reason
      }
      ops.push(this.completeDisk('append', next!.zxid));
    }
    assert(ops[ops.length - 1]!.zxid === zxid, () => `logSynced ${zxid} is not the end of a queued append`);
    this.lastSynced = zxid;
    // Records below a pending TRUNC/SNAP cut may still go: they count as logged only up to it.
    const cut = this.cuts.length > 0 ? this.minCut() : null;
    this.lastLogged = cut !== null && cut < zxid ? cut : zxid;
    for (const op of ops) this.runThen(op);
    this.role.logSynced();
  }
  snapshotInstalled(zxid: bigint): void {
    const op = this.completeDisk('installSnapshot', zxid);
    this.cutDone(zxid);
    this.runThen(op);
    this.role.logSynced();
  }

  private cutDone(zxid: bigint): void {
    assert(this.cuts[0] === zxid, 'cuts complete in order');
    this.cuts.shift();
    this.lastSynced = zxid;
    const cut = this.cuts.length > 0 ? this.minCut() : null;
    this.lastLogged = cut !== null && cut < zxid ? cut : zxid;
  }

  private minCut(): bigint {
    let m = this.cuts[0]!;
    for (const c of this.cuts) if (c < m) m = c;
    return m;
  }
  epochsPersisted(): void {
    this.runThen(this.completeDisk('persistEpochs', 0n));
  }
  applied(zxid: bigint): void {
    assert(zxid <= this.commitEmitted || zxid <= this.startApplied, () => `applied ${zxid} beyond commit ${this.commitEmitted}`);
    if (zxid > this.appliedZxid) this.appliedZxid = zxid;
    this.trimHistory();
  }

  propose(proposals: Proposal[]): void {
    assert(this.role instanceof LeaderRole, 'propose: not leading');
    this.role.propose(proposals);
  }
  replyTo(origin: Origin, afterZxid: bigint, result: WriteResult): void {
    if (origin.serverId === this.myId) this.effects.push({ kind: 'reply', origin, afterZxid, result });
    else this.send(origin.serverId, { t: 'reply', origin, afterZxid, result });
  }
  forward(forwarded: ForwardedRequest): boolean {
    return this.role instanceof LearnerRole ? this.role.forward(forwarded) : false;
  }
  touchSessions(sessionIds: bigint[]): void {
    if (this.role instanceof LearnerRole) this.role.touchSessions(sessionIds);
  }
  hasQuorum(): boolean {
    return this.role instanceof LeaderRole && this.role.hasQuorum();
  }
  takeEffects(): Effect[] {
    const out = this.effects;
    this.effects = [];
    return out;
  }

  // ---------------- for the roles ----------------
  emit(e: Effect): void { this.effects.push(e); }
  send(to: number, msg: PeerMessage): void {
    assert(to !== this.myId, 'no sends to myself');
    this.effects.push({ kind: 'send', to, msg });
  }
  isVoter(id: number): boolean { return this.opts.voters.includes(id); }

  /** Queue a disk effect; `then` runs on its completion if `owner` is still the current role. */
  diskOp(effect: Effect & { kind: DiskOp['kind'] }, owner: Role | null, then: (() => void) | null): void {
    let zxid = 0n;
    if (effect.kind === 'append') zxid = effect.proposals[effect.proposals.length - 1]!.zxid;
    else if (effect.kind === 'truncate' || effect.kind === 'installSnapshot') zxid = effect.zxid;
    this.disk.push({ kind: effect.kind, zxid, owner, then });
    this.effects.push(effect);
  }

  /** Append to the log window and queue the append; the caller checked the order. */
  appendLocal(proposals: Proposal[], owner: Role | null, then: (() => void) | null): void {
    assert(proposals.length > 0, 'append of nothing');
    for (const p of proposals) {
      assert(p.zxid > this.lastAppended, () => `append ${p.zxid} not after ${this.lastAppended}`);
      this.lastAppended = p.zxid;
      this.history.push(p);
      this.historyBytes += p.txn.byteLength;
    }
    this.diskOp({ kind: 'append', proposals }, owner, then);
  }

  truncateLocal(zxid: bigint, owner: Role, then: (() => void) | null): void {
    assert(zxid >= this.historyBase && zxid < this.lastAppended, 'truncate inside the window');
    assert(this.commitEmitted <= zxid, () => `truncating committed txns (${zxid} < ${this.commitEmitted})`);
    while (this.history.length > 0 && this.history[this.history.length - 1]!.zxid > zxid) {
      this.historyBytes -= this.history.pop()!.txn.byteLength;
    }
    this.lastAppended = zxid;
    this.cut(zxid);
    this.diskOp({ kind: 'truncate', zxid }, owner, then);
  }

  installLocal(zxid: bigint, image: Uint8Array, owner: Role, then: (() => void) | null): void {
    this.history = [];
    this.historyBytes = 0;
    this.historyBase = zxid;
    this.lastAppended = zxid;
    // The image is the leader's applied (so committed) state: it is this server's state at once.
    this.commitEmitted = zxid;
    this.appliedZxid = zxid;
    this.cut(zxid);
    this.diskOp({ kind: 'installSnapshot', zxid, image }, owner, then);
  }

  private cut(zxid: bigint): void {
    this.cuts.push(zxid);
    if (this.lastLogged > zxid) this.lastLogged = zxid;
  }

  persistEpochs(acceptedEpoch: number, currentEpoch: number, owner: Role, then: () => void): void {
    assert(acceptedEpoch >= this.acceptedEpoch, 'acceptedEpoch never goes back');
    assert(currentEpoch >= this.currentEpoch && currentEpoch <= acceptedEpoch, 'currentEpoch in range');
    this.acceptedEpoch = acceptedEpoch;
    this.currentEpoch = currentEpoch;
    this.diskOp({ kind: 'persistEpochs', acceptedEpoch, currentEpoch }, owner, then);
  }

  /** Emit a commit through min(zxid, lastLogged): a server applies only what it logged. */
  commitThrough(zxid: bigint): void {
    const target = zxid < this.lastLogged ? zxid : this.lastLogged;
    if (target <= this.commitEmitted) return;
    assert(target <= this.lastAppended, 'commit of an unknown txn');
    this.commitEmitted = target;
    this.effects.push({ kind: 'commit', zxid: target });
  }

  /** Index of the first history entry after `zxid`. */
  historyIndexAfter(zxid: bigint): number {
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid]!.zxid <= zxid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** History entries after `zxid`, oldest first. */
  historyAfter(zxid: bigint): Proposal[] {
    return this.history.slice(this.historyIndexAfter(zxid));
  }

  /** The largest zxid of the log (window or base) that is <= zxid. */
  historyFloor(zxid: bigint): bigint {
    const i = this.historyIndexAfter(zxid);
    return i === 0 ? this.historyBase : this.history[i - 1]!.zxid;
  }

  /** Whether `zxid` is the zxid of a record of the window (or its base). */
  historyHas(zxid: bigint): boolean {
    if (zxid === this.historyBase) return true;
    // A binary search, no copy: a sync stream asks this for every PROPOSALS run it sends.
    const i = this.historyIndexAfter(zxid - 1n);
    return i < this.history.length && this.history[i]!.zxid === zxid;
  }

  /** The largest window zxid below `zxid`, or null if the window does not reach that far back. */
  historyBefore(zxid: bigint): bigint | null {
    if (zxid <= this.historyBase) return null;
    const below = this.historyIndexAfter(zxid - 1n);
    return below === 0 ? this.historyBase : this.history[below - 1]!.zxid;
  }

  /**
   * Keep the window bounded; only applied txns leave it (a SNAP needs what follows its image).
   * Trimmed in batches (an eighth of the bound past it) so that the array is not copied per txn.
   */
  trimHistory(): void {
    const txnsMax = this.opts.historyTxnsMax ?? constants.zabHistoryTxnsMax;
    const bytesMax = constants.zabHistoryBytesMax;
    const n = this.history.length;
    if (n <= txnsMax + (txnsMax >> 3) && this.historyBytes <= bytesMax + (bytesMax >> 3)) return;
    let keepAfter = this.appliedZxid < this.commitEmitted ? this.appliedZxid : this.commitEmitted;
    if (keepAfter < this.historyBase) keepAfter = this.historyBase;
    let drop = 0;
    let bytes = this.historyBytes;
    while (drop < n && (n - drop > txnsMax || bytes > bytesMax)) {
      const p = this.history[drop]!;
      if (p.zxid > keepAfter) break;
      bytes -= p.txn.byteLength;
      drop++;
    }
    if (drop === 0) return;
    this.historyBase = this.history[drop - 1]!.zxid;
    this.history = this.history.slice(drop);
    this.historyBytes = bytes;
  }

  /** Leave the current role for an election (a timeout, a lost quorum, a surprise). */
  goLooking(why: string): void {
    void why; // kept for debugging: set a breakpoint or log here
    this.role.stop();
    this.role = new Election(this);
    this.setServing('looking', null);
    (this.role as Election).start();
  }

  /** Become the leader; `early` are FOLLOWERINFOs that reached us while we were still looking. */
  lead(vote: Vote, early: readonly [number, PeerMessage][] = []): void {
    this.role.stop();
    const role = new LeaderRole(this);
    this.role = role;
    this.finalVote = vote;
    this.finalElectionEpoch = this.logicalClock;
    role.start();
    for (const [from, m] of early) if (this.role === role) role.receive(from, m);
  }

  learn(vote: Vote, electionEpoch: number): void {
    this.role.stop();
    this.role = new LearnerRole(this, vote.leader);
    this.finalVote = vote;
    this.finalElectionEpoch = electionEpoch;
    (this.role as LearnerRole).start();
  }

  setServing(state: ServerState, leaderId: number | null): void {
    if (state === this.servingState && leaderId === this.servingLeader) return;
    this.servingState = state;
    this.servingLeader = leaderId;
    this.effects.push({ kind: 'role', state, epoch: this.currentEpoch, leaderId });
  }

  private completeDisk(kind: DiskOp['kind'], zxid: bigint): DiskOp {
    const op = this.disk[this.diskHead];
    assert(op !== undefined, () => `${kind} completion with no disk effect pending`);
    assert(op.kind === kind, () => `${kind} completion, but ${op.kind} was next`);
    assert(kind === 'persistEpochs' || op.zxid === zxid, () => `${kind} completion for ${zxid}, expected ${op.zxid}`);
    this.diskHead++;
    if (this.diskHead > 1024 && this.diskHead * 2 > this.disk.length) {
      this.disk = this.disk.slice(this.diskHead);
      this.diskHead = 0;
    }
    return op;
  }

  private runThen(op: DiskOp): void {
    if (op.then !== null && (op.owner === null || op.owner === this.role)) op.then();
  }
}

export function createZabCore(options: ZabCoreOptions, start: ZabStart, host: ZabHost): Core {
  return new Core(options, start, host);
}
