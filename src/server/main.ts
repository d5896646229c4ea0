// The composition root: wires the real I/O (files with fsync, uWS sockets in worker threads,
// timers) into the synchronous core (tree, pipeline, session tracker). The only place that
// starts threads and owns timers; each concern lives in its own module:
//   workers/pool.ts     the worker threads          sessions/attach.ts  session attach, in-flight writes
//   publish.ts          commit fan-out to workers   main-requests.ts    the main thread's own writes
//   roles.ts            each role's write path      timers.ts           expiry and sweep timers
import type { Logger } from 'pino';
import type { ServerConfig } from '../common/config.js';
import { isEnsemble, negotiateTimeoutMs } from '../common/config.js';
import { startEnsembleNode, type EnsembleNode } from './ensemble/node.js';
import { zxidHex } from '../common/zxid.js';
import { MainRequests } from './main-requests.js';
import { probePort } from './port.js';
import { planSecurity } from './security-load.js';
import { publisher } from './publish.js';
import { standalone, type PublishHooks, type WritePath } from './roles.js';
import { SessionAttach } from './sessions/attach.js';
import { SessionManager } from './sessions/manager.js';
import { openStorage, type Storage } from './storage-adapter.js';
import { monotonicNowMs, startTimers } from './timers.js';
import { constants } from '../common/constants.js';
import type { ServerStats, SessionDump, ToMain } from './workers/messages.js';
import { ReportGather } from './workers/gather.js';
import { WorkerPool } from './workers/pool.js';
import { msgpackrNative, uwsStatus } from './workers/uws.js';

export interface RunningServer {
  port: number;
  /** The jute (ZooKeeper protocol) port, null without one. */
  zkPort: number | null;
  stop(): Promise<void>;
  /** Resolves when the server stops on its own (a fatal error); rejects with it. */
  done: Promise<void>;
}

export async function startServer(config: ServerConfig, logger: Logger): Promise<RunningServer> {
  checkNativeAddons(config, logger);
  const port = await probePort(config.host, config.port);
  // TLS files and admin users are read and checked now: a bad one stops the start with its name.
  const security = planSecurity(config, port);
  const startedAtMs = Date.now();
  // The same monotonic clock as the expiry timer (session ids only need it to grow across runs).
  const sessions = new SessionManager(config.tickMs, config.serverId, monotonicNowMs());
  // Worker threads load their modules while the main thread recovers the data dir.
  const pool = WorkerPool.prestart(config, port, security);
  let storage: Storage;
  try {
    storage = await openStorage(config, logger, sessions);
  } catch (err) {
    await pool.terminate();
    security.dispose();
    throw err;
  }
  const stopped = stopSignals();
  const fail = (err: unknown): void => {
    if (stopped.fatalError !== null) return;
    stopped.fatalError = err;
    logger.fatal({ err }, 'fatal error: stopping');
    void shutdown().then(() => stopped.reject(err), () => stopped.reject(err));
  };

  const mainRequests = new MainRequests((req) => writes.submit(req));
  const attach = new SessionAttach({
    sessions,
    sessionsMax: storage.sessionsMax,
    negotiateTimeoutMs: (askedMs) => negotiateTimeoutMs(config, askedMs),
    submit: (sessionId, op, onDone) => mainRequests.request(sessionId, op, onDone),
    post: (workerId, msg) => pool.post(workerId, msg),
    // A txn-less request of this server for the session: the leader's owner check takes it as the
    // claim (sessions/server-owner.ts). Its outcome matters to nobody (no leader: it just fails).
    ...(isEnsemble(config)
      ? {
          claim: (sessionId: bigint) => mainRequests.request(sessionId, { type: 'sync', path: '/' }, () => {}),
          // Whatever the sync's outcome, the re-attach is decided afterwards on what is applied here.
          catchUp: (sessionId: bigint, then: () => void) => mainRequests.request(sessionId, { type: 'sync', path: '/' }, () => then()),
        }
      : {}),
  });
  const hooks: PublishHooks = {
    publish: publisher({
      myId: config.serverId,
      workerCount: () => pool.size,
      postCommit: (id, msg) => pool.postCommit(id, msg),
      sessionCreated: (s) => sessions.created(s.sessionId, s.timeoutMs, s.password),
      writeCommitted: (sessionId) => attach.writeCommitted(sessionId),
      sessionEnded: (sessionId) => void sessions.closed(sessionId),
      mainCommitted: (entry) => mainRequests.committed(entry),
    }),
    afterBatch(txns) {
      attach.releaseHeld();
      mainRequests.finishPublished();
      storage.afterBatch(txns);
    },
    fatal: fail,
  };
  // Standalone: this server alone; an ensemble: the Zab core decides (ensemble/node.ts, roles.ts).
  let ensemble: EnsembleNode | null = null;
  try {
    if (isEnsemble(config)) ensemble = await startEnsembleNode({ config, logger, storage, sessions, pool, hooks, nowMs: monotonicNowMs });
  } catch (err) {
    // Nothing is served yet: release the data dir and the prestarted workers, or they keep the
    // process alive after the start-up error.
    await storage.close();
    await pool.terminate();
    throw err;
  }
  const writes: WritePath = ensemble ?? standalone({ pipeline: storage.pipeline, log: storage.log, hooks });
  // Only the leader expires sessions and sweeps containers (learners forward session activity).
  const leads = (): boolean => ensemble === null || ensemble.isLeader();

  const stopTimers = startTimers({
    tickMs: config.tickMs,
    containerCheckMs: storage.containerCheckMs,
    expire: (nowMs) => {
      if (!leads()) return;
      for (const sessionId of sessions.expire(nowMs)) {
        logger.info({ sessionId: '0x' + sessionId.toString(16) }, 'session expired');
        mainRequests.request(sessionId, { type: 'closeSession' }, () => {});
      }
    },
    sweep: (nowMs) => {
      if (!leads()) return;
      for (const path of storage.findExpiredNodes(nowMs)) mainRequests.request(0n, { type: 'deleteContainer', path }, () => {});
    },
  });

  // The `dump` four-letter word's tables (ZooKeeper's SessionTracker and ephemerals dumps), bounded.
  const sessionDump = (): SessionDump => {
    const max = constants.dumpEntriesMax;
    const out: SessionDump = { sessions: [], ephemerals: [], sessionCount: sessions.size, ephemeralSessionCount: 0, truncated: false };
    for (const s of sessions.all()) {
      if (out.sessions.length >= max) {
        out.truncated = true;
        break;
      }
      out.sessions.push({ sessionId: s.sessionId, timeoutMs: s.timeoutMs });
    }
    const owners = storage.pipeline.sessionsWithEphemerals();
    out.ephemeralSessionCount = owners.length;
    let paths = 0;
    for (const sessionId of owners) {
      if (paths >= max) {
        out.truncated = true;
        break;
      }
      const all = storage.pipeline.ephemeralsOf(sessionId);
      const listed = all.slice(0, max - paths);
      if (listed.length < all.length) out.truncated = true;
      paths += listed.length;
      out.ephemerals.push({ sessionId, paths: listed });
    }
    return out;
  };

  const stats = (): ServerStats => {
    const mem = storage.tree.memoryUsage(); // the current tree: a TRUNC or SNAP replaces it
    const f = writes.figures();
    return {
      zxid: zxidHex(storage.tree.appliedZxid()),
      nodes: mem.nodes,
      sessions: sessions.size,
      pendingWrites: storage.pipeline.pendingCount(),
      treeUsedBytes: mem.usedBytes,
      treeCapacityBytes: mem.capacityBytes,
      committedTxns: f.txns,
      logSyncs: f.syncs,
      logSyncMs: Math.round(f.syncMs),
      commitMs: Math.round(f.commitMs),
      startedAtMs,
      workers: pool.size,
      dataDir: config.dataDir,
      serverState: 'standalone',
      ...ensemble?.stats(),
    };
  };

  // cons, wchc, wchp, dump, the admin pages: every worker's connections and watches (gather.ts).
  const gather = new ReportGather({
    workerIds: () => Array.from({ length: pool.size }, (_, i) => i),
    ask: (workerId, gatherId, entriesMax) => pool.post(workerId, { kind: 'askReport', gatherId, entriesMax }),
    answer: (workerId, reqId, gathered) => pool.post(workerId, { kind: 'gathered', reqId, gathered }),
    startTimer: (fn, ms) => {
      const t = setTimeout(fn, ms).unref(); // a gather never keeps a stopping server alive
      return () => clearTimeout(t);
    },
    timeoutMs: constants.workerReportTimeoutMs,
    inFlightMax: constants.workerReportGathersInFlightMax,
  });

  const onWorkerMessage = (workerId: number, msg: Exclude<ToMain, { kind: 'ready' | 'listenFailed' | 'stopped' }>): void => {
    switch (msg.kind) {
      case 'writes':
        // Once stopping, the workers' connections are closed (their clients see CONNECTIONLOSS,
        // the outcome unknown, as ZooKeeper's) and the log is about to close: take nothing new.
        if (pool.isStopping) break;
        for (const r of msg.requests) attach.writeSubmitted(r.sessionId);
        writes.submitBatch(msg.requests);
        break;
      case 'touch':
        if (ensemble) ensemble.touch(msg.sessionIds);
        else for (const id of msg.sessionIds) sessions.touch(id);
        break;
      case 'attach':
        attach.attach(workerId, msg);
        // The leader owns expiry: a session re-attached here is alive, tell it.
        if (ensemble && msg.sessionId !== 0n) ensemble.touch([msg.sessionId]);
        break;
      case 'detach':
        attach.detach(workerId, msg.sessionId, msg.connId);
        break;
      case 'stats':
        pool.post(workerId, { kind: 'stats', reqId: msg.reqId, stats: msg.dump === true ? { ...stats(), dump: sessionDump() } : stats() });
        break;
      case 'gather':
        gather.request(workerId, msg.reqId, Math.min(msg.entriesMax, constants.dumpEntriesMax));
        break;
      case 'report':
        gather.report(msg.gatherId, msg.report);
        break;
      case 'securityReloaded':
        if (msg.error === null) logger.info({ workerId }, 'security settings reloaded');
        else logger.error({ workerId, error: msg.error }, 'security reload failed in a worker: it keeps its previous certificate');
        break;
    }
  };

  // SIGHUP re-reads the TLS files and the admin users (connections already up keep going); a
  // bad file is logged and the settings in use stay.
  const onSighup = (): void => {
    let fresh;
    try {
      fresh = security.reload();
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'SIGHUP: security files not reloaded, the previous ones stay in use');
      return;
    }
    logger.info({ tls: fresh.tls !== null, adminUsers: fresh.adminIds?.length ?? null }, 'SIGHUP: reloading certificates and admin users');
    pool.broadcast({ kind: 'reloadSecurity', tls: fresh.tls, adminIds: fresh.adminIds });
  };
  process.on('SIGHUP', onSighup);

  let shutdownPromise: Promise<void> | null = null;
  const shutdown = (): Promise<void> =>
    (shutdownPromise ??= (async () => {
      stopTimers();
      gather.flush();
      await pool.stop();
      // Data first: a worker still holding a socket (an idle raw TCP connection uWS keeps for its
      // HTTP idle timeout) can abort the process when terminated, and by then everything
      // acknowledged is synced and the final snapshot written.
      if (stopped.fatalError === null) await writes.idle();
      await ensemble?.stop();
      await storage.close();
      process.off('SIGHUP', onSighup);
      logger.info('stopped');
      await pool.terminate();
      security.dispose();
    })());

  try {
    // An ensemble server serves clients only once it is in a quorum: its role set the pool's
    // serving state already (the first role is 'looking'), and start() hands that to the workers.
    await pool.start(storage.tree.buffer, { message: onWorkerMessage, fatal: fail });
  } catch (err) {
    await shutdown();
    throw err;
  }
  logger.info({ host: config.host, port, zkPort: pool.zkPort, workers: config.workers, zxid: zxidHex(storage.tree.appliedZxid()), nodes: storage.tree.nodeCount() }, 'serving');
  return {
    port,
    zkPort: pool.zkPort,
    done: stopped.done,
    stop: async () => {
      await shutdown();
      stopped.resolve();
    },
  };
}

function checkNativeAddons(config: ServerConfig, logger: Logger): void {
  const uws = uwsStatus();
  if (!uws.native) {
    const msg = `uWebSockets.js native binary is NOT in use (${uws.detail}); the JS fallback is many times slower`;
    if (!config.allowUwsFallback) throw new Error(`${msg}. Refusing to start; pass --allow-uws-fallback to run anyway.`);
    logger.error({ uws }, `${msg} — running anyway because --allow-uws-fallback was given`);
  } else {
    logger.debug({ binary: uws.binaryPath }, 'uWebSockets.js native binary loaded');
  }
  if (!msgpackrNative) logger.warn('msgpackr-extract native addon not loaded: frame decoding is slower');
}

/** The server's `done` promise and the first fatal error. */
function stopSignals(): { done: Promise<void>; resolve: () => void; reject: (err: unknown) => void; fatalError: unknown } {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  done.catch(() => {});
  return { done, resolve, reject, fatalError: null };
}
