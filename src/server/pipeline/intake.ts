// Intake: the preparing half of the pipeline (ZooKeeper's PrepRequestProcessor around prep.ts):
// one request at a time against the tree plus every prepared-but-unapplied change, with the
// state that lives only until those txns are applied or dropped at an election: the pending
// changes, the sessions whose closeSession is prepared, the tree memory reserved for them.
import { assert } from '../../common/assert.js';
import type { OpResult, ServerOpResult } from '../../common/types.js';
import type { TreeWriter } from '../tree/api.js';
import type { Origin, PipelineClock, WriteOp, WriteRequest, WriteResult, WriteValue } from './api.js';
import type { NodeIndexes } from './apply.js';
import { PendingChanges, Scratch } from './changes.js';
import { isValidSessionOwner } from './owner.js';
import type { OpOutcome, PrepContext } from './prep.js';
import { prepCloseSession, prepDeleteContainer, prepOp } from './prep.js';
import { toOpResult } from './result.js';
import type { Txn } from './txn.js';
import { attempt, filterPrefix, txnBytesEstimate } from './util.js';

/** One queued answer of the pipeline, with its txn if it made one. */
export interface Entry {
  tag: number;
  sessionId: bigint;
  zxid: bigint; // 0n: no txn
  txn: Txn | null;
  /** null: a txn the leader prepared; derived from the txn and the tree when it is applied. */
  result: WriteResult | null;
  /** null only for a history txn a learner accepted (nobody waits for its answer). */
  origin: Origin | null;
  /** Txn-less entries: the last zxid prepared before (leader) or the REPLY's afterZxid (learner). */
  afterZxid: bigint;
  /** A learner's REPLY: not ready before the tree has applied afterZxid. */
  isReply?: true;
  closedSessionId?: bigint;
  bytes?: number; // tree memory reserved for the txn (txnBytesEstimate)
}

export type EntryBase = Pick<Entry, 'tag' | 'sessionId' | 'origin' | 'afterZxid'>;

export interface IntakeOptions {
  clock: PipelineClock;
  dataBytesMax: number;
  isSessionLive?: ((sessionId: bigint) => boolean) | undefined;
  checkOwner?: ((req: WriteRequest, serverId: number) => 'SESSIONMOVED' | null) | undefined;
}

export class Intake {
  private pending: PendingChanges;
  // Sessions whose closeSession is prepared but not applied: their later requests are refused
  // (after the apply, the session tracker's isSessionLive answers for them).
  private readonly closing = new Set<bigint>();
  private reservedBytes = 0; // tree memory the pending txns may need

  constructor(
    private readonly tree: TreeWriter,
    private readonly idx: NodeIndexes,
    private readonly opts: IntakeOptions,
  ) {
    this.pending = new PendingChanges(tree);
  }

  /** The entry's txn (or txn-less answer) is applied: its reservation and closing mark end. */
  released(e: Entry): void {
    this.reservedBytes -= e.bytes ?? 0;
    if (e.closedSessionId !== undefined) this.closing.delete(e.closedSessionId);
  }

  /** Every txn through `zxid` is in the tree: its pending changes are no longer needed. */
  appliedThrough(zxid: bigint): void {
    this.pending.applied(zxid);
  }

  /** Nothing prepared is outstanding. */
  idle(): boolean {
    return this.pending.size === 0 && this.closing.size === 0;
  }

  /** An election dropped every unapplied entry: forget what they would have changed. */
  clear(): void {
    this.pending = new PendingChanges(this.tree);
    this.closing.clear();
    this.reservedBytes = 0;
  }

  /**
   * Prepares a request into an entry (zxid 0n: no txn). `nextZxid` is the zxid a txn of it gets;
   * on success its changes join the pending ones.
   */
  prep(req: WriteRequest, base: EntryBase, nextZxid: () => bigint): Entry {
    const op = req.op;
    const none = (result: WriteResult): Entry => ({ ...base, zxid: 0n, txn: null, result });
    if (op.type !== 'createSession' && op.type !== 'closeSession' && !this.sessionLive(req.sessionId)) {
      return none({ ok: false, code: 'SESSIONEXPIRED' });
    }
    if (req.sessionId !== 0n && base.origin !== null && this.opts.checkOwner?.(req, base.origin.serverId) === 'SESSIONMOVED') {
      return none({ ok: false, code: 'SESSIONMOVED', message: 'the session moved to another server' });
    }
    const zxid = nextZxid();
    const timeMs = this.opts.clock.nowMs();
    assert(Number.isFinite(timeMs), 'clock gives finite ms');
    const ctx: PrepContext = {
      view: new Scratch(this.pending),
      zxid,
      timeMs,
      sessionId: req.sessionId,
      authIds: req.authIds,
      dataBytesMax: this.opts.dataBytesMax,
      ops: [],
    };
    let txn: Txn;
    let value: WriteValue;
    let closedSessionId: bigint | undefined;
    switch (op.type) {
      case 'sync':
        return none({ ok: true, value: { type: 'sync' } });
      case 'getEphemerals':
        return none({ ok: true, value: { type: 'getEphemerals', paths: this.pendingEphemerals(req.sessionId, op.prefix) } });
      case 'multi': {
        const multi = this.prepMulti(op.ops, ctx);
        if (!multi.ok) return none(multi);
        txn = { type: 'ops', sessionId: req.sessionId, timeMs, multi: true, ops: ctx.ops };
        value = { type: 'multi', results: multi.results };
        break;
      }
      case 'createSession':
        assert(isValidSessionOwner(req.sessionId), 'createSession: invalid session id');
        if (!Number.isInteger(op.timeoutMs) || op.timeoutMs <= 0) return none({ ok: false, code: 'BADARGUMENTS', message: 'timeoutMs must be a positive integer' });
        txn = { type: 'createSession', sessionId: req.sessionId, timeMs, timeoutMs: op.timeoutMs, password: op.password };
        value = { type: 'createSession' };
        break;
      case 'closeSession':
        assert(req.sessionId !== 0n, 'closeSession of session 0');
        prepCloseSession(this.pendingEphemerals(req.sessionId, '/'), ctx);
        txn = { type: 'closeSession', sessionId: req.sessionId, timeMs, ops: ctx.ops };
        value = { type: 'closeSession' };
        closedSessionId = req.sessionId;
        this.closing.add(req.sessionId);
        break;
      case 'deleteContainer': {
        const r = attempt(() => prepDeleteContainer(op.path, ctx));
        if (r !== null) return none(r);
        txn = { type: 'ops', sessionId: req.sessionId, timeMs, multi: false, deleteContainer: true, ops: ctx.ops };
        value = { type: 'deleteContainer' };
        break;
      }
      default: {
        let outcome: OpOutcome | undefined;
        const r = attempt(() => {
          outcome = prepOp(op, ctx);
        });
        if (r !== null) return none(r);
        assert(outcome !== undefined && outcome.type !== 'check', 'a single op made an outcome');
        txn = { type: 'ops', sessionId: req.sessionId, timeMs, multi: false, ops: ctx.ops };
        value = outcome;
      }
    }
    const bytes = txnBytesEstimate(txn);
    if (bytes > 0 && !this.treeHasRoom(bytes)) {
      // The tree cannot roll back a window that runs out of memory, so refuse before the txn exists.
      // Deletes (estimate 0) still pass: they are how an operator frees room.
      if (closedSessionId !== undefined) this.closing.delete(closedSessionId);
      return none({ ok: false, code: 'SYSTEMERROR', message: 'the tree memory is full' });
    }
    this.reservedBytes += bytes;
    ctx.view.mergeInto(this.pending, zxid);
    const entry: Entry = { ...base, zxid, txn, result: { ok: true, value }, bytes };
    if (closedSessionId !== undefined) entry.closedSessionId = closedSessionId;
    return entry;
  }

  /**
   * A multi: every op sees the ones before it; on the first failure nothing is kept and every op
   * reports as ZooKeeper does: OK before the failing op, its code, RUNTIMEINCONSISTENCY after.
   */
  private prepMulti(ops: WriteOp[], ctx: PrepContext): { ok: true; results: ServerOpResult[] } | Extract<WriteResult, { ok: false }> {
    const results: ServerOpResult[] = [];
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      let outcome: OpOutcome | undefined;
      const err =
        op.type === 'create' || op.type === 'delete' || op.type === 'setData' || op.type === 'check'
          ? attempt(() => {
              outcome = prepOp(op, ctx);
            })
          : { ok: false as const, code: 'BADARGUMENTS' as const, message: `${op.type} is not allowed in a multi` };
      if (err !== null) {
        const failed: OpResult[] = ops.map((_, j) => ({ op: 'error', code: j < i ? 'OK' : j === i ? err.code : 'RUNTIMEINCONSISTENCY' }));
        return { ...err, results: failed };
      }
      assert(outcome !== undefined, 'multi op made an outcome');
      results.push(toOpResult(outcome));
    }
    return { ok: true, results };
  }

  /** Whether the tree can take `bytes` more on top of what pending txns may need. */
  private treeHasRoom(bytes: number): boolean {
    const mem = this.tree.memoryUsage();
    // Index growth doubles the bucket array at once: keep room for it (16 bytes a node is ample).
    const reserve = mem.nodes * 16 + 1_048_576;
    return mem.usedBytes + this.reservedBytes + bytes + reserve <= mem.maxBytes;
  }

  private sessionLive(sessionId: bigint): boolean {
    if (sessionId === 0n) return true;
    if (this.closing.has(sessionId)) return false;
    return this.opts.isSessionLive === undefined || this.opts.isSessionLive(sessionId);
  }

  /** The session's ephemerals once every prepared txn is applied (applied index + pending changes). */
  private pendingEphemerals(sessionId: bigint, prefix: string): string[] {
    const set = new Set(this.idx.ephemerals.get(sessionId));
    for (const [path, change] of this.pending.entries()) {
      if (change.node === null) set.delete(path);
      else if (change.node.stat.ephemeralOwner === sessionId) set.add(path);
    }
    return filterPrefix(set, prefix);
  }
}
