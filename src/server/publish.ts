// The publish fan-out: one committed batch becomes one CommitMessage per worker (its replies,
// routed by tag, and every event of the batch), the sessions that ended in it, and the main
// thread's own entries. Pure: `fanOut` is a function of the batch; `publisher` wires it to the
// injected ports and counters, and runs inside the write window, before the batch is visible.
import type { CommittedEntry } from './pipeline/api.js';
import { isMainTag } from './main-requests.js';
import type { CommitMessage, CommitReply } from './workers/messages.js';
import { tagWorker } from './workers/messages.js';

const noEvents: CommittedEntry['events'] = [];

export interface FanOut {
  /** Per worker id: its message, or null when it has nothing to learn (no txn and no reply). */
  messages: (CommitMessage | null)[];
  /** Sessions of the client writes that committed, once per write (in-flight accounting). */
  clientWriteSessions: bigint[];
  endedSessions: CommitMessage['endedSessions'];
  /** Entries of main-thread requests, finished after the batch is published. */
  mainEntries: CommittedEntry[];
}

/**
 * `myId`: this server's id. An entry whose origin is another server (an ensemble's txn proposed for
 * a client of another server) fires events and ends sessions here, but only its origin answers it.
 */
export function fanOut(entries: readonly CommittedEntry[], appliedZxid: bigint, workerCount: number, myId = 0): FanOut {
  const perWorker: CommitReply[][] = Array.from({ length: workerCount }, () => []);
  const events: CommitMessage['events'] = [];
  const endedSessions: CommitMessage['endedSessions'] = [];
  const ended = new Set<bigint>();
  const mainEntries: CommittedEntry[] = [];
  const clientWriteSessions: bigint[] = [];
  let txns = 0;
  for (const e of entries) {
    if (e.zxid !== 0n) txns++;
    for (const ev of e.events) events.push({ type: ev.type, path: ev.path, zxid: e.zxid });
    // A session ends once: a client's close and the expiry's close of the same session can both
    // commit (the expiry fired while the close was in flight); the first one counts.
    if (e.closedSessionId !== undefined && !ended.has(e.closedSessionId)) {
      ended.add(e.closedSessionId);
      endedSessions.push({ sessionId: e.closedSessionId, expired: isMainTag(e.tag) });
    }
    // Only the origin server answers: another server's entry, or a learner's txn read back from
    // history (no origin: nobody waits for it), only fires events and ends sessions here.
    if (e.origin === undefined || e.origin.serverId !== myId) continue;
    if (isMainTag(e.tag)) {
      mainEntries.push(e);
      continue;
    }
    clientWriteSessions.push(e.sessionId);
    // Events travel once per batch in `events`, not again inside each reply; `eventsBefore` (the
    // events of this entry and every earlier one) lets the worker send the answer between them,
    // in ZooKeeper's order.
    perWorker[tagWorker(e.tag)]?.push({ tag: e.tag, sessionId: e.sessionId, zxid: e.zxid, result: e.result, events: noEvents, eventsBefore: events.length });
  }
  const messages = perWorker.map((replies): CommitMessage | null =>
    txns === 0 && replies.length === 0 ? null : { kind: 'commit', zxid: appliedZxid, events, replies, endedSessions },
  );
  return { messages, clientWriteSessions, endedSessions, mainEntries };
}

export interface PublishPorts {
  /** This server's id (0 standalone): only entries of its own origin are answered here. */
  myId: number;
  workerCount(): number;
  /** A committed createSession: every server's session table learns the session. */
  sessionCreated(s: NonNullable<CommittedEntry['createdSession']>): void;
  postCommit(workerId: number, msg: CommitMessage): void;
  writeCommitted(sessionId: bigint): void;
  sessionEnded(sessionId: bigint): void;
  mainCommitted(entry: CommittedEntry): void;
}

/** The write loop's publish hook: account, tell the session table, then tell every worker. */
export function publisher(p: PublishPorts): (entries: CommittedEntry[], appliedZxid: bigint) => void {
  return (entries, appliedZxid) => {
    for (const e of entries) if (e.createdSession !== undefined) p.sessionCreated(e.createdSession);
    const out = fanOut(entries, appliedZxid, p.workerCount(), p.myId);
    for (const s of out.clientWriteSessions) p.writeCommitted(s);
    for (const s of out.endedSessions) p.sessionEnded(s.sessionId);
    out.messages.forEach((msg, id) => {
      if (msg !== null) p.postCommit(id, msg);
    });
    for (const e of out.mainEntries) p.mainCommitted(e);
  };
}
