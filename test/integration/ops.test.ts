// Every operation of CLIENT_API.md against a real server process, with ZooKeeper's semantics.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, ZookooperError, type Stat } from '../../src/index.js';
import { eventually, startServer, type TestServer } from '../helpers/server.js';

type Client = Awaited<ReturnType<typeof connect>>;

async function rejectsWith(p: Promise<unknown>, code: string): Promise<ZookooperError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ZookooperError, `expected a ZookooperError, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    return err;
  }
  assert.fail(`expected ${code}, but the call succeeded`);
}

describe('operations against a real server', () => {
  let server: TestServer;
  let zk: Client;
  before(async () => {
    server = await startServer({ workers: 2 });
    zk = await connect(server.connectString, { sessionTimeoutMs: 10_000 });
  });
  after(async () => {
    await zk?.close();
    await server?.stop();
    server?.cleanup();
  });

  test('create, getData, exists, setData, delete with Stat rules', async () => {
    assert.equal(await zk.create('/a', 'hello'), '/a');
    const { data, stat } = await zk.getData('/a');
    assert.equal(data.toString(), 'hello');
    assert.equal(stat.version, 0);
    assert.equal(stat.dataLength, 5);
    assert.equal(stat.czxid, stat.mzxid);
    assert.equal(stat.czxid, stat.pzxid);
    assert.equal(stat.ephemeralOwner, 0n);
    assert.equal(stat.numChildren, 0);
    assert.ok(stat.ctime > 0 && stat.ctime === stat.mtime);
    const s2 = await zk.setData('/a', 'world!');
    assert.equal(s2.version, 1);
    assert.equal(s2.dataLength, 6);
    assert.ok(s2.mzxid > stat.mzxid);
    assert.equal(s2.czxid, stat.czxid);
    await rejectsWith(zk.setData('/a', 'x', 0), 'BADVERSION');
    const s3 = await zk.setData('/a', 'x', 1);
    assert.equal(s3.version, 2);
    const ex = await zk.exists('/a');
    assert.ok(ex);
    assert.equal(ex.version, 2);
    assert.equal(await zk.exists('/nope'), null);
    await rejectsWith(zk.delete('/a', 5), 'BADVERSION');
    await zk.delete('/a', 2);
    assert.equal(await zk.exists('/a'), null);
    await rejectsWith(zk.delete('/a'), 'NONODE');
    await rejectsWith(zk.getData('/a'), 'NONODE');
  });

  test('errors: NODEEXISTS, NONODE parent, NOTEMPTY, NOCHILDRENFOREPHEMERALS, BADARGUMENTS', async () => {
    await zk.create('/e1');
    await rejectsWith(zk.create('/e1'), 'NODEEXISTS');
    await rejectsWith(zk.create('/missing/child'), 'NONODE');
    await zk.create('/e1/c');
    await rejectsWith(zk.delete('/e1'), 'NOTEMPTY');
    await zk.create('/eph', '', { mode: 'ephemeral' });
    await rejectsWith(zk.create('/eph/c'), 'NOCHILDRENFOREPHEMERALS');
    await rejectsWith(zk.create('bad'), 'BADARGUMENTS');
    await rejectsWith(zk.create('/a//b'), 'BADARGUMENTS');
    await rejectsWith(zk.create('/a/'), 'BADARGUMENTS');
    await rejectsWith(zk.create('/a/./b'), 'BADARGUMENTS');
  });

  test('parent cversion, pzxid and numChildren follow child create/delete', async () => {
    await zk.create('/p');
    const before = (await zk.exists('/p'))!;
    assert.equal(before.cversion, 0);
    await zk.create('/p/a');
    await zk.create('/p/b');
    const mid = (await zk.exists('/p'))!;
    assert.equal(mid.cversion, 2);
    assert.equal(mid.numChildren, 2);
    assert.ok(mid.pzxid > before.pzxid);
    assert.equal(mid.version, 0, 'child changes do not touch the data version');
    await zk.delete('/p/a');
    const after = (await zk.exists('/p'))!;
    assert.equal(after.numChildren, 1);
    assert.ok(after.pzxid > mid.pzxid);
    assert.ok(after.cversion >= 2);
    const { children, stat } = await zk.getChildrenWithStat('/p');
    assert.deepEqual(children, ['b']);
    assert.equal(stat.numChildren, 1);
  });

  test('sequential names: 10 digits, counting the parent child creations', async () => {
    await zk.create('/seq');
    const a = await zk.create('/seq/n-', '', { mode: 'persistent_sequential' });
    const b = await zk.create('/seq/n-', '', { mode: 'persistent_sequential' });
    assert.equal(a, '/seq/n-0000000000');
    assert.equal(b, '/seq/n-0000000001');
    await zk.delete(b);
    const c = await zk.create('/seq/n-', '', { mode: 'ephemeral_sequential' });
    assert.match(c, /^\/seq\/n-\d{10}$/);
    assert.ok(Number(c.slice(-10)) > 1, 'a sequence number is never reused after a delete');
    const d = await zk.create('/seq/', '', { mode: 'persistent_sequential' });
    assert.match(d, /^\/seq\/\d{10}$/);
  });

  test('getChildren, getAllChildrenNumber, getEphemerals', async () => {
    await zk.create('/t');
    await zk.create('/t/x');
    await zk.create('/t/x/y');
    await zk.create('/t/z', '', { mode: 'ephemeral' });
    assert.deepEqual((await zk.getChildren('/t')).sort(), ['x', 'z']);
    assert.equal(await zk.getAllChildrenNumber('/t'), 3);
    const eph = await zk.getEphemerals('/t');
    assert.deepEqual(eph, ['/t/z']);
    assert.ok((await zk.getEphemerals()).includes('/t/z'));
    await rejectsWith(zk.getChildren('/t/none'), 'NONODE');
  });

  test('data size limit: 1,048,576 bytes accepted, one more rejected with BADARGUMENTS', async () => {
    const max = new Uint8Array(1_048_576).fill(7);
    await zk.create('/big', max);
    const { data, stat } = await zk.getData('/big');
    assert.equal(stat.dataLength, 1_048_576);
    assert.equal(data.length, 1_048_576);
    assert.equal(data[1000], 7);
    const err = await rejectsWith(zk.setData('/big', new Uint8Array(1_048_577)), 'BADARGUMENTS');
    assert.match(err.message, /1048577|1,048,577|limit/);
    assert.equal((await zk.exists('/big'))!.version, 0, 'rejected write changed nothing');
  });

  test('multi: atomic success and all-or-nothing failure with per-op results', async () => {
    await zk.create('/m');
    const res = await zk.multi([
      { op: 'create', path: '/m/a', data: '1' },
      { op: 'create', path: '/m/b' },
      { op: 'setData', path: '/m/a', data: '2' },
      { op: 'check', path: '/m', version: 0 },
      { op: 'delete', path: '/m/b' },
    ]);
    assert.deepEqual(res.map((r) => r.op), ['create', 'create', 'setData', 'check', 'delete']);
    assert.equal((await zk.getData('/m/a')).data.toString(), '2');
    const err = await rejectsWith(
      zk.multi([
        { op: 'create', path: '/m/c' },
        { op: 'check', path: '/m/a', version: 99 },
        { op: 'delete', path: '/m/a' },
      ]),
      'BADVERSION',
    );
    assert.ok(Array.isArray(err.results));
    assert.equal(err.results.length, 3);
    assert.deepEqual((err.results as { op: string; code: string }[]).map((r) => r.code), ['OK', 'BADVERSION', 'RUNTIMEINCONSISTENCY']);
    assert.equal(await zk.exists('/m/c'), null, 'nothing of a failed multi applied');
    assert.ok(await zk.exists('/m/a'));
  });

  test('ACLs: digest, auth, world, NOAUTH and INVALIDACL', async () => {
    const other = await connect(server.connectString);
    try {
      await rejectsWith(zk.create('/acl-auth', '', { acl: [{ perms: 31, scheme: 'auth', id: '' }] }), 'INVALIDACL');
      await zk.addAuth('digest', 'alice:secret');
      await zk.create('/acl', 'private', { acl: [{ perms: 31, scheme: 'auth', id: '' }] });
      const { acl } = await zk.getACL('/acl');
      assert.equal(acl.length, 1);
      assert.equal(acl[0]!.scheme, 'digest');
      assert.match(acl[0]!.id, /^alice:/);
      assert.equal((await zk.getData('/acl')).data.toString(), 'private');
      await rejectsWith(other.getData('/acl'), 'NOAUTH');
      await rejectsWith(other.setData('/acl', 'x'), 'NOAUTH');
      await other.addAuth('digest', 'alice:wrong');
      await rejectsWith(other.getData('/acl'), 'NOAUTH');
      await other.addAuth('digest', 'alice:secret');
      assert.equal((await other.getData('/acl')).data.toString(), 'private');
      await zk.create('/ro', 'r', { acl: [{ perms: 1 | 16, scheme: 'world', id: 'anyone' }] }); // READ + ADMIN: setACL needs ADMIN
      await rejectsWith(zk.setData('/ro', 'w'), 'NOAUTH');
      const st = await zk.setACL('/ro', [{ perms: 31, scheme: 'world', id: 'anyone' }], 0);
      assert.equal(st.aversion, 1);
      await zk.setData('/ro', 'w');
      await rejectsWith(zk.setACL('/ro', [{ perms: 31, scheme: 'world', id: 'anyone' }], 0), 'BADVERSION');
      await rejectsWith(zk.create('/badacl', '', { acl: [] }), 'INVALIDACL');
      await zk.create('/ipacl', '', { acl: [{ perms: 31, scheme: 'ip', id: '127.0.0.1' }] });
      assert.ok(await other.getData('/ipacl'));
      await zk.create('/ipacl2', '', { acl: [{ perms: 31, scheme: 'ip', id: '10.0.0.0/8' }] });
      await rejectsWith(other.getData('/ipacl2'), 'NOAUTH');
    } finally {
      await other.close();
    }
  });

  test('container and TTL nodes', async () => {
    await zk.create('/ctr', '', { mode: 'container' });
    await zk.create('/ctr/child');
    const ttlPath = await zk.create('/ttl', 'x', { mode: 'persistent_with_ttl', ttlMs: 100 });
    assert.equal(ttlPath, '/ttl');
    const st: Stat | null = await zk.exists('/ctr');
    assert.ok(st);
    assert.equal(st.ephemeralOwner, 0n, 'containers show no ephemeral owner');
    await rejectsWith(zk.create('/ttl0', '', { mode: 'persistent_with_ttl', ttlMs: 0 }), 'BADARGUMENTS');
    // The sweeper removes an expired childless TTL node and a container whose last child went.
    await zk.delete('/ctr/child');
    await eventually(async () => (await zk.exists('/ttl')) === null, 15_000, 'TTL node removed');
    await eventually(async () => (await zk.exists('/ctr')) === null, 15_000, 'empty container removed');
  });

  test('reserved /zookeeper subtree: present, its nodes cannot be deleted, config is read-only', async () => {
    assert.ok(await zk.exists('/zookeeper'));
    assert.ok(await zk.exists('/zookeeper/config'));
    await rejectsWith(zk.delete('/zookeeper'), 'BADARGUMENTS');
    await rejectsWith(zk.delete('/zookeeper/quota'), 'BADARGUMENTS');
    await rejectsWith(zk.setData('/zookeeper/config', 'x'), 'NOAUTH');
    await rejectsWith(zk.delete('/'), 'BADARGUMENTS');
  });

  test('sync then read sees the latest state; per-session FIFO of pipelined requests', async () => {
    await zk.create('/fifo', '0');
    const ops: Promise<unknown>[] = [];
    const order: number[] = [];
    for (let i = 1; i <= 200; i++) {
      const n = i;
      if (i % 3 === 0) {
        // A read waits behind the session's earlier writes: it sees the write just before it.
        ops.push(zk.getData('/fifo').then(({ data }) => {
          order.push(n);
          assert.equal(data.toString(), String(n - 1));
        }));
      } else {
        ops.push(zk.setData('/fifo', String(i)).then(() => order.push(n)));
      }
    }
    await Promise.all(ops);
    assert.deepEqual(order, Array.from({ length: 200 }, (_, i) => i + 1), 'answers come in request order');
    await zk.sync('/fifo');
    assert.equal((await zk.getData('/fifo')).data.toString(), '200');
  });
});
