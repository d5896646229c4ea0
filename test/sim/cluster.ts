// The simulated ensemble with the fluent helpers scenario tests read like a story with:
// `const c = new Cluster({ voters: 3 }); c.partition([1], [2, 3]); c.crash(c.leader()!);
//  c.stabilize(); c.writeAndWait(2, key)`. The driver itself (clock, network, disks, the
// driver loop of each server, clients) is driver.ts.
import { SimDriver, SimViolation } from './driver.js';

export { decodeTxn, encodeTxn, SimServer, SimViolation, tickUnits, type ClientWrite, type ClusterOptions } from './driver.js';

export class Cluster extends SimDriver {
  // ---------------- fluent helpers for scenarios ----------------
  leader(): number | null {
    let found: number | null = null;
    let best = -1;
    for (const s of this.servers.values()) {
      if (s.alive && s.core!.state() === 'leading' && s.core!.epoch() > best) { found = s.id; best = s.core!.epoch(); }
    }
    return found;
  }

  followers(): number[] {
    return this.voters.filter((id) => this.server(id).alive && this.server(id).core!.state() === 'following');
  }

  /** Run until a leader serves with a quorum and every live connected server serves, or fail. */
  stabilize(maxTicks = 400): number {
    for (let t = 0; t < maxTicks; t++) {
      this.runTicks(1);
      const l = this.leader();
      if (l === null || !this.server(l).core!.hasQuorum()) continue;
      const lagging = this.ids.some((id) => {
        const s = this.server(id);
        return s.alive && !this.isolated(id) && s.core!.phase() !== 'broadcast';
      });
      if (!lagging) return l;
    }
    throw new SimViolation(`no stable leader within ${maxTicks} ticks`);
  }

  private isolated(id: number): boolean {
    for (const peer of this.ids) if (peer !== id && !this.link(id, peer).cut && !this.link(peer, id).cut) return false;
    return true;
  }

  /** Write and run until the origin applied it; returns its zxid. */
  writeAndWait(id: number, key: number, maxTicks = 100): bigint {
    const seq = this.write(id, key);
    if (seq === null) throw new SimViolation(`server ${id} refused a write`);
    for (let t = 0; t < maxTicks; t++) {
      const a = this.acked.get(seq);
      if (a !== undefined) return a.zxid;
      this.runTicks(1);
    }
    throw new SimViolation(`write ${seq} at server ${id} not acknowledged within ${maxTicks} ticks`);
  }

  /** The committed (applied) sequence of a server as [zxid, seq] pairs after its snapshot. */
  applied(id: number): number[] {
    return [...this.server(id).app.model.values()];
  }
}

/** Every server but `id`. */
export const others = (c: Cluster, id: number): number[] => c.ids.filter((x) => x !== id);

/** Run until every live server has applied everything the leader applied (throws past maxTicks). */
export function converge(c: Cluster, maxTicks = 200): void {
  for (let t = 0; t < maxTicks; t++) {
    const l = c.leader();
    if (l !== null) {
      const pos = c.server(l).app.pos;
      if (c.ids.every((id) => !c.server(id).alive || c.server(id).app.pos === pos)) return;
    }
    c.runTicks(1);
  }
  throw new Error('servers did not converge');
}
