// Linearizability of a history of writes, compare-and-sets and reads on versioned registers.
//
// The algorithm is Wing & Gong's search with Lowe's memoization, as Porcupine implements it:
// the history becomes a time-ordered doubly linked list of call and return entries; the search
// walks it, linearizing (lifting out) a call whose op the model accepts next, and backtracks when
// it reaches a return whose op has not been linearized yet. A cache of (set of linearized ops,
// model state) prunes configurations already explored. Keys are independent registers, so each
// key is checked alone (Porcupine's partitioning), which keeps every search small.
//
// Ops with an unknown outcome (timeout, CONNECTIONLOSS) get a return time of +infinity: they may
// be linearized anywhere after their invocation, or not at all. When the walk reaches the first
// such return, every op with a known outcome has been linearized, and leaving the remaining
// unknown ops out is a valid completion, so the history is linearizable.
//
// The search is bounded by a step budget per key; running out is "inconclusive", never "ok".
import { describeOp, type HistoryOp, type RegisterState } from './types.js';

export type Verdict = 'ok' | 'violation' | 'inconclusive';

export interface KeyResult {
  key: string;
  verdict: Verdict;
  /** Ops of this key that took part in the search. */
  ops: number;
  steps: number;
  explanation?: string;
}

export interface LinearizabilityResult {
  verdict: Verdict;
  keys: KeyResult[];
  /** Empty when ok; otherwise the explanation of every key that is not ok. */
  explanation: string;
}

export interface LinearizableOptions {
  /** The state of each register before the history (default: value '' at version 0). */
  initial?: (key: string) => RegisterState;
  /** Search steps allowed per key before giving up as inconclusive. */
  stepBudgetPerKey?: number;
  /**
   * Whether reads take part (default true). ZooKeeper promises linearizable writes only: a
   * follower serves reads from its own replica, which may lag, so against an ensemble check the
   * writes and compare-and-sets here (their versions and BADVERSIONs are observations made at the
   * leader) and the reads with checkSequential.
   */
  includeReads?: boolean;
}

export const linearizableDefaults = {
  stepBudgetPerKey: 2_000_000,
  explainLastOps: 6, // ops of the longest linearization shown in an explanation
  explainCandidates: 12, // pending ops listed at the point the search got stuck
} as const;

/** Applies `op` to `state`: the next state, or null if the op cannot take effect in this state. */
export function step(state: RegisterState, op: HistoryOp): RegisterState | null {
  switch (op.kind) {
    case 'read':
      return state.value === op.readValue && state.version === op.version ? state : null;
    case 'write':
      if (op.outcome === 'ok' && op.version !== undefined && op.version !== state.version + 1) return null;
      return { value: op.value!, version: state.version + 1 };
    case 'cas':
      if (op.outcome === 'failed') return state.version !== op.expectedVersion ? state : null; // BADVERSION
      if (state.version !== op.expectedVersion) return null;
      if (op.outcome === 'ok' && op.version !== undefined && op.version !== state.version + 1) return null;
      return { value: op.value!, version: state.version + 1 };
  }
}

/** Whether an op carries information for the search (others are dropped before it). */
function relevant(op: HistoryOp): boolean {
  if (op.outcome === 'ok') return true;
  if (op.outcome === 'unknown') return op.kind !== 'read'; // an unanswered read tells nothing
  return op.kind === 'cas' && op.error === 'BADVERSION'; // other failures changed nothing
}

export function checkLinearizable(history: readonly HistoryOp[], opts: LinearizableOptions = {}): LinearizabilityResult {
  const byKey = new Map<string, HistoryOp[]>();
  for (const op of history) {
    validate(op);
    if (!relevant(op) || (op.kind === 'read' && opts.includeReads === false)) continue;
    let list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, (list = []));
    list.push(op);
  }
  const initial = opts.initial ?? (() => ({ value: '', version: 0 }));
  const budget = opts.stepBudgetPerKey ?? linearizableDefaults.stepBudgetPerKey;
  const keys = [...byKey.keys()].sort().map((key) => checkKey(key, byKey.get(key)!, initial(key), budget));
  const bad = keys.filter((k) => k.verdict !== 'ok');
  const verdict: Verdict = bad.some((k) => k.verdict === 'violation') ? 'violation' : bad.length > 0 ? 'inconclusive' : 'ok';
  return { verdict, keys, explanation: bad.map((k) => k.explanation).join('\n\n') };
}

function validate(op: HistoryOp): void {
  const where = (): string => JSON.stringify(op);
  if (!Number.isFinite(op.start)) throw new Error(`op without a start time: ${where()}`);
  if (op.outcome !== 'unknown' && !(op.end >= op.start)) throw new Error(`op ends before it starts: ${where()}`);
  if (op.kind !== 'read' && typeof op.value !== 'string') throw new Error(`write without a value: ${where()}`);
  if (op.kind === 'cas' && !Number.isInteger(op.expectedVersion)) throw new Error(`cas without an expected version: ${where()}`);
  if (op.kind === 'read' && op.outcome === 'ok' && (typeof op.readValue !== 'string' || !Number.isInteger(op.version))) {
    throw new Error(`ok read without a value and version: ${where()}`);
  }
}

// ------------------------------------------------------------------ the search for one key

interface Entries {
  /** Per entry: the op index (entries 0..n-1 are calls, n..2n-1 returns; `n*2` is the head). */
  op: Int32Array;
  isCall: Uint8Array;
  next: Int32Array;
  prev: Int32Array;
  head: number;
}

const NIL = -1;

/** The time-ordered linked list of call and return entries (calls first on equal times, so
 * touching ops count as concurrent: the permissive choice, as Porcupine). */
function buildEntries(ops: readonly HistoryOp[]): Entries {
  const n = ops.length;
  const order: { entry: number; time: number; isCall: boolean }[] = [];
  for (let i = 0; i < n; i++) {
    const op = ops[i]!;
    order.push({ entry: i, time: op.start, isCall: true });
    order.push({ entry: n + i, time: op.outcome === 'unknown' ? Infinity : op.end, isCall: false });
  }
  order.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1));
  const e: Entries = { op: new Int32Array(2 * n + 1), isCall: new Uint8Array(2 * n + 1), next: new Int32Array(2 * n + 1), prev: new Int32Array(2 * n + 1), head: 2 * n };
  for (let i = 0; i < n; i++) {
    e.op[i] = i;
    e.isCall[i] = 1;
    e.op[n + i] = i;
  }
  let last = e.head;
  e.prev[e.head] = NIL;
  for (const o of order) {
    e.next[last] = o.entry;
    e.prev[o.entry] = last;
    last = o.entry;
  }
  e.next[last] = NIL;
  return e;
}

/** Takes a call entry and its return out of the list; they keep their links for unlift. */
function lift(e: Entries, call: number, ret: number): void {
  e.next[e.prev[call]!] = e.next[call]!;
  if (e.next[call] !== NIL) e.prev[e.next[call]!] = e.prev[call]!;
  e.next[e.prev[ret]!] = e.next[ret]!;
  if (e.next[ret] !== NIL) e.prev[e.next[ret]!] = e.prev[ret]!;
}

function unlift(e: Entries, call: number, ret: number): void {
  e.next[e.prev[ret]!] = ret;
  if (e.next[ret] !== NIL) e.prev[e.next[ret]!] = ret;
  e.next[e.prev[call]!] = call;
  if (e.next[call] !== NIL) e.prev[e.next[call]!] = call;
}

interface Stuck {
  depth: number;
  linearized: number[];
  state: RegisterState;
  blocking: number;
  pending: number[];
}

function checkKey(key: string, ops: HistoryOp[], init: RegisterState, budget: number): KeyResult {
  const n = ops.length;
  const e = buildEntries(ops);
  const bits = new Uint32Array(Math.ceil(n / 32));
  const cache = new Set<string>();
  const calls: { entry: number; state: RegisterState }[] = [];
  let state = init;
  let entry = e.next[e.head]!;
  let steps = 0;
  let stuck: Stuck | null = null;
  while (e.next[e.head] !== NIL) {
    if (++steps > budget) {
      return { key, verdict: 'inconclusive', ops: n, steps, explanation: `key ${key}: inconclusive: the search used its budget of ${budget} steps on ${n} ops` };
    }
    if (e.isCall[entry]) {
      const i = e.op[entry]!;
      const next = step(state, ops[i]!);
      if (next !== null) {
        bits[i >>> 5]! |= 1 << (i & 31);
        const memo = `${next.version}\u0000${next.value}\u0000${bits.join(',')}`;
        if (!cache.has(memo)) {
          cache.add(memo);
          calls.push({ entry, state });
          state = next;
          lift(e, entry, n + i);
          entry = e.next[e.head]!;
          continue;
        }
        bits[i >>> 5]! &= ~(1 << (i & 31));
      }
      entry = e.next[entry]!;
      continue;
    }
    // A return entry: its op must already be linearized, and it is not.
    const blocking = e.op[entry]!;
    if (ops[blocking]!.outcome === 'unknown') return { key, verdict: 'ok', ops: n, steps };
    if (stuck === null || calls.length > stuck.depth) stuck = snapshot(e, ops, calls, state, blocking);
    const top = calls.pop();
    if (top === undefined) return { key, verdict: 'violation', ops: n, steps, explanation: explain(key, ops, stuck) };
    const i = e.op[top.entry]!;
    state = top.state;
    bits[i >>> 5]! &= ~(1 << (i & 31));
    unlift(e, top.entry, n + i);
    entry = e.next[top.entry]!;
  }
  return { key, verdict: 'ok', ops: n, steps };
}

function snapshot(e: Entries, ops: HistoryOp[], calls: { entry: number }[], state: RegisterState, blocking: number): Stuck {
  const pending: number[] = [];
  for (let x = e.next[e.head]!; x !== NIL; x = e.next[x]!) {
    if (e.isCall[x]) pending.push(e.op[x]!);
    else if (e.op[x] === blocking) break;
  }
  return { depth: calls.length, linearized: calls.map((c) => e.op[c.entry]!), state, blocking, pending };
}

function explain(key: string, ops: HistoryOp[], s: Stuck | null): string {
  if (s === null) return `key ${key}: not linearizable`;
  const d = linearizableDefaults;
  const lines = [`key ${key}: NOT LINEARIZABLE (${ops.length} ops).`];
  lines.push(`The longest linearization found orders ${s.depth} ops and ends in state (${JSON.stringify(s.state.value)}, v${s.state.version})${s.depth > 0 ? ', its last ops:' : '.'}`);
  for (const i of s.linearized.slice(-d.explainLastOps)) lines.push(`    ${describeOp(ops[i]!)}`);
  lines.push(`Then this op returned, but it cannot take effect in that state:`);
  lines.push(`    ${describeOp(ops[s.blocking]!)}`);
  const others = s.pending.filter((i) => i !== s.blocking);
  if (others.length > 0) {
    lines.push(`and no other op invoked before that return can go first:`);
    for (const i of others.slice(0, d.explainCandidates)) lines.push(`    ${describeOp(ops[i]!)}`);
    if (others.length > d.explainCandidates) lines.push(`    ... and ${others.length - d.explainCandidates} more`);
  }
  return lines.join('\n');
}
