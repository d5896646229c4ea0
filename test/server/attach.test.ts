// Session attach and in-flight write counting (sessions/attach.ts) and the publish fan-out
// (publish.ts), with plain functions in place of worker threads and the write path.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CommittedEntry, WriteOp } from '../../src/server/pipeline/api.js';
import { mainTagSlot } from '../../src/server/main-requests.js';
import { fanOut } from '../../src/server/publish.js';
import { SessionAttach } from '../../src/server/sessions/attach.js';
import { SessionManager } from '../../src/server/sessions/manager.js';
import type { AttachRequest, ToWorker } from '../../src/server/workers/messages.js';
import { tagWorkerBits } from '../../src/server/workers/messages.js';

function rig(sessionsMax = 10) {
  const sessions = new SessionManager(100, 1, 1_000_000);
  const posted: { workerId: number; msg: ToWorker }[] = [];
  const submitted: { sessionId: bigint; op: WriteOp; onDone: (e: CommittedEntry) => void }[] = [];
  const attach = new SessionAttach({
    sessions,
    sessionsMax,
    negotiateTimeoutMs: (ms) => Math.min(4_000, ms),
    submit: (sessionId, op, onDone) => void submitted.push({ sessionId, op, onDone }),
    post: (workerId, msg) => void posted.push({ workerId, msg }),
  });
  return { sessions, posted, submitted, attach };
}

const req = (reqId: number, connId: number, sessionId: bigint, password = new Uint8Array(16)): AttachRequest => ({
  kind: 'attach',
  reqId,
  connId,
  sessionId,
  password,
  timeoutMs: 10_000,
  lastZxidSeen: 0n,
});

const ok = (sessionId: bigint, tag: number): CommittedEntry => ({ zxid: 5n, sessionId, tag, result: { ok: true, value: { type: 'createSession' } }, events: [] }) as unknown as CommittedEntry;

describe('SessionAttach', () => {
  test('a new session is answered only after its createSession commits, with the negotiated timeout', () => {
    const r = rig();
    r.attach.attach(0, req(1, 7, 0n));
    assert.equal(r.posted.length, 0, 'nothing before the commit');
    assert.equal(r.submitted.length, 1);
    const s = r.submitted[0]!;
    assert.equal(s.op.type, 'createSession');
    s.onDone(ok(s.sessionId, 1));
    assert.equal(r.posted.length, 1);
    const m = r.posted[0]!.msg;
    assert.ok(m.kind === 'attached' && m.sessionId === s.sessionId && m.timeoutMs === 4_000);
    assert.deepEqual(r.sessions.get(s.sessionId)?.owner, { workerId: 0, connId: 7 });
  });

  test('too many sessions: THROTTLEDOP, nothing submitted', () => {
    const r = rig(1);
    r.sessions.created(99n, 1000, new Uint8Array(16));
    r.attach.attach(0, req(1, 7, 0n));
    assert.equal(r.submitted.length, 0);
    assert.ok(r.posted[0]!.msg.kind === 'attachFailed' && r.posted[0]!.msg.code === 'THROTTLEDOP');
  });

  test('a wrong password or unknown session: SESSIONEXPIRED', () => {
    const r = rig();
    r.sessions.created(5n, 1000, new Uint8Array(16).fill(1));
    r.attach.attach(0, req(1, 7, 5n));
    r.attach.attach(0, req(2, 7, 6n));
    assert.deepEqual(r.posted.map((p) => p.msg.kind === 'attachFailed' && p.msg.code), ['SESSIONEXPIRED', 'SESSIONEXPIRED']);
  });

  test('a re-attach waits for the session’s in-flight writes, and the old owner is told it moved', () => {
    const r = rig();
    const pw = new Uint8Array(16).fill(3);
    r.sessions.created(5n, 1000, pw);
    r.attach.attach(0, req(1, 7, 5n, pw));
    assert.equal(r.posted.at(-1)!.msg.kind, 'attached', 'nothing in flight: answered at once');
    r.attach.writeSubmitted(5n);
    r.attach.writeSubmitted(5n);
    r.posted.length = 0;
    r.attach.attach(1, req(2, 9, 5n, pw));
    assert.deepEqual(r.posted.map((p) => [p.workerId, p.msg.kind]), [[0, 'moved']]);
    assert.equal(r.attach.heldCount, 1);
    r.attach.writeCommitted(5n);
    r.attach.releaseHeld();
    assert.equal(r.posted.length, 1, 'one write still in flight: still held');
    r.attach.writeCommitted(5n);
    r.attach.releaseHeld();
    assert.deepEqual(r.posted.map((p) => [p.workerId, p.msg.kind]), [[0, 'moved'], [1, 'attached']]);
    assert.equal(r.attach.heldCount, 0);
    assert.throws(() => r.attach.writeCommitted(5n), /never go negative/);
  });

  test('a newer attach refuses the held one (SESSIONMOVED) and is held in its place', () => {
    const r = rig();
    const pw = new Uint8Array(16).fill(3);
    r.sessions.created(5n, 1000, pw);
    r.attach.writeSubmitted(5n);
    r.attach.attach(0, req(1, 7, 5n, pw));
    r.attach.attach(1, req(2, 9, 5n, pw));
    const failed = r.posted.filter((p) => p.msg.kind === 'attachFailed');
    assert.equal(failed.length, 1);
    assert.ok(failed[0]!.msg.kind === 'attachFailed' && failed[0]!.msg.reqId === 1 && failed[0]!.msg.code === 'SESSIONMOVED');
    r.attach.writeCommitted(5n);
    r.attach.releaseHeld();
    const attached = r.posted.filter((p) => p.msg.kind === 'attached');
    assert.ok(attached.length === 1 && attached[0]!.msg.kind === 'attached' && attached[0]!.msg.reqId === 2);
  });

  test('a held re-attach of a session that ended is refused SESSIONEXPIRED', () => {
    const r = rig();
    const pw = new Uint8Array(16).fill(3);
    r.sessions.created(5n, 1000, pw);
    r.attach.writeSubmitted(5n);
    r.attach.attach(0, req(1, 7, 5n, pw));
    r.sessions.closed(5n);
    r.attach.releaseHeld();
    assert.ok(r.posted[0]!.msg.kind === 'attachFailed' && r.posted[0]!.msg.code === 'SESSIONEXPIRED');
    assert.equal(r.attach.heldCount, 0);
  });

  test('detach clears the owner only for the connection that holds the session', () => {
    const r = rig();
    const pw = new Uint8Array(16).fill(3);
    r.sessions.created(5n, 1000, pw);
    r.attach.attach(0, req(1, 7, 5n, pw));
    r.attach.detach(0, 5n, 8);
    assert.notEqual(r.sessions.get(5n)?.owner, null);
    r.attach.detach(0, 5n, 7);
    assert.equal(r.sessions.get(5n)?.owner, null);
  });
});

describe('fanOut', () => {
  const entry = (zxid: bigint, sessionId: bigint, tag: number, extra: Partial<CommittedEntry> = {}): CommittedEntry =>
    ({ zxid, sessionId, tag, result: { ok: true, value: { type: 'delete' } }, events: [], origin: { serverId: 0, sessionId, tag }, ...extra }) as unknown as CommittedEntry;

  test('replies go to the worker of their tag, events to every worker, main entries apart', () => {
    const w0 = 1 * tagWorkerBits + 0;
    const w1 = 2 * tagWorkerBits + 1;
    const main = 3 * tagWorkerBits + mainTagSlot;
    const out = fanOut(
      [
        entry(1n, 10n, w0, { events: [{ type: 'deleted', path: '/a' }] } as Partial<CommittedEntry>),
        entry(2n, 11n, w1, { events: [{ type: 'deleted', path: '/b' }] } as Partial<CommittedEntry>),
        entry(3n, 12n, main, { closedSessionId: 12n }),
        entry(4n, 13n, w0, { closedSessionId: 12n }),
      ],
      4n,
      3,
    );
    assert.deepEqual(out.messages[0]!.replies.map((r) => [r.tag, r.eventsBefore]), [[w0, 1], [w0, 2]]);
    assert.deepEqual(out.messages[1]!.replies.map((r) => r.tag), [w1]);
    assert.equal(out.messages[2]!.replies.length, 0, 'a worker with no reply still learns of the txns');
    assert.equal(out.messages[2]!.events.length, 2);
    assert.deepEqual(out.clientWriteSessions, [10n, 11n, 13n]);
    assert.deepEqual(out.mainEntries.map((e) => e.tag), [main]);
    assert.deepEqual(out.endedSessions, [{ sessionId: 12n, expired: true }], 'a session ends once; by the main thread = expired');
  });

  test('another server\'s entry and a txn read back from history fire events but are answered only by their origin', () => {
    const w0 = 1 * tagWorkerBits + 0;
    const out = fanOut(
      [
        entry(1n, 10n, w0, { origin: { serverId: 2, sessionId: 10n, tag: w0 }, events: [{ type: 'deleted', path: '/a' }] } as Partial<CommittedEntry>),
        entry(2n, 11n, w0, { origin: undefined, closedSessionId: 11n } as Partial<CommittedEntry>),
        entry(3n, 12n, w0, { origin: { serverId: 1, sessionId: 12n, tag: w0 } }),
      ],
      3n,
      1,
      1,
    );
    assert.deepEqual(out.messages[0]!.replies.map((r) => r.sessionId), [12n], 'only the entry of this server (id 1) is answered here');
    assert.equal(out.messages[0]!.events.length, 1, 'the other server\'s event still fires here');
    assert.deepEqual(out.clientWriteSessions, [12n]);
    assert.deepEqual(out.endedSessions, [{ sessionId: 11n, expired: false }]);
  });

  test('a batch with no txn and no reply for a worker sends it nothing', () => {
    const out = fanOut([entry(0n, 10n, 1 * tagWorkerBits + 0)], 7n, 2);
    assert.equal(out.messages[0]!.replies.length, 1);
    assert.equal(out.messages[1], null);
  });
});
