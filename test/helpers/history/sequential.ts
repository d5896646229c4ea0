// ZooKeeper's ordering guarantees for reads, checked on a recorded history with the zxids the
// servers handed out (Stat.mzxid), and the durability check "no acknowledged write lost".
//
// ZooKeeper promises linearizable writes, FIFO order per session and sequential consistency for
// reads: a session never sees the tree go back, even when it moves to another server (a server
// behind the session's last seen zxid refuses it). With the zxid of every acknowledged write
// known, that becomes checkable per session:
//  - per key, the mzxid (and version) a session observes never goes back in issue order; its own
//    acknowledged write counts as an observation, so a later read sees that write or a newer one;
//  - across keys: once a session has observed zxid H anywhere, a later read of key k must not
//    miss an acknowledged write to k with zxid <= H, and a write it sends after it got that
//    answer takes a zxid above H;
//  - a read naming mzxid m of an acknowledged write returns exactly that write's value/version;
//  - zxids are unique and, per key, versions grow with zxids.
import { describeOp, type HistoryOp } from './types.js';

export interface FinalRead {
  key: string;
  value: string;
  version: number;
  mzxid: string;
  /** Which server answered (for the report). */
  server?: string;
}

export interface CheckResult {
  ok: boolean;
  violations: string[];
}

export const sequentialDefaults = {
  violationsShownMax: 20, // the rest are counted
} as const;

interface Write {
  op: HistoryOp;
  zxid: bigint;
}

/** Acknowledged writes by zxid (and per key in zxid order); duplicate zxids are violations. */
function indexWrites(history: readonly HistoryOp[], out: string[]): { byZxid: Map<bigint, Write>; byKey: Map<string, Write[]> } {
  const byZxid = new Map<bigint, Write>();
  const byKey = new Map<string, Write[]>();
  for (const op of history) {
    if (op.kind === 'read' || op.outcome !== 'ok' || op.mzxid === undefined) continue;
    const w = { op, zxid: BigInt(op.mzxid) };
    const other = byZxid.get(w.zxid);
    if (other !== undefined) out.push(`two acknowledged writes got zxid ${op.mzxid}:\n    ${describeOp(other.op)}\n    ${describeOp(op)}`);
    byZxid.set(w.zxid, w);
    let list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, (list = []));
    list.push(w);
  }
  for (const [key, list] of byKey) {
    list.sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
    for (let i = 1; i < list.length; i++) {
      const a = list[i - 1]!.op;
      const b = list[i]!.op;
      if (!(b.version! > a.version!)) out.push(`key ${key}: versions do not grow with zxids:\n    ${describeOp(a)}\n    ${describeOp(b)}`);
    }
  }
  return { byZxid, byKey };
}

/** Whether an acknowledged write to `key` has a zxid in (low, high]; returns the first such. */
function writeBetween(list: readonly Write[] | undefined, low: bigint, high: bigint): Write | undefined {
  if (list === undefined) return undefined;
  for (const w of list) {
    if (w.zxid > high) return undefined;
    if (w.zxid > low) return w;
  }
  return undefined;
}

export function checkSequential(history: readonly HistoryOp[]): CheckResult {
  const out: string[] = [];
  const { byZxid, byKey } = indexWrites(history, out);
  for (const op of history) {
    if (op.kind !== 'read' || op.outcome !== 'ok' || op.mzxid === undefined) continue;
    const w = byZxid.get(BigInt(op.mzxid));
    if (w === undefined) continue; // written by an op whose answer was lost: nothing to compare
    if (w.op.key !== op.key || w.op.value !== op.readValue || w.op.version !== op.version) {
      out.push(`a read does not match the write its mzxid names:\n    write ${describeOp(w.op)}\n    read  ${describeOp(op)}`);
    }
  }
  const sessions = new Map<string, HistoryOp[]>();
  for (const op of history) {
    if (op.outcome !== 'ok' || op.mzxid === undefined) continue;
    let list = sessions.get(op.session);
    if (list === undefined) sessions.set(op.session, (list = []));
    list.push(op);
  }
  for (const [session, ops] of sessions) checkSession(session, ops.sort((a, b) => a.seq - b.seq), byKey, out);
  return result(out);
}

/** The highest zxid among `ops` that completed before time t, and the op that saw it. */
function seenBy(ops: readonly HistoryOp[]): (t: number) => HistoryOp | undefined {
  const byEnd = [...ops].sort((a, b) => a.end - b.end);
  const best: HistoryOp[] = [];
  for (const op of byEnd) {
    const prev = best[best.length - 1];
    best.push(prev !== undefined && BigInt(prev.mzxid!) >= BigInt(op.mzxid!) ? prev : op);
  }
  return (t) => {
    let lo = 0;
    let hi = byEnd.length; // first index with end >= t
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (byEnd[mid]!.end < t) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? undefined : best[lo - 1];
  };
}

function checkSession(session: string, ops: HistoryOp[], byKey: Map<string, Write[]>, out: string[]): void {
  const seenBefore = seenBy(ops);
  const lastPerKey = new Map<string, HistoryOp>();
  let high = 0n;
  let highOp: HistoryOp | undefined;
  for (const op of ops) {
    const zxid = BigInt(op.mzxid!);
    const last = lastPerKey.get(op.key);
    if (last !== undefined && (zxid < BigInt(last.mzxid!) || op.version! < last.version!)) {
      out.push(`session ${session} saw key ${op.key} go back:\n    ${describeOp(last)}\n  then\n    ${describeOp(op)}`);
    }
    if (op.kind === 'read') {
      const missed = writeBetween(byKey.get(op.key), zxid, high);
      if (missed !== undefined) {
        out.push(
          `session ${session} read key ${op.key} older than what it had already seen (zxid ${high} in ${describeOp(highOp!)}):\n` +
            `    read   ${describeOp(op)}\n    misses ${describeOp(missed.op)}`,
        );
      }
    } else {
      // Real time here, not issue order: the session had this answer before it sent the write,
      // so the leader ordered the write after that zxid.
      const seen = seenBefore(op.start);
      if (seen !== undefined && zxid <= BigInt(seen.mzxid!)) {
        out.push(`session ${session}'s write took a zxid not above one it had seen before sending it:\n    seen  ${describeOp(seen)}\n    write ${describeOp(op)}`);
      }
    }
    lastPerKey.set(op.key, op);
    if (zxid > high) {
      high = zxid;
      highOp = op;
    }
  }
}

/**
 * No acknowledged write lost: after the run, each key's final state (read from one or more
 * servers) must be at or after every acknowledged write to it, and name a known value if its
 * mzxid is that of an acknowledged write.
 */
export function checkNoLostWrites(history: readonly HistoryOp[], finals: readonly FinalRead[]): CheckResult {
  const out: string[] = [];
  const { byZxid, byKey } = indexWrites(history, []); // duplicate zxids are checkSequential's to report
  for (const f of finals) {
    const zxid = BigInt(f.mzxid);
    const where = `${f.server !== undefined ? ` on ${f.server}` : ''}: (${JSON.stringify(f.value)}, v${f.version}, mzxid ${f.mzxid})`;
    for (const w of byKey.get(f.key) ?? []) {
      if (w.zxid > zxid || w.op.version! > f.version) out.push(`acknowledged write lost: key ${f.key} ends${where}, but\n    ${describeOp(w.op)}`);
    }
    const named = byZxid.get(zxid);
    if (named !== undefined && (named.op.key !== f.key || named.op.value !== f.value || named.op.version !== f.version)) {
      out.push(`key ${f.key} ends${where}, which does not match the write of that zxid:\n    ${describeOp(named.op)}`);
    }
  }
  for (const [key, writes] of byKey) {
    if (!finals.some((f) => f.key === key)) out.push(`key ${key} has acknowledged writes but no final read`);
    // Versions of one key form a chain: two acknowledged writes at one version mean the chain
    // forked, so the state that holds one of them has lost the other (zxids alone can miss it:
    // a server that lost its log hands the same zxids out again).
    const atVersion = new Map<number, HistoryOp>();
    for (const w of writes) {
      const other = atVersion.get(w.op.version!);
      if (other !== undefined) out.push(`acknowledged write lost: key ${key} has two acknowledged writes at version ${w.op.version}:\n    ${describeOp(other)}\n    ${describeOp(w.op)}`);
      atVersion.set(w.op.version!, w.op);
    }
  }
  return result(out);
}

function result(out: string[]): CheckResult {
  const max = sequentialDefaults.violationsShownMax;
  const violations = out.length > max ? [...out.slice(0, max), `... and ${out.length - max} more`] : out;
  return { ok: out.length === 0, violations };
}
