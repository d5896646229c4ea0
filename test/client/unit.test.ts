// The client's pure parts: connect strings, chroot mapping, watch bookkeeping, argument checks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { checkAcl, checkData, checkMode, checkPath, checkTtl, checkVersion } from '../../src/client/args.js';
import { Chroot } from '../../src/client/chroot.js';
import { hostUrl, parseConnectString } from '../../src/client/connect-string.js';
import { Fifo } from '../../src/client/fifo.js';
import { WatchManager } from '../../src/client/watch-manager.js';
import { ZookooperError } from '../../src/common/errors.js';
import type { WatchedEvent, Watcher } from '../../src/common/types.js';
import { WatchBits } from '../../src/protocol/codes.js';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ZookooperError, String(e));
    return e.code;
  }
  return 'none';
}

describe('connect string', () => {
  test('hosts, default port, chroot, IPv6', () => {
    assert.deepEqual(parseConnectString('127.0.0.1:2181'), { hosts: [{ host: '127.0.0.1', port: 2181 }], chroot: '' });
    assert.deepEqual(parseConnectString('a:1,b,c:3/app/x'), {
      hosts: [
        { host: 'a', port: 1 },
        { host: 'b', port: 2181 },
        { host: 'c', port: 3 },
      ],
      chroot: '/app/x',
    });
    assert.deepEqual(parseConnectString('h:1/'), { hosts: [{ host: 'h', port: 1 }], chroot: '' });
    assert.deepEqual(parseConnectString('[::1]:2182,[fe80::1]'), {
      hosts: [
        { host: '::1', port: 2182 },
        { host: 'fe80::1', port: 2181 },
      ],
      chroot: '',
    });
    assert.deepEqual(parseConnectString(' a:1 , b:2 ').hosts.length, 2);
    assert.equal(hostUrl({ host: '::1', port: 5 }), 'ws://[::1]:5/');
    assert.equal(hostUrl({ host: 'h', port: 5 }), 'ws://h:5/');
  });
  test('bad strings are BADARGUMENTS', () => {
    for (const s of ['', '   ', 'a:0', 'a:65536', 'a:x', '/chroot', 'a:1/bad/', 'a:1/a//b', '[::1', ':5']) {
      assert.equal(code(() => parseConnectString(s)), 'BADARGUMENTS', s);
    }
  });
});

describe('chroot', () => {
  test('maps paths out and back', () => {
    const c = new Chroot('/app');
    assert.equal(c.toServer('/'), '/app');
    assert.equal(c.toServer('/x/y'), '/app/x/y');
    assert.equal(c.fromServer('/app'), '/');
    assert.equal(c.fromServer('/app/x/y'), '/x/y');
    assert.equal(c.fromServer('/apple'), null, 'a sibling with the same prefix is outside');
    assert.equal(c.fromServer('/other'), null);
    const none = new Chroot('');
    assert.equal(none.toServer('/x'), '/x');
    assert.equal(none.fromServer('/x'), '/x');
  });
  test('property: fromServer(toServer(p)) === p', () => {
    const seg = fc.stringMatching(/^[a-z0-9]{1,5}$/);
    const path = fc.array(seg, { maxLength: 5 }).map((s) => '/' + s.join('/'));
    fc.assert(
      fc.property(path, path, (root, p) => {
        const c = new Chroot(root);
        assert.equal(c.fromServer(c.toServer(p)), p);
      }),
    );
  });
});

describe('watch manager', () => {
  const rec = (): { w: Watcher; events: WatchedEvent[] } => {
    const events: WatchedEvent[] = [];
    return { w: (e) => events.push(e), events };
  };

  test('one-shot watches fire once; the same function twice fires once', () => {
    const m = new WatchManager();
    const a = rec();
    m.addData('/x', a.w);
    m.addData('/x', a.w);
    m.addExist('/x', a.w);
    const got = m.materialize('dataChanged', '/x');
    assert.equal(got.size, 1);
    assert.equal(m.materialize('dataChanged', '/x').size, 0, 'gone after firing');
    assert.equal(m.size, 0);
  });

  test('which kinds each event reaches', () => {
    const m = new WatchManager();
    const data = rec();
    const exist = rec();
    const child = rec();
    m.addData('/x', data.w);
    m.addExist('/x', exist.w);
    m.addChild('/x', child.w);
    assert.deepEqual([...m.materialize('childrenChanged', '/x')], [child.w]);
    m.addChild('/x', child.w);
    assert.deepEqual(new Set(m.materialize('deleted', '/x')), new Set([data.w, exist.w, child.w]));
    m.addExist('/y', exist.w);
    assert.deepEqual([...m.materialize('created', '/y')], [exist.w]);
  });

  test('persistent and recursive watches stay; recursive skips childrenChanged and covers descendants', () => {
    const m = new WatchManager();
    const p = rec();
    const r = rec();
    m.addPersistent('/a', p.w, false);
    m.addPersistent('/a', r.w, true);
    for (let i = 0; i < 3; i++) assert.deepEqual(new Set(m.materialize('dataChanged', '/a')), new Set([p.w, r.w]));
    assert.deepEqual([...m.materialize('childrenChanged', '/a')], [p.w]);
    assert.deepEqual([...m.materialize('created', '/a/b/c')], [r.w]);
    assert.deepEqual([...m.materialize('created', '/ab')], [], 'a sibling prefix is no descendant');
    const root = rec();
    m.addPersistent('/', root.w, true);
    assert.ok(m.materialize('deleted', '/zz').has(root.w));
  });

  test('remove: per-watcher bookkeeping and the server bits', () => {
    const m = new WatchManager();
    const a = rec();
    const b = rec();
    m.addData('/x', a.w);
    m.addData('/x', b.w);
    m.addChild('/x', a.w);
    const r1 = m.remove('/x', a.w, 'data');
    assert.ok(r1);
    assert.equal(r1.serverBits, 0, 'b still needs the data registration');
    assert.deepEqual(r1.removed.map((x) => x.event), [{ type: 'dataWatchRemoved', path: '/x' }]);
    const r2 = m.remove('/x', b.w, 'data');
    assert.equal(r2?.serverBits, WatchBits.data);
    assert.equal(m.remove('/x', b.w, 'data'), null, 'nothing left: NOWATCHER');
    assert.equal(m.remove('/x', a.w, 'children')?.serverBits, WatchBits.child);
    assert.equal(m.remove('/nothing', null, 'any'), null);
  });

  test('remove with null removes all; any covers persistent; events deduplicated per function', () => {
    const m = new WatchManager();
    const a = rec();
    m.addData('/x', a.w);
    m.addExist('/x', a.w);
    m.addChild('/x', a.w);
    m.addPersistent('/x', a.w, false);
    m.addPersistent('/x', a.w, true);
    const r = m.remove('/x', null, 'any');
    assert.ok(r);
    assert.equal(r.serverBits, WatchBits.data | WatchBits.child | WatchBits.persistent | WatchBits.persistentRecursive);
    assert.deepEqual(r.removed.map((x) => x.event.type).sort(), ['childWatchRemoved', 'dataWatchRemoved', 'persistentWatchRemoved']);
    assert.equal(m.size, 0);
    // 'data' also removes persistent watches (ZooKeeper 3.6+)
    m.addPersistent('/p', a.w, false);
    assert.equal(m.remove('/p', a.w, 'data')?.serverBits, WatchBits.persistent);
    assert.equal(m.has('/p', 'any'), false);
  });

  test('lists for setWatches', () => {
    const m = new WatchManager();
    const a = rec();
    m.addData('/d', a.w);
    m.addExist('/e', a.w);
    m.addChild('/c', a.w);
    m.addPersistent('/p', a.w, false);
    m.addPersistent('/r', a.w, true);
    assert.deepEqual(m.lists(), { data: ['/d'], exist: ['/e'], child: ['/c'], persistent: ['/p'], persistentRecursive: ['/r'] });
  });

  test('model check: materialize and remove agree with a simple model', () => {
    type Kind = 'data' | 'exist' | 'child';
    const cmd = fc.oneof(
      fc.record({ t: fc.constant('add' as const), kind: fc.constantFrom<Kind>('data', 'exist', 'child'), path: fc.constantFrom('/a', '/b'), w: fc.nat(2) }),
      fc.record({ t: fc.constant('fire' as const), ev: fc.constantFrom('created', 'deleted', 'dataChanged', 'childrenChanged' as const), path: fc.constantFrom('/a', '/b') }),
    );
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 40 }), (cmds) => {
        const fns: Watcher[] = [() => {}, () => {}, () => {}];
        const m = new WatchManager();
        const model = new Set<string>(); // `${kind}|${path}|${w}`
        for (const c of cmds) {
          if (c.t === 'add') {
            if (c.kind === 'data') m.addData(c.path, fns[c.w]!);
            else if (c.kind === 'exist') m.addExist(c.path, fns[c.w]!);
            else m.addChild(c.path, fns[c.w]!);
            model.add(`${c.kind}|${c.path}|${c.w}`);
          } else {
            const kinds: Kind[] = c.ev === 'childrenChanged' ? ['child'] : c.ev === 'deleted' ? ['data', 'exist', 'child'] : ['data', 'exist'];
            const expected = new Set<Watcher>();
            for (const k of kinds)
              for (let w = 0; w < 3; w++)
                if (model.delete(`${k}|${c.path}|${w}`)) expected.add(fns[w]!);
            assert.deepEqual(m.materialize(c.ev, c.path), expected);
          }
        }
      }),
    );
  });
});

describe('argument checks', () => {
  test('paths, data size, versions, ACLs, modes, TTLs', () => {
    assert.equal(code(() => checkPath('a')), 'BADARGUMENTS');
    assert.equal(code(() => checkPath('/a/')), 'BADARGUMENTS');
    assert.equal(code(() => checkPath('/a/', true)), 'none');
    assert.equal(checkData(undefined, 10, '/a').byteLength, 0);
    assert.equal(checkData('é', 10, '/a').byteLength, 2);
    assert.equal(checkData(new Uint8Array(10), 10, '/a').byteLength, 10);
    const err = (() => {
      try {
        checkData(new Uint8Array(11), 10, '/a');
      } catch (e) {
        return e as ZookooperError;
      }
      return null;
    })();
    assert.equal(err?.code, 'BADARGUMENTS');
    assert.match(err?.message ?? '', /11 bytes, over the limit of 10/);
    assert.equal(code(() => checkData(42 as unknown as string, 10, '/a')), 'BADARGUMENTS');
    assert.equal(checkVersion(-1, '/a'), -1);
    assert.equal(code(() => checkVersion(-2, '/a')), 'BADARGUMENTS');
    assert.equal(code(() => checkVersion(1.5, '/a')), 'BADARGUMENTS');
    assert.equal(code(() => checkAcl([], '/a')), 'INVALIDACL');
    assert.equal(code(() => checkAcl([{ perms: 32, scheme: 'world', id: 'anyone' }], '/a')), 'INVALIDACL');
    assert.equal(code(() => checkAcl([{ perms: 31, scheme: 'world', id: 'anyone' }], '/a')), 'none');
    assert.equal(checkMode(undefined, '/a'), 'persistent');
    assert.equal(code(() => checkMode('weird', '/a')), 'BADARGUMENTS');
    assert.equal(checkTtl('persistent_with_ttl', 5, '/a'), 5);
    assert.equal(code(() => checkTtl('persistent_with_ttl', 0, '/a')), 'BADARGUMENTS');
    assert.equal(code(() => checkTtl('persistent', 5, '/a')), 'BADARGUMENTS');
    assert.equal(checkTtl('persistent', undefined, '/a'), 0);
  });
});

test('fifo keeps order through compaction', () => {
  const q = new Fifo<number>();
  let next = 0;
  let expect = 0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 100; i++) q.push(next++);
    for (let i = 0; i < 90; i++) assert.equal(q.shift(), expect++);
  }
  assert.equal(q.length, next - expect);
  q.unshiftAll([-1, -2]);
  assert.equal(q.shift(), -1);
  assert.equal(q.shift(), -2);
  assert.equal(q.peek(), expect);
  assert.equal(q.drain().length, next - expect);
  assert.equal(q.shift(), undefined);
});
