// A simulated disk of one server: what was written and what was fsynced are kept apart. A crash
// keeps the synced state and a random prefix of the unsynced log tail (the OS may or may not have
// written it back; the last record may be torn, which recovery drops: the same as a shorter
// prefix). Epoch files, truncations and snapshot installs are atomic and durable on completion.
import type { Proposal } from '../../src/server/quorum/api.js';
import type { Rng } from './rng.js';

export interface Image {
  zxid: bigint;
  /** Txns applied to reach it (its position in the committed sequence). */
  pos: number;
  model: Map<number, number>;
}

export interface LogRecord {
  zxid: bigint;
  txn: Uint8Array;
  synced: boolean;
}

export class SimDisk {
  base: Image = { zxid: 0n, pos: 0, model: new Map() };
  records: LogRecord[] = [];
  acceptedEpoch = 0;
  currentEpoch = 0;

  append(ps: Proposal[]): void {
    for (const p of ps) this.records.push({ zxid: p.zxid, txn: p.txn, synced: false });
  }

  syncThrough(zxid: bigint): void {
    for (const r of this.records) if (r.zxid <= zxid) r.synced = true;
  }

  truncate(zxid: bigint): void {
    if (zxid < this.base.zxid) throw new Error(`sim disk: TRUNC to ${zxid} below the snapshot at ${this.base.zxid}`);
    this.records = this.records.filter((r) => r.zxid <= zxid);
  }

  install(image: Image): void {
    this.base = image;
    this.records = [];
  }

  /** A local snapshot of the applied state: the log before it is dropped (purged). */
  snapshot(image: Image): void {
    if (image.zxid <= this.base.zxid) return;
    this.base = image;
    this.records = this.records.filter((r) => r.zxid > image.zxid);
  }

  lastZxid(): bigint {
    const last = this.records[this.records.length - 1];
    return last === undefined ? this.base.zxid : last.zxid;
  }

  /** Power loss: the unsynced tail survives only in part (possibly not at all). */
  crash(rng: Rng, dropAllUnsynced: boolean): void {
    const firstUnsynced = this.records.findIndex((r) => !r.synced);
    if (firstUnsynced < 0) return;
    const keep = dropAllUnsynced ? firstUnsynced : rng.int(firstUnsynced, this.records.length);
    this.records = this.records.slice(0, keep);
    for (const r of this.records) r.synced = true;
  }

  /** Durable copy of record `zxid` with these bytes (or covered by the snapshot)? */
  holds(zxid: bigint, txn: Uint8Array, synced: boolean): boolean {
    if (zxid <= this.base.zxid) return true;
    for (let i = this.records.length - 1; i >= 0; i--) {
      const r = this.records[i]!;
      if (r.zxid < zxid) return false;
      if (r.zxid === zxid) return (!synced || r.synced) && sameBytes(r.txn, txn);
    }
    return false;
  }
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

// The simulated application's txn: a key and the write's unique sequence number.
export function encodeTxn(key: number, seq: number): Uint8Array {
  const b = new Uint8Array(5);
  b[0] = key;
  new DataView(b.buffer).setUint32(1, seq);
  return b;
}

export function decodeTxn(b: Uint8Array): { key: number; seq: number } {
  return { key: b[0]!, seq: new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(1) };
}


// A SNAP image of the simulated application: its position, zxid and model map.
export function encodeImage(app: Image): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ zxid: app.zxid.toString(), pos: app.pos, model: [...app.model] }));
}

export function decodeImage(b: Uint8Array): Image {
  const o = JSON.parse(new TextDecoder().decode(b)) as { zxid: string; pos: number; model: [number, number][] };
  return { zxid: BigInt(o.zxid), pos: o.pos, model: new Map(o.model) };
}

