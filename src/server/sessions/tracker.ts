// Session expiry, counted in ticks (ZooKeeper's ExpiryQueue): each session lives in the bucket of
// the tick at which it expires; touching it moves it to a later bucket; each tick expires one
// bucket. Pure: time comes in as tick numbers; the composition root converts ms at the edge.
import { assert } from '../../common/assert.js';

export interface TrackedSession {
  sessionId: bigint;
  timeoutTicks: number;
  expiresAtTick: number;
}

export class SessionTracker {
  private readonly sessions = new Map<bigint, TrackedSession>();
  private readonly buckets = new Map<number, Set<bigint>>();
  private currentTick = 0;

  constructor(startTick: number) {
    this.currentTick = startTick;
  }

  get size(): number {
    return this.sessions.size;
  }

  has(sessionId: bigint): boolean {
    return this.sessions.has(sessionId);
  }

  get(sessionId: bigint): TrackedSession | undefined {
    return this.sessions.get(sessionId);
  }

  ids(): IterableIterator<bigint> {
    return this.sessions.keys();
  }

  add(sessionId: bigint, timeoutTicks: number): void {
    assert(!this.sessions.has(sessionId), 'session tracked twice');
    assert(Number.isInteger(timeoutTicks) && timeoutTicks >= 1, 'timeout is at least one tick');
    const s: TrackedSession = { sessionId, timeoutTicks, expiresAtTick: 0 };
    this.sessions.set(sessionId, s);
    this.place(s);
  }

  /** Activity from the session: it now expires timeoutTicks after the current tick. */
  touch(sessionId: bigint): boolean {
    const s = this.sessions.get(sessionId);
    // An expiring session (reported by advance, close not yet committed) cannot be revived.
    if (!s || s.expiresAtTick < 0) return false;
    this.unplace(s);
    this.place(s);
    return true;
  }

  remove(sessionId: bigint): void {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    this.unplace(s);
    this.sessions.delete(sessionId);
  }

  /** Advances to `tick` and returns the sessions whose deadline passed (still tracked until removed). */
  advance(tick: number): bigint[] {
    assert(tick >= this.currentTick, 'ticks never go back');
    const expired: bigint[] = [];
    for (let t = this.currentTick; t <= tick; t++) {
      const bucket = this.buckets.get(t);
      if (!bucket) continue;
      for (const id of bucket) expired.push(id);
      this.buckets.delete(t);
      for (const id of bucket) {
        const s = this.sessions.get(id);
        // Parked in no bucket until removed, so it is reported once.
        if (s) s.expiresAtTick = -1;
      }
    }
    this.currentTick = tick;
    return expired;
  }

  private place(s: TrackedSession): void {
    // +1: a session touched just before a tick boundary still gets its whole timeout.
    s.expiresAtTick = this.currentTick + s.timeoutTicks + 1;
    let bucket = this.buckets.get(s.expiresAtTick);
    if (!bucket) this.buckets.set(s.expiresAtTick, (bucket = new Set()));
    bucket.add(s.sessionId);
  }

  private unplace(s: TrackedSession): void {
    if (s.expiresAtTick < 0) return;
    const bucket = this.buckets.get(s.expiresAtTick);
    assert(bucket?.has(s.sessionId) === true, 'session is in its bucket');
    bucket.delete(s.sessionId);
    if (bucket.size === 0) this.buckets.delete(s.expiresAtTick);
  }
}
