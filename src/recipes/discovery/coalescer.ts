// At most one write per key per `minIntervalMs`: the first change after a quiet period goes at
// once, later ones within the interval collapse into one write of the latest value when the
// interval ends. Used for load publishing, where only the newest figure matters.
import { assert } from '../../common/assert.js';
import { unrefTimer } from '../../common/timers.js';

interface Slot {
  lastWriteMs: number;
  timer: NodeJS.Timeout | null;
}

export class Coalescer {
  private readonly slots = new Map<string, Slot>();
  /** Changes folded into a later write instead of a write of their own. */
  coalesced = 0;

  constructor(
    private readonly minIntervalMs: number,
    private readonly write: (key: string) => void,
    private readonly now: () => number = Date.now,
  ) {
    assert(Number.isFinite(minIntervalMs) && minIntervalMs >= 0, 'minIntervalMs must be >= 0');
  }

  /** Something changed for `key`: write now, or once, later, at the end of the interval. */
  touch(key: string): void {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = { lastWriteMs: -Infinity, timer: null };
      this.slots.set(key, slot);
    }
    if (slot.timer !== null) {
      this.coalesced++;
      return;
    }
    const wait = slot.lastWriteMs + this.minIntervalMs - this.now();
    if (wait <= 0) return this.fire(key, slot);
    this.coalesced++; // folded into the write at the end of the interval
    slot.timer = setTimeout(() => this.fire(key, slot), wait);
    unrefTimer(slot.timer); // a pending load figure alone does not keep the process alive
  }

  /** A write for `key` happened anyway (a full update): it counts against the interval. */
  wrote(key: string): void {
    const slot = this.slots.get(key);
    if (slot !== undefined) slot.lastWriteMs = this.now();
    else this.slots.set(key, { lastWriteMs: this.now(), timer: null });
  }

  forget(key: string): void {
    const slot = this.slots.get(key);
    if (slot?.timer) clearTimeout(slot.timer);
    this.slots.delete(key);
  }

  clear(): void {
    for (const key of [...this.slots.keys()]) this.forget(key);
  }

  private fire(key: string, slot: Slot): void {
    slot.timer = null;
    slot.lastWriteMs = this.now();
    this.write(key);
  }
}
