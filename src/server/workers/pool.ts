// The session worker threads: started early (they load uWS, msgpackr, pino while the main thread
// recovers the data dir), given the tree, watched for errors and exits, stopped in order. The
// composition root gets their messages through one handler; nothing here knows sessions or the
// pipeline.
import { MessageChannel, Worker } from 'node:worker_threads';
import { assert } from '../../common/assert.js';
import type { ServerConfig } from '../../common/config.js';
import { constants } from '../../common/constants.js';
import type { SecurityPlan } from '../security-load.js';
import { decodeFrame, encodeCommit } from './handoff-codec.js';
import { HandoffReceiver, HandoffSender } from './handoff.js';
import type { CommitMessage, ToMain, ToWorker, WorkerInit } from './messages.js';
import { createRingBuffer } from './ring.js';

/** uWS sweeps timeouts every 4 s: its 10 s idle timeout fires within 14 s. */
const workerStopWaitMs = 16_000;

interface WorkerHandle {
  id: number;
  thread: Worker;
  /** Writes and control messages from the worker, in the order it sent them (handoff.ts). */
  requests: HandoffReceiver;
  /** Commits and new trees to the worker; never waits (a full ring spills to its side port). */
  commits: HandoffSender;
  ready: boolean;
  stopped: Promise<void>;
  resolveStopped(): void;
  /** What happened before start() attached the real handlers. */
  early: { error: unknown; exitCode: number | null; onError: (err: unknown) => void; onExit: (code: number) => void };
}

export interface PoolHandlers {
  /** Every worker message but the pool's own (ready, listenFailed, stopped). */
  message(workerId: number, msg: Exclude<ToMain, { kind: 'ready' | 'listenFailed' | 'stopped' }>): void;
  /** A worker failed or exited after it was serving. */
  fatal(err: unknown): void;
}

export class WorkerPool {
  private readonly workers: WorkerHandle[];
  private stopping = false;

  private constructor(workers: WorkerHandle[]) {
    this.workers = workers;
  }

  /** Starts the threads; they wait for the tree (start) before they listen. */
  static prestart(config: ServerConfig, port: number, security: SecurityPlan): WorkerPool {
    const workers: WorkerHandle[] = [];
    for (let id = 0; id < config.workers; id++) workers.push(startThread(config, port, id, security));
    return new WorkerPool(workers);
  }

  private started = false;
  /** The main thread takes no new writes while a worker is this far behind on commits. */
  private intakePaused = false;
  /** The jute port as bound by its worker (null: no jute listener). */
  zkPort: number | null = null;
  /** Why the workers must refuse clients (an ensemble server outside a quorum), or null. */
  private notServing: string | null = null;

  get size(): number {
    return this.workers.length;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Gives every worker the tree; resolves once all of them listen, rejects if one cannot. */
  start(treeBuffer: SharedArrayBuffer, handlers: PoolHandlers): Promise<void> {
    this.started = true;
    const notServing = this.notServing;
    return new Promise<void>((resolve, reject) => {
      let readyCount = 0;
      for (const w of this.workers) {
        w.requests.start(() => this.takeRequests(w, handlers));
        w.thread.on('message', (msg: ToMain) => {
          switch (msg.kind) {
            case 'ready':
              w.ready = true;
              if (msg.zkPort !== null) this.zkPort = msg.zkPort;
              if (++readyCount === this.workers.length) resolve();
              break;
            case 'listenFailed':
              reject(new Error(`worker ${msg.workerId} could not listen: ${msg.reason}`));
              break;
            case 'stopped':
              break;
            default:
              handlers.message(w.id, msg);
          }
        });
        w.thread.on('error', (err) => {
          if (!w.ready) reject(err);
          else handlers.fatal(err);
        });
        w.thread.on('exit', (code) => {
          w.resolveStopped();
          if (!this.stopping) handlers.fatal(new Error(`worker ${w.id} exited with code ${code}`));
        });
        w.thread.off('error', w.early.onError);
        w.thread.off('exit', w.early.onExit);
        if (w.early.error !== null) reject(w.early.error);
        else if (w.early.exitCode !== null) {
          w.resolveStopped();
          reject(new Error(`worker ${w.id} exited with code ${w.early.exitCode} while starting`));
        } else {
          w.thread.postMessage({ kind: 'tree', buffer: treeBuffer } satisfies ToWorker);
          if (notServing !== null) w.thread.postMessage({ kind: 'serving', serving: false, reason: notServing } satisfies ToWorker);
        }
      }
    });
  }

  /**
   * Hands a worker's frames to the handler, in order, until its ring is empty (true) or a worker
   * is too far behind on commits (false: resumed when it catches up).
   */
  private takeRequests(w: WorkerHandle, handlers: PoolHandlers): boolean {
    for (;;) {
      if (this.behindOnCommits()) return false;
      const taken = w.requests.take();
      if (taken === null) return true;
      assert(taken.body !== undefined, 'a worker sends no trees');
      const frame = decodeFrame(taken.body);
      if (frame.kind === 'writes') handlers.message(w.id, frame);
      else if (frame.kind === 'control') handlers.message(w.id, frame.msg);
      else assert(false, 'a worker sends no commits');
    }
  }

  /** Whether some worker has too many commit frames untaken; if so, resume intake once it takes. */
  private behindOnCommits(): boolean {
    if (this.intakePaused) return true;
    for (const w of this.workers) {
      if (w.commits.untaken() <= constants.handoffCommitFramesUntakenMax) continue;
      this.intakePaused = true;
      w.commits.whenTaken(() => {
        this.intakePaused = false;
        for (const v of this.workers) v.requests.resume();
      });
      return true;
    }
    return false;
  }

  post(workerId: number, msg: ToWorker): void {
    this.workers[workerId]?.thread.postMessage(msg);
  }

  postCommit(workerId: number, msg: CommitMessage): void {
    this.workers[workerId]?.commits.send(encodeCommit(msg));
  }

  /**
   * A new tree for every worker (a SNAP loaded, a TRUNC reloaded the tree). Call between batches:
   * every commit posted before refers to the old tree, every one after to the new one.
   */
  swapTree(buffer: SharedArrayBuffer): void {
    for (const w of this.workers) w.commits.sendTree(buffer);
  }

  /** Every worker gets the message (a security reload). */
  broadcast(msg: ToWorker): void {
    if (!this.started) return;
    for (const w of this.workers) w.thread.postMessage(msg);
  }

  /** Whether the workers may serve clients (see ToWorker 'serving'). */
  setServing(serving: boolean, reason: string): void {
    this.notServing = serving ? null : reason;
    // Before start() the workers wait for their tree; start() gives them the state set meanwhile.
    if (!this.started) return;
    for (const w of this.workers) w.thread.postMessage({ kind: 'serving', serving, reason } satisfies ToWorker);
  }

  /**
   * Stops the workers' listeners and connections and waits (bounded) for them to exit. The
   * threads are terminated only by terminate(), after the data is safe.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    // Listen sockets first: uWS aborts the process if it exits with them open.
    for (const w of this.workers) w.thread.postMessage({ kind: 'stop' } satisfies ToWorker);
    // uWS keeps an idle raw TCP connection for its 10 s HTTP timeout and a worker cannot exit
    // before; terminating it earlier aborts the process. So wait that long at most.
    await Promise.race([Promise.all(this.workers.map((w) => w.stopped)), delay(workerStopWaitMs)]);
  }

  async terminate(): Promise<void> {
    this.stopping = true;
    for (const w of this.workers) {
      w.requests.stop();
      await w.thread.terminate();
    }
  }
}

function startThread(config: ServerConfig, port: number, id: number, security: SecurityPlan): WorkerHandle {
  const commitSide = new MessageChannel();
  const requestSide = new MessageChannel();
  const requestRing = createRingBuffer(constants.handoffRingBytes);
  const commitRing = createRingBuffer(constants.handoffRingBytes);
  const init: WorkerInit = {
    workerId: id,
    host: config.host,
    port,
    // One worker listens for jute connections (Node's net has no SO_REUSEPORT: native-notes/jute.md).
    zkPort: id === 0 && config.zkPort !== null && config.zkPort >= 0 ? config.zkPort : null,
    zkPortOptional: config.zkPortDefaulted,
    fourLetter: { whitelist: config.fourLetterWords, conf: confLines(config, port) },
    dataBytesMax: config.dataBytesMax,
    connectionsPerAddressMax: config.connectionsPerAddressMax,
    tickMs: config.tickMs,
    logLevel: config.logLevel,
    allowUwsFallback: config.allowUwsFallback,
    requestRing,
    requestSide: requestSide.port2,
    commitRing,
    commitPort: commitSide.port2,
    security: security.forWorker(id),
  };
  const thread = new Worker(new URL('./worker.js', import.meta.url), { workerData: init, transferList: [commitSide.port2, requestSide.port2] });
  const early: WorkerHandle['early'] = {
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
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  return {
    id,
    thread,
    requests: new HandoffReceiver(requestRing, requestSide.port1),
    commits: new HandoffSender(commitRing, commitSide.port1, 'sidePort', constants.handoffInlineFrameBytesMax),
    ready: false,
    stopped,
    resolveStopped,
    early,
  };
}

/** What the `conf` four-letter word prints, with ZooKeeper's key names. */
function confLines(config: ServerConfig, port: number): [string, string | number][] {
  return [
    ['clientPort', port],
    ['zkClientPort', config.zkPort ?? 'off'],
    ['clientPortAddress', config.host],
    ['dataDir', config.dataDir],
    ['dataLogDir', config.dataLogDir],
    ['tickTime', config.tickMs],
    ['maxClientCnxns', config.connectionsPerAddressMax],
    ['minSessionTimeout', config.sessionTimeoutMsMin],
    ['maxSessionTimeout', config.sessionTimeoutMsMax],
    ['serverId', config.serverId],
    ['initLimit', config.initLimitTicks],
    ['syncLimit', config.syncLimitTicks],
    ['peerType', config.observer ? 'observer' : 'participant'],
  ];
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
