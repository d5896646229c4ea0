// The main thread's owner of sessions: ids and passwords, negotiated timeouts, which worker
// connection currently holds each session, and expiry (through SessionTracker, in ticks).
// Session creation and closing are transactions (logged, replicated); this table follows the
// committed ones, so after recovery it is rebuilt from the same records.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';
import { SessionTracker } from './tracker.js';

export interface SessionInfo {
  sessionId: bigint;
  timeoutMs: number;
  password: Uint8Array;
  /** The worker connection holding the session, or null while no connection has it. */
  owner: { workerId: number; connId: number } | null;
  /** Writes of this session submitted to the pipeline and not yet committed (sessions/attach.ts). */
  inflightWrites: number;
  /** Ensemble, on the leader: the server whose connection holds the session (sessions/server-owner.ts); null: not known yet. */
  ownerServer: number | null;
}


export class SessionManager {
  private readonly table = new Map<bigint, SessionInfo>();
  private tracker: SessionTracker;
  private nextId: bigint;
  private lastTick: number;
  private readonly serverId: bigint;

  constructor(
    private readonly tickMs: number,
    serverId: number,
    nowMs: number,
  ) {
    this.serverId = BigInt(serverId);
    this.lastTick = Math.floor(nowMs / tickMs);
    this.tracker = new SessionTracker(this.lastTick);
    // ZooKeeper's scheme: server id in the top byte, the start time below it, so ids from one
    // server's earlier runs are never handed out again.
    this.nextId = (BigInt(serverId) << 56n) | ((BigInt(nowMs) << 16n) & 0x00ff_ffff_ffff_ffffn);
  }

  get size(): number {
    return this.table.size;
  }

  newSessionId(): bigint {
    this.nextId += 1n;
    return this.nextId;
  }

  newPassword(): Uint8Array {
    return new Uint8Array(randomBytes(constants.sessionPasswordBytes));
  }

  get(sessionId: bigint): SessionInfo | undefined {
    return this.table.get(sessionId);
  }

  all(): IterableIterator<SessionInfo> {
    return this.table.values();
  }

  /** A committed createSession (live or replayed). Recovered sessions start a fresh timeout. */
  created(sessionId: bigint, timeoutMs: number, password: Uint8Array): void {
    assert(!this.table.has(sessionId), 'session created twice');
    this.table.set(sessionId, { sessionId, timeoutMs, password, owner: null, inflightWrites: 0, ownerServer: null });
    // Only this server's own ids (its id in the top byte) move its counter: in an ensemble every
    // server learns every session, and following another server's ids would hand out theirs.
    if (sessionId >> 56n === this.serverId && sessionId >= this.nextId) this.nextId = sessionId;
    this.tracker.add(sessionId, Math.max(1, Math.ceil(timeoutMs / this.tickMs)));
  }

  /** A committed closeSession. Returns the info it had (its owner is told to close). */
  closed(sessionId: bigint): SessionInfo | undefined {
    const info = this.table.get(sessionId);
    this.table.delete(sessionId);
    this.tracker.remove(sessionId);
    return info;
  }

  passwordMatches(info: SessionInfo, password: Uint8Array): boolean {
    return password.length === info.password.length && timingSafeEqual(password, info.password);
  }

  touch(sessionId: bigint): boolean {
    return this.tracker.touch(sessionId);
  }

  /**
   * Sessions whose timeout passed by `nowMs`; each is reported once. A clock that steps back is
   * held at the last tick (the tracker's ticks never go back); callers should pass a monotonic ms.
   */
  expire(nowMs: number): bigint[] {
    const tick = Math.floor(nowMs / this.tickMs);
    if (tick > this.lastTick) this.lastTick = tick;
    return this.tracker.advance(this.lastTick);
  }

  /**
   * A new leader restarts every session's timeout from `nowMs` (ZooKeeper does the same after an
   * election): while no leader counted, no server heard the sessions' pings, and a leader change
   * must not expire healthy sessions. Non-leaders never call expire(), so their tracker is stale
   * until this.
   */
  restartTimeouts(nowMs: number): void {
    const tick = Math.floor(nowMs / this.tickMs);
    if (tick > this.lastTick) this.lastTick = tick;
    this.tracker = new SessionTracker(this.lastTick);
    for (const info of this.table.values()) this.tracker.add(info.sessionId, Math.max(1, Math.ceil(info.timeoutMs / this.tickMs)));
  }

  /** A new leader knows no session's server yet (what it knew when it last led is stale). */
  forgetOwnerServers(): void {
    for (const info of this.table.values()) info.ownerServer = null;
  }

  /** For snapshots: the table without owners. */
  exportTable(): { sessionId: bigint; timeoutMs: number; password: Uint8Array }[] {
    return [...this.table.values()].map(({ sessionId, timeoutMs, password }) => ({ sessionId, timeoutMs, password }));
  }
}
