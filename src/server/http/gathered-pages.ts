// The admin JSON pages of every worker's connections and watches (workers/gather.ts), in the
// spirit of ZooKeeper's cons, wchp and dump: /cons, /watches, /sessions. Pure functions of the
// gathered reports (and, for /sessions, the main thread's session table and ephemerals).
// Session ids are hex strings ("0x1f"), as ZooKeeper prints them. Each page names the workers
// that did not answer in time (`missingWorkers`) and says `truncated` when a list was cut at
// constants.dumpEntriesMax.
import type { SessionDump } from '../workers/messages.js';
import { watchesByPath, type Gathered } from '../workers/reports.js';

const hex = (id: bigint): string => '0x' + id.toString(16);

function head(g: Gathered, answeredBy: number): Record<string, unknown> {
  return { answeredBy, workers: g.workers, missingWorkers: g.missing, truncated: g.truncated };
}

export function consPage(g: Gathered, answeredBy: number): string {
  return JSON.stringify({
    ...head(g, answeredBy),
    connectionCount: g.connectionCount,
    connections: g.connections.map((c) => ({ ...c, sessionId: hex(c.sessionId) })),
  });
}

/** wchp with counts: every watched path, how many sessions watch it, which (and on which worker). */
export function watchesPage(g: Gathered, answeredBy: number): string {
  const byPath = watchesByPath(g.watches);
  return JSON.stringify({
    ...head(g, answeredBy),
    watchCount: g.watchCount,
    pathCount: byPath.size,
    sessionCount: new Set(g.watches.map((w) => w.sessionId)).size,
    paths: [...byPath].map(([path, ws]) => ({
      path,
      count: ws.length,
      watchers: ws.map((w) => ({ sessionId: hex(w.sessionId), workerId: w.workerId, kinds: w.kinds })),
    })),
  });
}

/**
 * Every session of the server's table with its ephemerals, its connection (worker, address) when
 * one of this server's workers holds it (else null: disconnected, or on another server of the
 * ensemble) and its watch count.
 */
export function sessionsPage(d: SessionDump | undefined, g: Gathered, answeredBy: number): string {
  if (d === undefined) return JSON.stringify({ ...head(g, answeredBy), sessionCount: 0, sessions: [] });
  const ephemerals = new Map(d.ephemerals.map((e) => [e.sessionId, e.paths]));
  const conns = new Map(g.connections.filter((c) => c.sessionId !== 0n).map((c) => [c.sessionId, c]));
  return JSON.stringify({
    ...head(g, answeredBy),
    truncated: g.truncated || d.truncated,
    sessionCount: d.sessionCount,
    ephemeralSessionCount: d.ephemeralSessionCount,
    sessions: d.sessions.map((s) => {
      const c = conns.get(s.sessionId);
      return {
        sessionId: hex(s.sessionId),
        timeoutMs: s.timeoutMs,
        workerId: c?.workerId ?? null,
        remote: c?.remote ?? null,
        watches: c?.watches ?? 0,
        ephemerals: ephemerals.get(s.sessionId) ?? [],
      };
    }),
  });
}
