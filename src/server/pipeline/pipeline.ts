// The write pipeline: ZooKeeper's Prep -> Sync -> (Proposal/Commit) -> Final chain as one
// synchronous state machine on the main thread. No I/O, timers or async: the composition root
// moves records to the log, reports fsyncs and quorum commits, and opens the tree write window.
//
//   submit(req)         prep: validate against tree + pending changes, assign zxid, build txn;
//                       errors, sync and getEphemerals get no txn but keep their queue position
//   takeLogRecords()    standalone: txns to append to the log (at most writeBatchMax per call)
//   takeOutput()        leader: the same txns as runs of proposals, with the REPLYs to other
//                       servers' txn-less requests between them, in queue order
//   logged(zxid)        they are fsynced; standalone (ensemble of one) commits on its own ack
//   quorumCommitted(z)  ensembles: a quorum has acked through z
//   commit(publish)     applies the ready prefix of the queue in ONE write window and publishes
//                       the entries (replies + watch events) before the window closes
//   replay(zxid, bytes) recovery: applies a logged txn with the same apply function
//
// Roles (PipelineRole in api.ts). The constructor makes a standalone pipeline; an ensemble
// server switches with becomeLeader / becomeFollower / becomeObserver, and leaves a role with
// reset() (an election), which drops what is not applied. Only an empty pipeline changes role.
//   standalone, leader: submit() preps (a leader also takes learners' forwarded requests, with
//     req.origin). Standalone takes takeLogRecords() ({ zxid, bytes, origin }) and commits on
//     logged(); the leader takes takeOutput(), logs and proposes each run of records, sends each
//     reply (a REPLY must not overtake an earlier proposal nor trail a later one, or a learner
//     would answer one session out of order), and applies a txn once quorumCommitted and logged
//     both cover it.
//   follower, observer: nothing is prepared here. acceptProposal() queues the leader's txn,
//     acceptReply() the leader's answer to a forwarded request that made no txn; logged() and
//     quorumCommitted() as the core reports them; each applied txn's answer is derived from the
//     txn and the tree (apply.ts), so the origin server answers as the leader's prep did.
//
// Entry states along the queue (FIFO, so each session's replies keep its request order):
//   standalone / leader:
//     prepared (txn, not yet taken) -> taken (in the log buffer, proposed) -> durable
//     (zxid <= loggedZxid) -> committed (zxid <= committedZxid) -> applied and published.
//     A txn-less entry is ready as soon as everything before it is (another server's one is
//     also taken, as a reply, in queue order; it is published here only for the record).
//   follower / observer:
//     accepted (acceptProposal: counts as taken, the core logs it) -> durable -> committed
//     -> applied and published. A reply (acceptReply) is ready once everything before it is
//     and the tree has applied its afterZxid.
//   Any role: reset() drops every entry not yet applied (returned, for CONNECTIONLOSS).
import { assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';
import { makeZxid, zxidCounter, zxidEpoch } from '../../common/zxid.js';
import type { TreeWriter } from '../tree/api.js';
import type { CommittedEntry, DroppedEntry, LeaderOutput, Origin, PipelineOptions, PipelineRole, ProposalRecord, WriteRequest, WriteResult } from './api.js';
import { NodeIndexes, applyTxn } from './apply.js';
import type { Entry, EntryBase } from './intake.js';
import { Intake } from './intake.js';
import { ownerKind, ownerTtlMs } from './owner.js';
import type { OpOutcome } from './prep.js';
import { deriveValue } from './result.js';
import { ensureSystemNodes } from './system-nodes.js';
import type { Txn } from './txn.js';
import { decodeTxn, encodeTxn } from './txn.js';

type Options = Required<Omit<PipelineOptions, 'isSessionLive' | 'checkOwner'>> & Pick<PipelineOptions, 'isSessionLive' | 'checkOwner'>;

export class Pipeline {
  private readonly tree: TreeWriter;
  private readonly opts: Options;
  private role: PipelineRole = 'standalone';
  private epoch: number; // new zxids are epoch << 32 | counter
  private readonly idx: NodeIndexes;
  private readonly queue: Entry[] = [];
  private queueHead = 0;
  private readonly toLog: Entry[] = [];
  private toLogHead = 0;
  // Observer: replies waiting for the INFORM of their afterZxid (in arrival order).
  private readonly held: Entry[] = [];
  private heldHead = 0;
  private lastZxid: bigint; // the last zxid handed out (or replayed)
  private takenZxid: bigint; // the last zxid handed to the log
  private loggedZxid: bigint;
  private committedZxid: bigint;
  private readonly intake: Intake;

  constructor(tree: TreeWriter, options: PipelineOptions) {
    this.tree = tree;
    this.opts = {
      dataBytesMax: constants.dataBytesMax,
      pendingMax: constants.pendingTxnsMax,
      ensembleSize: 1,
      serverId: 0,
      ...options,
    };
    assert(Number.isInteger(this.opts.serverId) && this.opts.serverId >= 0, 'serverId is a non-negative integer');
    assert(Number.isInteger(this.opts.ensembleSize) && this.opts.ensembleSize >= 1, 'ensembleSize >= 1');
    assert(this.opts.pendingMax >= 1 && this.opts.dataBytesMax >= 0, 'pipeline bounds');
    assert(options.lastZxid >= tree.appliedZxid(), 'lastZxid is behind the tree');
    assert(options.epoch >= zxidEpoch(options.lastZxid), 'epoch is behind lastZxid');
    ensureSystemNodes(tree);
    this.idx = NodeIndexes.rebuild(tree);
    this.intake = new Intake(tree, this.idx, { clock: this.opts.clock, dataBytesMax: this.opts.dataBytesMax, isSessionLive: this.opts.isSessionLive, checkOwner: this.opts.checkOwner });
    this.epoch = options.epoch;
    this.lastZxid = this.takenZxid = this.loggedZxid = this.committedZxid = options.lastZxid;
  }

  // ---- intake ----

  /** Whether a new request would be processed (false: it is answered THROTTLEDOP, in order). */
  canAccept(): boolean {
    return this.pendingCount() < this.opts.pendingMax;
  }

  /** Entries submitted and not yet committed (txns and txn-less ones). */
  pendingCount(): number {
    return this.queue.length - this.queueHead + this.held.length - this.heldHead;
  }

  /**
   * Prepares a request and queues it. Never throws for bad input: every outcome is an entry
   * answered in queue order. Returns false if the pipeline was full and the request was queued
   * as a THROTTLEDOP answer instead (the caller should stop reading new requests until
   * canAccept() is true again; a throttled entry holds no request data).
   */
  submit(req: WriteRequest): boolean {
    assert(this.role === 'standalone' || this.role === 'leader', () => `submit on a ${this.role} pipeline (a learner forwards its writes)`);
    assert(req.origin === undefined || req.origin.sessionId === req.sessionId, 'a forwarded request carries its own session');
    if (!this.canAccept()) {
      this.push({ ...this.base(req), zxid: 0n, txn: null, result: { ok: false, code: 'THROTTLEDOP', message: 'too many writes in flight' } });
      return false;
    }
    const e = this.intake.prep(req, this.base(req), () => this.nextZxid());
    if (e.zxid !== 0n) this.lastZxid = e.zxid;
    this.push(e);
    return true;
  }

  /** The fields every entry of a request has; afterZxid is what was prepared before it. */
  private base(req: WriteRequest): EntryBase {
    const origin = req.origin ?? { serverId: this.opts.serverId, sessionId: req.sessionId, tag: req.tag };
    return { tag: req.tag, sessionId: req.sessionId, origin, afterZxid: this.lastZxid };
  }

  private push(e: Entry): void {
    this.queue.push(e);
    // A leader's answer to another server's request leaves in order with the proposals.
    if (e.txn !== null || (this.role === 'leader' && e.origin !== null && e.origin.serverId !== this.opts.serverId)) this.toLog.push(e);
  }

  private nextZxid(): bigint {
    const epoch = this.epoch;
    const counter = zxidEpoch(this.lastZxid) === epoch ? zxidCounter(this.lastZxid) + 1 : 1;
    // A new epoch (leader election) resets the counter; ZooKeeper forces one before it wraps.
    assert(counter <= 0xffff_ffff, 'zxid counter exhausted: a new epoch is needed');
    return makeZxid(epoch, counter);
  }


  // ---- log and quorum ----

  /**
   * Txns to append to the log (a leader also proposes them: a ProposalRecord is a quorum Proposal
   * with `txn` = `bytes`), in zxid order; at most writeBatchMax (one fdatasync) per call. Always
   * empty on a learner, whose core logs what it accepts.
   */
  takeLogRecords(): ProposalRecord[] {
    assert(this.role !== 'leader', 'a leader takes takeOutput() (proposals and replies in order)');
    const out: ProposalRecord[] = [];
    while (this.toLogHead < this.toLog.length && out.length < constants.writeBatchMax) out.push(this.takeRecord());
    this.compactToLog();
    return out;
  }

  /**
   * Leader: proposals and replies to other servers' txn-less requests, in queue order; at most
   * writeBatchMax records per call. Log and propose each run of records, replyTo each reply, in
   * this order.
   */
  takeOutput(): LeaderOutput[] {
    assert(this.role === 'leader', () => `takeOutput on a ${this.role} pipeline`);
    const out: LeaderOutput[] = [];
    let run: ProposalRecord[] | null = null;
    let records = 0;
    while (this.toLogHead < this.toLog.length && records < constants.writeBatchMax) {
      const e = this.toLog[this.toLogHead]!;
      if (e.txn === null) {
        this.toLogHead++;
        assert(e.origin !== null && e.result !== null && e.afterZxid <= this.takenZxid, 'a reply follows the proposals before it');
        out.push({ kind: 'reply', origin: e.origin, afterZxid: e.afterZxid, result: e.result });
        run = null;
        continue;
      }
      if (run === null) out.push({ kind: 'propose', records: (run = []) });
      run.push(this.takeRecord());
      records++;
    }
    this.compactToLog();
    return out;
  }

  private takeRecord(): ProposalRecord {
    const e = this.toLog[this.toLogHead++]!;
    assert(e.txn !== null && e.origin !== null && e.zxid > this.takenZxid, 'log records in zxid order');
    this.takenZxid = e.zxid;
    return { zxid: e.zxid, bytes: encodeTxn(e.txn), origin: e.origin };
  }

  private compactToLog(): void {
    if (this.toLogHead === this.toLog.length) {
      this.toLog.length = 0;
      this.toLogHead = 0;
    }
  }

  /** Every record through `zxid` is durable on this server's disk. */
  logged(zxid: bigint): void {
    assert(zxid <= this.takenZxid, 'logged a zxid never handed to the log');
    assert(zxid >= this.loggedZxid, 'logged zxids only grow');
    this.loggedZxid = zxid;
    // Standalone is an ensemble of one: its own ack is the quorum.
    if (this.role === 'standalone' && this.opts.ensembleSize === 1) this.committedZxid = zxid;
  }

  /** Ensembles: a quorum has logged every txn through `zxid` (the leader's COMMIT on a learner). */
  quorumCommitted(zxid: bigint): void {
    assert(this.role !== 'looking', 'quorumCommitted while looking');
    assert(zxid <= this.takenZxid, 'committed a zxid never proposed');
    if (zxid > this.committedZxid) this.committedZxid = zxid;
  }

  /** The last zxid a txn may have to be applied: a learner (and the leader) also waits for its own log. */
  private applyLimit(): bigint {
    if (this.role === 'standalone') return this.committedZxid;
    return this.committedZxid < this.loggedZxid ? this.committedZxid : this.loggedZxid;
  }

  // ---- roles ----

  /** The current role (see PipelineRole). */
  currentRole(): PipelineRole {
    return this.role;
  }

  /**
   * Starts leading `epoch`: the next zxid is epoch << 32 | 1. The tree must hold the whole local
   * log (`lastZxid`; replay() what is logged but not applied first), since prep reads the tree.
   */
  /**
   * After recovery: a standalone server continues the epoch of the last zxid it replayed (a data
   * dir an ensemble wrote is in a later epoch than 1), so its zxids keep growing.
   */
  continueEpochOf(lastZxid: bigint): void {
    this.assertIdle('continueEpochOf');
    const epoch = zxidEpoch(lastZxid);
    if (epoch > this.epoch) this.epoch = epoch;
  }

  becomeLeader(epoch: number, lastZxid: bigint): void {
    this.assertIdle('becomeLeader');
    assert(Number.isInteger(epoch) && epoch > zxidEpoch(lastZxid) && epoch <= 0xffff_ffff, () => `becomeLeader: epoch ${epoch} is not after lastZxid 0x${lastZxid.toString(16)}`);
    assert(lastZxid === this.tree.appliedZxid(), 'becomeLeader: the tree must have applied the whole log');
    this.epoch = epoch;
    this.restartAt(lastZxid);
    this.role = 'leader';
  }

  /**
   * Starts following (observing) at `lastZxid`, the last zxid in the local log. Records of the log
   * the tree has not applied yet are either replay()ed now or fed to acceptProposal (then pass
   * the zxid before them here).
   */
  becomeFollower(lastZxid: bigint): void {
    this.becomeLearner('follower', lastZxid);
  }

  becomeObserver(lastZxid: bigint): void {
    this.becomeLearner('observer', lastZxid);
  }

  private becomeLearner(role: 'follower' | 'observer', lastZxid: bigint): void {
    this.assertIdle(`become ${role}`);
    assert(lastZxid >= this.tree.appliedZxid(), () => `become ${role}: lastZxid is behind the tree`);
    this.restartAt(lastZxid);
    this.role = role;
  }

  /**
   * Leaves the current role (an election starts): drops every entry not applied yet and returns
   * them in queue order (their clients get CONNECTIONLOSS), forgets pending changes and closing
   * sessions. The tree keeps what it applied. `lastZxid` is the last zxid in the local log
   * (a prepared txn that never reached the log is void; its zxid may be handed out again).
   */
  reset(lastZxid: bigint): DroppedEntry[] {
    assert(lastZxid >= this.tree.appliedZxid(), 'reset: lastZxid is behind the tree');
    const dropped: DroppedEntry[] = [];
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const e = this.queue[i]!;
      dropped.push({ tag: e.tag, sessionId: e.sessionId, zxid: e.zxid, origin: e.origin });
    }
    this.queue.length = 0;
    this.queueHead = 0;
    this.toLog.length = 0;
    this.toLogHead = 0;
    for (let i = this.heldHead; i < this.held.length; i++) {
      const e = this.held[i]!;
      dropped.push({ tag: e.tag, sessionId: e.sessionId, zxid: 0n, origin: e.origin });
    }
    this.held.length = this.heldHead = 0;
    this.intake.clear();
    this.restartAt(lastZxid);
    this.role = 'looking';
    return dropped;
  }

  private assertIdle(what: string): void {
    assert(this.pendingCount() === 0 && this.toLogHead === this.toLog.length, () => `${what} with entries in flight`);
    assert(this.intake.idle(), () => `${what} with pending changes`);
  }

  private restartAt(lastZxid: bigint): void {
    this.lastZxid = this.takenZxid = this.loggedZxid = this.committedZxid = lastZxid;
  }

  // ---- the learner's door ----

  /**
   * Learner: a txn the leader prepared (PROPOSAL, INFORM, or a DIFF of history), in zxid order.
   * Call it when the core emits the append effect that carries it (it counts as handed to the
   * log), then logged() when that append is synced and quorumCommitted() on the commit effect.
   */
  acceptProposal(zxid: bigint, txnBytes: Uint8Array, origin: Origin | null): void {
    assert(this.role === 'follower' || this.role === 'observer', () => `acceptProposal on a ${this.role} pipeline`);
    assert(zxid > this.lastZxid, () => `proposal 0x${zxid.toString(16)} not after 0x${this.lastZxid.toString(16)}`);
    const txn = decodeTxn(txnBytes);
    assert(origin === null || origin.sessionId === txn.sessionId, 'a proposal\'s origin is its session');
    const e: Entry = { tag: origin?.tag ?? 0, sessionId: txn.sessionId, zxid, txn, result: null, origin, afterZxid: 0n };
    if (txn.type === 'closeSession') e.closedSessionId = txn.sessionId;
    // An observer's replies that came before the INFORM of their afterZxid go right after it.
    this.releaseHeld(zxid - 1n);
    this.queue.push(e);
    this.lastZxid = this.takenZxid = zxid;
    this.releaseHeld(zxid);
  }

  private releaseHeld(upTo: bigint): void {
    while (this.heldHead < this.held.length && this.held[this.heldHead]!.afterZxid <= upTo) this.queue.push(this.held[this.heldHead++]!);
    if (this.heldHead === this.held.length) this.held.length = this.heldHead = 0;
  }

  /**
   * Learner: the leader's answer to a request this server forwarded that made no txn (an error,
   * sync, getEphemerals). Queued in arrival order; published once the tree has applied
   * `afterZxid`, which the leader proposed before it (so it was accepted here already).
   */
  acceptReply(origin: Origin, afterZxid: bigint, result: WriteResult): void {
    assert(this.role === 'follower' || this.role === 'observer', () => `acceptReply on a ${this.role} pipeline`);
    assert(origin.serverId === this.opts.serverId, 'a reply comes to its origin server');
    const e: Entry = { tag: origin.tag, sessionId: origin.sessionId, zxid: 0n, txn: null, result, origin, afterZxid, isReply: true };
    if (afterZxid <= this.lastZxid && this.heldHead === this.held.length) {
      this.queue.push(e);
      return;
    }
    // A follower gets the proposal before the reply (one FIFO link, sent in the leader's queue
    // order); an observer gets txns as INFORMs only once committed, so a reply may come first.
    assert(this.role === 'observer', () => `reply after 0x${afterZxid.toString(16)}, a zxid not accepted yet`);
    const last = this.held[this.held.length - 1];
    assert(last === undefined || last.afterZxid <= afterZxid, 'replies come in the leader\'s queue order');
    this.held.push(e);
  }

  // ---- commit ----

  /**
   * Applies the ready prefix of the queue in one write window, calls `publish` with its entries
   * (inside the window: readers still see the old state until it closes, so workers hear of a
   * change before they can read it), then closes the window. Returns the number of entries.
   */
  commit(publish: (entries: CommittedEntry[], appliedZxid: bigint) => void): number {
    const limit = this.applyLimit();
    let end = this.queueHead;
    let txns = 0;
    let upTo = this.tree.appliedZxid(); // the tree's zxid once the entries before `end` are applied
    while (end < this.queue.length) {
      const e = this.queue[end]!;
      if (e.txn !== null) {
        if (e.zxid > limit) break;
        upTo = e.zxid;
        txns++;
      } else if (e.isReply === true && e.afterZxid > upTo) {
        break; // the leader's history up to afterZxid is not all applied here yet
      }
      end++;
    }
    if (end === this.queueHead) return 0;
    const batch = this.queue.slice(this.queueHead, end);
    let applied = this.tree.appliedZxid();
    const out: CommittedEntry[] = [];
    if (txns > 0) this.tree.beginWrite();
    for (const e of batch) {
      out.push(this.applyEntry(e));
      if (e.txn !== null) applied = e.zxid;
    }
    if (txns > 0) this.intake.appliedThrough(applied);
    publish(out, applied);
    if (txns > 0) this.tree.endWrite(applied);
    this.queueHead = end;
    if (this.queueHead === this.queue.length || this.queueHead > 4096) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    if (this.pendingCount() === 0) assert(this.intake.idle(), 'idle pipeline has no pending changes');
    return out.length;
  }

  /** Applies one entry's txn (inside the open window) and makes its published form. */
  private applyEntry(e: Entry): CommittedEntry {
    let events: CommittedEntry['events'] = [];
    let result = e.result;
    if (e.txn !== null) {
      if (result === null) {
        const outcomes: OpOutcome[] = [];
        events = applyTxn(this.tree, this.idx, e.txn, e.zxid, outcomes);
        result = { ok: true, value: deriveValue(e.txn, outcomes) };
      } else {
        events = applyTxn(this.tree, this.idx, e.txn, e.zxid);
      }
    }
    assert(result !== null, 'a txn-less entry has its answer');
    this.intake.released(e);
    const c: CommittedEntry = { tag: e.tag, sessionId: e.sessionId, zxid: e.zxid, result, events };
    if (e.origin !== null) c.origin = e.origin;
    if (e.txn === null) c.afterZxid = e.afterZxid;
    else if (e.txn.type === 'createSession') c.createdSession = { sessionId: e.txn.sessionId, timeoutMs: e.txn.timeoutMs, password: e.txn.password };
    if (e.closedSessionId !== undefined) c.closedSessionId = e.closedSessionId;
    return c;
  }

  // ---- recovery ----

  /**
   * Applies a logged txn without events, in zxid order, when nothing is in flight: at start-up,
   * and at a role start for records of the local log the tree has not applied yet. Returns it
   * for the session tracker.
   */
  replay(zxid: bigint, bytes: Uint8Array): Txn {
    assert(this.pendingCount() === 0, 'replay with requests in flight');
    assert(zxid > this.tree.appliedZxid(), 'replay in zxid order');
    const txn = decodeTxn(bytes);
    this.tree.beginWrite();
    applyTxn(this.tree, this.idx, txn, zxid);
    this.tree.endWrite(zxid);
    if (zxid > this.lastZxid) this.lastZxid = this.takenZxid = this.loggedZxid = this.committedZxid = zxid;
    return txn;
  }

  // ---- queries for the main thread ----

  /** The last zxid handed out or replayed. */
  lastAssignedZxid(): bigint {
    return this.lastZxid;
  }

  /** The applied ephemerals of a session (sorted), ZooKeeper's DataTree.getEphemerals. */
  ephemeralsOf(sessionId: bigint): string[] {
    return [...(this.idx.ephemerals.get(sessionId) ?? [])].sort();
  }

  /** Sessions owning ephemerals in the applied tree (after recovery: sessions to restore or expire). */
  sessionsWithEphemerals(): bigint[] {
    return [...this.idx.ephemerals.keys()];
  }

  /**
   * Container and TTL nodes due for deletion at `nowMs` (ZooKeeper's ContainerManager): a
   * childless container that has had a child (creation count > 0), a childless TTL node whose
   * mtime is more than its TTL ago. Submit a deleteContainer for each; prep re-checks.
   */
  findExpired(nowMs: number): string[] {
    const out: string[] = [];
    for (const path of this.idx.containers) {
      const s = this.tree.statOf(path);
      const seq = this.tree.sequenceOf(path);
      assert(s !== null && seq !== null, () => `container index stale at ${path}`);
      if (s.numChildren === 0 && seq > 0) out.push(path);
    }
    for (const path of this.idx.ttls) {
      const s = this.tree.statOf(path);
      assert(s !== null && ownerKind(s.ephemeralOwner) === 'ttl', () => `ttl index stale at ${path}`);
      if (s.numChildren === 0 && nowMs - s.mtime > ownerTtlMs(s.ephemeralOwner)) out.push(path);
    }
    return out;
  }
}

