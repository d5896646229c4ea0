// Every bound zookooper has, in one place, named with its unit last. Relationships between them
// are asserted when this module loads. Configurable ones are defaults the server config may override.
import { assert } from './assert.js';

export const constants = {
  // Data model
  dataBytesMax: 1_048_576, // ZooKeeper's jute.maxbuffer-derived default: 1 MiB accepted, 1 more rejected
  pathBytesMax: 4_096,
  uiStaticBytesMax: 8 * 1_048_576, // the console's static files (dist/ui), held in memory by every worker
  pathDepthMax: 256,
  childrenListedMax: 1_000_000, // getChildren refuses (BADARGUMENTS) above this many names
  aclEntriesMax: 64, // entries in one ACL list
  aclSetsMax: 65_536, // distinct ACL lists the tree stores (never freed, like ZooKeeper's ACL cache)
  sequentialDigits: 10,

  // Client port
  clientPort: 2181,
  frameBytesMax: 4 * 1_048_576 + 64 * 1024, // a multi of several max-size setData fits
  outstandingRequestsPerSessionMax: 1_000,
  outstandingRequestsPerServerMax: 50_000,
  connectionsPerAddressMax: 1_000, // ZooKeeper's maxClientCnxns (0 there means unlimited)
  sessionsPerServerMax: 100_000,
  watchesPerSessionMax: 100_000,
  authIdsPerSessionMax: 32, // identities added with addAuth on one connection
  // Past this many queued requests (answered THROTTLEDOP or not) a connection is closed: uWS cannot
  // pause reading a WebSocket, so a client that keeps flooding would otherwise grow the queue.
  queuedRequestsPerConnectionMax: 2 * 1_000,
  socketBackpressureBytesMax: 16 * 1_048_576,
  handshakeTimeoutMs: 10_000,

  // Wire protocol (src/protocol/limits.ts names them for the codec)
  sessionPasswordBytes: 16, // fixed length, as ZooKeeper's
  ttlMsMax: 2 ** 40 - 1, // ZooKeeper's TTL bound: 40 bits of milliseconds (~34 years)
  multiOpsMax: 10_000, // ops in one multi (the frame bound limits total bytes anyway)
  aclSchemeBytesMax: 64,
  aclIdBytesMax: 1_024,
  authCredentialBytesMax: 4_096,
  errorMessageBytesMax: 4_096, // human-readable reasons the server sends

  // Time
  tickMs: 2_000,
  sessionTimeoutTicksMin: 2,
  sessionTimeoutTicksMax: 20,
  pingIntervalFraction: 1 / 3, // clients ping after this fraction of the negotiated timeout is idle

  // Pipeline
  pendingTxnsMax: 10_000, // prepared but not yet committed
  writeBatchMax: 1_000, // transactions covered by one fdatasync

  // The worker <-> main thread hand-off (src/server/workers/ring.ts, handoff.ts): per worker one
  // ring of encoded frames each way (writes and control messages to the main thread, commits back).
  handoffRingBytes: 4 * 1_048_576, // a power of two; ~130 ms of 1 KiB writes at 30k/s
  // A larger frame (a multi of big setData, a commit with many events) goes on the side port.
  handoffInlineFrameBytesMax: 1_048_576,
  // A worker this many commit frames behind stops the main thread taking new writes until it catches up.
  handoffCommitFramesUntakenMax: 256,

  // Storage
  logRecordPayloadBytesMax: 2 * (4 * 1_048_576 + 64 * 1024), // an encoded txn: one frame plus bookkeeping
  logPendingBytesMax: 256 * 1_048_576, // appended and not yet synced
  snapshotMetaBytesMax: 1024 * 1_048_576, // session table and other snapshot metadata
  snapRetainCountMin: 3, // ZooKeeper's minimum for autopurge.snapRetainCount
  logSegmentBytes: 64 * 1_048_576, // preallocated size of a txn log segment
  snapshotEveryTxns: 100_000,
  snapRetainCount: 3, // autopurge.snapRetainCount default (ZooKeeper's minimum is 3)
  purgeIntervalHours: 0, // autopurge.purgeInterval: 0 = off, as in ZooKeeper

  // Shared tree
  treeInitialBytes: 64 * 1_048_576,
  // Address space reserved and grown in place on demand. V8 here refuses a growable
  // SharedArrayBuffer over 2^32 bytes, so 4 GiB is the tree's ceiling (native-notes/shared-memory.md).
  treeMaxBytes: 4 * 1024 * 1_048_576,
  // Captures (src/server/tree/capture.ts): images read while the writer goes on. One per learner
  // receiving a SNAP plus the background snapshot job; each saves at most its image's bytes.
  treeCapturesMax: 32,
  treeCapturePageBytes: 4_096, // copy-on-write unit: the writer saves a page before first changing it
  snapPrefaultBytesMin: 16 * 1_048_576, // a SNAP buffer this large has its pages mapped on the job thread as it arrives

  // Peer transport (src/io/node/transport.ts): TCP links between the servers of an ensemble
  // A PROPOSAL of the largest log record (logRecordPayloadBytesMax) or one SNAP chunk, plus envelope.
  peerFrameBytesMax: 16 * 1_048_576,
  // Before its hello a connection is unauthenticated: its first frame may not be larger than this,
  // so a stranger cannot make a server allocate a whole peerFrameBytesMax.
  peerHelloBytesMax: 1_024,
  // Written to one link and not yet taken by the kernel. Past it the link is cut (linkDown, queue
  // dropped, the learner is resynchronised) so a slow follower cannot grow the leader's memory.
  // Sync traffic is under the learner's credit (zabSyncWindowBytes), so what queues here is that
  // window plus broadcast: proposals of a follower that reads slower than the leader proposes.
  peerLinkQueuedBytesMax: 64 * 1_048_576,
  peerReconnectBackoffMsMin: 20, // doubles per failed attempt up to the max
  peerReconnectBackoffMsMax: 200, // a peer that restarts is redialled within this (loopback dials are cheap; failover time is what users feel); a link up this long resets the backoff
  peerConnectTimeoutMs: 5_000,
  peerHelloTimeoutMs: 5_000, // an inbound connection silent this long after accept is closed
  peerInboundPendingMax: 64, // inbound connections accepted that have not said hello yet

  // Ensemble configuration and `zookooper ensemble` (src/common/config.ts, src/cli/ensemble*.ts)
  // A looking server re-sends its vote this often by default (2 x tickTime, at most this): votes
  // converge on arrival, so the timeout only matters when messages are lost.
  electionTimeoutMsDefaultMax: 1_000,
  // `ensemble`: peer / election port = client port + these, so 2181 gets ZooKeeper's customary
  // 2888 / 3888, 2182 gets 2889 / 3889, and so on.
  ensemblePeerPortOffset: 707,
  ensembleElectionPortOffset: 1_707,
  ensemblePollMs: 500, // the leader table polls every server's /stat this often
  statusPageBytesMax: 1024 * 1024, // the CLI reads no more of a /stat answer than this (it is a few hundred bytes)
  statusRequestTimeoutMs: 2_000, // one HTTP /stat request (the ensemble table, cli srvr) gives up after this
  ensembleStopGraceMs: 10_000, // SIGTERM, then SIGKILL a child still alive after this
  ensembleServersMax: 32, // voters + observers one command starts

  // Quorum: the Zab core (src/server/quorum/). Time inside the core is ticks of quorumTickMs.
  quorumTickMs: 50,
  zabHistoryTxnsMax: 250_000, // committed txns kept in memory for DIFF; a learner further behind gets a SNAP
  zabHistoryBytesMax: 64 * 1_048_576, // the same window bounded in txn bytes
  zabProposalsInFlightMax: 5_000, // proposed and not yet committed (the pipeline holds back beyond it)
  zabProposalsPerMessageMax: 1_000, // proposals one PROPOSALS peer message carries (one frame, one decode, one append on the follower)
  zabProposalsMessageBytesMax: 1_048_576, // txn bytes one PROPOSALS message gathers; a larger txn travels alone
  zabLogBatchTxnsMax: 2_000, // proposals one ensemble group commit (one write + fdatasync) covers; the rest wait for the next
  zabSnapDiffFactor: 0.33, // a DIFF heavier than this fraction of the SNAP image's bytes is sent as a SNAP instead
  zabSnapChunkBytes: 1_048_576, // a SNAP image travels in chunks of at most this many bytes
  zabSnapImageBytesMax: 4 * 1024 * 1_048_576, // a learner refuses a larger image (the tree's ceiling)
  // Sync traffic (SNAP chunks, DIFF proposals) flows under the learner's credit: the leader keeps at
  // most the window unacknowledged per learner, so a SNAP of any size costs the leader's link
  // queue one window and the leader's event loop one chunk at a time, and a learner that stops
  // reading is noticed (no syncAck within syncLimit) and cut off instead of queued for. 16 MiB, not
  // 4: a 1M-znode SNAP's transfer took 0.8-1.1 s with it against 1.5-2.2 s (alternated bench runs).
  zabSyncWindowBytes: 16 * 1_048_576,
  zabSyncAckBytes: 4 * 1_048_576, // a learner says syncAck after every this many sync bytes received
  zabSyncTxnOverheadBytes: 16, // sync credit charged per DIFF txn beside its bytes (an empty txn still costs)
  zabSessionsPerPongMax: 10_000, // session ids carried by one pong (the rest wait for the next)
  zabPeerIdMax: 255, // server ids 1..255, as ZooKeeper's myid recommends
  zabElectionTimeoutTicks: 4, // 200 ms between re-sent votes
  zabFinalizeWaitTicks: 1, // 50 ms: a non-unanimous quorum waits this long for a better vote. Shorter than ZooKeeper's 200 ms: safety does not rest on it (a leader that finds a learner ahead of it in discovery gives up), and a dead server makes every failover pay it
  zabInitLimitTicks: 200, // 10 s: discovery + sync with a new leader (ZooKeeper initLimit*tickTime)
  zabSyncLimitTicks: 40, // 2 s: silence on a leader/learner link in broadcast (syncLimit*tickTime)
  zabHeartbeatTicks: 4, // the leader pings each learner every 200 ms

  // Storage for the ensemble (src/server/storage, storage-adapter): the log tail read back at
  // start-up as the Zab history window. The core trims it further to its own bounds.
  recoveredHistoryTxnsMax: 10_000, // newest logged txns kept after recovery (ZooKeeper keeps 500)
  recoveredHistoryBytesMax: 64 * 1_048_576, // the same window bounded in txn bytes

  // ZooKeeper's own wire protocol (issue 7: src/protocol/jute, src/server/workers/jute-*.ts).
  // ZooKeeper's default jute.maxbuffer (0xfffff): a request frame longer than this closes the
  // connection, as NIOServerCnxn.readLength (3.8.0) does; extrasize applies inside records only.
  juteMaxBufferBytes: 1_048_575,
  dumpEntriesMax: 10_000, // sessions, ephemeral paths, connections, watches listed by dump / cons / wchc / wchp and their admin pages
  // cons, wchc, wchp, dump and the admin pages ask every session worker for its connections and
  // watches (workers/gather.ts): a worker silent this long is reported as not answering.
  workerReportTimeoutMs: 2_000,
  workerReportGathersInFlightMax: 64, // such requests waiting for the workers at once; more are answered 'not answered'
  zkPortOffset: 1000, // the jute port defaults to the client port + this (2181 -> 3181)
  juteHandshakeBytesMax: 1024, // a ConnectRequest is ~50 bytes; a bigger first frame is garbage

  // Security of the client port (issue 8: src/server/tls.ts, src/server/workers/security.ts, tls-front.ts).
  tlsFileBytesMax: 1_048_576, // a PEM certificate, key or CA bundle file (a CA bundle of ~200 certs is ~200 KiB)
  adminUsersFileBytesMax: 1_048_576, // --admin-users FILE
  adminUsersMax: 1_000, // lines of that file
  allowedOriginsMax: 100, // --allowed-origins entries
  httpHeadBytesMax: 16 * 1024, // the TLS front reads a request head up to this before handing the stream on
  tlsFrontConnectTimeoutMs: 5_000, // the TLS front's connect to a worker's local socket gives up after this
} as const;

assert(constants.frameBytesMax > constants.dataBytesMax, 'a frame must hold the largest data');
assert(constants.sessionTimeoutTicksMin < constants.sessionTimeoutTicksMax, 'timeout range');
assert(constants.writeBatchMax <= constants.pendingTxnsMax, 'a batch fits in the pending queue');
assert(constants.outstandingRequestsPerSessionMax <= constants.outstandingRequestsPerServerMax, 'per-session <= per-server');
assert(constants.treeInitialBytes <= constants.treeMaxBytes, 'tree growth range');
assert(constants.pathBytesMax < constants.frameBytesMax, 'a path fits a frame');
assert(constants.logRecordPayloadBytesMax >= 2 * constants.frameBytesMax, 'a txn of one frame fits a log record');
assert(constants.snapRetainCount >= constants.snapRetainCountMin, 'retain at least the minimum');
assert(constants.multiOpsMax < constants.frameBytesMax, 'each multi op takes at least a byte');
assert(constants.queuedRequestsPerConnectionMax > constants.outstandingRequestsPerSessionMax, 'THROTTLEDOP answers come before the connection is closed');
assert(constants.peerFrameBytesMax >= constants.logRecordPayloadBytesMax + 64 * 1024, 'a proposal of the largest txn fits a peer frame');
assert(constants.peerLinkQueuedBytesMax >= 2 * constants.peerFrameBytesMax, 'a peer link queues at least two full frames');
assert(constants.peerHelloBytesMax < constants.peerFrameBytesMax, 'the hello bound is the tighter one');
assert(constants.peerReconnectBackoffMsMin > 0, 'reconnect backoff is positive');
assert(constants.peerReconnectBackoffMsMin <= constants.peerReconnectBackoffMsMax, 'reconnect backoff range');
assert(constants.peerHelloTimeoutMs > 0, 'the peer hello timeout is positive');
assert(constants.peerConnectTimeoutMs > 0, 'the peer connect timeout is positive');

assert((constants.handoffRingBytes & (constants.handoffRingBytes - 1)) === 0, 'the hand-off ring is a power of two');
assert(constants.handoffInlineFrameBytesMax <= constants.handoffRingBytes / 2 - 8, 'an inline frame fits the ring after a wrap (ring.ts)');
assert(constants.handoffCommitFramesUntakenMax >= 1, 'a worker may be a frame behind');
assert(constants.zabLogBatchTxnsMax >= constants.writeBatchMax, 'one proposed batch fits one group commit');
assert(constants.peerFrameBytesMax >= constants.zabProposalsMessageBytesMax + constants.logRecordPayloadBytesMax + 64 * 1024, 'a PROPOSALS message (its gathered bytes plus one txn of any size) fits a peer frame');
assert(constants.zabHeartbeatTicks * 2 <= constants.zabSyncLimitTicks, 'a learner hears at least two pings within syncLimit');
assert(constants.zabSnapChunkBytes < constants.frameBytesMax, 'a SNAP chunk fits a peer frame');
assert(constants.zabSyncAckBytes * 2 <= constants.zabSyncWindowBytes, 'a learner acks at least twice per window (the leader never waits on a partial ack)');
assert(constants.zabSyncWindowBytes + 2 * constants.peerFrameBytesMax <= constants.peerLinkQueuedBytesMax, 'a full sync window and the frames around it fit a link queue');
assert(constants.zabSyncLimitTicks <= constants.zabInitLimitTicks, 'sync limit within init limit');
assert(constants.httpHeadBytesMax >= 4 * 1024, 'a browser request head (cookies, user agent) fits the TLS front bound');
