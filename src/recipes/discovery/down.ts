// Curator's DownInstancePolicy: after `errorThreshold` errors noted against an instance, it counts
// as down (not picked) for `timeoutMs`; then it is back with its count reset.
import { ZookooperError } from '../../common/errors.js';

export interface DownInstancePolicy {
  /** Errors before an instance is marked down; Curator's default 2. */
  errorThreshold: number;
  /** How long it stays down; Curator's default 30,000 ms. */
  timeoutMs: number;
}

export const defaultDownInstancePolicy: DownInstancePolicy = { errorThreshold: 2, timeoutMs: 30_000 };

interface DownRecord {
  errors: number;
  downUntilMs: number; // 0 = not down
}

export class DownInstances {
  private readonly records = new Map<string, DownRecord>();

  constructor(
    private readonly policy: DownInstancePolicy,
    private readonly now: () => number,
  ) {
    if (!Number.isInteger(policy.errorThreshold) || policy.errorThreshold < 1) throw new ZookooperError('BADARGUMENTS', 'errorThreshold must be an integer >= 1');
    if (!Number.isFinite(policy.timeoutMs) || policy.timeoutMs < 0) throw new ZookooperError('BADARGUMENTS', 'timeoutMs must be a number >= 0');
  }

  /** Counts an error; returns true if the instance is down now. */
  noteError(id: string): boolean {
    const r = this.records.get(id) ?? { errors: 0, downUntilMs: 0 };
    if (r.downUntilMs !== 0 && r.downUntilMs > this.now()) return true; // already down: no extension (as Curator)
    r.errors = r.downUntilMs !== 0 ? 1 : r.errors + 1; // a past down period starts a fresh count
    r.downUntilMs = 0;
    if (r.errors >= this.policy.errorThreshold) {
      r.errors = 0;
      r.downUntilMs = this.now() + this.policy.timeoutMs;
    }
    this.records.set(id, r);
    return r.downUntilMs !== 0;
  }

  isDown(id: string): boolean {
    const r = this.records.get(id);
    if (r === undefined || r.downUntilMs === 0) return false;
    if (r.downUntilMs > this.now()) return true;
    this.records.delete(id); // the down period is over: back, count reset
    return false;
  }

  /** Any instance marked down (cheap check before filtering). */
  get any(): boolean {
    for (const r of this.records.values()) if (r.downUntilMs !== 0) return true;
    return false;
  }

  /** Drops records of ids no longer known, so the map is bounded by the instances seen lately. */
  retain(known: (id: string) => boolean): void {
    for (const id of [...this.records.keys()]) if (!known(id)) this.records.delete(id);
  }
}
