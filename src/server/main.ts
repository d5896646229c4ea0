// The composition root: wires the real I/O (files with fsync, uWS sockets in worker threads,
// timers) into the synchronous core (tree, pipeline, session tracker). The only place that
// starts threads and owns timers.
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import { assert } from '../common/assert.js';
import type { ServerConfig } from '../common/config.js';
import { negotiateTimeoutMs } from '../common/config.js';
import { zxidHex } from '../common/zxid.js';
import type { CommittedEntry, WriteRequest } from './pipeline/api.js';
import { SessionManager } from './sessions/manager.js';
import { probePort } from './port.js';
import { msgpackrNative, uwsStatus } from './workers/uws.js';
import type { AttachRequest, CommitMessage, CommitReply, ServerStats, ToMain, ToWorker, WorkerInit } from './workers/messages.js';
import { tagWorker, tagWorkerBits } from './workers/messages.js';
import { WriteLoop } from './write-loop.js';
import { openStorage, type Storage } from './storage-adapter.js';

export interface RunningServer {
  port: number;
  stop(): Promise<void>;
  /** Resolves when the server stops on its own (a fatal error); rejects with it. */
  done: Promise<void>;
}

/** Session expiry runs on a monotonic clock: a wall clock stepping back or forward must neither
 *  stop expiry nor expire every session at once. ~Date.now() at start. */
const monotonicNowMs = (): number => Math.floor(performance.timeOrigin + performance.now());

/** The main thread's own requests (session create/close, container sweeps) use this worker slot. */
const mainTagSlot = tagWorkerBits - 1;
const noEvents: CommittedEntry['events'] = [];
const workerStopWaitMs = 16_000; // uWS sweeps timeouts every 4 s: its 10 s idle timeout fires within 14 s

interface WorkerHandle {
  id: number;
  thread: Worker;
  commitPort: MessagePort;
  ready: boolean;
  stopped: Promise<void>;
}

export async function startServer(config: ServerConfig, logger: Logger): Promise<RunningServer> {
  const uws = uwsStatus();
  if (!uws.native) {
    const msg = `uWebSockets.js native binary is NOT in use (${uws.detail}); the JS fallback is many times slower`;
    if (!config.allowUwsFallback) throw new Error(`${msg}. Refusing to start; pass --allow-uws-fallback to run anyway.`);
    logger.error({ uws }, `${msg} — running anyway because --allow-uws-fallback was given`);
  } else {
    logger.debug({ binary: uws.binaryPath }, 'uWebSockets.js native binary loaded');
  }
  if (!msgpackrNative) logger.warn('msgpackr-extract native addon not loaded: frame decoding is slower');
  const port = await probePort(config.host, config.port);

  const startedAtMs = Date.now();
  // The same monotonic clock as the expiry timer (session ids only need it to grow across runs).
  const sessions = new SessionManager(config.tickMs, config.serverId, monotonicNowMs());
  // Worker threads load their modules (uWS, msgpackr, pino, ...) while the main thread recovers
  // the data dir; they get the tree's buffer once it exists.
  const prestarted = prestartWorkers(config, port);
  let storage: Storage;
  try {
    storage = await openStorage(config, logger, sessions);
  } catch (err) {
    await Promise.all(prestarted.map((p) => p.thread.terminate()));
    throw err;
  }
  const { tree, pipeline } = storage;

  const workers: WorkerHandle[] = [];
  let stopping = false;
  let fatalError: unknown = null;
  let resolveDone!: () => void;
  let rejectDone!: (err: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  done.catch(() => {});

  // Requests of the main thread itself, answered through `mainReplies`.
  let mainTagSeq = 0;
  const mainReplies = new Map<number, (entry: CommittedEntry) => void>();
  const submitFromMain = (sessionId: bigint, op: WriteRequest['op'], onDone: (e: CommittedEntry) => void): void => {
    const tag = ++mainTagSeq * tagWorkerBits + mainTagSlot;
    mainReplies.set(tag, onDone);
    loop.submit({ sessionId, tag, authIds: [], op });
  };
  const post = (workerId: number, msg: ToWorker): void => {
    workers[workerId]?.thread.postMessage(msg);
  };

  const loop = new WriteLoop(pipeline, storage.log, {
    publish(entries, appliedZxid) {
      const perWorker: CommitReply[][] = workers.map(() => []);
      const events: CommitMessage['events'] = [];
      const endedSessions: CommitMessage['endedSessions'] = [];
      const ended = new Set<bigint>();
      const mainEntries: CommittedEntry[] = [];
      let txns = 0;
      for (const e of entries) {
        if (e.zxid !== 0n) txns++;
        for (const ev of e.events) events.push({ type: ev.type, path: ev.path, zxid: e.zxid });
        // A session ends once: a client's close and the expiry's close of the same session can
        // both commit (the expiry fired while the close was in flight); the first one counts.
        if (e.closedSessionId !== undefined && !ended.has(e.closedSessionId)) {
          ended.add(e.closedSessionId);
          endedSessions.push({ sessionId: e.closedSessionId, expired: e.tag % tagWorkerBits === mainTagSlot });
        }
        const w = tagWorker(e.tag);
        if (w !== mainTagSlot) {
          const info = sessions.get(e.sessionId);
          if (info) {
            info.inflightWrites--;
            assert(info.inflightWrites >= 0, 'in-flight writes of a session never go negative');
          }
        }
        if (w === mainTagSlot) mainEntries.push(e);
        // Events travel once per batch in `events`, not again inside each reply; `eventsBefore`
        // (the events of this entry and every earlier one) lets the worker send the answer
        // between them, in ZooKeeper's order.
        else perWorker[w]?.push({ tag: e.tag, sessionId: e.sessionId, zxid: e.zxid, result: e.result, events: noEvents, eventsBefore: events.length } satisfies CommitReply);
      }
      for (const s of endedSessions) sessions.closed(s.sessionId);
      for (const w of workers) {
        const replies = perWorker[w.id]!;
        if (txns === 0 && replies.length === 0) continue;
        const msg: CommitMessage = { zxid: appliedZxid, events, replies, endedSessions };
        w.commitPort.postMessage(msg);
      }
      // Main-thread requests are finished after the tree is published (afterBatch runs them).
      pendingMain.push(...mainEntries);
    },
    afterBatch(txns) {
      if (heldAttaches.size > 0) releaseHeldAttaches();
      for (const e of pendingMain.splice(0)) {
        const cb = mainReplies.get(e.tag);
        mainReplies.delete(e.tag);
        cb?.(e);
      }
      storage.afterBatch(txns);
    },
    fatal(err) {
      fail(err);
    },
  });
  const pendingMain: CommittedEntry[] = [];

  const fail = (err: unknown): void => {
    if (fatalError !== null) return;
    fatalError = err;
    logger.fatal({ err }, 'fatal error: stopping');
    void shutdown().then(
      () => rejectDone(err),
      () => rejectDone(err),
    );
  };

  // ---- session attach / expiry ----
  const attach = (workerId: number, req: AttachRequest): void => {
    const answer = (msg: ToWorker): void => post(workerId, msg);
    if (req.sessionId === 0n) {
      if (sessions.size >= storage.sessionsMax) {
        answer({ kind: 'attachFailed', reqId: req.reqId, code: 'THROTTLEDOP', message: 'too many sessions on this server' });
        return;
      }
      const sessionId = sessions.newSessionId();
      const password = sessions.newPassword();
      const timeoutMs = negotiateTimeoutMs(config, req.timeoutMs);
      submitFromMain(sessionId, { type: 'createSession', timeoutMs, password }, (entry) => {
        if (!entry.result.ok) {
          answer({ kind: 'attachFailed', reqId: req.reqId, code: 'THROTTLEDOP', message: `session not created: ${entry.result.code}` });
          return;
        }
        sessions.created(sessionId, timeoutMs, password);
        const info = sessions.get(sessionId);
        assert(info !== undefined, 'committed session is in the table');
        info.owner = { workerId, connId: req.connId };
        answer({ kind: 'attached', reqId: req.reqId, sessionId, password, timeoutMs });
      });
      return;
    }
    const info = sessions.get(req.sessionId);
    if (!info || !sessions.passwordMatches(info, req.password) || !sessions.touch(req.sessionId)) {
      answer({ kind: 'attachFailed', reqId: req.reqId, code: 'SESSIONEXPIRED', message: 'session expired or unknown' });
      return;
    }
    const prev = info.owner;
    info.owner = { workerId, connId: req.connId };
    if (prev && (prev.workerId !== workerId || prev.connId !== req.connId)) post(prev.workerId, { kind: 'moved', sessionId: req.sessionId, connId: prev.connId });
    // Per-session FIFO across connections (ZooKeeper's commit processor is per session): writes
    // the old connection sent are still in the pipeline, so the new connection may start only
    // once they have committed; otherwise its first read could miss them.
    info.heldAttach?.(); // a newer attach supersedes one still held: that one is refused
    const reply = (): void => answer({ kind: 'attached', reqId: req.reqId, sessionId: info.sessionId, password: info.password, timeoutMs: info.timeoutMs });
    if (info.inflightWrites === 0) {
      reply();
      return;
    }
    const sessionId = info.sessionId;
    const refuse = (code: 'SESSIONMOVED' | 'SESSIONEXPIRED', message: string): void => {
      heldAttaches.delete(sessionId);
      answer({ kind: 'attachFailed', reqId: req.reqId, code, message });
    };
    heldAttaches.set(sessionId, { reply, refuse });
    info.heldAttach = () => {
      info.heldAttach = null;
      refuse('SESSIONMOVED', 'a newer connection took the session');
    };
  };
  // Re-attaches waiting for their session's earlier writes to commit.
  const heldAttaches = new Map<bigint, { reply: () => void; refuse: (code: 'SESSIONMOVED' | 'SESSIONEXPIRED', message: string) => void }>();
  const releaseHeldAttaches = (): void => {
    for (const [sessionId, held] of heldAttaches) {
      const info = sessions.get(sessionId);
      if (!info) {
        held.refuse('SESSIONEXPIRED', 'the session ended before its earlier writes committed');
        continue;
      }
      if (info.inflightWrites > 0) continue;
      heldAttaches.delete(sessionId);
      info.heldAttach = null;
      held.reply();
    }
  };

  const expireTimer = setInterval(() => {
    for (const sessionId of sessions.expire(monotonicNowMs())) {
      logger.info({ sessionId: '0x' + sessionId.toString(16) }, 'session expired');
      submitFromMain(sessionId, { type: 'closeSession' }, () => {});
    }
  }, Math.max(10, Math.floor(config.tickMs / 2)));
  const sweepTimer = setInterval(() => {
    for (const path of storage.findExpiredNodes(Date.now())) submitFromMain(0n, { type: 'deleteContainer', path }, () => {});
  }, storage.containerCheckMs);

  const stats = (): ServerStats => {
    const mem = tree.memoryUsage();
    return {
      zxid: zxidHex(tree.appliedZxid()),
      nodes: mem.nodes,
      sessions: sessions.size,
      pendingWrites: pipeline.pendingCount(),
      treeUsedBytes: mem.usedBytes,
      treeCapacityBytes: mem.capacityBytes,
      committedTxns: loop.txns,
      logSyncs: loop.syncs,
      logSyncMs: Math.round(loop.syncMs),
      commitMs: Math.round(loop.commitMs),
      startedAtMs,
      workers: workers.length,
      dataDir: config.dataDir,
      serverState: 'standalone',
    };
  };

  // ---- workers ----
  const readyAll = new Promise<void>((resolve, reject) => {
    let readyCount = 0;
    for (const { id, thread, channel, early } of prestarted) {
      let resolveStopped!: () => void;
      const stopped = new Promise<void>((r) => (resolveStopped = r));
      const handle: WorkerHandle = { id, thread, commitPort: channel.port1, ready: false, stopped };
      workers.push(handle);
      thread.on('message', (msg: ToMain) => {
        switch (msg.kind) {
          case 'ready':
            handle.ready = true;
            if (++readyCount === config.workers) resolve();
            break;
          case 'listenFailed':
            reject(new Error(`worker ${msg.workerId} could not listen: ${msg.reason}`));
            break;
          case 'writes':
            // Once stopping, the workers' connections are closed (their clients see CONNECTIONLOSS,
            // the outcome unknown, as ZooKeeper's) and the log is about to close: take nothing new.
            if (stopping) break;
            for (const r of msg.requests) {
              const info = sessions.get(r.sessionId);
              if (info) info.inflightWrites++;
              pipeline.submit(r);
            }
            loop.schedule();
            break;
          case 'touch':
            for (const id of msg.sessionIds) sessions.touch(id);
            break;
          case 'attach':
            attach(handle.id, msg);
            break;
          case 'detach': {
            const info = sessions.get(msg.sessionId);
            if (info?.owner?.workerId === handle.id && info.owner.connId === msg.connId) info.owner = null;
            break;
          }
          case 'stats':
            post(handle.id, { kind: 'stats', reqId: msg.reqId, stats: stats() });
            break;
          case 'stopped':
            break;
        }
      });
      thread.on('error', (err) => {
        if (!handle.ready) reject(err);
        else fail(err);
      });
      thread.on('exit', (code) => {
        resolveStopped();
        if (!stopping) fail(new Error(`worker ${id} exited with code ${code}`));
      });
      thread.off('error', early.onError);
      thread.off('exit', early.onExit);
      if (early.error !== null) reject(early.error);
      else if (early.exitCode !== null) {
        resolveStopped();
        reject(new Error(`worker ${id} exited with code ${early.exitCode} while starting`));
      } else thread.postMessage({ kind: 'tree', buffer: tree.buffer } satisfies ToWorker);
    }
  });

  let shutdownPromise: Promise<void> | null = null;
  const shutdown = (): Promise<void> => {
    if (shutdownPromise) return shutdownPromise;
    stopping = true;
    shutdownPromise = (async () => {
      clearInterval(expireTimer);
      clearInterval(sweepTimer);
      // Listen sockets first: uWS aborts the process if it exits with them open.
      for (const w of workers) w.thread.postMessage({ kind: 'stop' } satisfies ToWorker);
      // uWS keeps an idle raw TCP connection for its 10 s HTTP timeout and a worker cannot exit
      // before; terminating it earlier aborts the process. So wait that long at most.
      await Promise.race([Promise.all(workers.map((w) => w.stopped)), delay(workerStopWaitMs)]);
      // Data first: a worker still holding a socket (an idle raw TCP connection uWS keeps for its
      // HTTP idle timeout) can abort the process when terminated, and by then everything
      // acknowledged is synced and the final snapshot written.
      if (fatalError === null) await loop.idle();
      await storage.close();
      logger.info('stopped');
      for (const w of workers) await w.thread.terminate();
    })();
    return shutdownPromise;
  };

  try {
    await readyAll;
  } catch (err) {
    await shutdown();
    throw err;
  }
  logger.info({ host: config.host, port, workers: config.workers, zxid: zxidHex(tree.appliedZxid()), nodes: tree.nodeCount() }, 'serving');
  return {
    port,
    done,
    stop: async () => {
      await shutdown();
      resolveDone();
    },
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

interface PrestartedWorker {
  id: number;
  thread: Worker;
  channel: MessageChannel;
  /** What happened before the composition root attached its handlers. */
  early: { error: unknown; exitCode: number | null; onError: (err: unknown) => void; onExit: (code: number) => void };
}

function prestartWorkers(config: ServerConfig, port: number): PrestartedWorker[] {
  const out: PrestartedWorker[] = [];
  for (let id = 0; id < config.workers; id++) {
    const channel = new MessageChannel();
    const init: WorkerInit = {
      workerId: id,
      host: config.host,
      port,
      dataBytesMax: config.dataBytesMax,
      connectionsPerAddressMax: config.connectionsPerAddressMax,
      tickMs: config.tickMs,
      logLevel: config.logLevel,
      allowUwsFallback: config.allowUwsFallback,
      commitPort: channel.port2,
    };
    const thread = new Worker(new URL('./workers/worker.js', import.meta.url), {
      workerData: init,
      transferList: [channel.port2],
    });
    const early: PrestartedWorker['early'] = {
      error: null,
      exitCode: null,
      onError: (err) => {
        early.error ??= err;
      },
      onExit: (code) => {
        early.exitCode = code;
      },
    };
    thread.on('error', early.onError);
    thread.on('exit', early.onExit);
    out.push({ id, thread, channel, early });
  }
  return out;
}
