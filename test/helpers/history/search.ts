// The search for one key: Wing & Gong with Lowe's memoization, as Porcupine runs it, plus a
// symmetry reduction for unknown outcomes.
//
// Ops with a known outcome live in a time-ordered doubly linked list of call and return entries.
// At each node of the search the candidates are the calls before the first remaining return (an
// op can take effect next only if it was invoked before the earliest pending completion); taking
// one lifts its call and return out of the list; reaching a return whose op is not linearized
// means backtracking. The cache of (linearized set, state) prunes configurations seen before.
//
// Unknown outcomes have no return (+infinity): once every op with a known outcome is linearized,
// leaving the remaining unknown ones out completes the linearization.
//
// Symmetry reduction. An unknown write or cas whose value nobody read is "anonymous": the only
// effect the rest of the history can see is the version it adds (every known write reports its
// version, every BADVERSION observes one). Two anonymous writes are interchangeable, and so are
// two anonymous cas on one expected version: in a linearization that uses the later-invoked one
// of a pair, the earlier-invoked one can take its place. So anonymous ops are kept out of the
// list, each class is linearized in invocation order only (at most two class heads are
// candidates at a node: the next anonymous write, and the next anonymous cas on the current
// version), and the value they leave is one placeholder, so the cache sees equal
// configurations as equal. Without this, k open unknown ops make the search try 2^k subsets.
import type { KeyResult } from './linearizable.js';
import { step } from './model.js';
import { describeOp, type HistoryOp, type RegisterState } from './types.js';

export const searchDefaults = {
  explainLastOps: 6, // ops of the longest linearization shown in an explanation
  explainCandidates: 12, // pending ops listed at the point the search got stuck
} as const;

const NIL = -1;
const anonymousValue = '\u0000anonymous';

interface Entries {
  /** Entries 0..n-1 are the calls of ops 0..n-1, n..2n-1 their returns, 2n the head. */
  isCall: Uint8Array;
  time: Float64Array;
  next: Int32Array;
  prev: Int32Array;
  head: number;
  n: number;
}

const opOf = (e: Entries, entry: number): number => (entry < e.n ? entry : entry - e.n);

/** The list of the ops in `members`, by time, calls before returns on equal times (touching ops
 * count as concurrent: the permissive choice, as Porcupine). */
function buildEntries(ops: readonly HistoryOp[], members: readonly number[]): Entries {
  const n = ops.length;
  const e: Entries = { isCall: new Uint8Array(2 * n + 1), time: new Float64Array(2 * n + 1), next: new Int32Array(2 * n + 1).fill(NIL), prev: new Int32Array(2 * n + 1).fill(NIL), head: 2 * n, n };
  const order: number[] = [];
  for (const i of members) {
    const op = ops[i]!;
    e.isCall[i] = 1;
    e.time[i] = op.start;
    e.time[n + i] = op.outcome === 'unknown' ? Infinity : op.end;
    order.push(i, n + i);
  }
  order.sort((a, b) => e.time[a]! - e.time[b]! || e.isCall[b]! - e.isCall[a]!);
  let last = e.head;
  for (const x of order) {
    e.next[last] = x;
    e.prev[x] = last;
    last = x;
  }
  e.next[last] = NIL;
  return e;
}

/** Takes a call entry and its return out of the list; they keep their links for unlift. */
function lift(e: Entries, call: number): void {
  const ret = call + e.n;
  e.next[e.prev[call]!] = e.next[call]!;
  if (e.next[call] !== NIL) e.prev[e.next[call]!] = e.prev[call]!;
  e.next[e.prev[ret]!] = e.next[ret]!;
  if (e.next[ret] !== NIL) e.prev[e.next[ret]!] = e.prev[ret]!;
}

function unlift(e: Entries, call: number): void {
  const ret = call + e.n;
  e.next[e.prev[ret]!] = ret;
  if (e.next[ret] !== NIL) e.prev[e.next[ret]!] = ret;
  e.next[e.prev[call]!] = call;
  if (e.next[call] !== NIL) e.prev[e.next[call]!] = call;
}

/** Anonymous ops by class, each class in invocation order. */
interface Anonymous {
  is: Uint8Array;
  writes: number[];
  casByVersion: Map<number, number[]>;
}

function anonymous(ops: readonly HistoryOp[]): Anonymous {
  const read = new Set<string>();
  for (const op of ops) if (op.kind === 'read' && op.readValue !== undefined) read.add(op.readValue);
  const a: Anonymous = { is: new Uint8Array(ops.length), writes: [], casByVersion: new Map() };
  const order = ops.map((_, i) => i).sort((x, y) => ops[x]!.start - ops[y]!.start);
  for (const i of order) {
    const op = ops[i]!;
    if (op.outcome !== 'unknown' || op.kind === 'read' || read.has(op.value!)) continue;
    a.is[i] = 1;
    if (op.kind === 'write') a.writes.push(i);
    else {
      let list = a.casByVersion.get(op.expectedVersion!);
      if (list === undefined) a.casByVersion.set(op.expectedVersion!, (list = []));
      list.push(i);
    }
  }
  return a;
}

/**
 * The memo of configurations seen: (set of linearized ops, state). The set is hashed
 * incrementally (Zobrist: a random 64-bit word per op, XORed in and out as ops are taken and
 * given back) and compared exactly on a hash match, as Porcupine compares bitsets.
 */
class Cache {
  private readonly lo: Uint32Array;
  private readonly hi: Uint32Array;
  private hashLo = 0;
  private hashHi = 0;
  private readonly seen = new Map<string, Uint32Array[]>();

  constructor(n: number) {
    this.lo = new Uint32Array(n);
    this.hi = new Uint32Array(n);
    let x = 0x9e3779b9; // xorshift32: fixed, so a run is reproducible
    const next = (): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x >>> 0;
    };
    for (let i = 0; i < n; i++) {
      this.lo[i] = next();
      this.hi[i] = next();
    }
  }

  flip(i: number): void {
    this.hashLo ^= this.lo[i]!;
    this.hashHi ^= this.hi[i]!;
  }

  /** Records the configuration; false if it was seen before. */
  add(bits: Uint32Array, state: RegisterState): boolean {
    const key = `${this.hashHi}:${this.hashLo}:${state.version}:${state.value}`;
    const list = this.seen.get(key);
    if (list === undefined) {
      this.seen.set(key, [bits.slice()]);
      return true;
    }
    for (const b of list) if (sameBits(b, bits)) return false;
    list.push(bits.slice());
    return true;
  }
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A node of the search: the op taken, the state before it, and where to resume on backtrack. */
interface Frame {
  op: number;
  before: RegisterState;
  /** For an anonymous op: the next anonymous choice to try (1 or 2) and the time bound. */
  choice: number;
  limit: number;
}

interface Stuck {
  depth: number;
  linearized: number[];
  state: RegisterState;
  blocking: number;
  pending: number[];
}

export function checkKey(key: string, ops: HistoryOp[], init: RegisterState, budget: number): KeyResult {
  const n = ops.length;
  const anon = anonymous(ops);
  const e = buildEntries(ops, ops.map((_, i) => i).filter((i) => anon.is[i] === 0));
  const bits = new Uint32Array(Math.ceil(n / 32) + 1);
  const cache = new Cache(n);
  const frames: Frame[] = [];
  let writesTaken = 0;
  const casTaken = new Map<number, number>();
  let state = init;
  let steps = 0;
  let stuck: Stuck | null = null;
  // The cursor: walking the list (choice 0) from `entry`, or trying anonymous class heads
  // (choice 1: the next write, 2: the next cas on the current version) invoked by `limit`.
  let entry = e.next[e.head]!;
  let choice = 0;
  let limit = 0;

  const take = (i: number, next: RegisterState, frame: Frame): boolean => {
    bits[i >>> 5]! |= 1 << (i & 31);
    cache.flip(i);
    if (!cache.add(bits, next)) {
      bits[i >>> 5]! &= ~(1 << (i & 31));
      cache.flip(i);
      return false;
    }
    frames.push(frame);
    state = next;
    return true;
  };

  for (;;) {
    if (++steps > budget) {
      return { key, verdict: 'inconclusive', ops: n, steps, explanation: `key ${key}: inconclusive: the search used its budget of ${budget} steps on ${n} ops` };
    }
    if (choice === 0) {
      if (entry === NIL) return { key, verdict: 'ok', ops: n, steps };
      if (e.isCall[entry]) {
        const i = entry;
        const next = step(state, ops[i]!);
        if (next !== null && take(i, next, { op: i, before: state, choice: 0, limit: 0 })) {
          lift(e, i);
          entry = e.next[e.head]!;
        } else {
          entry = e.next[entry]!;
        }
        continue;
      }
      // The first remaining return. Unknown (infinite): every known op is linearized.
      if (e.time[entry] === Infinity) return { key, verdict: 'ok', ops: n, steps };
      limit = e.time[entry]!;
      choice = 1;
      continue;
    }
    if (choice <= 2) {
      const list = choice === 1 ? anon.writes : anon.casByVersion.get(state.version);
      const taken = choice === 1 ? writesTaken : (casTaken.get(state.version) ?? 0);
      const i = list?.[taken];
      const tried = choice++;
      if (i === undefined || ops[i]!.start > limit) continue;
      const frame: Frame = { op: i, before: state, choice, limit };
      if (take(i, { value: anonymousValue, version: state.version + 1 }, frame)) {
        if (tried === 1) writesTaken++;
        else casTaken.set(frame.before.version, taken + 1);
        choice = 0;
        entry = e.next[e.head]!;
      }
      continue;
    }
    // Nothing can go next: back up one step.
    const blocking = firstReturn(e);
    if (stuck === null || frames.length > stuck.depth) stuck = snapshot(e, frames, state, blocking);
    const top = frames.pop();
    if (top === undefined) return { key, verdict: 'violation', ops: n, steps, explanation: explain(key, ops, stuck) };
    const i = top.op;
    state = top.before;
    bits[i >>> 5]! &= ~(1 << (i & 31));
    cache.flip(i);
    if (anon.is[i] === 0) {
      unlift(e, i);
      choice = 0;
      entry = e.next[i]!;
    } else {
      if (ops[i]!.kind === 'write') writesTaken--;
      else casTaken.set(top.before.version, casTaken.get(top.before.version)! - 1);
      choice = top.choice;
      limit = top.limit;
    }
  }
}

function firstReturn(e: Entries): number {
  let x = e.next[e.head]!;
  while (x !== NIL && e.isCall[x]) x = e.next[x]!;
  return x === NIL ? NIL : opOf(e, x);
}

function snapshot(e: Entries, frames: readonly Frame[], state: RegisterState, blocking: number): Stuck {
  const pending: number[] = [];
  for (let x = e.next[e.head]!; x !== NIL && e.isCall[x] && pending.length <= searchDefaults.explainCandidates; x = e.next[x]!) pending.push(x);
  // Only the tail: this runs at every new depth of the search, so copying all frames is O(n^2).
  return { depth: frames.length, linearized: frames.slice(-searchDefaults.explainLastOps).map((f) => f.op), state, blocking, pending };
}

function explain(key: string, ops: HistoryOp[], s: Stuck | null): string {
  if (s === null || s.blocking === NIL) return `key ${key}: NOT LINEARIZABLE`;
  const d = searchDefaults;
  const shown = (st: RegisterState): string => (st.value === anonymousValue ? `(a value nobody read, v${st.version})` : `(${JSON.stringify(st.value)}, v${st.version})`);
  const lines = [`key ${key}: NOT LINEARIZABLE (${ops.length} ops).`];
  lines.push(`The longest linearization found orders ${s.depth} ops and ends in state ${shown(s.state)}${s.depth > 0 ? ', its last ops:' : '.'}`);
  for (const i of s.linearized) lines.push(`    ${describeOp(ops[i]!)}`);
  lines.push(`Then this op returned, but it cannot take effect in that state:`);
  lines.push(`    ${describeOp(ops[s.blocking]!)}`);
  const others = s.pending.filter((i) => i !== s.blocking);
  if (others.length > 0) {
    lines.push(`and no other op invoked before that return can go first:`);
    for (const i of others.slice(0, d.explainCandidates)) lines.push(`    ${describeOp(ops[i]!)}`);
    if (others.length >= d.explainCandidates) lines.push(`    ... and maybe more`);
  }
  return lines.join('\n');
}
