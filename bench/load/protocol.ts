// Messages between the orchestrator (bench/run.ts and bench/load/*.ts) and the load generator
// processes (bench/load/child.ts, forked), over Node's IPC channel.

export type Shape = 'get' | 'set' | 'mix' | 'eph';
export const shapes: readonly Shape[] = ['get', 'set', 'mix', 'eph'];
export const shapeTitles: Record<Shape, string> = {
  get: '1 KiB getData',
  set: '1 KiB setData',
  mix: '90:10 get:set',
  eph: 'ephemeral create+delete',
};

export interface LoadSetup {
  type: 'load-setup';
  connectString: string;
  procIndex: number;
  sessions: number; // sessions in this process
  outstanding: number; // requests in flight per session
  shape: Shape;
  valueBytes: number;
  nodes: number; // data znodes /bench/n-0 .. n-(nodes-1), created by the orchestrator
  sessionTimeoutMs: number;
  /** With a '|'-separated connect string: this process's first session's index over all processes. */
  sessionOffset?: number;
}

export interface WatchSetup {
  type: 'watch-setup';
  connectString: string;
  procIndex: number;
  count: number;
  path: string;
  sessionTimeoutMs: number;
  sessionOffset?: number;
}

export interface Populate {
  type: 'populate';
  connectString: string;
  from: number;
  to: number; // exclusive
  fanout: number; // znode i is /mem/<floor(i / fanout)>/<i % fanout>
  valueBytes: number;
  sessions: number;
  outstanding: number;
  /** Creates per request: 1 = create, more = one multi of that many creates (one txn). */
  batch?: number;
}

export type ToChild =
  | LoadSetup
  | { type: 'go' }
  | { type: 'measure-start' }
  | { type: 'measure-end' }
  | WatchSetup
  | { type: 'watch-arm'; round: number; timeoutMs: number }
  | Populate
  | { type: 'close' };

export interface LoadResult {
  type: 'load-result';
  ops: number;
  windowMs: number;
  errors: number;
  firstError: string | null;
  histogram: string; // hdr-histogram, compressed base64, µs
  unfinished: number;
}

export type FromChild =
  | { type: 'ready'; connectMs: number }
  | LoadResult
  | { type: 'armed'; round: number }
  | { type: 'notified'; round: number; timesNs: number[]; missing: number }
  | { type: 'populated'; created: number; errors: number; firstError: string | null; ms: number }
  | { type: 'closed' }
  | { type: 'error'; message: string };
