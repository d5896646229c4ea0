// The leader's view of which server holds each session (sessions/server-owner.ts) and the ids a
// server hands out (sessions/manager.ts), as plain functions.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { WriteRequest } from '../../src/server/pipeline/api.js';
import { mainTagSlot } from '../../src/server/main-requests.js';
import { SessionManager } from '../../src/server/sessions/manager.js';
import { serverOwnerCheck } from '../../src/server/sessions/server-owner.js';
import { tagWorkerBits } from '../../src/server/workers/messages.js';

const clientTag = 5 * tagWorkerBits + 0; // worker 0
const mainTag = 7 * tagWorkerBits + mainTagSlot;
const req = (sessionId: bigint, tag: number, op: WriteRequest['op'] = { type: 'delete', path: '/x', version: -1 }): WriteRequest => ({ sessionId, tag, authIds: [], op });

describe('serverOwnerCheck', () => {
  test('the first server to write owns the session; another one gets SESSIONMOVED until it claims the session', () => {
    const sessions = new SessionManager(100, 1, 0);
    sessions.created(10n, 4_000, new Uint8Array(16));
    const check = serverOwnerCheck(sessions);
    assert.equal(check(req(10n, clientTag), 2), null, 'no owner yet: server 2 takes it');
    assert.equal(check(req(10n, clientTag), 2), null);
    assert.equal(check(req(10n, clientTag), 3), 'SESSIONMOVED');
    assert.equal(check(req(10n, mainTag, { type: 'sync', path: '/' }), 3), null, 'server 3 claims it (a re-attach there)');
    assert.equal(check(req(10n, clientTag), 3), null);
    assert.equal(check(req(10n, clientTag), 2), 'SESSIONMOVED', 'the old server is refused now');
    // The leader's own expiry close (a main request that is no claim) is never refused and moves nothing.
    assert.equal(check(req(10n, mainTag, { type: 'closeSession' }), 1), null);
    assert.equal(check(req(10n, clientTag), 3), null);
    sessions.forgetOwnerServers();
    assert.equal(check(req(10n, clientTag), 2), null, 'a new leader: the first writer owns it again');
    assert.equal(check(req(99n, clientTag), 2), null, 'an unknown session is for isSessionLive to refuse');
  });
});

describe('SessionManager ids', () => {
  test('learning another server\'s sessions does not move this server\'s counter into their range', () => {
    const s1 = new SessionManager(100, 1, 1_000);
    const s3 = new SessionManager(100, 3, 1_000);
    const theirs = s3.newSessionId();
    s1.created(theirs, 4_000, new Uint8Array(16)); // s1 learns s3's session (a committed createSession)
    const mine = s1.newSessionId();
    assert.equal(mine >> 56n, 1n);
    assert.notEqual(mine, s3.newSessionId());
    // Its own ids (replayed from its log) still move it past them.
    const again = new SessionManager(100, 1, 1_000);
    again.created(mine, 4_000, new Uint8Array(16));
    assert.ok(again.newSessionId() > mine);
  });
});
