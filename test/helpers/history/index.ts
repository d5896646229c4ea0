// Reading recorded histories (JSON lines from load children) and running every check on them.
import { readFileSync } from 'node:fs';
import { checkLinearizable, type LinearizabilityResult, type LinearizableOptions } from './linearizable.js';
import { checkNoLostWrites, checkSequential, type CheckResult, type FinalRead } from './sequential.js';
import type { HistoryOp, OpKind, Outcome } from './types.js';

export * from './types.js';
export * from './linearizable.js';
export * from './sequential.js';

/** One line as a load child writes it: times in ns of process.hrtime (CLOCK_MONOTONIC, shared by
 * every process on the machine), as decimal strings. */
export interface RecordedLine {
  session: string;
  seq: number;
  key: string;
  kind: OpKind;
  value?: string;
  expectedVersion?: number;
  startNs: string;
  endNs?: string;
  outcome: Outcome;
  version?: number;
  readValue?: string;
  mzxid?: string;
  error?: string;
}

/** Parses JSON-lines files into one history with times in ms from the earliest invocation. */
export function loadHistory(files: readonly string[]): HistoryOp[] {
  return fromRecorded(readRecorded(files));
}

export function readRecorded(files: readonly string[]): RecordedLine[] {
  const lines: RecordedLine[] = [];
  for (const f of files) {
    for (const text of readFileSync(f, 'utf8').split('\n')) {
      if (text.trim() !== '') lines.push(JSON.parse(text) as RecordedLine);
    }
  }
  return lines;
}

export function fromRecorded(lines: readonly RecordedLine[]): HistoryOp[] {
  if (lines.length === 0) return [];
  let base = BigInt(lines[0]!.startNs);
  for (const l of lines) if (BigInt(l.startNs) < base) base = BigInt(l.startNs);
  const ms = (ns: string): number => Number(BigInt(ns) - base) / 1e6;
  return lines.map((l, id) => {
    const { startNs, endNs, ...rest } = l;
    return { ...rest, id, start: ms(startNs), end: endNs === undefined ? Infinity : ms(endNs) };
  });
}

export interface HistoryReport {
  ok: boolean;
  linearizable: LinearizabilityResult;
  sequential: CheckResult;
  durable: CheckResult;
  counts: Record<string, number>;
  /** A readable summary; the whole of every violation found. */
  text: string;
}

/** Runs linearizability, sequential consistency with per-session FIFO, and no-lost-writes. */
export function checkHistory(history: readonly HistoryOp[], finals: readonly FinalRead[], opts: LinearizableOptions = {}): HistoryReport {
  const linearizable = checkLinearizable(history, opts);
  const sequential = checkSequential(history);
  const durable = checkNoLostWrites(history, finals);
  const counts: Record<string, number> = {};
  for (const op of history) {
    const k = `${op.kind}:${op.outcome}`;
    counts[k] = (counts[k] ?? 0) + 1;
  }
  const ok = linearizable.verdict === 'ok' && sequential.ok && durable.ok;
  const parts = [`history of ${history.length} ops ${JSON.stringify(counts)}: linearizable ${linearizable.verdict}, sequential ${sequential.ok ? 'ok' : 'VIOLATED'}, durable ${durable.ok ? 'ok' : 'VIOLATED'}`];
  if (linearizable.verdict !== 'ok') parts.push(linearizable.explanation);
  parts.push(...sequential.violations, ...durable.violations);
  return { ok, linearizable, sequential, durable, counts, text: parts.join('\n\n') };
}
