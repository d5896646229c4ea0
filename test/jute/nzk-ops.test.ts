// node-zookeeper-client (an unchanged ZooKeeper client from npm) against a real server process on
// its jute port: every operation and error code it exposes, watches, reconnect, expiry.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../helpers/server.js';
import { startJuteServer, type JuteServer } from './helpers.js';
import { codeOf, nzk, nzkConnect, type Nzk, type NzkEvent } from './nzk.js';

const E = nzk.Exception;

describe('node-zookeeper-client on the jute port', () => {
  let s: JuteServer;
  let c: Nzk;
  before(async () => {
    s = await startJuteServer({ workers: 2 });
    c = await nzkConnect(s.zkConnect);
  });
  after(async () => {
    await c?.close();
    await s?.stop();
    s?.cleanup();
  });

  test('create, getData, exists, setData, remove and their error codes', async () => {
    assert.equal(await c.create('/ops', 'hello'), '/ops');
    const { data, stat } = await c.getData('/ops');
    assert.equal(data.toString(), 'hello');
    assert.equal(stat.version, 0);
    assert.equal(stat.dataLength, 5);
    assert.equal((await c.exists('/ops'))!.version, 0);
    assert.equal(await c.exists('/missing'), null);
    assert.equal((await c.setData('/ops', 'bye', 0)).version, 1);
    assert.equal(await codeOf(c.setData('/ops', 'x', 0)), E.BAD_VERSION);
    assert.equal(await codeOf(c.create('/ops', 'again')), E.NODE_EXISTS);
    assert.equal(await codeOf(c.getData('/nope')), E.NO_NODE);
    assert.equal(await codeOf(c.create('/nope/child')), E.NO_NODE);
    await c.create('/ops/kid');
    assert.equal(await codeOf(c.remove('/ops')), E.NOT_EMPTY);
    assert.equal(await codeOf(c.remove('/ops/kid', 5)), E.BAD_VERSION);
    await c.remove('/ops/kid', 0);
    await c.remove('/ops');
    assert.equal(await c.exists('/ops'), null);
    assert.equal(await codeOf(c.remove('/ops')), E.NO_NODE);
  });

  test('ephemeral and sequential nodes, getChildren with stat, mkdirp', async () => {
    await c.mkdirp('/seq/a/b');
    const p1 = await c.create('/seq/n-', null, nzk.CreateMode.PERSISTENT_SEQUENTIAL);
    const p2 = await c.create('/seq/n-', null, nzk.CreateMode.EPHEMERAL_SEQUENTIAL);
    assert.match(p1, /^\/seq\/n-\d{10}$/);
    assert.ok(p2 > p1);
    const eph = await c.exists(p2);
    assert.equal(eph!.ephemeralOwner.toString('hex'), c.raw.getSessionId().toString('hex'));
    assert.equal(await codeOf(c.create(`${p2}/x`)), E.NO_CHILDREN_FOR_EPHEMERALS);
    const { children, stat } = await c.getChildren('/seq');
    assert.deepEqual(children.sort(), ['a', p1.slice(5), p2.slice(5)].sort());
    assert.equal(stat.numChildren, 3);
  });

  test('ACLs: getACL, setACL, digest auth, NOAUTH, INVALIDACL', async () => {
    await c.create('/acl', 'x');
    const { acls } = await c.getACL('/acl');
    assert.deepEqual(acls.map((a) => [a.permission, a.id.scheme, a.id.id]), [[31, 'world', 'anyone']]);
    await c.setACL('/acl', nzk.ACL.READ_ACL_UNSAFE, 0);
    assert.equal(await codeOf(c.setData('/acl', 'y')), E.NO_AUTH);
    assert.equal((await c.getData('/acl')).data.toString(), 'x');
    await c.create('/acl2');
    const owner = await nzkConnect(s.zkConnect);
    try {
      owner.raw.addAuthInfo('digest', Buffer.from('alice:secret'));
      await owner.create('/acl2/private', 'p', 0, nzk.ACL.CREATOR_ALL_ACL);
      assert.equal((await owner.getData('/acl2/private')).data.toString(), 'p');
      assert.equal(await codeOf(c.getData('/acl2/private')), E.NO_AUTH);
      const got = await owner.getACL('/acl2/private');
      assert.equal(got.acls[0]!.id.scheme, 'digest');
      assert.match(got.acls[0]!.id.id, /^alice:/);
    } finally {
      await owner.close();
    }
    assert.equal(await codeOf(c.create('/bad-acl', null, 0, [new nzk.ACL(31, new nzk.Id('digest', 'nocolon'))])), E.INVALID_ACL);
  });

  test('transactions: all or nothing, per-op results', async () => {
    await c.create('/tx', 'v');
    const ok = await c.commit(c.raw.transaction().create('/tx/a').setData('/tx', Buffer.from('w'), 0).check('/tx', 1).remove('/tx/a'));
    assert.deepEqual(ok.map((r) => r.type), [1, 5, 13, 2]);
    assert.equal(ok[0]!.path, '/tx/a');
    // (node-zookeeper-client turns a version 0 into -1 in a transaction: use another stale one.)
    const err = (await c.commit(c.raw.transaction().create('/tx/b').check('/tx', 5).create('/tx/c')).then(
      () => assert.fail('the transaction should fail'),
      (e: Error & { code: number; results?: { err?: number }[] }) => e,
    )) as { code: number; results?: { err?: number }[] };
    assert.equal(err.code, E.BAD_VERSION);
    // ZooKeeper's failed multi: every op an ErrorResult, OK before the failing one, then
    // RUNTIMEINCONSISTENCY after it.
    assert.deepEqual(err.results?.map((r) => r.err), [0, E.BAD_VERSION, -2]);
    assert.equal(await c.exists('/tx/b'), null);
  });

  test('watches: data, exists, children fire once with ZooKeeper event types', async () => {
    await c.create('/w', 'a');
    const events: NzkEvent[] = [];
    const push = (e: NzkEvent): void => void events.push(e);
    await c.getData('/w', push);
    await c.exists('/w/new', push);
    await c.getChildren('/w', push);
    await c.setData('/w', 'b');
    await c.create('/w/new');
    await c.setData('/w', 'c'); // the data watch was used up: no second event
    await eventually(() => events.length >= 3, 10_000, 'three events');
    assert.deepEqual(
      events.map((e) => [e.name, e.path]),
      [
        ['NODE_DATA_CHANGED', '/w'],
        ['NODE_CREATED', '/w/new'],
        ['NODE_CHILDREN_CHANGED', '/w'],
      ],
    );
    await c.getData('/w/new', push);
    await c.remove('/w/new');
    await eventually(() => events.length === 4, 10_000, 'the deleted event');
    assert.deepEqual([events[3]!.name, events[3]!.path], ['NODE_DELETED', '/w/new']);
  });

  test('reconnect with the same session id and password keeps the session and its ephemerals', async () => {
    const a = await nzkConnect(s.zkConnect, { sessionTimeout: 8_000 });
    await a.create('/keep', null, nzk.CreateMode.EPHEMERAL);
    const id = a.raw.getSessionId();
    const pw = a.raw.getSessionPassword();
    const b = await nzkConnect(s.zkConnect, { sessionId: id, sessionPassword: pw, sessionTimeout: 8_000 });
    try {
      assert.equal(b.raw.getSessionId().toString('hex'), id.toString('hex'));
      const st = await b.exists('/keep');
      assert.equal(st!.ephemeralOwner.toString('hex'), id.toString('hex'));
    } finally {
      await b.close();
      a.raw.close();
    }
    await eventually(async () => (await c.exists('/keep')) === null, 10_000, 'ephemeral gone once the session closed');
  });

  test('expiry: a reconnect to an unknown session, or with a wrong password, is told "expired"', async () => {
    const bogus = Buffer.from('00000000deadbeef', 'hex');
    await assert.rejects(nzkConnect(s.zkConnect, { sessionId: bogus, sessionPassword: Buffer.alloc(16) }), /expired/);
    const a = await nzkConnect(s.zkConnect);
    try {
      await assert.rejects(nzkConnect(s.zkConnect, { sessionId: a.raw.getSessionId(), sessionPassword: Buffer.alloc(16, 7) }), /expired/);
      assert.ok(await a.exists('/'), 'the real owner keeps its session');
    } finally {
      await a.close();
    }
  });

  test('a session that expires (client gone silent) is expired for its client and its ephemerals go', async () => {
    const a = await nzkConnect(s.zkConnect, { sessionTimeout: 1_000 });
    await a.create('/short', null, nzk.CreateMode.EPHEMERAL);
    const id = a.raw.getSessionId();
    const pw = a.raw.getSessionPassword();
    a.raw.close();
    await eventually(async () => (await c.exists('/short')) === null, 15_000, 'the ephemeral of the closed session gone');
    await assert.rejects(nzkConnect(s.zkConnect, { sessionId: id, sessionPassword: pw }), /expired/);
  });
});
