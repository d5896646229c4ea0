// The ordering engine of one session worker (DESIGN "Ordering rules"), independent of sockets,
// threads and wire formats: ports, the tree and the deferral are injected.
// - Per session FIFO: every request takes a slot in its connection's queue; answers leave in
//   queue order. A read waits behind the session's earlier writes, then runs against the tree.
// - Write batching: writes read in one turn go to the main thread in one `writes` message.
// - Watch before data: commit messages are posted by the main thread before it publishes their
//   batch in the tree. Before answering a read taken at tree state Z, the engine processes every
//   commit message up to Z (firing watches), so an event always precedes data that shows it.
// - A commit message is processed only once its batch is visible in the tree, so a watch set by a
//   later read can never miss a change that this worker already processed.
import { assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';
import type { ErrorCode } from '../../common/errors.js';
import { Opcode, type Request } from '../../protocol/index.js';
import type { ChangeEventType, CommittedEntry, WriteOp, WriteRequest } from '../pipeline/api.js';
import type { TreeReader } from '../tree/api.js';
import { sendFrame, type Conn, type CoreFigures, type QueueItem } from './conn.js';
import type { CommitMessage, CommitPortMessage, ToMain } from './messages.js';
import { tagWorkerBits } from './messages.js';

export interface EnginePorts {
  workerId: number;
  tree: TreeReader;
  /** Takes the next message of the commit port synchronously (receiveMessageOnPort), if any. */
  takeCommit(): CommitPortMessage | undefined;
  toMain(msg: ToMain): void;
  /** Runs `fn` after the current turn (setImmediate): the writes of one turn travel together. */
  defer(fn: () => void): void;
  /** Opens a tree from a new buffer (a TreeSwap). */
  openTree(buffer: SharedArrayBuffer): TreeReader;
  outstandingWritesMax: number;
  /** A refusal (NOAUTH) of a write before it is forwarded, or null (security.ts browserWriteRefusal). */
  writeGate?: (conn: Conn, op: WriteOp) => string | null;
}

export interface EngineHooks {
  /** Runs a read at the head of its queue and returns its answer (reads.ts). */
  read(conn: Conn, req: Request): Uint8Array;
  /** One committed change, for this worker's watches. */
  fire(type: ChangeEventType, path: string, zxid: bigint): void;
  /** A session ended (closed or expired) in a processed commit. */
  sessionEnded(sessionId: bigint, expired: boolean): void;
  /** The connection's close answer left: the connection is over. */
  closedAfterAnswer(conn: Conn): void;
  /** Closes a connection with a reason (an overfull queue). */
  kill(conn: Conn, code: ErrorCode, reason: string): void;
}

export class OrderingEngine {
  private readonly pendingWrites = new Map<number, { conn: Conn; item: QueueItem }>();
  private outgoing: WriteRequest[] = [];
  private flushScheduled = false;
  private readonly dirty = new Set<Conn>();
  private draining = false;
  private processed: bigint;
  private current: TreeReader;
  private nextTag = 1;

  constructor(
    private readonly p: EnginePorts,
    private readonly hooks: EngineHooks,
    private readonly figures: CoreFigures,
  ) {
    this.current = p.tree;
    this.processed = p.tree.appliedZxid();
  }

  tree(): TreeReader {
    return this.current;
  }

  /** The zxid up to which every event has been fired on this worker. */
  processedZxid(): bigint {
    return this.processed;
  }

  get pendingWriteCount(): number {
    return this.pendingWrites.size;
  }

  /** A request of an open connection takes its slot (or is refused when a bound is reached). */
  submit(conn: Conn, req: Request): void {
    const item: QueueItem = { xid: req.xid, opcode: req.opcode, request: null, write: null, answer: null, closeAfter: false };
    const queued = conn.queue.length - conn.queueHead;
    if (queued >= constants.queuedRequestsPerConnectionMax) {
      this.figures.throttled++;
      this.hooks.kill(conn, 'THROTTLEDOP', `more than ${constants.queuedRequestsPerConnectionMax} requests queued on this connection: closed (the session lives on)`);
      return;
    }
    if (queued >= constants.outstandingRequestsPerSessionMax) {
      this.figures.throttled++;
      item.answer = conn.codec.error(req.xid, this.processed, 'THROTTLEDOP', `more than ${constants.outstandingRequestsPerSessionMax} requests outstanding on this session`);
      this.push(conn, item);
      return;
    }
    const op = writeOpOf(req);
    if (op !== null) {
      if (this.pendingWrites.size >= this.p.outstandingWritesMax) {
        this.figures.throttled++;
        item.answer = conn.codec.error(req.xid, this.processed, 'THROTTLEDOP', 'server has too many writes outstanding');
        this.push(conn, item);
        return;
      }
      const refusal = this.p.writeGate?.(conn, op) ?? null;
      if (refusal !== null) {
        item.answer = conn.codec.error(req.xid, this.processed, 'NOAUTH', refusal);
        this.push(conn, item);
        return;
      }
      item.write = op;
      item.closeAfter = req.opcode === Opcode.close;
    } else {
      item.request = req;
    }
    this.push(conn, item);
  }

  /** Sends the writes read so far to the main thread now (before an attach: see core.handshake). */
  flushWrites(): void {
    const requests = this.outgoing;
    this.outgoing = [];
    if (requests.length > 0) this.p.toMain({ kind: 'writes', requests });
  }

  /** A message of the commit port (through the port's message event). */
  commit(msg: CommitPortMessage): void {
    this.apply(msg);
    this.drainDirty();
  }

  /** Processes commit messages until this worker has seen every change up to `zxid`. */
  catchUp(zxid: bigint): void {
    while (this.processed < zxid) {
      const m = this.p.takeCommit();
      assert(m !== undefined, 'a visible batch has its commit message queued');
      // A new tree: the read that asked came from the old one, whose changes are all processed.
      if (this.apply(m) === 'swapped') return;
    }
  }

  private apply(msg: CommitPortMessage): 'applied' | 'swapped' {
    if (msg.kind === 'tree') {
      // Every commit of the old tree came before this on the port and is processed; the new one's
      // history is its own (a SNAP or TRUNC), so this worker starts from its applied zxid.
      this.current = this.p.openTree(msg.buffer);
      this.processed = this.current.appliedZxid();
      return 'swapped';
    }
    this.applyCommit(msg);
    return 'applied';
  }

  private applyCommit(msg: CommitMessage): void {
    if (msg.zxid > this.processed) {
      // Posted before its batch was published. A tree read blocks (Atomics.wait, no spinning)
      // while the write window is open, so this waits without taking the CPU the main thread
      // needs to finish the window: with two workers on two cores a busy spin starved it.
      let reads = 0;
      while (this.current.appliedZxid() < msg.zxid) {
        this.current.stat('/');
        assert(++reads < 1_000_000, 'commit never became visible in the tree');
      }
    }
    // ZooKeeper's order on a session's wire: a write's answer follows the watch events of its own
    // and every earlier txn of the batch and precedes the events of later ones. Each answer is
    // sent (flushAnswers) as soon as it is known; reads still run only after the whole message.
    let fired = 0;
    let seen = this.processed;
    const fireTo = (n: number): void => {
      for (; fired < n; fired++) {
        const ev = msg.events[fired]!;
        this.hooks.fire(ev.type, ev.path, ev.zxid);
        if (ev.zxid > seen) seen = ev.zxid;
      }
    };
    for (const reply of msg.replies) {
      fireTo(Math.min(reply.eventsBefore, msg.events.length));
      if (reply.zxid > seen) seen = reply.zxid;
      this.finishWrite(reply, seen);
    }
    fireTo(msg.events.length);
    if (msg.zxid > this.processed) this.processed = msg.zxid;
    for (const ended of msg.endedSessions) this.hooks.sessionEnded(ended.sessionId, ended.expired);
  }

  private finishWrite(entry: CommittedEntry, seenZxid: bigint): void {
    const pending = this.pendingWrites.get(entry.tag);
    assert(pending !== undefined, 'a reply for a write this worker sent');
    this.pendingWrites.delete(entry.tag);
    const { conn, item } = pending;
    const zxid = entry.zxid !== 0n ? entry.zxid : seenZxid;
    item.answer = conn.codec.writeResult(item.xid, zxid, item.opcode, entry.result);
    if (conn.state === 'closed') return;
    this.dirty.add(conn);
    this.flushAnswers(conn);
  }

  /** Hands a write to the main thread; its answer comes back in a commit message. */
  private forward(conn: Conn, item: QueueItem): void {
    assert(item.write !== null, 'forward a write once');
    this.figures.writes++;
    const tag = this.nextTag++ * tagWorkerBits + this.p.workerId;
    this.pendingWrites.set(tag, { conn, item });
    this.outgoing.push({ sessionId: conn.sessionId, tag, authIds: conn.authIds, op: item.write });
    item.write = null;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.p.defer(() => {
      this.flushScheduled = false;
      this.flushWrites();
    });
  }

  private push(conn: Conn, item: QueueItem): void {
    conn.queue.push(item);
    this.dirty.add(conn);
    this.drainDirty();
  }

  private drainDirty(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.dirty.size > 0) {
        for (const conn of this.dirty) {
          this.dirty.delete(conn);
          this.drain(conn);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Moves a connection's queue forward, keeping ZooKeeper's per-session order:
   * 1. answers leave from the head in request order; a read runs only when it reaches the head,
   *    i.e. after every earlier request of the session has been answered (reads behind writes);
   * 2. writes are forwarded as soon as no unexecuted read stands before them, so a run of writes
   *    is pipelined, but a read never sees a write its session sent after it.
   */
  private drain(conn: Conn): void {
    if (conn.state === 'closed') return;
    conn.socket.cork(() => {
      if (!this.sendHead(conn, true)) return;
      for (let i = conn.queueHead; i < conn.queue.length; i++) {
        const item = conn.queue[i]!;
        if (item.request !== null) break; // an unexecuted read: later writes wait for it
        if (item.write !== null) this.forward(conn, item);
      }
      if (conn.queueHead === conn.queue.length) {
        conn.queue.length = 0;
        conn.queueHead = 0;
      } else if (conn.queueHead > 1024) {
        conn.queue.splice(0, conn.queueHead);
        conn.queueHead = 0;
      }
    });
  }

  /** Sends the answers ready at the head of the queue (no reads run: see applyCommit). */
  private flushAnswers(conn: Conn): void {
    conn.socket.cork(() => void this.sendHead(conn, false));
  }

  /** Sends answers from the head in order (running reads there if `runReads`); false if closed. */
  private sendHead(conn: Conn, runReads: boolean): boolean {
    while (conn.queueHead < conn.queue.length) {
      const item = conn.queue[conn.queueHead]!;
      if (item.answer === null) {
        if (item.request === null || !runReads) break; // a write: unsent (step 2 sends it) or in the pipeline
        item.answer = this.hooks.read(conn, item.request);
        item.request = null;
      }
      conn.queueHead++;
      sendFrame(conn, item.answer);
      if (item.closeAfter) {
        conn.socket.end();
        this.hooks.closedAfterAnswer(conn);
        return false;
      }
      if (conn.state === 'closed') return false;
    }
    return true;
  }
}

/** The pipeline op of a write request, or null for requests the worker answers itself. */
export function writeOpOf(req: Request): WriteOp | null {
  switch (req.opcode) {
    case Opcode.create:
    case Opcode.create2:
      return { type: 'create', path: req.path, data: req.data, mode: req.mode, acl: req.acl, ttlMs: req.ttlMs };
    case Opcode.delete:
      return { type: 'delete', path: req.path, version: req.version };
    case Opcode.setData:
      return { type: 'setData', path: req.path, data: req.data, version: req.version };
    case Opcode.setACL:
      return { type: 'setACL', path: req.path, acl: req.acl, version: req.version };
    case Opcode.multi:
      return {
        type: 'multi',
        ops: req.ops.map((o): WriteOp => {
          switch (o.opcode) {
            case Opcode.create:
              return { type: 'create', path: o.path, data: o.data, mode: o.mode, acl: o.acl, ttlMs: o.ttlMs };
            case Opcode.delete:
              return { type: 'delete', path: o.path, version: o.version };
            case Opcode.setData:
              return { type: 'setData', path: o.path, data: o.data, version: o.version };
            case Opcode.check:
              return { type: 'check', path: o.path, version: o.version };
          }
        }),
      };
    case Opcode.sync:
      return { type: 'sync', path: req.path };
    case Opcode.getEphemerals:
      return { type: 'getEphemerals', prefix: req.prefix };
    case Opcode.close:
      return { type: 'closeSession' };
    default:
      return null;
  }
}
