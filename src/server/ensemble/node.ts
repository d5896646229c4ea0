// One server of a replicated ensemble: the Zab core wired to real peer links (TCP transport),
// the real log and data dir (storage), the local pipeline and the session workers. The core
// decides everything; this module only turns its effects into I/O and its role changes into the
// write path, serving state and session ownership of this server.
//
//   transport --messages, link up/down--> core <--ticks-- timer
//   core --effects--> EffectRunner --sends--> transport
//                                  --disk--> storage (log fdatasync, TRUNC, SNAP, epochs)
//                                  --local--> role path (roles.ts): pipeline, publish
//   role changes: looking -> stop serving, void what is in flight, follow whoever wins;
//                 leading -> prep here, own session expiry (timeouts restarted);
//                 following / observing -> serve reads here, forward writes.
import type { Logger } from 'pino';
import { assert } from '../../common/assert.js';
import type { ServerConfig } from '../../common/config.js';
import { observerIds, voterIds, zabTimeoutTicks } from '../../common/config.js';
import { constants } from '../../common/constants.js';
import type { ErrorCode } from '../../common/errors.js';
import { zxidCounter, zxidEpoch, zxidHex } from '../../common/zxid.js';
import { createTcpTransport, type TcpTransport } from '../../io/node/transport.js';
import type { CommittedEntry, WriteRequest } from '../pipeline/api.js';
import type { Proposal, ServerState } from '../quorum/api.js';
import { createZabCore, type Core } from '../quorum/core.js';
import { PeerMessageError, validatePeerMessage } from '../quorum/messages.js';
import { learner, leader, type PublishHooks, type RolePath, type WritePath } from '../roles.js';
import type { SessionManager } from '../sessions/manager.js';
import type { Storage, WrittenSnap } from '../storage-adapter.js';
import type { ServerStats } from '../workers/messages.js';
import type { WorkerPool } from '../workers/pool.js';
import { PortInUseError } from '../port.js';
import { EffectRunner, type LocalEffect } from './effects.js';
import { joinSnapImage, snapSource, splitSnapImage } from './snap-image.js';
import { allocTreeImage } from '../tree/index.js';

export interface EnsembleDeps {
  config: ServerConfig;
  logger: Logger;
  storage: Storage;
  sessions: SessionManager;
  pool: WorkerPool;
  hooks: PublishHooks;
  /** Monotonic ms (session timeouts restart on it). */
  nowMs(): number;
}

export interface EnsembleNode extends WritePath {
  readonly core: Core;
  /** Session activity seen by this server's workers (pings, requests, re-attaches). */
  touch(sessionIds: readonly bigint[]): void;
  isLeader(): boolean;
  /** The ensemble fields of /stat, /mntr, /metrics and /health. */
  stats(): Pick<ServerStats, 'serverState' | 'epoch' | 'leaderId' | 'inQuorum' | 'learners' | 'zabPhase'>;
  stop(): Promise<void>;
}

/** A peer message as one line of text: zxids in hex, binaries as their length. */
function peerMessageText(msg: unknown): string {
  return JSON.stringify(msg, (_k, v: unknown) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v instanceof Uint8Array ? `<${v.byteLength} bytes>` : v));
}

const roleNames: Record<ServerState, ServerStats['serverState']> = { looking: 'looking', leading: 'leader', following: 'follower', observing: 'observer' };

export async function startEnsembleNode(d: EnsembleDeps): Promise<EnsembleNode> {
  const { config, logger, storage, sessions, pool } = d;
  // --log-level trace shows every peer message (votes, sync, proposals: what an election did).
  const logPeerMessages = logger.isLevelEnabled('trace');
  const me = config.servers.find((s) => s.id === config.serverId);
  assert(me !== undefined, 'my id is in the server list (checked by the config)');
  const observer = me.observer;
  const ticks = zabTimeoutTicks(config, constants.quorumTickMs);
  const history: Proposal[] = storage.history().map((r) => ({ zxid: r.zxid, txn: r.bytes, origin: null }));
  const epochs = storage.epochs();
  // The SNAP being received, written to its snapshot file as it arrives (one at a time).
  let snapStream: WrittenSnap | null = null;
  const dropSnapStream = (): void => {
    const s = snapStream;
    snapStream = null;
    if (s !== null) void s.writer.abort().catch((err: unknown) => logger.warn({ err }, 'removing an abandoned SNAP file failed'));
  };
  const core = createZabCore(
    {
      myId: config.serverId,
      voters: voterIds(config),
      observers: observerIds(config),
      electionTimeoutTicks: ticks.electionTimeoutTicks,
      initLimitTicks: ticks.initLimitTicks,
      syncLimitTicks: ticks.syncLimitTicks,
      heartbeatTicks: Math.max(1, Math.min(constants.zabHeartbeatTicks, Math.floor(ticks.syncLimitTicks / 3))),
      incarnation: Math.floor(Math.random() * 2 ** 32), // this process's learner terms differ from the last one's
    },
    { acceptedEpoch: epochs.acceptedEpoch, currentEpoch: epochs.currentEpoch, lastLoggedZxid: storage.lastLoggedZxid(), history },
    {
      snapshotImage() {
        const { zxid, image, meta } = storage.snapshotContent();
        return { zxid, image: joinSnapImage(image, meta) };
      },
      snapshotSource() {
        const { zxid, capture, meta } = storage.snapshotCapture();
        return snapSource(zxid, capture, meta);
      },
      snapReceiveBuffer(totalBytes) {
        const buffer = allocTreeImage(totalBytes);
        if (totalBytes >= constants.snapPrefaultBytesMin) storage.prefault(buffer);
        return buffer;
      },
      snapReceived(zxid, body, offset, bytes) {
        if (offset === 0) {
          dropSnapStream(); // an earlier SNAP that ended without being installed
          snapStream = { writer: storage.openSnapshotStream(zxid, body.byteLength), body };
        }
        const s = snapStream;
        if (s === null || s.body !== body || s.writer.zxid !== zxid || s.writer.appended !== offset) return; // not the stream we write
        s.writer.append(body.subarray(offset, offset + bytes));
      },
      snapshotImageBytes() {
        return storage.tree.memoryUsage().usedBytes;
      },
    },
  );

  let transport: TcpTransport | null = null;
  let stopping = false;
  let path: RolePath;
  const runner = new EffectRunner(core, {
    sendToMany: (to, msg) => {
      if (logPeerMessages) logger.trace({ to, m: peerMessageText(msg) }, 'peer message out');
      transport?.sendToMany(to, msg);
    },
    disconnect: (peer, reason) => {
      logger.warn({ peer, reason }, 'peer cut off');
      transport?.disconnect(peer, reason);
    },
    disk: {
      truncate: async (zxid) => {
        await storage.truncate(zxid);
        adoptReloaded('TRUNC', zxid);
      },
      append: async (proposals) => {
        storage.log.append(proposals.map((p) => ({ zxid: p.zxid, bytes: p.txn })));
        await storage.log.sync();
      },
      installSnapshot: async (zxid, image) => {
        const parts = splitSnapImage(image);
        const s = snapStream;
        snapStream = null;
        const whole = s !== null && s.body === image && s.writer.zxid === zxid && s.writer.appended === image.byteLength;
        if (!whole) void s?.writer.abort();
        await storage.installSnapshot(zxid, parts.image, parts.meta, whole ? s : undefined);
        adoptReloaded('SNAP', zxid);
      },
      persistEpochs: (acceptedEpoch, currentEpoch) => storage.persistEpochs({ acceptedEpoch, currentEpoch }),
    },
    local: (e) => onLocal(e),
    fatal: (err) => d.hooks.fatal(err),
  });
  const pump = (): void => runner.pump();

  const failLocal = (entries: readonly { tag: number; sessionId: bigint }[], code: ErrorCode, message: string): void => {
    if (entries.length === 0) return;
    const failed: CommittedEntry[] = entries.map((e) => ({
      tag: e.tag,
      sessionId: e.sessionId,
      zxid: 0n,
      result: { ok: false, code, message },
      events: [],
      origin: { serverId: config.serverId, sessionId: e.sessionId, tag: e.tag },
    }));
    d.hooks.publish(failed, storage.tree.appliedZxid());
    d.hooks.afterBatch(0);
  };
  // Committed txns applied here, and the time spent applying and publishing them (/mntr).
  let appliedTxns = 0;
  let commitMs = 0;
  const hooks: PublishHooks = {
    publish: (entries, appliedZxid) => d.hooks.publish(entries, appliedZxid),
    afterBatch(txns) {
      appliedTxns += txns;
      d.hooks.afterBatch(txns);
    },
    fatal: (err) => d.hooks.fatal(err),
  };
  const parts = {
    myId: config.serverId,
    pipeline: () => storage.pipeline,
    appliedZxid: () => storage.tree.appliedZxid(),
    core,
    pump,
    hooks,
    committed: (ms: number) => void (commitMs += ms),
    failLocal,
    defer: (fn: () => void) => setImmediate(fn),
  };
  // Snapshot only what a leader has committed: a TRUNC never cuts below that.
  storage.setSnapshotGuard(() => storage.tree.appliedZxid() <= core.committedZxid());
  const learnerPath = learner(parts);
  const leaderPath = leader(parts);
  path = learnerPath;

  /** A TRUNC or SNAP reloaded the tree from disk: the new pipeline learns, the workers read it. */
  const adoptReloaded = (what: string, zxid: bigint): void => {
    const applied = storage.tree.appliedZxid();
    assert(applied === zxid, () => `${what}: the reloaded tree is at ${zxidHex(applied)}, not ${zxidHex(zxid)}`);
    if (observer) storage.pipeline.becomeObserver(applied);
    else storage.pipeline.becomeFollower(applied);
    pool.swapTree(storage.tree.buffer);
    logger.info({ zxid: zxidHex(zxid), nodes: storage.tree.nodeCount() }, `${what}: local state reloaded`);
  };

  /** Leaving a role: what was not applied is void; the history the log has is fed again. */
  const becomeLearnerPipeline = (): void => {
    const pipeline = storage.pipeline;
    const applied = storage.tree.appliedZxid();
    const dropped = pipeline.reset(applied);
    // A forwarded request the pipeline held (its proposal, not yet applied) is answered by the
    // learner path's abandon(), once; here only this server's own prepared ones (as a leader).
    failLocal(
      dropped.filter((e) => e.origin !== null && e.origin.serverId === config.serverId && !learnerPath.waitingFor(e.tag)),
      'CONNECTIONLOSS',
      'the server left its role (leader election)',
    );
    if (observer) pipeline.becomeObserver(applied);
    else pipeline.becomeFollower(applied);
    // Logged txns the tree has not applied stay in the history: the next leader commits them
    // (or TRUNCates them, which reloads the tree), so the pipeline must hold them again.
    const lastAppended = core.lastAppended;
    if (lastAppended > applied) for (const x of core.historyAfter(applied)) pipeline.acceptProposal(x.zxid, x.txn, null);
  };

  const onRole = (e: Extract<LocalEffect, { kind: 'role' }>): void => {
    // A SNAP still being written when a role begins was never installed (synced otherwise, or leading).
    if (e.state !== 'looking') dropSnapStream();
    logger.info({ state: e.state, epoch: e.epoch, leader: e.leaderId, zxid: zxidHex(storage.tree.appliedZxid()) }, `role: ${roleNames[e.state]}`);
    switch (e.state) {
      case 'looking':
        pool.setServing(false, 'no quorum: looking for a leader');
        path = learnerPath;
        becomeLearnerPipeline();
        learnerPath.abandon();
        break;
      case 'leading': {
        // The core commits its whole history before it serves: the tree has all of the log.
        const pipeline = storage.pipeline;
        const last = storage.tree.appliedZxid();
        assert(last === core.lastLoggedZxid(), () => `leading: applied ${zxidHex(last)} but logged ${zxidHex(core.lastLoggedZxid())}`);
        pipeline.reset(last);
        pipeline.becomeLeader(e.epoch, last);
        sessions.restartTimeouts(d.nowMs());
        sessions.forgetOwnerServers();
        path = leaderPath;
        pool.setServing(true, 'leading');
        break;
      }
      case 'following':
      case 'observing':
        path = learnerPath;
        pool.setServing(true, e.state);
        break;
    }
  };

  const onLocal = (e: LocalEffect): void => {
    switch (e.kind) {
      case 'role':
        onRole(e);
        break;
      case 'sessionsTouched':
        for (const id of e.sessionIds) sessions.touch(id);
        break;
      default:
        path.effect(e);
    }
  };

  try {
    transport = await createTcpTransport({
      myId: config.serverId,
      host: me.host,
      port: me.peerPort,
      peers: config.servers.filter((s) => s.id !== config.serverId).map((s) => ({ id: s.id, host: s.host, port: s.peerPort })),
      logger,
    });
  } catch (err) {
    // Another process (or another server of a misconfigured ensemble) has this server's peer port.
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    throw new PortInUseError(`peer port ${me.peerPort} on ${me.host} (server.${me.id}) is already in use`);
  }
  transport.onMessage((from, payload) => {
    if (stopping) return;
    let msg;
    try {
      msg = validatePeerMessage(payload);
    } catch (err) {
      if (!(err instanceof PeerMessageError)) throw err;
      transport?.disconnect(from, `bad peer message: ${err.message}`);
      return;
    }
    if (logPeerMessages) logger.trace({ from, m: peerMessageText(msg) }, 'peer message in');
    core.receive(from, msg);
    pump();
  });
  transport.onLinkUp((peer) => {
    if (stopping) return;
    core.linkUp(peer);
    pump();
  });
  transport.onLinkDown((peer) => {
    if (stopping) return;
    core.linkDown(peer);
    pump();
  });
  const tickTimer = setInterval(() => {
    core.tick();
    pump();
  }, constants.quorumTickMs);
  pump(); // the initial 'looking' role and the first votes

  /** Bytes written to the learner's link and not yet taken by its socket (a slow learner's backlog). */
  const queuedBytes = (id: number): number => transport?.stats().peers.find((p) => p.peer === id)?.queuedBytes ?? 0;
  const lagTxns = (acked: bigint): number => {
    const last = core.lastLoggedZxid();
    if (acked >= last) return 0;
    return zxidEpoch(acked) === zxidEpoch(last) ? zxidCounter(last) - zxidCounter(acked) : zxidCounter(last);
  };

  return {
    core,
    submit: (req: WriteRequest) => {
      if (!stopping) path.submitBatch([req]);
    },
    submitBatch: (reqs) => {
      if (!stopping) path.submitBatch(reqs);
    },
    idle: async () => {
      const deadline = Date.now() + constants.ensembleStopGraceMs;
      while (runner.busy() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    },
    figures: () => ({ txns: appliedTxns, syncs: runner.appendsSynced, syncMs: runner.syncMs, commitMs }),
    touch(ids) {
      if (ids.length === 0) return;
      if (core.state() === 'leading') for (const id of ids) sessions.touch(id);
      else core.touchSessions([...ids]);
      pump();
    },
    isLeader: () => core.state() === 'leading',
    stats() {
      const state = core.state();
      const phase = core.phase();
      return {
        serverState: roleNames[state],
        zabPhase: phase === 'sync' ? 'synchronization' : phase,
        epoch: core.epoch(),
        leaderId: core.leaderId(),
        inQuorum: state === 'leading' ? core.hasQuorum() : state !== 'looking',
        learners: core.learners().map((l) => ({ id: l.id, observer: l.observer, synced: l.synced, lagTxns: lagTxns(l.ackedZxid), queuedBytes: queuedBytes(l.id) })),
      };
    },
    async stop() {
      stopping = true;
      clearInterval(tickTimer);
      await transport?.close();
    },
  };
}
