// Unit tests of the pipeline's ensemble roles: epochs, the learner's door (proposals, replies,
// apply on commit AND own fsync), derived answers, reset at an election, a new pipeline on a
// SNAP image, and the asserts that catch a driver calling the wrong door.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AssertionError } from '../../src/common/assert.js';
import { makeZxid } from '../../src/common/zxid.js';
import type { CommittedEntry, LeaderOutput, Origin, ProposalRecord, WriteOp } from '../../src/server/pipeline/api.js';
import type { Txn } from '../../src/server/pipeline/index.js';
import { Pipeline, decodeTxn, encodeTxn } from '../../src/server/pipeline/index.js';
import type { TreeWriter } from '../../src/server/tree/api.js';
import { createTree, treeFromImage } from '../../src/server/tree/index.js';
import { dumpTree, op } from './harness.js';

const S1 = 0x100_0000_0000_0001n;
const newTree = (): TreeWriter => createTree({ initialBytes: 1 << 20, maxBytes: 64 << 20 });
const clock = { nowMs: () => 1_700_000_000_000 };

function leader(tree = newTree(), epoch = 1): Pipeline {
  const p = new Pipeline(tree, { clock, epoch: 1, lastZxid: tree.appliedZxid(), serverId: 1 });
  p.becomeLeader(epoch, tree.appliedZxid());
  return p;
}

function follower(tree = newTree(), serverId = 2): Pipeline {
  const p = new Pipeline(tree, { clock, epoch: 1, lastZxid: tree.appliedZxid(), serverId });
  p.becomeFollower(tree.appliedZxid());
  return p;
}

function commitAll(p: Pipeline): CommittedEntry[] {
  const out: CommittedEntry[] = [];
  p.commit((es) => out.push(...es));
  return out;
}

/** Leader side: take everything, log it, commit it; returns the records and the leader's entries. */
function leaderRound(p: Pipeline): { records: ProposalRecord[]; replies: LeaderOutput[]; entries: CommittedEntry[] } {
  const records: ProposalRecord[] = [];
  const replies: LeaderOutput[] = [];
  for (const o of p.takeOutput()) {
    if (o.kind === 'propose') records.push(...o.records);
    else replies.push(o);
  }
  const last = records[records.length - 1]?.zxid;
  if (last !== undefined) {
    p.logged(last);
    p.quorumCommitted(last);
  }
  return { records, replies, entries: commitAll(p) };
}

let tag = 0;
const req = (o: WriteOp, origin?: Origin, sessionId = S1) => ({ sessionId, tag: origin?.tag ?? ++tag, authIds: [], op: o, ...(origin ? { origin } : {}) });

test('leader: new zxids are epoch << 32 | counter from 1; becomeLeader wants an empty pipeline and the whole log applied', () => {
  const tree = newTree();
  const p = leader(tree, 3);
  assert.equal(p.currentRole(), 'leader');
  p.submit(req(op.create('/a')));
  p.submit(req(op.create('/b')));
  assert.throws(() => p.becomeLeader(4, 0n), AssertionError, 'not while entries are in flight');
  const { records, entries } = leaderRound(p);
  assert.deepEqual(records.map((r) => r.zxid), [makeZxid(3, 1), makeZxid(3, 2)]);
  assert.deepEqual(records.map((r) => r.origin), [entries[0]!.origin, entries[1]!.origin]);
  assert.deepEqual(entries[0]!.origin, { serverId: 1, sessionId: S1, tag: entries[0]!.tag });
  assert.throws(() => p.takeLogRecords(), AssertionError, 'a leader takes takeOutput()');
  // An election: the next epoch restarts the counter.
  assert.deepEqual(p.reset(makeZxid(3, 2)), []);
  assert.throws(() => p.submit(req(op.create('/c'))), AssertionError, 'no submit while looking');
  assert.throws(() => p.becomeLeader(4, makeZxid(3, 5)), AssertionError, 'the tree must hold the whole log');
  assert.throws(() => p.becomeLeader(3, makeZxid(3, 2)), AssertionError, 'a new epoch is after the log');
  p.becomeLeader(4, makeZxid(3, 2));
  p.submit(req(op.create('/c')));
  assert.equal(leaderRound(p).records[0]!.zxid, makeZxid(4, 1));
});

test('leader: a txn applies only once it is both quorum-committed and in its own log', () => {
  const p = leader();
  p.submit(req(op.create('/a')));
  const [o] = p.takeOutput();
  assert.ok(o !== undefined && o.kind === 'propose');
  const z = o.records[0]!.zxid;
  p.quorumCommitted(z);
  assert.equal(commitAll(p).length, 0, 'committed but not logged here');
  p.logged(z);
  assert.equal(commitAll(p).length, 1);
});

test('standalone is unchanged: commits on its own fsync; entries and records carry origin serverId 0', () => {
  const tree = newTree();
  const p = new Pipeline(tree, { clock, epoch: 1, lastZxid: 0n });
  assert.equal(p.currentRole(), 'standalone');
  p.submit(req(op.create('/a')));
  p.submit(req(op.setData('/nope', 'x')));
  const recs = p.takeLogRecords();
  assert.equal(recs.length, 1);
  assert.deepEqual(recs[0]!.origin, { serverId: 0, sessionId: S1, tag: tag - 1 });
  p.logged(recs[0]!.zxid);
  const es = commitAll(p);
  assert.deepEqual(es.map((e) => e.origin?.serverId), [0, 0]);
  assert.equal(es[1]!.afterZxid, recs[0]!.zxid, 'a txn-less entry knows the zxid prepared before it');
  assert.equal(es[0]!.afterZxid, undefined);
});

test('follower: applies a proposal once committed AND logged; derives the leader\'s answer; same events; asserts order', () => {
  const lp = leader();
  const fp = follower();
  const forwarded: Origin = { serverId: 2, sessionId: S1, tag: 77 };
  lp.submit(req(op.create('/n', 'v'), forwarded));
  lp.submit(req(op.multi(op.setData('/n', 'x'), op.check('/n', 1), op.setData('/n', 'yy'), op.create('/n/c'), op.delete('/n/c'))));
  lp.submit(req(op.setACL('/n', [{ perms: 31, scheme: 'world', id: 'anyone' }], 0)));
  lp.submit(req(op.delete('/n', 2)));
  const { records, entries } = leaderRound(lp);
  assert.equal(records.length, 4);
  for (const r of records) fp.acceptProposal(r.zxid, r.bytes, r.origin);
  assert.throws(() => fp.acceptProposal(records[0]!.zxid, records[0]!.bytes, records[0]!.origin), AssertionError, 'zxid order');
  fp.quorumCommitted(records[3]!.zxid);
  assert.equal(commitAll(fp).length, 0, 'committed but not yet in the follower\'s log');
  fp.logged(records[1]!.zxid);
  const first = commitAll(fp);
  assert.equal(first.length, 2, 'applied through min(committed, logged)');
  fp.logged(records[3]!.zxid);
  const fe = [...first, ...commitAll(fp)];
  const shape = (e: CommittedEntry) => [e.zxid, e.sessionId, e.result, e.events, e.origin];
  assert.deepEqual(fe.map(shape), entries.map(shape));
  assert.deepEqual(fe[0]!.origin, forwarded, 'the forwarded request is answered by its origin');
  // Two setData of one node in a multi: each op reports its own stat.
  const multi = fe[1]!.result;
  assert.ok(multi.ok && multi.value.type === 'multi');
  const [a, , b] = multi.value.results;
  assert.ok(a?.op === 'setData' && b?.op === 'setData');
  assert.deepEqual([a.stat.version, a.stat.dataLength, b.stat.version, b.stat.dataLength], [1, 1, 2, 2]);
  assert.equal(multi.value.results[1]!.op, 'check');
  assert.throws(() => fp.submit(req(op.create('/x'))), AssertionError, 'a learner forwards its writes');
  assert.deepEqual(fp.takeLogRecords(), [], 'a learner logs through its core');
});

test('follower: a reply waits behind earlier proposals until the tree has applied afterZxid, in arrival order', () => {
  const lp = leader();
  const fp = follower();
  const mine = (t: number): Origin => ({ serverId: 2, sessionId: S1, tag: t });
  lp.submit(req(op.create('/a'), mine(1)));
  lp.submit(req(op.create('/a'), mine(2))); // NODEEXISTS: no txn, a REPLY
  lp.submit(req(op.setData('/a', 'x'), mine(3)));
  const out = lp.takeOutput();
  assert.deepEqual(out.map((o) => o.kind), ['propose', 'reply', 'propose'], 'the reply leaves between the proposals');
  for (const o of out) {
    if (o.kind === 'propose') for (const r of o.records) fp.acceptProposal(r.zxid, r.bytes, r.origin);
    else {
      assert.equal(o.afterZxid, makeZxid(1, 1));
      assert.ok(!o.result.ok && o.result.code === 'NODEEXISTS');
      assert.throws(() => fp.acceptReply(o.origin, makeZxid(1, 9), o.result), AssertionError, 'afterZxid was accepted');
      assert.throws(() => fp.acceptReply({ ...o.origin, serverId: 3 }, o.afterZxid, o.result), AssertionError, 'a reply comes to its origin');
      fp.acceptReply(o.origin, o.afterZxid, o.result);
    }
  }
  assert.equal(commitAll(fp).length, 0, 'nothing committed: the reply waits behind the first proposal');
  fp.logged(makeZxid(1, 2));
  fp.quorumCommitted(makeZxid(1, 1));
  const es = commitAll(fp);
  assert.deepEqual(es.map((e) => e.origin!.tag), [1, 2]);
  assert.equal(es[1]!.zxid, 0n);
  fp.quorumCommitted(makeZxid(1, 2));
  assert.deepEqual(commitAll(fp).map((e) => e.origin!.tag), [3]);
});

test('follower: sessions: createSession carries the table entry, closeSession its id, on every server', () => {
  const lp = leader();
  const fp = follower();
  const pw = new Uint8Array(16).fill(7);
  lp.submit(req({ type: 'createSession', timeoutMs: 5000, password: pw }, undefined, S1));
  lp.submit(req(op.create('/e', '', 'ephemeral'), undefined, S1));
  lp.submit(req({ type: 'closeSession' }, undefined, S1));
  const { records, entries } = leaderRound(lp);
  for (const r of records) fp.acceptProposal(r.zxid, r.bytes, r.origin);
  fp.logged(records[2]!.zxid);
  fp.quorumCommitted(records[2]!.zxid);
  const fe = commitAll(fp);
  assert.deepEqual(fe[0]!.createdSession, { sessionId: S1, timeoutMs: 5000, password: pw });
  assert.deepEqual(entries[0]!.createdSession, fe[0]!.createdSession);
  assert.equal(fe[2]!.closedSessionId, S1);
  assert.deepEqual(fe[2]!.events, entries[2]!.events);
  assert.deepEqual(fp.ephemeralsOf(S1), []);
});

test('reset: drops what is not applied (returned for CONNECTIONLOSS), forgets pending changes and closing sessions', () => {
  const tree = newTree();
  const p = leader(tree);
  p.submit(req(op.create('/kept')));
  leaderRound(p);
  const t1 = tag + 1;
  p.submit(req(op.create('/gone')));
  p.submit(req(op.create('/gone'))); // NODEEXISTS against the pending create
  p.submit(req({ type: 'closeSession' }, undefined, S1));
  p.submit(req(op.create('/x'), undefined, S1)); // SESSIONEXPIRED: the close is prepared
  const fwd: Origin = { serverId: 5, sessionId: 9n, tag: 1234 };
  p.submit(req({ type: 'sync', path: '/' }, fwd, 9n));
  const dropped = p.reset(makeZxid(1, 1)); // the log has only /kept
  assert.deepEqual(dropped.map((d) => [d.tag, d.origin?.serverId]), [[t1, 1], [t1 + 1, 1], [t1 + 2, 1], [t1 + 3, 1], [1234, 5]]);
  assert.deepEqual(dropped.map((d) => d.zxid !== 0n), [true, false, true, false, false]);
  assert.equal(p.pendingCount(), 0);
  assert.equal(p.currentRole(), 'looking');
  assert.ok(tree.has('/kept') && !tree.has('/gone'));
  p.becomeLeader(2, makeZxid(1, 1));
  p.submit(req(op.create('/gone')));
  p.submit(req(op.create('/y'), undefined, S1));
  const es = leaderRound(p).entries;
  assert.ok(es[0]!.result.ok, 'the dropped create left no pending change');
  assert.ok(es[1]!.result.ok, 'the dropped closeSession left the session open');
  assert.equal(es[0]!.zxid, makeZxid(2, 1));
});

test('reset then replay: logged records the tree lacks are applied without events, then the role starts', () => {
  const lt = newTree();
  const lp = leader(lt);
  lp.submit(req(op.create('/a')));
  lp.submit(req(op.create('/a/b')));
  const records = lp.takeOutput().flatMap((o) => (o.kind === 'propose' ? o.records : []));
  lp.logged(records[1]!.zxid);
  lp.quorumCommitted(records[0]!.zxid);
  assert.equal(commitAll(lp).length, 1);
  const last = records[1]!.zxid;
  assert.equal(lp.reset(last).length, 1);
  lp.replay(last, records[1]!.bytes);
  assert.equal(lt.appliedZxid(), last);
  lp.becomeFollower(last);
  // The same log on a follower that applied nothing: it may also feed the log as proposals.
  const ft = newTree();
  const fp = follower(ft);
  for (const r of records) fp.acceptProposal(r.zxid, r.bytes, null);
  fp.logged(last);
  fp.quorumCommitted(last);
  const fe = commitAll(fp);
  assert.deepEqual(fe.map((e) => [e.tag, e.origin]), [[0, undefined], [0, undefined]], 'history txns: nobody waits for them');
  assert.deepEqual(dumpTree(ft), dumpTree(lt));
});

test('after a SNAP: a new Pipeline on the image (system nodes, sessions, ephemerals, containers) follows and leads', () => {
  const lt = newTree();
  const lp = leader(lt);
  lp.submit(req({ type: 'createSession', timeoutMs: 5000, password: new Uint8Array(16) }));
  lp.submit(req(op.create('/c', '', 'container')));
  lp.submit(req(op.create('/c/k')));
  lp.submit(req(op.create('/e', '', 'ephemeral')));
  lp.submit(req(op.create('/t', '', 'persistent_with_ttl', undefined, 1000)));
  leaderRound(lp);
  const snapZxid = lt.appliedZxid();
  const ft = treeFromImage(lt.image(), { maxBytes: 64 << 20 });
  const fp = new Pipeline(ft, { clock, epoch: 1, lastZxid: snapZxid, serverId: 2 });
  assert.deepEqual(dumpTree(ft), dumpTree(lt), 'the image is taken as it is (system nodes untouched)');
  assert.deepEqual(fp.ephemeralsOf(S1), ['/e']);
  assert.deepEqual(fp.findExpired(clock.nowMs() + 5000), lp.findExpired(clock.nowMs() + 5000));
  fp.becomeFollower(snapZxid);
  lp.submit(req(op.delete('/c/k')));
  lp.submit(req({ type: 'closeSession' }));
  const { records, entries } = leaderRound(lp);
  for (const r of records) fp.acceptProposal(r.zxid, r.bytes, r.origin);
  fp.logged(records[1]!.zxid);
  fp.quorumCommitted(records[1]!.zxid);
  const fe = commitAll(fp);
  assert.deepEqual(fe.map((e) => e.events), entries.map((e) => e.events));
  assert.deepEqual(dumpTree(ft), dumpTree(lt));
  assert.deepEqual(fp.findExpired(clock.nowMs()), ['/c']);
  // It can lead from there too.
  fp.reset(ft.appliedZxid());
  fp.becomeLeader(2, ft.appliedZxid());
  fp.submit(req({ type: 'deleteContainer', path: '/c' }, undefined, 0n));
  const r = leaderRound(fp).entries[0]!;
  assert.ok(r.result.ok && r.result.value.type === 'deleteContainer');
});

test('txn codec: check ops and the deleteContainer form round-trip; old forms decode as before', () => {
  const multi: Txn = { type: 'ops', sessionId: S1, timeMs: 5, multi: true, ops: [{ type: 'check', path: '/a', version: 3 }, { type: 'delete', path: '/a', parentCversion: 2 }] };
  assert.deepEqual(decodeTxn(encodeTxn(multi)), multi);
  const sweep: Txn = { type: 'ops', sessionId: 0n, timeMs: 5, multi: false, deleteContainer: true, ops: [{ type: 'delete', path: '/c', parentCversion: 4 }] };
  assert.deepEqual(decodeTxn(encodeTxn(sweep)), sweep);
  const single: Txn = { ...sweep, sessionId: S1 };
  delete (single as { deleteContainer?: true }).deleteContainer;
  const back = decodeTxn(encodeTxn(single));
  assert.deepEqual(back, single);
  assert.equal('deleteContainer' in back, false, 'a plain delete has no deleteContainer field');
});
