// Histories produced by a real sequential register, for testing the checkers: each op takes
// effect atomically at its own point in time, and its invocation and completion are spread
// around that point, so ops overlap at random while the history stays linearizable by
// construction (the points are a witness). Zxids are handed out as a server would.
import type { FinalRead } from './sequential.js';
import type { HistoryOp, RegisterState } from './types.js';

export interface OpSpec {
  key: number;
  /** 0 write, 1 cas, 2 read */
  kind: number;
  before: number;
  after: number;
  /** cas: true = on the current version, false = on a wrong one (BADVERSION) */
  casHit: boolean;
  /** 0: the answer is lost (unknown); for writes, `applied` says if it took effect */
  unknown: number;
  applied: boolean;
  session: number;
}

export const pointSpacingMs = 10;

/** Builds the history: op i takes effect at time (i + 1) * pointSpacingMs. Sessions issue in
 * point order (seq), so per-session FIFO holds too. */
export function registerHistory(specs: readonly OpSpec[], keys = 3): { history: HistoryOp[]; finals: FinalRead[] } {
  const state: { s: RegisterState; mzxid: bigint }[] = [];
  for (let k = 0; k < keys; k++) state.push({ s: { value: '', version: 0 }, mzxid: 0n });
  const history: HistoryOp[] = [];
  const seqs = new Map<number, number>();
  let zxid = 100n;
  specs.forEach((spec, i) => {
    const at = (i + 1) * pointSpacingMs;
    const reg = state[spec.key % keys]!;
    const session = `s${spec.session}`;
    const seq = (seqs.get(spec.session) ?? 0) + 1;
    seqs.set(spec.session, seq);
    const base = { id: i, session, seq, key: `/k${spec.key % keys}`, start: at - spec.before, end: at + spec.after };
    const unknown = spec.unknown === 0;
    const kind = spec.kind % 3;
    if (kind === 2) {
      if (unknown) return; // an unanswered read is not in a history
      history.push({ ...base, kind: 'read', outcome: 'ok', readValue: reg.s.value, version: reg.s.version, mzxid: String(reg.mzxid) });
      return;
    }
    const value = `v${i}`;
    const expectedVersion = kind === 1 ? (spec.casHit ? reg.s.version : reg.s.version + 1 + (i % 3)) : undefined;
    const takes = kind === 0 || spec.casHit;
    if (unknown) {
      if (takes && spec.applied) apply(reg, value, ++zxid);
      history.push({ ...base, kind: kind === 0 ? 'write' : 'cas', value, expectedVersion, outcome: 'unknown', error: 'CONNECTIONLOSS', end: Infinity });
      return;
    }
    if (!takes) {
      history.push({ ...base, kind: 'cas', value, expectedVersion, outcome: 'failed', error: 'BADVERSION' });
      return;
    }
    apply(reg, value, ++zxid);
    history.push({ ...base, kind: kind === 0 ? 'write' : 'cas', value, expectedVersion, outcome: 'ok', version: reg.s.version, mzxid: String(reg.mzxid) });
  });
  const finals = state.map((r, k) => ({ key: `/k${k}`, value: r.s.value, version: r.s.version, mzxid: String(r.mzxid) }));
  return { history, finals };
}

function apply(reg: { s: RegisterState; mzxid: bigint }, value: string, zxid: bigint): void {
  reg.s = { value, version: reg.s.version + 1 };
  reg.mzxid = zxid;
}

/**
 * Reads that can be made stale for sure: a read of key k after an acknowledged write to k that
 * completed before the read began. Returning the state from before that write is then
 * impossible in any linearization (versions only grow). Returns [read index, stale state].
 */
export function staleCandidates(history: readonly HistoryOp[]): { index: number; value: string; version: number; mzxid: string }[] {
  const out: { index: number; value: string; version: number; mzxid: string }[] = [];
  history.forEach((r, index) => {
    if (r.kind !== 'read' || r.outcome !== 'ok') return;
    // The latest acknowledged write to this key that completed before the read started.
    let prior: HistoryOp | undefined;
    for (const w of history) {
      if (w.key !== r.key || w.kind === 'read' || w.outcome !== 'ok' || !(w.end < r.start)) continue;
      if (prior === undefined || w.version! > prior.version!) prior = w;
    }
    if (prior === undefined) return;
    // The state just before `prior`: the write that produced version prior.version - 1, or the initial one.
    const before = history.find((w) => w.key === r.key && w.kind !== 'read' && w.outcome === 'ok' && w.version === prior.version! - 1);
    if (prior.version === 1) out.push({ index, value: '', version: 0, mzxid: '0' });
    else if (before !== undefined) out.push({ index, value: before.value!, version: before.version!, mzxid: before.mzxid! });
  });
  return out;
}
