// The contract between the main thread's composition root (src/server/main.ts), the session
// workers and the write pipeline (src/server/pipeline/). The pipeline is a synchronous state
// machine: requests in, log records out, durability acks in, committed entries out. No I/O,
// timers or async inside; time comes from the injected clock.
import type { ErrorCode } from '../../common/errors.js';
import type { ACL, CreateMode, OpResult, ServerOpResult, Stat } from '../../common/types.js';
import type { Origin } from '../quorum/api.js';

export type { Origin };

/** An authenticated identity of a connection: ('ip', '127.0.0.1'), ('digest', 'u:base64sha1'), ... */
export interface AuthId {
  scheme: string;
  id: string;
}

export type WriteOp =
  | { type: 'create'; path: string; data: Uint8Array; mode: CreateMode; acl: ACL[]; ttlMs: number }
  | { type: 'delete'; path: string; version: number }
  | { type: 'setData'; path: string; data: Uint8Array; version: number }
  | { type: 'setACL'; path: string; acl: ACL[]; version: number }
  | { type: 'check'; path: string; version: number } // only inside multi
  | { type: 'multi'; ops: WriteOp[] }
  // No txn: ordered behind the session's earlier writes, answered when they have committed.
  | { type: 'sync'; path: string }
  | { type: 'getEphemerals'; prefix: string }
  // Session lifecycle, submitted by the main thread's session tracker.
  | { type: 'createSession'; timeoutMs: number; password: Uint8Array }
  | { type: 'closeSession' }
  // Submitted by the main thread's container/TTL sweeper (ZooKeeper's ContainerManager).
  | { type: 'deleteContainer'; path: string };

export interface WriteRequest {
  sessionId: bigint;
  /** Opaque to the pipeline: routes the reply back (worker id, connection, xid). */
  tag: number;
  authIds: AuthId[];
  op: WriteOp;
  /**
   * Set by a leader for a request a learner forwarded: who answers the client (the origin server
   * answers when it applies the txn, or on the REPLY for a txn-less outcome). Absent: a request
   * of this server, whose origin is { serverId: options.serverId, sessionId, tag }.
   */
  origin?: Origin;
}

export type WriteValue =
  | { type: 'create'; path: string; stat: Stat }
  | { type: 'delete' }
  | { type: 'setData'; stat: Stat }
  | { type: 'setACL'; stat: Stat }
  | { type: 'multi'; results: ServerOpResult[] }
  | { type: 'sync' }
  | { type: 'getEphemerals'; paths: string[] }
  | { type: 'createSession' }
  | { type: 'closeSession' }
  | { type: 'deleteContainer' };

export type WriteResult =
  | { ok: true; value: WriteValue }
  | { ok: false; code: ErrorCode; message?: string; path?: string; results?: OpResult[] };

export type ChangeEventType = 'created' | 'deleted' | 'dataChanged' | 'childrenChanged';

/** One change a committed txn made, from which workers fire watches (ZooKeeper's triggers). */
export interface ChangeEvent {
  type: ChangeEventType;
  path: string;
}

export interface CommittedEntry {
  tag: number;
  sessionId: bigint;
  zxid: bigint; // 0n when the request made no txn (an error, sync, getEphemerals)
  result: WriteResult;
  events: ChangeEvent[];
  /** Ephemeral owners whose sessions this entry ended (closeSession), for the session tracker. */
  closedSessionId?: bigint;
  /**
   * Who answers the client. Always set by the Pipeline, except on txns a learner applies that were
   * read back from history (acceptProposal with origin null). A server answers an entry's client
   * (by `tag`) only when origin.serverId is its own id; on another server's entries it only fires
   * the events and updates its session table.
   */
  origin?: Origin;
  /**
   * Txn-less entries (zxid 0n) only: the last zxid prepared before this one. (On a leader, the
   * REPLY for another server's request already left through takeOutput(); the entry is only
   * published here for the record.)
   */
  afterZxid?: bigint;
  /** createSession entries: what every server's session table must learn of the new session. */
  createdSession?: { sessionId: bigint; timeoutMs: number; password: Uint8Array };
}

export interface LogRecord {
  zxid: bigint;
  bytes: Uint8Array; // the encoded txn; the log adds length and CRC32C
}

/** What takeLogRecords() returns: a log record plus its origin, i.e. a quorum Proposal with `txn` = `bytes`. */
export interface ProposalRecord extends LogRecord {
  origin: Origin;
}

/**
 * What a leader sends, in queue order (Pipeline.takeOutput): a run of txns to log and propose
 * (ZabCore.propose, `txn` = `bytes`), or the answer to a forwarded request that made no txn
 * (ZabCore.replyTo). The order matters: a REPLY must reach its learner after the proposals
 * prepared before it and before those prepared after it, so the learner answers in request order.
 */
export type LeaderOutput =
  | { kind: 'propose'; records: ProposalRecord[] }
  | { kind: 'reply'; origin: Origin; afterZxid: bigint; result: WriteResult };

/** An entry reset() dropped before it was applied: its client gets CONNECTIONLOSS (if it is ours). */
export interface DroppedEntry {
  tag: number;
  sessionId: bigint;
  zxid: bigint; // 0n: no txn
  origin: Origin | null;
}

/**
 * What the pipeline does (see pipeline.ts for the entry states):
 *   standalone  the constructor's role: submit + prep; a txn commits on its own fsync (ensembleSize 1)
 *   leader      becomeLeader(): submit + prep; a txn applies once quorumCommitted and logged
 *   follower    becomeFollower(): no prep; acceptProposal / acceptReply; applies once committed and logged
 *   observer    becomeObserver(): as a follower (INFORM = proposal + commit)
 *   looking     reset(): nothing in flight; only replay() and becomeX() (an election is running)
 */
export type PipelineRole = 'standalone' | 'leader' | 'follower' | 'observer' | 'looking';

/** Wall-clock time for ctime/mtime and TTL checks; injected so the pipeline stays pure. */
export interface PipelineClock {
  nowMs(): number; // ms since the Unix epoch
}

export interface PipelineOptions {
  clock: PipelineClock;
  /** This server's id (myid), the serverId of the origin of its own requests. Default 0. */
  serverId?: number;
  /** Current epoch: new zxids are epoch << 32 | counter. */
  epoch: number;
  /** The last zxid in the log (or of the snapshot when the log is empty); 0n for a new data dir. */
  lastZxid: bigint;
  dataBytesMax?: number; // default constants.dataBytesMax
  /** Entries (txns, errors, syncs) queued before canAccept() says no. Default constants.pendingTxnsMax. */
  pendingMax?: number;
  /**
   * 1 = standalone: a txn commits on its own fsync (logged()). Larger: the quorum stage decides
   * and calls quorumCommitted(zxid).
   */
  ensembleSize?: number;
  /**
   * The session tracker's view (ZooKeeper's sessionTracker.checkSession). A request of a session
   * that is not live fails SESSIONEXPIRED. Session 0n (the main thread itself) is always live.
   * Omitted: every session is live, except those whose closeSession is already prepared.
   */
  isSessionLive?: (sessionId: bigint) => boolean;
  /**
   * An ensemble leader's owner check (ZooKeeper's checkSession with an owner): given a live
   * session's request and the server it came from (its origin), 'SESSIONMOVED' if that server no
   * longer holds the session, else null. Omitted (standalone): no owner check.
   */
  checkOwner?: (req: WriteRequest, serverId: number) => 'SESSIONMOVED' | null;
}
