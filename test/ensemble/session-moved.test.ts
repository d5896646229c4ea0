// A session that moved to another server of the ensemble: the connection it left on its old
// server must not write for it any more (ZooKeeper's setOwner / checkSession: the leader knows
// which server owns each session, and a request forwarded by a stale owner fails SESSIONMOVED).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OPEN_ACL_UNSAFE } from '../../src/index.js';
import { encodeRequest, Opcode, type ServerMessage } from '../../src/protocol/index.js';
import type { Ensemble } from '../cluster/harness.js';
import { RawConnection } from '../helpers/raw.js';
import { clientOf, ensembleTest, startEnsemble, withRole } from './helpers.js';

const show = (m: unknown): string => JSON.stringify(m, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? '<bytes>' : v));

/** The answer to xid on this connection, or the closing frame / close that came instead. */
async function answerTo(raw: RawConnection, xid: number): Promise<ServerMessage | 'closed'> {
  for (;;) {
    let m: ServerMessage;
    try {
      m = await raw.next(ensembleTest.deadlineMs);
    } catch (err) {
      if (raw.closed) return 'closed';
      throw err;
    }
    if (m.kind === 'closing' || (m.kind === 'response' && m.xid === xid)) return m;
  }
}

describe('ensemble of 3: session identity across servers', () => {
  let e: Ensemble;
  before(async () => {
    e = await startEnsemble({ size: 3 });
  });
  after(async () => {
    await e?.stopAll();
  });

  test('every server hands out session ids of its own (server id in the top byte): no two clients ever share a session', async () => {
    // Every server learns every session (createSession is a txn); seeing one from a server with a
    // higher id must not move its own counter into that server's range.
    const made: { server: number; id: bigint }[] = [];
    const open = async (server: number): Promise<void> => {
      const zk = await clientOf(e.server(server));
      made.push({ server, id: zk.sessionId });
      await zk.create(`/own-${server}-${made.length}`, '', { mode: 'ephemeral' });
      await zk.close();
    };
    await open(3);
    await Promise.all([open(1), open(2)]);
    await open(2);
    await Promise.all([open(1), open(3)]);
    for (const m of made) assert.equal(Number(m.id >> 56n), m.server, `0x${m.id.toString(16)} handed out by s${m.server}`);
    assert.equal(new Set(made.map((m) => m.id)).size, made.length, made.map((m) => `s${m.server}:0x${m.id.toString(16)}`).join(' '));
  });

  for (const via of ['follower', 'leader'] as const) {
    test(`its old connection on a ${via} cannot write for it any more (SESSIONMOVED)`, async () => {
      const leaderId = await e.leader();
      const followers = await withRole(e, 'follower');
      const [oldServer, newServer] = via === 'follower' ? [followers[0]!, followers[1]!] : [leaderId, followers[0]!];
      const first = await RawConnection.session(e.server(oldServer).clientPort);
      const second = await RawConnection.session(e.server(newServer).clientPort, first.sessionId, first.password);
      const path = `/moved-${via}`;
      // The new owner writes (so the move is known wherever it must be), then the old one tries.
      second.raw.sendBytes(encodeRequest({ opcode: Opcode.create, xid: 1, path: `${path}-new`, data: new Uint8Array(), acl: OPEN_ACL_UNSAFE, mode: 'persistent', ttlMs: 0 }));
      const ok = await answerTo(second.raw, 1);
      assert.ok(ok !== 'closed' && ok.kind === 'response' && ok.error === null, show(ok));
      first.raw.sendBytes(encodeRequest({ opcode: Opcode.create, xid: 1, path, data: new Uint8Array(), acl: OPEN_ACL_UNSAFE, mode: 'persistent', ttlMs: 0 }));
      const stale = await answerTo(first.raw, 1);
      const code = stale === 'closed' ? 'closed' : stale.kind === 'closing' ? stale.code : stale.kind === 'response' ? stale.error : stale.kind;
      assert.equal(code, 'SESSIONMOVED', `the stale connection's write: ${show(stale)}`);
      const zk = await clientOf(e.server(leaderId));
      try {
        await zk.sync('/');
        assert.equal(await zk.exists(path), null, 'the stale write did not happen');
      } finally {
        await zk.close();
      }
      first.raw.close();
      second.raw.sendBytes(encodeRequest({ opcode: Opcode.close, xid: 2 }));
      await second.raw.waitClosed();
    });
  }
  test('a session created on the leader re-attaches on a follower at once (the follower catches up before deciding)', async () => {
    const leaderId = await e.leader();
    const follower = (await withRole(e, 'follower'))[0]!;
    await reattachRounds(e, leaderId, follower, 20);
  });

  test('a re-attach on a follower whose link from the leader lags still finds the session (it waits for a sync, not SESSIONEXPIRED)', async () => {
    // The leader's COMMIT of createSession reaches this follower late: without the catch-up the
    // follower answers "session expired or unknown" to a client that has just been given the session.
    const leaderId = await e.leader();
    const follower = (await withRole(e, 'follower'))[0]!;
    assert.ok(e.mesh !== null, 'the ensemble runs through fault proxies');
    e.mesh.delay(leaderId, follower, LAGGING_LINK_DELAY_MS);
    try {
      await reattachRounds(e, leaderId, follower, 3);
    } finally {
      e.mesh.delay(leaderId, follower, 0);
    }
  });
});

/** Sessions made on the leader and at once re-attached on the follower, `rounds` times. */
async function reattachRounds(e: Ensemble, leaderId: number, follower: number, rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const first = await RawConnection.session(e.server(leaderId).clientPort);
    const second = await RawConnection.session(e.server(follower).clientPort, first.sessionId, first.password);
    assert.equal(second.sessionId, first.sessionId, `round ${i}: the follower attached the same session`);
    first.raw.close();
    second.raw.sendBytes(encodeRequest({ opcode: Opcode.close, xid: 1 }));
    await second.raw.waitClosed();
  }
}

/** Well inside the ensemble's sync limit (the link stays up) and far above a loopback round trip. */
const LAGGING_LINK_DELAY_MS = 400;
