// Unit tests of the shared-memory tree: each mutation, the reader view of it, ACL interning,
// images, growth, free-list reuse, unicode paths, large data and the writer's assertions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AssertionError } from '../../src/common/assert.js';
import { ZookooperError } from '../../src/common/errors.js';
import { OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, type ACL } from '../../src/common/types.js';
import { attachTree, createTree, treeFromImage, verifyTree, type TreeWriter } from '../../src/server/tree/index.js';
import { classOfSlots, slotsOfClass } from '../../src/server/tree/layout.js';

const none = new Uint8Array(0);

function create(t: TreeWriter, path: string, data: Uint8Array | string = none, zxid = 1n, aclIndex = 0): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  t.createNode(path, { data: bytes, aclIndex, ephemeralOwner: 0n, zxid, timeMs: 1000 });
}

function inWindow<T>(t: TreeWriter, zxid: bigint, fn: () => T): T {
  t.beginWrite();
  const v = fn();
  t.endWrite(zxid);
  return v;
}

test('a fresh tree holds / and the reserved /zookeeper nodes', () => {
  const t = createTree({ initialBytes: 65536 });
  assert.deepEqual(t.childNames('/'), ['zookeeper']);
  assert.deepEqual(t.childNames('/zookeeper')?.sort(), ['config', 'quota']);
  assert.equal(t.nodeCount(), 4);
  const stat = t.statOf('/zookeeper/quota');
  assert.deepEqual(stat, {
    czxid: 0n, mzxid: 0n, pzxid: 0n, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0,
    ephemeralOwner: 0n, dataLength: 0, numChildren: 0,
  });
  assert.equal(t.statOf('/')?.numChildren, 1);
  assert.deepEqual(t.acl(t.aclIndexOf('/zookeeper') ?? -1), OPEN_ACL_UNSAFE);
  assert.equal(t.appliedZxid(), 0n);
  assert.equal(t.has('/nope'), false);
  assert.equal(t.statOf('/nope'), null);
  verifyTree(t);
});

test('create, read through writer and reader, delete', () => {
  const t = createTree({ initialBytes: 65536 });
  const r = attachTree(t.buffer);
  const big = (1n << 63n) + 12345n; // beyond 2^53: zxids and session ids are exact 64-bit
  inWindow(t, 7n, () => {
    create(t, '/a', 'hello', 5n);
    t.createNode('/a/b', { data: Buffer.from('x'), aclIndex: 0, ephemeralOwner: big, zxid: big, timeMs: 1234.5 });
  });
  assert.equal(r.appliedZxid(), 7n);
  const got = r.getData('/a/b');
  assert.equal(got.zxid, 7n);
  assert.ok(got.value);
  assert.equal(got.value.data.toString(), 'x');
  assert.equal(got.value.stat.czxid, big);
  assert.equal(got.value.stat.pzxid, big);
  assert.equal(got.value.stat.ephemeralOwner, big);
  assert.equal(got.value.stat.ctime, 1234.5);
  assert.equal(got.value.stat.dataLength, 1);
  assert.deepEqual(r.getChildren('/a').value?.children, ['b']);
  assert.equal(r.stat('/a').value?.numChildren, 1);
  assert.equal(r.getData('/a', false).value?.data.length, 0);
  assert.equal(r.stat('/a').value?.dataLength, 5);
  assert.deepEqual(t.dataOf('/a'), Buffer.from('hello'));
  assert.equal(r.nodeCount(), 6);

  inWindow(t, 8n, () => t.deleteNode('/a/b'));
  assert.equal(r.stat('/a/b').value, null);
  assert.equal(r.stat('/a').value?.numChildren, 0);
  assert.deepEqual(r.getChildren('/a').value?.children, []);
  assert.equal(r.nodeCount(), 5);
  verifyTree(t);
});

test('children lists survive unlinking from the head, middle and tail', () => {
  const t = createTree({ initialBytes: 65536 });
  inWindow(t, 1n, () => {
    create(t, '/p');
    for (let i = 0; i < 5; i++) create(t, `/p/c${i}`);
  });
  inWindow(t, 2n, () => {
    t.deleteNode('/p/c4'); // head (children are linked first)
    t.deleteNode('/p/c2'); // middle
    t.deleteNode('/p/c0'); // tail
  });
  assert.deepEqual(t.childNames('/p')?.sort(), ['c1', 'c3']);
  assert.equal(t.statOf('/p')?.numChildren, 2);
  verifyTree(t);
});

test('setData grows, shrinks and empties data; updateStat sets each field', () => {
  const t = createTree({ initialBytes: 65536 });
  const r = attachTree(t.buffer);
  inWindow(t, 1n, () => create(t, '/n', 'abc'));
  for (const len of [0, 3, 4, 8, 9, 100, 5000, 7, 0, 1]) {
    const data = Buffer.alloc(len, len % 251);
    inWindow(t, 2n, () => t.setData('/n', data));
    assert.deepEqual(r.getData('/n').value?.data, data);
    assert.equal(r.stat('/n').value?.dataLength, len);
  }
  const acl = inWindow(t, 3n, () => t.internAcl(READ_ACL_UNSAFE));
  inWindow(t, 4n, () =>
    t.updateStat('/n', { mzxid: 11n, pzxid: 12n, mtime: 99, version: 3, cversion: -1, aversion: 2, aclIndex: acl, sequence: 42 }),
  );
  const s = r.stat('/n').value;
  assert.ok(s);
  assert.equal(s.mzxid, 11n);
  assert.equal(s.pzxid, 12n);
  assert.equal(s.czxid, 1n);
  assert.equal(s.mtime, 99);
  assert.equal(s.ctime, 1000);
  assert.equal(s.version, 3);
  assert.equal(s.cversion, -1);
  assert.equal(s.aversion, 2);
  assert.equal(t.sequenceOf('/n'), 42);
  assert.equal(t.aclIndexOf('/n'), acl);
  assert.equal(r.getData('/n').value?.aclIndex, acl);
  assert.deepEqual(r.acl(acl), READ_ACL_UNSAFE);
  inWindow(t, 5n, () => t.updateStat('/n', { version: 4 })); // absent fields unchanged
  assert.equal(r.stat('/n').value?.mzxid, 11n);
  assert.equal(r.stat('/n').value?.version, 4);
  verifyTree(t);
});

test('countDescendants and forEachNode (parents first)', () => {
  const t = createTree({ initialBytes: 65536 });
  inWindow(t, 1n, () => {
    for (const p of ['/a', '/a/b', '/a/b/c', '/a/d', '/e']) create(t, p);
  });
  const r = attachTree(t.buffer);
  assert.equal(r.countDescendants('/a').value, 3);
  assert.equal(r.countDescendants('/a/b/c').value, 0);
  assert.equal(r.countDescendants('/').value, 8); // 5 + /zookeeper, quota, config
  assert.equal(r.countDescendants('/x').value, null);
  const seen: string[] = [];
  t.forEachNode((path) => {
    if (path !== '/') assert.ok(seen.includes(path.slice(0, path.lastIndexOf('/')) || '/'), `${path} after its parent`);
    seen.push(path);
  });
  assert.equal(seen.length, 9);
  assert.equal(seen[0], '/');
});

test('batch() reads several paths from one state', () => {
  const t = createTree({ initialBytes: 65536 });
  inWindow(t, 3n, () => {
    create(t, '/a', '1');
    create(t, '/b', '2');
  });
  const r = attachTree(t.buffer);
  const v = r.batch((view) => [view.getData('/a')?.data.toString(), view.getData('/b')?.data.toString(), view.stat('/c')]);
  assert.deepEqual(v, { zxid: 3n, value: ['1', '2', null] });
  assert.equal(t.batch((view) => view.getChildren('/')?.children.length).value, 3);
});

test('ACL lists are interned once, in order-sensitive identity, with a bound', () => {
  const t = createTree({ initialBytes: 65536 });
  const a: ACL[] = [{ perms: 1, scheme: 'digest', id: 'u:h' }, { perms: 31, scheme: 'world', id: 'anyone' }];
  const b = [a[1]!, a[0]!];
  const ia = t.internAcl(a); // outside a window: opens its own
  assert.equal(t.internAcl(a.map((x) => ({ ...x }))), ia);
  const ib = inWindow(t, 1n, () => t.internAcl(b));
  assert.notEqual(ia, ib);
  assert.equal(t.internAcl(OPEN_ACL_UNSAFE), 0);
  const r = attachTree(t.buffer);
  assert.deepEqual(r.acl(ia), a);
  assert.equal(r.acl(ia), r.acl(ia), 'readers cache decoded lists');
  assert.throws(() => r.acl(999), AssertionError);
  // Fill up to the bound: the directory moves several times on the way.
  t.beginWrite();
  const start = t.internAcl([{ perms: 1, scheme: 'ip', id: 'x' }]);
  for (let i = start + 1; i < 65_536; i++) t.internAcl([{ perms: 1, scheme: 'ip', id: String(i) }]);
  assert.throws(
    () => t.internAcl([{ perms: 1, scheme: 'ip', id: 'one too many' }]),
    (e: unknown) => e instanceof ZookooperError && e.code === 'SYSTEMERROR',
  );
  t.endWrite(2n);
  assert.deepEqual(r.acl(65_535), [{ perms: 1, scheme: 'ip', id: '65535' }]);
  assert.deepEqual(r.acl(ia), a);
  verifyTree(t);
});

test('image round trip keeps every node and stays writable', () => {
  const t = createTree({ initialBytes: 65536 });
  const acl = t.internAcl(READ_ACL_UNSAFE);
  inWindow(t, 9n, () => {
    for (let i = 0; i < 300; i++) create(t, `/n${i}`, `d${i}`, BigInt(i), i % 2 === 0 ? 0 : acl);
    for (let i = 0; i < 300; i += 3) t.deleteNode(`/n${i}`);
  });
  const image = t.image();
  assert.equal(image.length, t.memoryUsage().usedBytes);
  const u = treeFromImage(image, { initialBytes: 65536 });
  const dump = (w: TreeWriter): string[] => {
    const out: string[] = [];
    w.forEachNode((p, s) => out.push(`${p} ${String(s.czxid)} ${w.dataOf(p)?.toString()} ${String(w.aclIndexOf(p))}`));
    return out.sort();
  };
  assert.deepEqual(dump(u), dump(t));
  assert.equal(u.appliedZxid(), 9n);
  assert.equal(u.internAcl(READ_ACL_UNSAFE), acl, 'the intern map is rebuilt from the image');
  inWindow(u, 10n, () => create(u, '/n0', 'again'));
  assert.equal(attachTree(u.buffer).getData('/n0').value?.data.toString(), 'again');
  assert.equal(t.has('/n0'), false, 'the copy is independent');
  verifyTree(u);
});

test('garbage images are rejected with a clear Error', () => {
  const t = createTree({ initialBytes: 65536 });
  const good = t.image();
  const bad = (mutate: (b: Uint8Array) => Uint8Array, re: RegExp): void => {
    assert.throws(() => treeFromImage(mutate(good.slice())), (e: unknown) => e instanceof Error && re.test(e.message));
  };
  bad(() => new Uint8Array(10), /smaller than a header/);
  bad((b) => b.fill(0x41), /bad magic/);
  bad((b) => b.reverse(), /magic|byte order/);
  bad((b) => {
    new Uint32Array(b.buffer)[1] = 99;
    return b;
  }, /format version 99/);
  bad((b) => b.subarray(0, b.length - 8), /used region/);
  bad((b) => {
    new Uint32Array(b.buffer)[8] = 0xfffffff0; // index ref
    return b;
  }, /index outside/);
  // A scribbled node record passes the header checks but not the structure walk.
  bad((b) => {
    const root = new Uint32Array(b.buffer)[10]!;
    new Uint32Array(b.buffer)[root * 2 + 16] = 5; // root numChildren
    return b;
  }, /numChildren/);
});

test('the buffer grows in place from 64 KiB while readers stay attached', () => {
  const t = createTree({ initialBytes: 65536, maxBytes: 64 * 1_048_576 });
  const r = attachTree(t.buffer);
  const start = t.memoryUsage().capacityBytes;
  assert.equal(start, 65536);
  let grows = 0;
  let cap = start;
  for (let b = 0; b < 40; b++) {
    inWindow(t, BigInt(b + 1), () => {
      for (let i = 0; i < 500; i++) create(t, `/g${b}_${i}`, Buffer.alloc(100, i & 0xff));
    });
    const now = t.memoryUsage().capacityBytes;
    if (now !== cap) grows++;
    cap = now;
    assert.equal(r.getData(`/g${b}_499`).value?.data[99], 499 & 0xff, 'a reader attached before the grow sees new memory');
  }
  assert.ok(grows >= 4, `grew ${grows} times`);
  assert.equal(t.buffer.byteLength, cap);
  assert.equal(r.getChildren('/').value?.children.length, 20_001);
  verifyTree(t);
  const tiny = createTree({ initialBytes: 65536, maxBytes: 65536 });
  tiny.beginWrite();
  assert.throws(
    () => create(tiny, '/big', Buffer.alloc(100_000)),
    (e: unknown) => e instanceof ZookooperError && e.code === 'SYSTEMERROR',
  );
});

test('freed blocks are reused: churn does not grow the used region', () => {
  const t = createTree({ initialBytes: 65536 });
  const round = (z: bigint): void => {
    inWindow(t, z, () => {
      for (let i = 0; i < 1000; i++) create(t, `/c${i}`, Buffer.alloc(i % 300, 1));
    });
    inWindow(t, z + 1n, () => {
      for (let i = 0; i < 1000; i++) t.deleteNode(`/c${i}`);
    });
  };
  round(1n);
  const after1 = t.memoryUsage().usedBytes;
  for (let z = 3n; z < 40n; z += 2n) round(z);
  assert.equal(t.memoryUsage().usedBytes, after1);
  assert.ok(t.memoryUsage().freeListBytes > 0);
  verifyTree(t);
});

test('unicode paths and names', () => {
  const t = createTree({ initialBytes: 65536 });
  const paths = ['/héllo', '/héllo/世界', '/héllo/世界/Ωmega-ü', '/héllo/ascii-but-a-long-name-over-16', '/日本'];
  inWindow(t, 1n, () => paths.forEach((p) => create(t, p, p)));
  const r = attachTree(t.buffer);
  for (const p of paths) assert.equal(r.getData(p).value?.data.toString(), p);
  assert.deepEqual(r.getChildren('/héllo').value?.children.sort(), ['ascii-but-a-long-name-over-16', '世界']);
  assert.deepEqual(r.getChildren('/héllo/世界').value?.children, ['Ωmega-ü']);
  assert.equal(r.stat('/hello').value, null);
  const seen: string[] = [];
  t.forEachNode((p) => seen.push(p));
  for (const p of paths) assert.ok(seen.includes(p));
});

test('1 MiB data, and the data limit is asserted', () => {
  const t = createTree({ initialBytes: 65536 });
  const r = attachTree(t.buffer);
  const mib = Buffer.alloc(1_048_576);
  for (let i = 0; i < mib.length; i++) mib[i] = (i * 7) & 0xff;
  inWindow(t, 1n, () => create(t, '/big', mib));
  assert.ok(r.getData('/big').value?.data.equals(mib));
  const other = Buffer.alloc(1_048_576, 9);
  inWindow(t, 2n, () => t.setData('/big', other));
  assert.ok(r.getData('/big').value?.data.equals(other));
  t.beginWrite();
  assert.throws(() => t.setData('/big', Buffer.alloc(1_048_577)), AssertionError);
  t.endWrite(3n);
  verifyTree(t);
});

test('the writer asserts its preconditions', () => {
  const t = createTree({ initialBytes: 65536 });
  assert.throws(() => create(t, '/outside'), /outside a write window/);
  t.beginWrite();
  assert.throws(() => t.beginWrite(), AssertionError);
  assert.throws(() => t.image(), AssertionError);
  create(t, '/a');
  create(t, '/a/b');
  assert.throws(() => create(t, '/a'), /node exists/);
  assert.throws(() => create(t, '/x/y'), /parent missing/);
  assert.throws(() => t.deleteNode('/a'), /has children/);
  assert.throws(() => t.deleteNode('/nope'), /no node/);
  assert.throws(() => t.deleteNode('/'), /root/);
  assert.throws(() => t.setData('/nope', none), /no node/);
  assert.throws(() => t.updateStat('/a', { version: 2 ** 31 }), /i32/);
  assert.throws(() => t.updateStat('/a', { aclIndex: 77 }), /aclIndex/);
  assert.throws(() => t.updateStat('/a', { mzxid: -1n }), /u64/);
  assert.throws(() => t.createNode('/c', { data: none, aclIndex: 5, ephemeralOwner: 0n, zxid: 1n, timeMs: 0 }), /aclIndex/);
  t.endWrite(1n);
  assert.throws(() => t.endWrite(2n), /outside a write window/);
});

test('size classes cover every size with bounded waste', () => {
  let prev = -1;
  for (let s = 1; s < 300_000; s += s < 2000 ? 1 : 97) {
    const c = classOfSlots(s);
    const cap = slotsOfClass(c);
    assert.ok(cap >= s, `class ${c} holds ${s}`);
    assert.ok(c >= prev, 'classes are monotonic');
    assert.ok(s <= 512 ? cap === s : cap <= s * 1.125 + 1, `waste of ${s}`);
    if (c > 0) assert.ok(slotsOfClass(c - 1) < s, `${s} is not in a smaller class`);
    prev = c;
  }
});

test('internAcl: equal lists share an index, lists that differ only in where a separator falls do not, across an image', () => {
  const t = createTree({ initialBytes: 65536 });
  const a = t.internAcl([{ perms: 1, scheme: 'ip', id: '10.0.0.1:x' }]);
  const b = t.internAcl([{ perms: 1, scheme: 'ip:10.0.0.1', id: 'x' }]);
  const c = t.internAcl([{ perms: 1, scheme: 'ip', id: '10.0.0.1' }, { perms: 3, scheme: 'world', id: 'anyone' }]);
  const d = t.internAcl([{ perms: 13, scheme: 'ip', id: '10.0.0.1' }]);
  assert.equal(new Set([a, b, c, d]).size, 4);
  assert.equal(t.internAcl([{ perms: 1, scheme: 'ip', id: '10.0.0.1:x' }]), a, 'an equal list (another array) is the same index');
  const again = treeFromImage(t.image());
  assert.equal(again.internAcl([{ perms: 1, scheme: 'ip:10.0.0.1', id: 'x' }]), b, 'the index is rebuilt from the stored lists');
  assert.equal(again.internAcl([{ perms: 3, scheme: 'world', id: 'anyone' }]), Math.max(a, b, c, d) + 1);
});
