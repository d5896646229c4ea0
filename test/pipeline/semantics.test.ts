// Scenario tests of facts verified against a real ZooKeeper 3.8.0 (src/server/pipeline/ZK-FACTS.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CREATOR_ALL_ACL, READ_ACL_UNSAFE } from '../../src/common/types.js';
import type { WriteResult } from '../../src/server/pipeline/api.js';
import { clientStat, containerOwner, digestAuthId, ttlOwner } from '../../src/server/pipeline/index.js';
import { Harness, op } from './harness.js';

function value<T extends string>(r: WriteResult, type: T): Extract<Extract<WriteResult, { ok: true }>['value'], { type: T }> {
  assert.ok(r.ok, `expected success, got ${JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
  assert.equal(r.value.type, type);
  return r.value as never;
}
const code = (r: WriteResult): string => (r.ok ? 'OK' : r.code);

test('fresh tree looks like a fresh ZooKeeper: root cversion -1, /zookeeper cversion -2, config read-only', () => {
  const h = new Harness();
  assert.equal(h.tree.statOf('/')!.cversion, -1);
  assert.equal(h.tree.statOf('/zookeeper')!.cversion, -2);
  assert.deepEqual(h.tree.acl(h.tree.aclIndexOf('/zookeeper/config')!), READ_ACL_UNSAFE);
  assert.equal(h.tree.statOf('/zookeeper/config')!.aversion, -1);
  assert.equal(code(h.run(op.setData('/zookeeper/config', 'x')).result), 'NOAUTH');
  for (const p of ['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']) assert.equal(code(h.run(op.delete(p)).result), 'BADARGUMENTS', p);
  assert.equal(value(h.run(op.create('/zookeeper/x')).result, 'create').path, '/zookeeper/x'); // ZooKeeper allows it
  assert.equal(code(h.run(op.create('/')).result), 'NODEEXISTS');
});

test('cversion counts creates and deletes; the sequential suffix counts creates only', () => {
  const h = new Harness();
  h.run(op.create('/p'));
  h.run(op.create('/p/a'));
  assert.equal(h.tree.statOf('/p')!.cversion, 1);
  h.run(op.delete('/p/a'));
  assert.equal(h.tree.statOf('/p')!.cversion, 2);
  assert.equal(value(h.run(op.create('/p/s-', '', 'persistent_sequential')).result, 'create').path, '/p/s-0000000001');
  assert.equal(value(h.run(op.create('/p/s-', '', 'persistent_sequential')).result, 'create').path, '/p/s-0000000002');
  h.run(op.delete('/p/s-0000000001'));
  h.run(op.delete('/p/s-0000000002'));
  const s = h.tree.statOf('/p')!;
  assert.equal(s.cversion, 6);
  assert.equal(s.numChildren, 0);
  assert.equal(value(h.run(op.create('/p/s-', '', 'persistent_sequential')).result, 'create').path, '/p/s-0000000003');
  assert.equal(value(h.run(op.create('/p/', '', 'persistent_sequential')).result, 'create').path, '/p/0000000004');
  // A failed create changes nothing; setData and setACL of a child leave the parent alone.
  const before = h.tree.statOf('/p');
  assert.equal(code(h.run(op.create('/p/s-0000000003')).result), 'NODEEXISTS');
  h.run(op.setData('/p/s-0000000003', 'hi'));
  h.run(op.setACL('/p/s-0000000003', [{ perms: 31, scheme: 'world', id: 'anyone' }], 0));
  assert.deepEqual(h.tree.statOf('/p'), before);
});

test('stats of setData and setACL, and BADVERSION on aversion', () => {
  const h = new Harness();
  const c = value(h.run(op.create('/n', 'ab')).result, 'create');
  h.now += 10;
  const e = h.run(op.setData('/n', 'xyz', 0));
  const s = value(e.result, 'setData').stat;
  assert.equal(s.version, 1);
  assert.equal(s.mzxid, e.zxid);
  assert.equal(s.czxid, c.stat.czxid);
  assert.equal(s.mtime, c.stat.ctime + 10);
  assert.equal(s.dataLength, 3);
  assert.deepEqual(e.events, [{ type: 'dataChanged', path: '/n' }]);
  const a = h.run(op.setACL('/n', [{ perms: 31, scheme: 'world', id: 'anyone' }], 0));
  const as = value(a.result, 'setACL').stat;
  assert.equal(as.aversion, 1);
  assert.equal(as.mzxid, e.zxid, 'setACL leaves mzxid');
  assert.deepEqual(a.events, []);
  assert.equal(code(h.run(op.setACL('/n', [{ perms: 31, scheme: 'world', id: 'anyone' }], 0)).result), 'BADVERSION');
  assert.deepEqual(clientStat(h.tree.statOf('/n')!), as);
});

test('ephemerals: no children, NODEEXISTS before NOCHILDRENFOREPHEMERALS, closeSession deletes them', () => {
  const h = new Harness();
  const sid = 0x1_0000_0648_6300_01n;
  h.run(op.create('/p'));
  h.run(op.create('/p/e', '', 'ephemeral'), sid);
  h.run(op.create('/p/q-', '', 'ephemeral_sequential'), sid);
  assert.equal(h.tree.statOf('/p/e')!.ephemeralOwner, sid);
  assert.equal(code(h.run(op.create('/p/e/c'), sid).result), 'NOCHILDRENFOREPHEMERALS');
  assert.equal(code(h.run(op.create('/p/e'), sid).result), 'NODEEXISTS');
  assert.equal(code(h.run(op.create('/p/e/c/d'), sid).result), 'NONODE');
  assert.deepEqual(value(h.run({ type: 'getEphemerals', prefix: '/' }, sid).result, 'getEphemerals').paths, ['/p/e', '/p/q-0000000001']);
  assert.deepEqual(h.pipeline.ephemeralsOf(sid), ['/p/e', '/p/q-0000000001']);
  const cversion = h.tree.statOf('/p')!.cversion;
  const close = h.run({ type: 'closeSession' }, sid);
  assert.equal(close.closedSessionId, sid);
  assert.notEqual(close.zxid, 0n);
  assert.deepEqual(close.events, [
    { type: 'deleted', path: '/p/e' },
    { type: 'childrenChanged', path: '/p' },
    { type: 'deleted', path: '/p/q-0000000001' },
    { type: 'childrenChanged', path: '/p' },
  ]);
  assert.equal(h.tree.statOf('/p')!.cversion, cversion + 2);
  assert.equal(h.tree.statOf('/p')!.pzxid, close.zxid);
  assert.deepEqual(h.pipeline.ephemeralsOf(sid), []);
  assert.equal(code(h.run(op.create('/p/late', '', 'ephemeral'), sid).result), 'SESSIONEXPIRED');
});

test('a request behind a prepared closeSession is SESSIONEXPIRED even before the close commits', () => {
  const h = new Harness();
  const sid = 0x2000n;
  h.submit({ type: 'closeSession' }, sid);
  const t = h.submit(op.create('/e', '', 'ephemeral'), sid);
  h.flush();
  assert.equal(code(h.entries.get(t)!.result), 'SESSIONEXPIRED');
});

test('container and TTL nodes: clients see ephemeralOwner 0, raw owner in the tree, sweeper rules', () => {
  const h = new Harness();
  const c = value(h.run(op.create('/c', '', 'container')).result, 'create');
  assert.equal(c.stat.ephemeralOwner, 0n);
  assert.equal(h.tree.statOf('/c')!.ephemeralOwner, containerOwner);
  const t = value(h.run(op.create('/t', '', 'persistent_with_ttl', undefined, 5000)).result, 'create');
  assert.equal(t.stat.ephemeralOwner, 0n);
  assert.equal(h.tree.statOf('/t')!.ephemeralOwner, ttlOwner(5000));
  for (const ttl of [0, -5, 0x100_0000_0000]) assert.equal(code(h.run(op.create('/t' + ttl, '', 'persistent_with_ttl', undefined, ttl)).result), 'BADARGUMENTS');
  assert.equal(code(h.run(op.create('/pt', '', 'persistent', undefined, 100)).result), 'BADARGUMENTS');
  assert.equal(value(h.run(op.create('/ts-', '', 'persistent_sequential_with_ttl', undefined, 60000)).result, 'create').path, '/ts-0000000002');
  // Children of containers and TTL nodes are allowed (ephemeral ones too).
  h.run(op.create('/t/x', '', 'ephemeral'), 0x3000n);
  h.run(op.create('/c/x'));
  assert.deepEqual(h.pipeline.findExpired(h.now), []);
  assert.equal(code(h.run({ type: 'deleteContainer', path: '/c' }).result), 'NOTEMPTY');
  h.run(op.delete('/c/x'));
  h.run({ type: 'closeSession' }, 0x3000n);
  h.now += 5001;
  assert.deepEqual(h.pipeline.findExpired(h.now).sort(), ['/c', '/t']);
  h.run(op.setData('/t', 'touch'));
  assert.deepEqual(h.pipeline.findExpired(h.now), ['/c']);
  assert.equal(code(h.run({ type: 'deleteContainer', path: '/t' }).result), 'BADVERSION', 'TTL refreshed since the sweep');
  h.run(op.create('/never', '', 'container'));
  assert.equal(code(h.run({ type: 'deleteContainer', path: '/never' }).result), 'BADVERSION', 'a container that never had a child stays');
  assert.equal(code(h.run({ type: 'deleteContainer', path: '/ts-0000000002' }).result), 'BADVERSION', 'TTL not yet expired');
  const d = h.run({ type: 'deleteContainer', path: '/c' });
  assert.ok(d.result.ok);
  assert.deepEqual(d.events, [{ type: 'deleted', path: '/c' }, { type: 'childrenChanged', path: '/' }]);
  assert.equal(h.tree.has('/c'), false);
});

test('multi: OK before the failing op, its code, RUNTIMEINCONSISTENCY after; nothing applied', () => {
  const h = new Harness();
  h.run(op.create('/p'));
  const before = h.tree.appliedZxid();
  const r = h.run(op.multi(op.create('/m1'), op.check('/p', 99), op.create('/m2'), op.delete('/nonexist'))).result;
  assert.deepEqual(r.ok ? null : { code: r.code, results: r.results }, {
    code: 'BADVERSION',
    results: [
      { op: 'error', code: 'OK' },
      { op: 'error', code: 'BADVERSION' },
      { op: 'error', code: 'RUNTIMEINCONSISTENCY' },
      { op: 'error', code: 'RUNTIMEINCONSISTENCY' },
    ],
  });
  assert.equal(h.tree.has('/m1'), false);
  assert.equal(h.tree.appliedZxid(), before, 'a failed multi makes no txn');
  // Ops see the ones before them; a sequential create rolled back does not use up its number.
  h.run(op.create('/m3'));
  assert.equal(code(h.run(op.multi(op.create('/m3/y', '', 'persistent_sequential'), op.check('/nonexist', 0))).result), 'NONODE');
  const ok = h.run(op.multi(op.create('/m3/x', '', 'persistent_sequential'), op.create('/m3/x', '', 'persistent_sequential'), op.delete('/m3/x0000000000'), op.setData('/m3', 'abc', 0), op.check('/m3', 1)));
  const results = value(ok.result, 'multi').results;
  assert.deepEqual(results.slice(0, 3).map((r) => (r.op === 'create' ? { op: r.op, path: r.path, czxid: r.stat.czxid } : r)), [
    { op: 'create', path: '/m3/x0000000000', czxid: ok.zxid },
    { op: 'create', path: '/m3/x0000000001', czxid: ok.zxid },
    { op: 'delete' },
  ]);
  assert.equal(results[4]!.op, 'check');
  const s = h.tree.statOf('/m3')!;
  assert.equal(s.cversion, 3);
  assert.equal(s.numChildren, 1);
  assert.equal(s.version, 1);
  assert.equal(s.pzxid, ok.zxid);
  assert.deepEqual(value(h.run(op.multi()).result, 'multi').results, []);
});

test('ACL: INVALIDACL before NONODE/NOAUTH, NOAUTH on the parent before NONODE on delete, auth expansion', () => {
  const h = new Harness();
  const u = [{ scheme: 'ip', id: '127.0.0.1' }, { scheme: 'digest', id: digestAuthId('u:p') }];
  const ipOnly = [{ scheme: 'ip', id: '127.0.0.1' }];
  assert.equal(digestAuthId('u:p'), 'u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=');
  h.run(op.create('/ro', '', 'persistent', READ_ACL_UNSAFE));
  assert.equal(code(h.run(op.create('/ro/x'), 1n, ipOnly).result), 'NOAUTH');
  assert.equal(code(h.run(op.create('/ro/x', '', 'persistent', []), 1n, ipOnly).result), 'INVALIDACL');
  assert.equal(code(h.run(op.create('/nonexist/x', '', 'persistent', []), 1n, ipOnly).result), 'INVALIDACL');
  assert.equal(code(h.run(op.create('/a1', '', 'persistent', CREATOR_ALL_ACL), 1n, ipOnly).result), 'INVALIDACL');
  assert.equal(code(h.run(op.delete('/ro/nonexist'), 1n, ipOnly).result), 'NOAUTH');
  assert.equal(code(h.run(op.setData('/ro', 'x', 5), 1n, ipOnly).result), 'NOAUTH');
  assert.ok(value(h.run(op.multi(op.check('/ro', 0)), 1n, ipOnly).result, 'multi'));
  h.run(op.create('/d1', '', 'persistent', CREATOR_ALL_ACL), 1n, u);
  assert.deepEqual(h.tree.acl(h.tree.aclIndexOf('/d1')!), [{ perms: 31, scheme: 'digest', id: 'u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=' }]);
  assert.equal(code(h.run(op.setData('/d1', 'x'), 2n, ipOnly).result), 'NOAUTH');
  assert.ok(h.run(op.setData('/d1', 'x'), 2n, u).result.ok);
  assert.ok(h.run(op.setData('/d1', 'y'), 3n, [{ scheme: 'super', id: '' }]).result.ok);
  h.run(op.create('/a8', '', 'persistent', [{ perms: 31, scheme: 'ip', id: '127.0.0.0/8' }]));
  assert.ok(h.run(op.create('/a8/x'), 1n, ipOnly).result.ok);
  h.run(op.create('/a9', '', 'persistent', [{ perms: 31, scheme: 'ip', id: '10.0.0.0/8' }]));
  assert.equal(code(h.run(op.create('/a9/x'), 1n, ipOnly).result), 'NOAUTH');
});

test('bad input: data over the limit says so, bad paths, bad versions', () => {
  const h = new Harness({ dataBytesMax: 4 });
  const r = h.run(op.create('/big', '12345')).result;
  assert.ok(!r.ok && r.code === 'BADARGUMENTS' && /5 bytes.*limit of 4 bytes/.test(r.message ?? ''), JSON.stringify(r));
  assert.ok(h.run(op.create('/ok', '1234')).result.ok);
  for (const p of ['', 'rel', '/a/', '/a//b', '/a/./b', '/a\u0000b']) assert.equal(code(h.run(op.create(p)).result), 'BADARGUMENTS', JSON.stringify(p));
  assert.equal(code(h.run(op.setData('/ok', 'x', 1.5)).result), 'BADARGUMENTS');
  assert.equal(code(h.run(op.setData('/ok', 'x', -2)).result), 'BADVERSION');
});

test('pipelined writes see each other before commit; replies keep submission order', () => {
  const h = new Harness();
  const tags = [
    h.submit(op.create('/a')),
    h.submit(op.create('/a/b', 'x')),
    h.submit(op.create('/a/b')), // NODEEXISTS against a pending create
    h.submit(op.setData('/a/b', 'yy', 0)),
    h.submit({ type: 'sync', path: '/' }),
    h.submit(op.delete('/a')), // NOTEMPTY: the pending child counts
    h.submit(op.create('/a/s', '', 'persistent_sequential')),
    h.submit(op.delete('/a/b', 1)),
    h.submit(op.create('/a/s', '', 'persistent_sequential')),
  ];
  assert.equal(h.tree.has('/a'), false, 'nothing applied before logged()');
  const committed: number[] = [];
  h.pipeline.commit((entries) => committed.push(...entries.map((e) => e.tag)));
  assert.deepEqual(committed, [], 'the first entry waits for its fsync, and everything behind it');
  h.flush();
  const codes = tags.map((t) => code(h.entries.get(t)!.result));
  assert.deepEqual(codes, ['OK', 'OK', 'NODEEXISTS', 'OK', 'OK', 'NOTEMPTY', 'OK', 'OK', 'OK']);
  assert.equal(value(h.entries.get(tags[8]!)!.result, 'create').path, '/a/s0000000002', 'suffix = creations (b, s1), deletes do not count');
  const zxids = tags.map((t) => h.entries.get(t)!.zxid).filter((z) => z !== 0n);
  assert.deepEqual(zxids, [...zxids].sort((x, y) => (x < y ? -1 : 1)));
  assert.equal(zxids[0], (1n << 32n) | 1n, 'epoch 1, first counter 1');
});

test('throttling: a full pipeline answers THROTTLEDOP in order and says so', () => {
  const h = new Harness({ pendingMax: 2 });
  h.submit(op.create('/a'));
  h.submit(op.create('/b'));
  assert.equal(h.pipeline.canAccept(), false);
  const t = h.submit(op.create('/c'));
  h.flush();
  assert.equal(code(h.entries.get(t)!.result), 'THROTTLEDOP');
  assert.equal(h.tree.has('/c'), false);
  assert.equal(h.pipeline.canAccept(), true);
});
