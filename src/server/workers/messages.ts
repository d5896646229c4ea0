// Messages between the main thread and the session workers (structured clone over MessagePorts).
//
//   worker -> main (control port):  ToMain
//   main -> worker (control port):  ToWorker        session attach answers, moves, stats requests
//   main -> worker (commit port):   CommitPortMessage
//       CommitMessage  one per committed batch, posted BEFORE the batch is published in the tree
//                      (see DESIGN "Ordering")
//       TreeSwap       a new tree replaces the current one (a follower loaded a SNAP, a TRUNC
//                      reloaded the tree): on the commit port, so it is ordered after every
//                      commit of the old tree and before every commit of the new one
import type { MessagePort } from 'node:worker_threads';
import type { CommittedEntry, WriteRequest } from '../pipeline/api.js';

/** workerData of a session worker. The tree's buffer follows in a `tree` message (ToWorker). */
export interface WorkerInit {
  workerId: number;
  host: string;
  port: number;
  /** The jute (ZooKeeper protocol) port this worker listens on (0 = any free); null = none. */
  zkPort: number | null;
  /** The jute port is the derived default: if it is busy, serve without it (logged). */
  zkPortOptional: boolean;
  /** The jute port's four-letter words: the whitelist and what `conf` prints. */
  fourLetter: { whitelist: string[]; conf: [string, string | number][] };
  dataBytesMax: number;
  connectionsPerAddressMax: number;
  tickMs: number;
  logLevel: string;
  allowUwsFallback: boolean;
  commitPort: MessagePort;
}

/** A worker's request to open or re-attach a session for one of its connections. */
export interface AttachRequest {
  kind: 'attach';
  reqId: number;
  connId: number;
  sessionId: bigint; // 0n = new session
  password: Uint8Array;
  timeoutMs: number;
  lastZxidSeen: bigint;
}

export type ToMain =
  | { kind: 'ready'; workerId: number; native: boolean; zkPort: number | null }
  | { kind: 'listenFailed'; workerId: number; reason: string }
  | { kind: 'writes'; requests: WriteRequest[] }
  | { kind: 'touch'; sessionIds: bigint[] }
  | AttachRequest
  | { kind: 'detach'; sessionId: bigint; connId: number } // connection gone, session lives on
  /** `dump`: also the session table and the ephemerals (the `dump` four-letter word). */
  | { kind: 'stats'; reqId: number; dump?: boolean }
  | { kind: 'stopped'; workerId: number };

export type AttachAnswer =
  | { kind: 'attached'; reqId: number; sessionId: bigint; password: Uint8Array; timeoutMs: number }
  | { kind: 'attachFailed'; reqId: number; code: 'SESSIONEXPIRED' | 'SESSIONMOVED' | 'THROTTLEDOP' | 'AUTHFAILED'; message: string };

export interface ServerStats {
  zxid: string;
  nodes: number;
  sessions: number;
  pendingWrites: number;
  treeUsedBytes: number;
  treeCapacityBytes: number;
  committedTxns: number;
  logSyncs: number;
  logSyncMs: number;
  commitMs: number;
  startedAtMs: number;
  workers: number;
  dataDir: string;
  serverState: ServerRole;
  // Ensemble fields (absent on a standalone server); the HTTP pages show them when present.
  /** The current epoch (ZooKeeper's currentEpoch). */
  epoch?: number;
  /** The leader this server follows or is; null while looking. */
  leaderId?: number | null;
  /** In a quorum right now (serving); false while looking or syncing. */
  inQuorum?: boolean;
  /** Zab phase, for zk_peer_state ("following - broadcast"). */
  zabPhase?: 'election' | 'discovery' | 'synchronization' | 'broadcast';
  /** On the leader: every connected learner, its role, whether it is synced, its lag in txns. */
  learners?: { id: number; observer: boolean; synced: boolean; lagTxns: number }[];
  /** Only when asked (`dump`): at most constants.dumpEntriesMax sessions and as many paths. */
  dump?: SessionDump;
}

export interface SessionDump {
  sessions: { sessionId: bigint; timeoutMs: number }[];
  ephemerals: { sessionId: bigint; paths: string[] }[];
  /** Sessions, and sessions with ephemerals, in all (the lists may stop short of them). */
  sessionCount: number;
  ephemeralSessionCount: number;
  /** Some entries were left out (the bound). */
  truncated: boolean;
}

export type ServerRole = 'standalone' | 'leader' | 'follower' | 'observer' | 'looking';

export type ToWorker =
  | { kind: 'tree'; buffer: SharedArrayBuffer } // the first message: start serving this tree (later swaps: TreeSwap)
  // Whether this server may answer clients (it is in a quorum). false: every client connection is
  // closed (CONNECTIONLOSS, clients move on) and handshakes are refused with `reason` until true.
  | { kind: 'serving'; serving: boolean; reason: string }
  | AttachAnswer
  | { kind: 'moved'; sessionId: bigint; connId: number } // another connection took the session
  | { kind: 'stats'; reqId: number; stats: ServerStats }
  | { kind: 'stop' };

/**
 * A committed answer as posted to a worker. `eventsBefore` counts the batch's events up to and
 * including this entry's own, so the worker sends the answer right after them: ZooKeeper's
 * order of events and answers by zxid.
 */
export type CommitReply = CommittedEntry & { eventsBefore: number };

export interface CommitMessage {
  kind: 'commit';
  /** appliedZxid of the tree once this batch is published (unchanged if the batch had no txn). */
  zxid: bigint;
  /** Every change of the batch, in zxid order: every worker fires its own sessions' watches. */
  events: { type: CommittedEntry['events'][number]['type']; path: string; zxid: bigint }[];
  /** Answers for this worker's requests (routed by tag), in zxid order. */
  replies: CommitReply[];
  /** Sessions that ended in this batch (closed or expired): their connections are closed. */
  endedSessions: { sessionId: bigint; expired: boolean }[];
}

/** A new tree for the worker: commits after it refer to it (see the header). */
export interface TreeSwap {
  kind: 'tree';
  buffer: SharedArrayBuffer;
}

export type CommitPortMessage = CommitMessage | TreeSwap;

/** Request tags carry the worker id in their low byte so the main thread can route answers. */
export const tagWorkerBits = 256;
export function tagWorker(tag: number): number {
  return tag % tagWorkerBits;
}
