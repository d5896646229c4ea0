// Requests of ZooKeeper 3.6+ clients that node-zookeeper-client does not send, on a bare socket:
// create2 / createContainer / createTTL, getChildren (no stat), getAllChildrenNumber,
// getEphemerals, sync, addWatch, checkWatches / removeWatches, setWatches2, multiRead, whoAmI,
// SASL, and an opcode this server does not implement.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../helpers/server.js';
import { JuteOp } from '../../src/protocol/jute/codes.js';
import { startJuteServer, type JuteServer } from './helpers.js';
import { acl, RawJute, readStat } from './raw.js';
import { JuteReader, JuteWriter } from '../../src/protocol/jute/buffer.js';

const NONODE = -101;
const NOWATCHER = -121;

describe('raw jute requests', () => {
  let s: JuteServer;
  let c: RawJute;
  before(async () => {
    s = await startJuteServer({ workers: 2 });
    c = await RawJute.open(s.zkPort);
    const h = await c.handshake({ timeout: 10_000 });
    assert.ok(h && h.timeOut > 0 && h.sessionId > 0n);
  });
  after(async () => {
    c?.close();
    await s?.stop();
    s?.cleanup();
  });

  const create = (type: number, path: string, flags = 0, ttl?: bigint) =>
    c.call(type, (w) => {
      acl(w.ustring(path).buffer(Buffer.from('d'))).int(flags);
      if (ttl !== undefined) w.long(ttl);
    });

  test('create2, createContainer and createTTL answer Create2Response (path + stat)', async () => {
    for (const [type, path, flags, ttl] of [
      [JuteOp.create2, '/c2', 0, undefined],
      [JuteOp.createContainer, '/cont', 4, undefined],
      [JuteOp.createTTL, '/ttl', 5, 60_000n],
    ] as const) {
      const r = await create(type, path, flags, ttl);
      assert.equal(r.err, 0, `${path}`);
      assert.equal(r.r.ustring('path'), path);
      const czxid = r.r.long('czxid');
      assert.equal(czxid, r.zxid, 'the stat is the one of this txn; the header carries its zxid');
    }
    const plain = await create(JuteOp.create, '/plain');
    assert.equal(plain.r.ustring('path'), '/plain');
    assert.equal(plain.r.remaining, 0, 'CreateResponse has no stat');
  });

  test('a multi answers container and TTL creates with Create2Response, create and create2 with CreateResponse (as ZooKeeper 3.8)', async () => {
    await create(JuteOp.create, '/mc');
    const r = await c.call(JuteOp.multi, (w) => {
      acl(w.int(JuteOp.create).bool(false).int(-1).ustring('/mc/a').buffer(Buffer.from('x'))).int(0);
      acl(w.int(JuteOp.create2).bool(false).int(-1).ustring('/mc/b').buffer(Buffer.from('x'))).int(0);
      acl(w.int(JuteOp.createContainer).bool(false).int(-1).ustring('/mc/c').buffer(Buffer.from('x'))).int(4);
      acl(w.int(JuteOp.createTTL).bool(false).int(-1).ustring('/mc/d').buffer(Buffer.from('xy'))).int(5).long(100_000n);
      w.int(JuteOp.setData).bool(false).int(-1).ustring('/mc/a').buffer(Buffer.from('y')).int(0);
      w.int(-1).bool(true).int(-1);
    });
    assert.equal(r.err, 0);
    const a = r.r;
    const head = () => [a.int('type'), a.bool('done'), a.int('err')];
    assert.deepEqual(head(), [JuteOp.create, false, 0]);
    assert.equal(a.ustring('path'), '/mc/a');
    assert.deepEqual(head(), [JuteOp.create, false, 0], 'create2 in a multi: a plain CreateResponse, as ZooKeeper 3.8.0 answers');
    assert.equal(a.ustring('path'), '/mc/b');
    for (const path of ['/mc/c', '/mc/d']) {
      assert.deepEqual(head(), [JuteOp.create2, false, 0], path);
      assert.equal(a.ustring('path'), path);
      const st = readStat(a);
      assert.equal(st.czxid, r.zxid, `${path}: the stat of the node this multi created`);
      assert.equal(st.version, 0);
    }
    assert.deepEqual(head(), [JuteOp.setData, false, 0]);
    assert.equal(readStat(a).version, 1);
    assert.deepEqual(head(), [-1, true, -1]);
    assert.equal(a.remaining, 0);
  });

  test('getChildren without stat, getAllChildrenNumber, getEphemerals, sync', async () => {
    await create(JuteOp.create, '/gc');
    await create(JuteOp.create, '/gc/a');
    await create(JuteOp.create, '/gc/a/b');
    await create(JuteOp.create, '/gc/e', 1);
    const kids = await c.call(JuteOp.getChildren, (w) => w.ustring('/gc').bool(false));
    assert.deepEqual(kids.r.vector('children', 4, 100, (e) => e.ustring('c')).sort(), ['a', 'e']);
    assert.equal(kids.r.remaining, 0);
    const n = await c.call(JuteOp.getAllChildrenNumber, (w) => w.ustring('/gc'));
    assert.equal(n.r.int('totalNumber'), 3);
    const e = await c.call(JuteOp.getEphemerals, (w) => w.ustring('/gc'));
    assert.deepEqual(e.r.vector('ephemerals', 4, 100, (x) => x.ustring('p')), ['/gc/e']);
    const sync = await c.call(JuteOp.sync, (w) => w.ustring('/gc'));
    assert.equal(sync.err, 0);
    assert.equal(sync.r.ustring('path'), '/gc');
    const missing = await c.call(JuteOp.getChildren2, (w) => w.ustring('/none').bool(false));
    assert.equal(missing.err, NONODE);
    const ex = await c.call(JuteOp.exists, (w) => w.ustring('/none').bool(false));
    assert.equal(ex.err, NONODE, 'exists on a missing node: NONODE, no body');
    assert.equal(ex.r.remaining, 0);
  });

  test('addWatch persistent-recursive, checkWatches, removeWatches', async () => {
    await create(JuteOp.create, '/aw');
    const add = await c.call(JuteOp.addWatch, (w) => w.ustring('/aw').int(1));
    assert.equal(add.err, 0);
    assert.equal(add.r.int('ErrorResponse.err'), 0, 'addWatch answers an ErrorResponse body, as ZooKeeper');
    await create(JuteOp.create, '/aw/x');
    await c.call(JuteOp.setData, (w) => w.ustring('/aw/x').buffer(Buffer.from('z')).int(-1));
    await eventually(() => c.events.filter((e) => e.path.startsWith('/aw')).length >= 2, 10_000, 'two events');
    const evs = c.events.filter((e) => e.path.startsWith('/aw'));
    assert.deepEqual(evs.map((e) => [e.type, e.path, e.state]), [
      [1, '/aw/x', 3],
      [3, '/aw/x', 3],
    ]);
    assert.ok(evs[0]!.zxid > 0n && evs[1]!.zxid > evs[0]!.zxid, 'notifications carry their zxid');
    assert.equal((await c.call(JuteOp.checkWatches, (w) => w.ustring('/aw').int(5))).err, 0);
    assert.equal((await c.call(JuteOp.checkWatches, (w) => w.ustring('/aw').int(2))).err, NOWATCHER);
    assert.equal((await c.call(JuteOp.removeWatches, (w) => w.ustring('/aw').int(3))).err, 0);
    assert.equal((await c.call(JuteOp.checkWatches, (w) => w.ustring('/aw').int(5))).err, NOWATCHER);
  });

  test('setWatches2 re-arms watches and fires the ones missed since relativeZxid', async () => {
    await create(JuteOp.create, '/sw');
    const before = (await c.call(JuteOp.exists, (w) => w.ustring('/sw').bool(false))).zxid;
    await c.call(JuteOp.setData, (w) => w.ustring('/sw').buffer(Buffer.from('n')).int(-1));
    c.events.length = 0;
    const strings = (w: import('../../src/protocol/jute/buffer.js').JuteWriter, l: string[]) => {
      w.int(l.length);
      for (const p of l) w.ustring(p);
    };
    const r = await c.call(
      JuteOp.setWatches2,
      (w) => {
        w.long(before);
        strings(w, ['/sw']);
        strings(w, ['/sw-later']);
        strings(w, []);
        strings(w, []);
        strings(w, []);
      },
      -8,
    );
    assert.equal(r.xid, -8);
    assert.equal(r.err, 0);
    assert.deepEqual(c.events.map((e) => [e.type, e.path]), [[3, '/sw']], 'the missed change fires at once');
    await create(JuteOp.create, '/sw-later');
    await eventually(() => c.events.length === 2, 10_000, 'the exist watch fires');
    assert.deepEqual([c.events[1]!.type, c.events[1]!.path], [1, '/sw-later']);
  });

  test('ConnectRequest timeout negotiation: into [2, 20] ticks, a zero or negative ask gets the minimum (as ZooKeeper 3.8)', async () => {
    // The test server ticks every 200 ms: 400..4000 ms (ZooKeeper 3.8.0 with tickTime 2000
    // answered 1, 0, -5 and 3999 with 4000, 10000 with 10000, 1e9 with 40000).
    for (const [ask, got] of [
      [1, 400],
      [0, 400],
      [-5, 400],
      [399, 400],
      [1_000, 1_000],
      [4_000, 4_000],
      [4_001, 4_000],
    ] as const) {
      const r = await RawJute.open(s.zkPort);
      const h = await r.handshake({ timeout: ask });
      r.close();
      assert.equal(h?.timeOut, got, `asked ${ask}`);
    }
  });

  test('closeSession is answered with its xid, then the connection closes and the session\'s ephemerals go', async () => {
    const r = await RawJute.open(s.zkPort);
    assert.ok(await r.handshake());
    const e = await r.call(JuteOp.create, (w) => acl(w.ustring('/bye').buffer(Buffer.alloc(0))).int(1));
    assert.equal(e.err, 0);
    const bye = await r.call(JuteOp.closeSession, () => {}, 41);
    assert.deepEqual([bye.xid, bye.err, bye.r.remaining], [41, 0, 0]);
    await r.closedP;
    const ex = await c.call(JuteOp.exists, (w) => w.ustring('/bye').bool(false));
    assert.equal(ex.err, NONODE, 'the ephemeral went with its session, before the close was answered');
  });

  test('setWatches (101, the 3.4 form): data, exist and child lists, the missed changes fire at once', async () => {
    await create(JuteOp.create, '/sw1');
    const rel = (await c.call(JuteOp.exists, (w) => w.ustring('/sw1').bool(false))).zxid;
    await c.call(JuteOp.setData, (w) => w.ustring('/sw1').buffer(Buffer.from('n')).int(-1));
    await create(JuteOp.create, '/sw1/k');
    c.events.length = 0;
    const strings = (w: JuteWriter, l: string[]) => {
      w.int(l.length);
      for (const p of l) w.ustring(p);
    };
    const r = await c.call(
      JuteOp.setWatches,
      (w) => {
        w.long(rel);
        strings(w, ['/sw1', '/sw1-gone']);
        strings(w, ['/sw1/k', '/sw1/later']);
        strings(w, ['/sw1', '/sw1-gone2']);
      },
      -8,
    );
    assert.deepEqual([r.xid, r.err, r.r.remaining], [-8, 0, 0]);
    // The same events, in the same order, as ZooKeeper 3.8.0 sent for this request.
    assert.deepEqual(
      c.events.map((e) => [e.type, e.state, e.path]),
      [
        [3, 3, '/sw1'],
        [2, 3, '/sw1-gone'],
        [1, 3, '/sw1/k'],
        [4, 3, '/sw1'],
        [2, 3, '/sw1-gone2'],
      ],
    );
    await create(JuteOp.create, '/sw1/later');
    await eventually(() => c.events.length === 6, 10_000, 'the re-armed exist watch fires');
    assert.deepEqual([c.events[5]!.type, c.events[5]!.path], [1, '/sw1/later']);
  });

  test('addWatch persistent (mode 0): the node\'s own changes and its children list, not deeper, and it stays', async () => {
    await create(JuteOp.create, '/pw');
    c.events.length = 0;
    assert.equal((await c.call(JuteOp.addWatch, (w) => w.ustring('/pw').int(0))).err, 0);
    await c.call(JuteOp.setData, (w) => w.ustring('/pw').buffer(Buffer.from('1')).int(-1));
    await create(JuteOp.create, '/pw/a');
    await create(JuteOp.create, '/pw/a/deep');
    await c.call(JuteOp.setData, (w) => w.ustring('/pw').buffer(Buffer.from('2')).int(-1));
    await eventually(() => c.events.length >= 3, 10_000, 'three events');
    await c.call(JuteOp.ping, () => {}, -2);
    assert.deepEqual(
      c.events.map((e) => [e.type, e.path]),
      [
        [3, '/pw'],
        [4, '/pw'],
        [3, '/pw'],
      ],
      'dataChanged, childrenChanged, dataChanged again: the watch stays; /pw/a/deep fires nothing',
    );
    assert.equal((await c.call(JuteOp.checkWatches, (w) => w.ustring('/pw').int(4))).err, 0, 'a persistent watch is there');
  });

  test('multiRead: getData and getChildren results and per-op errors in one MultiResponse', async () => {
    await create(JuteOp.create, '/mr');
    await create(JuteOp.create, '/mr/k');
    const r = await c.call(JuteOp.multiRead, (w) => {
      w.int(JuteOp.getData).bool(false).int(-1).ustring('/mr').bool(false);
      w.int(JuteOp.getChildren).bool(false).int(-1).ustring('/mr').bool(false);
      w.int(JuteOp.getData).bool(false).int(-1).ustring('/mr/none').bool(false);
      w.int(-1).bool(true).int(-1);
    });
    assert.equal(r.err, 0);
    assert.ok(r.zxid > 0n);
    const a = r.r;
    assert.deepEqual([a.int('type'), a.bool('done'), a.int('err')], [JuteOp.getData, false, 0]);
    assert.equal(Buffer.from(a.buffer('data')).toString(), 'd');
    assert.equal(readStat(a).numChildren, 1);
    assert.deepEqual([a.int('type'), a.bool('done'), a.int('err')], [JuteOp.getChildren, false, 0]);
    assert.deepEqual(a.vector('children', 4, 10, (e) => e.ustring('c')), ['k']);
    assert.deepEqual([a.int('type'), a.bool('done'), a.int('err'), a.int('ErrorResponse.err')], [JuteOp.error, false, NONODE, NONODE]);
    assert.deepEqual([a.int('type'), a.bool('done'), a.int('err')], [-1, true, -1]);
    assert.equal(a.remaining, 0);
    const none = await c.call(JuteOp.multiRead, (w) => w.int(-1).bool(true).int(-1));
    assert.deepEqual([none.err, none.r.int('type'), none.r.bool('done'), none.r.int('err')], [0, -1, true, -1], 'an empty multiRead');
  });

  test('requests pipelined behind the ConnectRequest are served after it, in order', async () => {
    const p = await RawJute.open(s.zkPort);
    try {
      const conn = new JuteWriter().int(0).long(0n).int(10_000).long(0n).buffer(new Uint8Array(16)).bool(false).frame();
      const reqs = [1, 2, 3, 4, 5].map((x) => acl(new JuteWriter().int(x).int(JuteOp.create).ustring(`/pipe${x}`).buffer(Buffer.alloc(0))).int(0).frame());
      p.write(Buffer.concat([conn, ...reqs]));
      const first = await p.next();
      assert.ok(first && first.length >= 36, 'a ConnectResponse first');
      for (let x = 1; x <= 5; x++) {
        const f = await p.next();
        assert.ok(f);
        const r = new JuteReader(f);
        assert.deepEqual([r.int('xid'), r.long('zxid') > 0n, r.int('err'), r.ustring('path')], [x, true, 0, `/pipe${x}`]);
      }
    } finally {
      p.close();
    }
  });

  test('auth digest (xid -4), whoAmI, SASL refused, an unimplemented opcode answered', async () => {
    const auth = await c.call(JuteOp.auth, (w) => w.int(0).ustring('digest').buffer(Buffer.from('bob:pw')), -4);
    assert.equal(auth.xid, -4);
    assert.equal(auth.err, 0);
    // A digest credential without a colon is accepted, as ZooKeeper's digest provider does.
    const bare = await c.call(JuteOp.auth, (w) => w.int(0).ustring('digest').buffer(Buffer.from('nocolon')), -4);
    assert.deepEqual([bare.xid, bare.err], [-4, 0]);
    const who = await c.call(JuteOp.whoAmI);
    const infos = who.r.vector('clientInfo', 8, 10, (e) => [e.ustring('scheme'), e.ustring('user')]);
    assert.deepEqual(infos, [
      ['ip', '127.0.0.1'],
      ['digest', 'bob'],
      ['digest', 'nocolon'],
    ]);
    const sasl = await c.call(JuteOp.sasl, (w) => w.buffer(Buffer.from('token')));
    assert.equal(sasl.err, -115, 'AUTHFAILED');
    const rc = await c.call(JuteOp.reconfig, (w) => w.ustring('').ustring('').ustring('').long(-1n));
    assert.equal(rc.err, -6, 'UNIMPLEMENTED');
    assert.equal((await c.call(JuteOp.ping, () => {}, -2)).xid, -2, 'the connection still serves');
    await s.waitForLine(/SASL is not supported/);
  });
});
