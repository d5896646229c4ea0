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
import { checkKey } from './search.js';
import type { HistoryOp, RegisterState } from './types.js';

export { step } from './model.js';

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
} as const;

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

