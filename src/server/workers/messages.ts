// Messages between the main thread and the session workers.
//
//   worker -> main (request ring, handoff.ts): writes, attach, detach, touch, stats (ToMain), as
//                                     encoded frames in the order sent (handoff-codec.ts)
//   worker -> main (parentPort):      ready, listenFailed, stopped, gather, report (structured clone; rare)
//   main -> worker (parentPort):      ToWorker        session attach answers, moves, stats answers
//   main -> worker (commit ring):     CommitPortMessage
//       CommitMessage  one per committed batch, sent BEFORE the batch is published in the tree
//                      (see DESIGN "Ordering")
//       TreeSwap       a new tree replaces the current one (a follower loaded a SNAP, a TRUNC
//                      reloaded the tree): numbered with the commit frames (on the ring's side
//                      port), so it is ordered after every commit of the old tree and before
//                      every commit of the new one
import type { MessagePort } from 'node:worker_threads';
import type { ClientAuth } from '../../common/security-config.js';
import type { CommittedEntry, WriteRequest } from '../pipeline/api.js';
import type { Gathered, WorkerReport } from './reports.js';
import type { UwsTlsFiles } from './uws.js';

/** The TLS front's PEM texts (node:tls), checked by the main thread (security-load.ts). */
export interface FrontSecure {
  cert: string;
  key: string;
  ca: string | null;
  passphrase: string | null;
}

/**
 * How a worker serves the client port (security-load.ts planSecurity):
 *   plain    uWS App on host:port (ws://, http://)
 *   uws-tls  uWS SSLApp on host:port (wss://, https://): every worker, native TLS
 *   front    client certificates asked for: worker 0 terminates TLS (tls-front.ts) and hands the
 *            streams to every worker's plain uWS App on its Unix socket `unixPath`
 */
export interface WorkerSecurity {
  mode: 'plain' | 'uws-tls' | 'front';
  uwsTls: UwsTlsFiles | null;
  /** Worker 0 in front mode: the TLS listener's settings and the workers' sockets. */
  front: { secure: FrontSecure; clientAuth: ClientAuth; targets: string[] } | null;
  unixPath: string | null;
  /** Worker 0 with TLS: the jute port serves TLS too (ZooKeeper's secureClientPort is TLS jute). */
  jute: { secure: FrontSecure; clientAuth: ClientAuth } | null;
  /** The secret of the front's header (front mode), else null: the header is then never trusted. */
  frontSecret: string | null;
  /** --admin-users digest ids; null = no admin gate. */
  adminIds: string[] | null;
  origins: { scheme: 'http' | 'https'; ownHosts: string[]; allowed: string[] };
}

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
  /** worker -> main: the ring (createRingBuffer) and its side port (handoff.ts). */
  requestRing: SharedArrayBuffer;
  requestSide: MessagePort;
  /** main -> worker: the commit ring and its side port. */
  commitRing: SharedArrayBuffer;
  security: WorkerSecurity;
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
  | { kind: 'securityReloaded'; workerId: number; error: string | null } // answer to reloadSecurity
  | { kind: 'writes'; requests: WriteRequest[] }
  | { kind: 'touch'; sessionIds: bigint[] }
  | AttachRequest
  | { kind: 'detach'; sessionId: bigint; connId: number } // connection gone, session lives on
  /** `dump`: also the session table and the ephemerals (the `dump` four-letter word). */
  | { kind: 'stats'; reqId: number; dump?: boolean }
  // Every worker's connections and watches (gather.ts): asked by the worker answering a page,
  // reported by each worker when the main thread asks (ToWorker askReport). parentPort: rare.
  | { kind: 'gather'; reqId: number; entriesMax: number }
  | { kind: 'report'; gatherId: number; report: WorkerReport }
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
  /** queuedBytes: what the leader's link to it holds unsent (bounded by peerLinkQueuedBytesMax). */
  learners?: { id: number; observer: boolean; synced: boolean; lagTxns: number; queuedBytes: number }[];
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
  | { kind: 'askReport'; gatherId: number; entriesMax: number } // this worker's report (reports.ts), please
  | { kind: 'gathered'; reqId: number; gathered: Gathered } // answer to 'gather'
  // SIGHUP: certificates re-read (a new SSLApp takes new connections; the front swaps its context)
  // and the admin users replaced. Connections already up keep going.
  | { kind: 'reloadSecurity'; tls: FrontSecure | null; adminIds: string[] | null }
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
