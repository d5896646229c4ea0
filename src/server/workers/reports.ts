// What one session worker reports of its own connections and watches, and how the reports of
// every worker are put together. Each worker owns its connections and watch registrations
// (DESIGN "Process architecture"), so a page that lists them (cons, wchc, wchp, dump, the
// console's Sessions view) must ask every worker: gather.ts does that on the main thread.
// Lists are bounded by constants.dumpEntriesMax at each worker and again once merged;
// `truncated` says a list was cut. The counts are always whole.
import { assert } from '../../common/assert.js';
import type { Conn } from './conn.js';
import type { WatchKind } from './watches.js';

export interface ConnectionInfo {
  workerId: number;
  remote: string;
  /** 0n while the connection has no session yet (handshake). */
  sessionId: bigint;
  timeoutMs: number;
  queued: number;
  received: number;
  sent: number;
  /** Watch registrations of this connection (one per kind and path). */
  watches: number;
}

/** One session's watches on one path (ZooKeeper's wchc / wchp unit), with the kinds registered. */
export interface WatchInfo {
  workerId: number;
  sessionId: bigint;
  path: string;
  kinds: WatchKind[];
}

export interface WorkerReport {
  workerId: number;
  connectionCount: number;
  /** Watch registrations of every connection of the worker. */
  watchCount: number;
  connections: ConnectionInfo[];
  watches: WatchInfo[];
  truncated: boolean;
}

/** Every worker's report, merged: what answered, what did not (within the timeout), the lists. */
export interface Gathered {
  workers: { workerId: number; answered: boolean; connections: number; watches: number }[];
  /** Workers that did not answer within constants.workerReportTimeoutMs: their part is missing. */
  missing: number[];
  connectionCount: number;
  watchCount: number;
  connections: ConnectionInfo[];
  watches: WatchInfo[];
  truncated: boolean;
}

/** A worker's report of its connections; `entriesMax` bounds each list (0: counts only). */
export function buildReport(workerId: number, conns: Iterable<Conn>, entriesMax: number): WorkerReport {
  assert(entriesMax >= 0, 'a list bound is not negative');
  const out: WorkerReport = { workerId, connectionCount: 0, watchCount: 0, connections: [], watches: [], truncated: false };
  for (const c of conns) {
    out.connectionCount++;
    out.watchCount += c.watchCount;
    if (out.connections.length < entriesMax) {
      out.connections.push({
        workerId,
        remote: c.remote,
        sessionId: c.sessionId,
        timeoutMs: c.timeoutMs,
        queued: c.queue.length - c.queueHead,
        received: c.received,
        sent: c.sent,
        watches: c.watchCount,
      });
    } else if (entriesMax > 0) out.truncated = true;
    if (c.watchKeys.size > 0) out.truncated = watchesOf(workerId, c, out.watches, entriesMax) || out.truncated;
  }
  return out;
}

/** Appends the connection's watches grouped by path; true when the bound cut some. */
function watchesOf(workerId: number, c: Conn, out: WatchInfo[], entriesMax: number): boolean {
  const byPath = new Map<string, WatchKind[]>();
  for (const key of c.watchKeys) {
    const i = key.indexOf('\0');
    assert(i > 0, 'a watch key is kind\\0path');
    const path = key.slice(i + 1);
    const kinds = byPath.get(path);
    if (kinds === undefined) byPath.set(path, [key.slice(0, i) as WatchKind]);
    else kinds.push(key.slice(0, i) as WatchKind);
  }
  for (const [path, kinds] of byPath) {
    if (out.length >= entriesMax) return entriesMax > 0;
    out.push({ workerId, sessionId: c.sessionId, path, kinds: kinds.sort() });
  }
  return false;
}

/** The reports of the workers that answered, in worker order, cut to `entriesMax` per list. */
export function mergeReports(workerIds: readonly number[], reports: readonly WorkerReport[], entriesMax: number): Gathered {
  const byId = new Map(reports.map((r) => [r.workerId, r]));
  const out: Gathered = { workers: [], missing: [], connectionCount: 0, watchCount: 0, connections: [], watches: [], truncated: false };
  for (const id of [...workerIds].sort((a, b) => a - b)) {
    const r = byId.get(id);
    if (r === undefined) {
      out.missing.push(id);
      out.workers.push({ workerId: id, answered: false, connections: 0, watches: 0 });
      continue;
    }
    out.workers.push({ workerId: id, answered: true, connections: r.connectionCount, watches: r.watchCount });
    out.connectionCount += r.connectionCount;
    out.watchCount += r.watchCount;
    out.truncated ||= r.truncated;
    out.truncated = appendUpTo(out.connections, r.connections, entriesMax) || out.truncated;
    out.truncated = appendUpTo(out.watches, r.watches, entriesMax) || out.truncated;
  }
  return out;
}

function appendUpTo<T>(to: T[], from: readonly T[], max: number): boolean {
  const room = Math.max(0, max - to.length);
  for (let i = 0; i < Math.min(room, from.length); i++) to.push(from[i]!);
  return from.length > room;
}

/** wchp's shape: every watched path with the sessions watching it (and their workers), by path. */
export function watchesByPath(watches: readonly WatchInfo[]): Map<string, WatchInfo[]> {
  const out = new Map<string, WatchInfo[]>();
  for (const w of [...watches].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const list = out.get(w.path);
    if (list === undefined) out.set(w.path, [w]);
    else list.push(w);
  }
  return out;
}

/** wchc's shape: every watching session with its paths, in the order the workers listed them. */
export function watchesBySession(watches: readonly WatchInfo[]): Map<bigint, WatchInfo[]> {
  const out = new Map<bigint, WatchInfo[]>();
  for (const w of watches) {
    const list = out.get(w.sessionId);
    if (list === undefined) out.set(w.sessionId, [w]);
    else list.push(w);
  }
  return out;
}
