// The main thread's side of "every worker's connections and watches": a worker answering cons,
// wchc, wchp, dump or an admin page asks here; every worker is asked for its report; the merged
// reports go back to the asker once all have answered, or when the timeout passes. A worker
// that has not answered by then (stuck, stopping) is named in `missing`, never waited for
// longer. The timer is given in, so a test drives it.
import { assert } from '../../common/assert.js';
import { mergeReports, type Gathered, type WorkerReport } from './reports.js';

export interface GatherDeps {
  workerIds(): readonly number[];
  /** Asks one worker for its report (ToWorker 'askReport'), lists bounded by entriesMax. */
  ask(workerId: number, gatherId: number, entriesMax: number): void;
  /** The merged reports, to the worker that asked. */
  answer(workerId: number, reqId: number, gathered: Gathered): void;
  /** Calls fn once after ms; returns a cancel. */
  startTimer(fn: () => void, ms: number): () => void;
  timeoutMs: number;
  /** Gathers waiting for their workers at once; a request beyond it is answered at once, all missing. */
  inFlightMax: number;
}

interface Pending {
  from: number;
  reqId: number;
  entriesMax: number;
  workerIds: readonly number[];
  waiting: Set<number>;
  reports: WorkerReport[];
  cancel: () => void;
}

export class ReportGather {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly d: GatherDeps) {
    assert(d.timeoutMs > 0, 'a gather has a positive timeout');
    assert(d.inFlightMax >= 1, 'at least one gather at a time');
  }

  /** Worker `from` asks for every worker's report (its request `reqId`). */
  request(from: number, reqId: number, entriesMax: number): void {
    const workerIds = [...this.d.workerIds()];
    if (this.pending.size >= this.d.inFlightMax || workerIds.length === 0) {
      this.d.answer(from, reqId, mergeReports(workerIds, [], entriesMax));
      return;
    }
    const gatherId = ++this.seq;
    const p: Pending = { from, reqId, entriesMax, workerIds, waiting: new Set(workerIds), reports: [], cancel: () => {} };
    this.pending.set(gatherId, p);
    p.cancel = this.d.startTimer(() => this.finish(gatherId), this.d.timeoutMs);
    for (const id of workerIds) this.d.ask(id, gatherId, entriesMax);
  }

  /** A worker's report; a late one (its gather already answered) is dropped. */
  report(gatherId: number, report: WorkerReport): void {
    const p = this.pending.get(gatherId);
    if (p === undefined || !p.waiting.delete(report.workerId)) return;
    p.reports.push(report);
    if (p.waiting.size === 0) this.finish(gatherId);
  }

  /** Stopping: every open gather is answered with what it has. */
  flush(): void {
    for (const id of [...this.pending.keys()]) this.finish(id);
  }

  get inFlight(): number {
    return this.pending.size;
  }

  private finish(gatherId: number): void {
    const p = this.pending.get(gatherId);
    if (p === undefined) return;
    this.pending.delete(gatherId);
    p.cancel();
    this.d.answer(p.from, p.reqId, mergeReports(p.workerIds, p.reports, p.entriesMax));
  }
}
