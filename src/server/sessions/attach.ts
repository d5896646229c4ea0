// Session attach on the main thread: a worker's connection asks to open a new session or take
// over an existing one, and the in-flight write count that decides when a re-attach may be
// answered. No threads, no timers: the worker messages leave through the injected `post`, new
// sessions are created through the injected `submit` (a createSession txn), so this is tested
// with plain functions.
//
// Per-session FIFO across connections (ZooKeeper's commit processor is per session): writes the
// old connection sent may still be in the pipeline when the session moves; the new connection is
// answered only once they have committed, otherwise its first read could miss them.
import { assert } from '../../common/assert.js';
import type { WriteOp, CommittedEntry } from '../pipeline/api.js';
import type { AttachRequest, ToWorker } from '../workers/messages.js';
import type { SessionManager } from './manager.js';

export interface SessionAttachDeps {
  sessions: SessionManager;
  /** The most sessions this server holds; a new session beyond it is refused (THROTTLEDOP). */
  sessionsMax: number;
  /** The timeout granted for the one a client asks (the server's min/max bounds). */
  negotiateTimeoutMs(askedMs: number): number;
  /** Submits a main-thread request (createSession); `onDone` runs once it is committed and published. */
  submit(sessionId: bigint, op: WriteOp, onDone: (entry: CommittedEntry) => void): void;
  /** Sends a message to a worker's control port. */
  post(workerId: number, msg: ToWorker): void;
  /** Ensemble: tells the leader this server holds the session now (sessions/server-owner.ts);
   *  called before a re-attach is answered, so it reaches the leader ahead of the new
   *  connection's requests. */
  claim?(sessionId: bigint): void;
  /** Ensemble: catches this server up with the leader (a sync), then runs `then` — a session
   *  committed on another server may not be applied here yet when its client moves here (as
   *  ZooKeeper's learner revalidates an unknown session with the leader). */
  catchUp?(sessionId: bigint, then: () => void): void;
}

type RefuseCode = 'SESSIONMOVED' | 'SESSIONEXPIRED';

interface HeldAttach {
  reply(): void;
  refuse(code: RefuseCode, message: string): void;
}

export class SessionAttach {
  /** Re-attaches waiting for their session's earlier writes to commit, by session. */
  private readonly held = new Map<bigint, HeldAttach>();

  constructor(private readonly d: SessionAttachDeps) {}

  get heldCount(): number {
    return this.held.size;
  }

  attach(workerId: number, req: AttachRequest): void {
    if (req.sessionId === 0n) this.create(workerId, req);
    else this.reattach(workerId, req);
  }

  /** The connection went away; the session lives on without an owner until it expires. */
  detach(workerId: number, sessionId: bigint, connId: number): void {
    const info = this.d.sessions.get(sessionId);
    if (info?.owner?.workerId === workerId && info.owner.connId === connId) info.owner = null;
  }

  /** A client write entered the pipeline (counted before pipeline.submit). */
  writeSubmitted(sessionId: bigint): void {
    const info = this.d.sessions.get(sessionId);
    if (info) info.inflightWrites++;
  }

  /** A client write committed (its answer is in the batch being published). */
  writeCommitted(sessionId: bigint): void {
    const info = this.d.sessions.get(sessionId);
    if (!info) return;
    info.inflightWrites--;
    assert(info.inflightWrites >= 0, 'in-flight writes of a session never go negative');
  }

  /** After a batch is published: answers the held re-attaches whose writes have all committed. */
  releaseHeld(): void {
    for (const [sessionId, held] of this.held) {
      const info = this.d.sessions.get(sessionId);
      if (!info) {
        held.refuse('SESSIONEXPIRED', 'the session ended before its earlier writes committed');
        continue;
      }
      if (info.inflightWrites > 0) continue;
      this.held.delete(sessionId);
      held.reply();
    }
  }

  private create(workerId: number, req: AttachRequest): void {
    const { sessions } = this.d;
    const answer = (msg: ToWorker): void => this.d.post(workerId, msg);
    if (sessions.size >= this.d.sessionsMax) {
      answer({ kind: 'attachFailed', reqId: req.reqId, code: 'THROTTLEDOP', message: 'too many sessions on this server' });
      return;
    }
    const sessionId = sessions.newSessionId();
    const password = sessions.newPassword();
    const timeoutMs = this.d.negotiateTimeoutMs(req.timeoutMs);
    this.d.submit(sessionId, { type: 'createSession', timeoutMs, password }, (entry) => {
      if (!entry.result.ok) {
        answer({ kind: 'attachFailed', reqId: req.reqId, code: 'THROTTLEDOP', message: `session not created: ${entry.result.code}` });
        return;
      }
      // publish() told the session table already (every server learns a committed createSession).
      if (sessions.get(sessionId) === undefined) sessions.created(sessionId, timeoutMs, password);
      const info = sessions.get(sessionId);
      assert(info !== undefined, 'committed session is in the table');
      info.owner = { workerId, connId: req.connId };
      answer({ kind: 'attached', reqId: req.reqId, sessionId, password, timeoutMs });
    });
  }

  private reattach(workerId: number, req: AttachRequest, caughtUp = false): void {
    const { sessions } = this.d;
    const answer = (msg: ToWorker): void => this.d.post(workerId, msg);
    const info = sessions.get(req.sessionId);
    if (info === undefined && !caughtUp && this.d.catchUp !== undefined) {
      this.d.catchUp(req.sessionId, () => this.reattach(workerId, req, true));
      return;
    }
    if (!info || !sessions.passwordMatches(info, req.password) || !sessions.touch(req.sessionId)) {
      answer({ kind: 'attachFailed', reqId: req.reqId, code: 'SESSIONEXPIRED', message: 'session expired or unknown' });
      return;
    }
    const prev = info.owner;
    info.owner = { workerId, connId: req.connId };
    if (prev && (prev.workerId !== workerId || prev.connId !== req.connId)) this.d.post(prev.workerId, { kind: 'moved', sessionId: req.sessionId, connId: prev.connId });
    // A newer attach supersedes one still held: that one is refused.
    this.held.get(info.sessionId)?.refuse('SESSIONMOVED', 'a newer connection took the session');
    const reply = (): void => {
      this.d.claim?.(info.sessionId);
      answer({ kind: 'attached', reqId: req.reqId, sessionId: info.sessionId, password: info.password, timeoutMs: info.timeoutMs });
    };
    if (info.inflightWrites === 0) {
      reply();
      return;
    }
    const sessionId = info.sessionId;
    this.held.set(sessionId, {
      reply,
      refuse: (code, message) => {
        this.held.delete(sessionId);
        answer({ kind: 'attachFailed', reqId: req.reqId, code, message });
      },
    });
  }
}
