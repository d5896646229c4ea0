// The safety invariants, checked as the simulated run goes:
// - at most one leader per epoch;
// - the committed (applied) sequences of all servers are prefixes of one sequence;
// - a txn applied for the first time anywhere is durable (fsynced) on a quorum of voters —
//   so no server applies an uncommitted proposal;
// - a server that starts leading holds every txn any server applied (so no acknowledged write
//   is missing from a later leader's history);
// - a SNAP image installed is a point of that sequence.
import type { Effect } from '../../src/server/quorum/api.js';
import type { Cluster, SimServer } from './cluster.js';
import { decodeTxn, type Image } from './disk.js';

export class SimViolation extends Error {
  override name = 'SimViolation';
}

export class Checker {
  /** zxid and txn seq of every position of the committed sequence seen so far. */
  readonly canonical: { zxid: bigint; seq: number }[] = [];
  readonly epochLeader = new Map<number, number>();
  violations = 0;

  constructor(private readonly c: Cluster) {}

  assert(cond: boolean, msg: () => string): asserts cond {
    if (!cond) {
      this.violations++;
      throw new SimViolation(msg());
    }
  }

  onStart(_s: SimServer): void {}
  onCrash(_s: SimServer): void {}

  onRole(s: SimServer, e: Extract<Effect, { kind: 'role' }>): void {
    // A SNAP source left open costs the real leader a capture for good: every sync that ended
    // (finished, cut off, link down, restarted) and every role left must have closed its source.
    const learners = this.c.voters.length + this.c.observers.length - 1;
    this.assert(s.snapSourcesOpen <= (e.state === 'leading' ? learners : 0), () => `server ${s.id} holds ${s.snapSourcesOpen} SNAP sources open as ${e.state}`);
    if (e.state !== 'leading') return;
    const prev = this.epochLeader.get(e.epoch);
    this.assert(prev === undefined || prev === s.id, () => `two leaders in epoch ${e.epoch}: ${prev} and ${s.id}`);
    this.epochLeader.set(e.epoch, s.id);
    const d = s.disk;
    for (let pos = d.base.pos; pos < this.canonical.length; pos++) {
      const want = this.canonical[pos]!;
      const r = d.records.find((x) => x.zxid === want.zxid);
      this.assert(r !== undefined && decodeTxn(r.txn).seq === want.seq, () => `leader ${s.id} of epoch ${e.epoch} lacks committed txn #${pos} ${hex(want.zxid)} (seq ${want.seq})`);
    }
  }

  onApply(s: SimServer, zxid: bigint, txn: Uint8Array): void {
    const pos = s.app.pos;
    this.assert(zxid > s.app.zxid, () => `server ${s.id} applies ${hex(zxid)} after ${hex(s.app.zxid)}`);
    const seq = decodeTxn(txn).seq;
    if (pos < this.canonical.length) {
      const want = this.canonical[pos]!;
      this.assert(want.zxid === zxid && want.seq === seq, () => `server ${s.id} applies #${pos} = ${hex(zxid)} (seq ${seq}), others applied ${hex(want.zxid)} (seq ${want.seq})`);
      return;
    }
    this.assert(pos === this.canonical.length, () => `server ${s.id} skipped a txn`);
    let durable = 0;
    for (const id of this.c.voters) if (this.c.server(id).disk.holds(zxid, txn, true)) durable++;
    this.assert(durable > this.c.voters.length / 2, () => `server ${s.id} applies ${hex(zxid)} (seq ${seq}) that only ${durable} of ${this.c.voters.length} voters have fsynced`);
    this.canonical.push({ zxid, seq });
  }

  onInstall(s: SimServer, image: Image): void {
    const p = image.pos;
    this.assert(p <= this.canonical.length && (p === 0 ? image.zxid === 0n : this.canonical[p - 1]!.zxid === image.zxid), () => `server ${s.id} installs an image at ${hex(image.zxid)} (#${p}) that is not a committed point`);
  }

  onAck(_s: SimServer, _seq: number, _zxid: bigint): void {}
}

export function hex(z: bigint): string {
  return `${z >> 32n}:${z & 0xffff_ffffn}`;
}
