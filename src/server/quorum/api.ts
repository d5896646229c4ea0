// The contract between the Zab core (src/server/quorum/, a pure synchronous state machine) and
// whoever drives it: the composition root with real TCP peer links, files and timers, or the
// deterministic simulator in test/sim/ with simulated ones.
//
// Inputs are method calls on the core (ZabCore below): ticks, peer messages, link events, disk
// completions, local requests. Outputs are Effects, drained with takeEffects() after every input,
// and executed by the driver in the order given:
//   - sends go out at once, FIFO per destination peer (a link never reorders). A message object
//     may be the same object in several sends (a PROPOSAL to every follower): encode it once.
//     A send while the link to that peer is down is dropped, never queued for a later connection:
//     a learner's term ends with its link (linkDown on either direction, both ends), and what the
//     core must repeat (votes, FOLLOWERINFO) it repeats itself on ticks and on linkUp;
//   - disk effects (truncate, append, installSnapshot, persistEpochs) run strictly in the order
//     they were emitted, one after another, on one disk queue; each completion is reported back as
//     an input (truncated / logSynced / snapshotInstalled / epochsPersisted), in that order.
//     One fsync may cover several consecutive queued appends: logSynced(z) completes every queued
//     append through z (z must be the last zxid of one of them). The core never sends anything
//     that depends on a disk effect before that effect's completion came back in ("save before you
//     send": an ACK leaves only after logSynced covered its zxid; ACKEPOCH after acceptedEpoch is
//     persisted; the NEWLEADER ack after the synced txns and then currentEpoch are durable);
//   - commit / role / request / reply / sessionsTouched effects go to the local pipeline and the
//     session table. `commit` is never beyond the local durable log. After an installSnapshot the
//     state is the image's: the next commit is above its zxid.
// Roles as the clients see them: 'looking' from the moment a server leaves a role until it has
// finished discovery AND sync (phase() tells them apart); 'leading' once a quorum acked NEWLEADER
// and the whole inherited history is committed (its commit effect comes just before the role
// effect); 'following'/'observing' once UPTODATE arrived. Only then may the leader propose and a
// learner forward(). A role effect means: uncommitted local work of the old role is void, session
// timeouts restart (the leader owns expiry).
// The leader's zxids: role 'leading' with epoch e -> the first proposal is makeZxid(e, 1), then
// consecutive (messages.ts has makeZxid/epochOf). Keep inFlight() below zabProposalsInFlightMax.
// The driver reports applied(zxid) as its tree applies commits: the DIFF window is trimmed only
// below the applied point (a SNAP image is host.snapshotImage(), and what follows it must be in
// the window).
// No sockets, timers, files, promises or Date inside the core: time is ticks (the driver calls
// tick() every constants.quorumTickMs), randomness comes from nowhere (it is deterministic).
// createZabCore(options, start, host) in core.ts builds one; validatePeerMessage in messages.ts
// checks what the transport decoded before receive().
import type { WriteRequest, WriteResult } from '../pipeline/api.js';

export type ServerState = 'looking' | 'following' | 'leading' | 'observing';

/** Who submitted a txn or request: routes the answer back to the server holding the session. */
export interface Origin {
  serverId: number;
  sessionId: bigint;
  /** Opaque to the core: the origin server's reply tag (worker, connection, xid). */
  tag: number;
}

/** One txn of the history: the log record's zxid and encoded bytes, plus its origin while in flight. */
export interface Proposal {
  zxid: bigint;
  txn: Uint8Array;
  /** null for txns read back from the log (recovery, DIFF of old history): nobody waits for them. */
  origin: Origin | null;
}

export interface ZabOptions {
  myId: number;
  /** Voting members (participants), including myId unless this server is an observer. */
  voters: number[];
  /** Non-voting members (zoo.cfg `:observer`). */
  observers: number[];
  /** A LOOKING server re-sends its vote (and gives up waiting for a quorum) after this many ticks. */
  electionTimeoutTicks: number;
  /** Discovery + synchronisation with a new leader must finish within this many ticks (initLimit). */
  initLimitTicks: number;
  /** Silence allowed on a leader/learner link in broadcast before giving up (syncLimit). */
  syncLimitTicks: number;
  /** The leader pings every learner every this many ticks. */
  heartbeatTicks: number;
  /**
   * A vote backed by a quorum but not by every voter decides after this many ticks (waiting for
   * a better one). It must exceed the network's delay, not more: every failover pays it (a dead
   * voter never agrees). Default constants.zabFinalizeWaitTicks (50 ms, for loopback and LANs).
   */
  finalizeWaitTicks?: number;
}

/** Synchronous, I/O-free services the core may call (memory only). */
export interface ZabHost {
  /**
   * A consistent image of the applied local state (tree + session table) and the zxid it is at,
   * for a SNAP to a learner. The real host copies the shared tree; the simulator its model.
   */
  snapshotImage(): { zxid: bigint; image: Uint8Array };
  /**
   * The bytes snapshotImage() would return now, without copying anything: a DIFF heavier than
   * constants.zabSnapDiffFactor of it goes as a SNAP. Without it every DIFF the window allows is sent.
   */
  snapshotImageBytes?(): number;
  /**
   * The same image as a source the leader reads chunk by chunk while it streams it (so the host
   * need not join its parts into one buffer). Without it, snapshotImage() is read.
   */
  snapshotSource?(): SnapSource;
  /**
   * Learner: the buffer a SNAP of `totalBytes` is received into (the real host gives a fresh tree
   * buffer, so the image in it becomes the new tree without a copy). Without it, a plain array.
   */
  snapReceiveBuffer?(totalBytes: number): Uint8Array;
  /**
   * Learner: bytes [offset, offset + bytes) of a SNAP just arrived in `body` (the receive buffer,
   * unchanged from then on until its installSnapshot), in order from offset 0. The real host
   * writes them to the snapshot file as they come, so the install has only the fsync left.
   */
  snapReceived?(zxid: bigint, body: Uint8Array, offset: number, bytes: number): void;
}

/** A SNAP image being sent: `read` returns the bytes [offset, offset + maxBytes) clipped to the
 *  end (a view where the host can, a copy where the range spans its parts). */
export interface SnapSource {
  zxid: bigint;
  totalBytes: number;
  read(offset: number, maxBytes: number): Uint8Array;
  /**
   * The core is done with it: the last byte was read, or the learner's sync ended before that
   * (cut off, link down, a new handshake, the leader stepped down). Called once, never followed
   * by a read; the real host's image is a tree capture that costs the write path while open.
   */
  close?(): void;
}

/** What the server knows about itself at start (after recovering its data dir). */
export interface ZabStart {
  /** ZooKeeper's acceptedEpoch / currentEpoch files (0 for a new data dir). */
  acceptedEpoch: number;
  currentEpoch: number;
  /** The last txn in the durable log (or the snapshot's zxid when the log is empty); 0n if none. */
  lastLoggedZxid: bigint;
  /**
   * The newest txns of the log, oldest first, ending at lastLoggedZxid: the leader sends DIFFs
   * from this window (bounded by constants.zabHistoryTxnsMax / zabHistoryBytesMax); a learner
   * further behind gets a SNAP.
   */
  history: Proposal[];
  /**
   * The zxid of the record just before history[0] (or of the snapshot the log starts after):
   * the oldest point a DIFF can start from or a TRUNC can cut to. Without it the core takes
   * history[0] as that point (and keeps the window from history[1]).
   */
  historyBaseZxid?: bigint;
  /**
   * The zxid the local tree reached by the start-up replay of the whole log (which may include an
   * uncommitted tail: a later TRUNC reloads the tree). Default historyBaseZxid. The core emits
   * commits from its own knowledge; the driver ignores a commit at or below what it applied.
   */
  appliedZxid?: bigint;
}

/** A write a learner forwards to the leader (ZooKeeper's REQUEST packet). */
export interface ForwardedRequest {
  origin: Origin;
  request: WriteRequest;
}

export type Effect =
  // ---- network ----
  | { kind: 'send'; to: number; msg: unknown /* a PeerMessage, opaque to the driver */ }
  /** Cut the links with `peer` (both connections); it comes back through linkDown / linkUp. */
  | { kind: 'disconnect'; peer: number; reason: string }
  // ---- disk (one ordered queue; each completion comes back as an input) ----
  /** Remove every log record with zxid > `zxid` (TRUNC); then call truncated(zxid). */
  | { kind: 'truncate'; zxid: bigint }
  /** Append to the log and fdatasync; then call logSynced(last zxid of the records). */
  | { kind: 'append'; proposals: Proposal[] }
  /**
   * SNAP: replace the whole local state (tree, sessions) with `image` at `zxid`, make it durable
   * (a snapshot file, fsynced; the log restarts after zxid); then call snapshotInstalled(zxid).
   */
  | { kind: 'installSnapshot'; zxid: bigint; image: Uint8Array }
  /** Write and fsync the acceptedEpoch/currentEpoch files; then call epochsPersisted(). */
  | { kind: 'persistEpochs'; acceptedEpoch: number; currentEpoch: number }
  // ---- local state machine ----
  /** Every txn through `zxid` is committed: apply it (once it is also in the local log). */
  | { kind: 'commit'; zxid: bigint }
  /** This server's role changed. Uncommitted local work is void when leaving a role. */
  | { kind: 'role'; state: ServerState; epoch: number; leaderId: number | null }
  /** Leader: a learner forwarded a write; submit it to the leader pipeline. */
  | { kind: 'request'; from: number; forwarded: ForwardedRequest }
  /** Learner: the leader's answer to a forwarded request that made no txn (error, sync, ...):
   *  deliver it once the local tree has applied `afterZxid`, in arrival order. */
  | { kind: 'reply'; origin: Origin; afterZxid: bigint; result: WriteResult }
  /** Leader: learners report activity of these sessions (pings, touches). */
  | { kind: 'sessionsTouched'; from: number; sessionIds: bigint[] };

export interface ZabCore {
  readonly myId: number;
  state(): ServerState;
  /** The current (accepted and acknowledged) epoch, and the leader this server follows or is. */
  epoch(): number;
  leaderId(): number | null;
  /** The last zxid this server logged (durably) and the last it knows committed. */
  lastLoggedZxid(): bigint;
  committedZxid(): bigint;
  /** Finer than state(): a server syncing with its leader is still 'looking' for its clients. */
  phase(): 'election' | 'discovery' | 'sync' | 'broadcast';
  /** Leader: proposals not committed yet; keep it below constants.zabProposalsInFlightMax. */
  inFlight(): number;
  /** Leader only: per learner, how far its log is (acked zxid) — for /mntr lag. */
  learners(): { id: number; observer: boolean; ackedZxid: bigint; synced: boolean }[];

  tick(): void;
  receive(from: number, msg: unknown /* validated by validatePeerMessage before */): void;
  /** The transport's link to `peer` (either direction) went down / came up. */
  linkDown(peer: number): void;
  linkUp(peer: number): void;

  // disk completions, in the order the effects were emitted
  truncated(zxid: bigint): void;
  logSynced(zxid: bigint): void;
  snapshotInstalled(zxid: bigint): void;
  epochsPersisted(): void;

  /** The local tree has applied every txn through zxid (the leader's SNAP point). */
  applied(zxid: bigint): void;

  /** Leader: txns the local pipeline prepared, in zxid order, to propose (and log locally). */
  propose(proposals: Proposal[]): void;
  /** Leader: the answer for a forwarded request that made no txn, routed back to its origin;
   *  `afterZxid` is the last zxid proposed before it (the learner answers after applying it). */
  replyTo(origin: Origin, afterZxid: bigint, result: WriteResult): void;
  /** Learner: forward a local write to the leader; false if there is no leader to send it to. */
  forward(forwarded: ForwardedRequest): boolean;
  /** Learner: report local session activity to the leader (batched by the caller). */
  touchSessions(sessionIds: bigint[]): void;
  /** Leader: whether a quorum of voters is connected and synced right now (health). */
  hasQuorum(): boolean;

  takeEffects(): Effect[];
}
