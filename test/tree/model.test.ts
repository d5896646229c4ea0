// Randomized tests: (1) the tree against a plain Map model, every read compared after every write
// window; (2) the read primitives over scribbled memory never throw, hang or allocate absurdly,
// which is what a reader racing the writer's reuse of memory relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createTree, attachTree, treeFromImage, verifyTree, type TreeWriter } from '../../src/server/tree/index.js';
import { RETRY, TreeMemory } from '../../src/server/tree/core.js';
import * as L from '../../src/server/tree/layout.js';

interface ModelNode {
  data: Buffer;
  version: number;
  mzxid: bigint;
  czxid: bigint;
  aclIndex: number;
}

type Op =
  | { kind: 'create'; parent: number; name: string; len: number }
  | { kind: 'delete'; pick: number }
  | { kind: 'set'; pick: number; len: number }
  | { kind: 'stat'; pick: number; version: number }
  | { kind: 'acl'; pick: number; acl: number }
  | { kind: 'commit' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('create' as const), parent: fc.nat(), name: fc.constantFrom('a', 'b', 'c', 'é', '世', 'n0000000001', 'longer-name-x'), len: fc.integer({ min: 0, max: 300 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), len: fc.integer({ min: 0, max: 5000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('stat' as const), pick: fc.nat(), version: fc.integer({ min: -5, max: 1000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('acl' as const), pick: fc.nat(), acl: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('commit' as const) }) },
);

function compare(t: TreeWriter, model: Map<string, ModelNode>, zxid: bigint): void {
  const r = attachTree(t.buffer);
  assert.equal(r.appliedZxid(), zxid);
  assert.equal(r.nodeCount(), model.size);
  const kids = new Map<string, string[]>();
  for (const p of model.keys()) {
    if (p === '/') continue;
    const parent = p.slice(0, p.lastIndexOf('/')) || '/';
    kids.set(parent, [...(kids.get(parent) ?? []), p.slice(p.lastIndexOf('/') + 1)]);
  }
  for (const [p, n] of model) {
    const got = r.getData(p).value;
    assert.ok(got, p);
    assert.ok(got.data.equals(n.data), `data of ${p}`);
    assert.equal(got.stat.dataLength, n.data.length);
    assert.equal(got.stat.version, n.version);
    assert.equal(got.stat.mzxid, n.mzxid);
    assert.equal(got.stat.czxid, n.czxid);
    assert.equal(got.aclIndex, n.aclIndex);
    const children = (kids.get(p) ?? []).sort();
    assert.deepEqual(r.getChildren(p).value?.children.sort(), children, `children of ${p}`);
    assert.equal(got.stat.numChildren, children.length);
    assert.deepEqual(t.childNames(p)?.sort(), children);
  }
  assert.equal(r.countDescendants('/').value, model.size - 1);
  assert.equal(r.stat('/never').value, null);
  verifyTree(t);
}

test('randomized operations agree with a Map model', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 300 }), (ops) => {
      const t = createTree({ initialBytes: 65536 });
      const acls = [0, t.internAcl([{ perms: 1, scheme: 'world', id: 'anyone' }]), t.internAcl([{ perms: 3, scheme: 'ip', id: '10.0.0.1' }]), t.internAcl([{ perms: 31, scheme: 'digest', id: 'u:x' }])];
      const model = new Map<string, ModelNode>();
      t.forEachNode((p, s) => model.set(p, { data: Buffer.alloc(0), version: s.version, mzxid: s.mzxid, czxid: s.czxid, aclIndex: 0 }));
      const paths = (): string[] => [...model.keys()].filter((p) => p !== '/' && !p.startsWith('/zookeeper'));
      let zxid = 0n;
      t.beginWrite();
      for (const op of ops) {
        zxid++;
        const live = paths();
        const pick = (i: number): string | undefined => live[i % Math.max(1, live.length)];
        const fill = (len: number): Buffer => Buffer.alloc(len, Number(zxid % 251n));
        if (op.kind === 'create') {
          const parents = ['/', ...live];
          const parent = parents[op.parent % parents.length]!;
          const path = (parent === '/' ? '' : parent) + '/' + op.name;
          if (model.has(path)) continue;
          const data = fill(op.len);
          t.createNode(path, { data, aclIndex: 0, ephemeralOwner: 0n, zxid, timeMs: 1 });
          model.set(path, { data, version: 0, mzxid: zxid, czxid: zxid, aclIndex: 0 });
        } else if (op.kind === 'delete') {
          const p = pick(op.pick);
          if (p === undefined || [...model.keys()].some((q) => q.startsWith(p + '/'))) continue;
          t.deleteNode(p);
          model.delete(p);
        } else if (op.kind === 'set') {
          const p = pick(op.pick);
          if (p === undefined) continue;
          const data = fill(op.len);
          t.setData(p, data);
          t.updateStat(p, { mzxid: zxid });
          const n = model.get(p)!;
          n.data = data;
          n.mzxid = zxid;
        } else if (op.kind === 'stat') {
          const p = pick(op.pick);
          if (p === undefined) continue;
          t.updateStat(p, { version: op.version });
          model.get(p)!.version = op.version;
        } else if (op.kind === 'acl') {
          const p = pick(op.pick);
          if (p === undefined) continue;
          t.updateStat(p, { aclIndex: acls[op.acl]! });
          model.get(p)!.aclIndex = acls[op.acl]!;
        } else {
          t.endWrite(zxid);
          compare(t, model, zxid);
          t.beginWrite();
        }
      }
      t.endWrite(zxid);
      compare(t, model, zxid);
      compare(treeFromImage(t.image()), model, zxid);
    }),
    { numRuns: 60, seed: 0x2b7e15 },
  );
});

test('read primitives over scribbled memory never throw, hang or over-allocate', () => {
  // Build a realistic tree, then overwrite random words of its block region (what a reader may
  // see while the writer reuses memory) and run every read primitive on every path.
  const t = createTree({ initialBytes: 65536 });
  const paths: string[] = ['/', '/zookeeper', '/zookeeper/quota'];
  t.beginWrite();
  for (let i = 0; i < 200; i++) {
    const p = i < 20 ? `/d${i}` : `/d${i % 20}/c${i}`;
    t.createNode(p, { data: Buffer.alloc(i * 3, 1), aclIndex: 0, ephemeralOwner: 0n, zxid: 1n, timeMs: 0 });
    paths.push(p);
  }
  t.endWrite(1n);
  const image = t.image();
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(), fc.oneof(fc.nat(), fc.constantFrom(0, 1, 0xffffffff, 0x7fffffff, L.HEADER_SLOTS, 65535))), { minLength: 1, maxLength: 40 }),
      (scribbles) => {
        const sab = new SharedArrayBuffer(image.length);
        const m = new TreeMemory(sab);
        m.u8.set(image);
        const firstBlockWord = L.HEADER_BYTES / 4;
        const words = image.length / 4;
        for (const [at, value] of scribbles) {
          // Block words can hold anything (memory being reused). Header words are never reused:
          // a reader sees some value the writer stored there, so only plausible ones are written.
          if (at % 7 === 0) m.u32[L.H_NODE_COUNT] = value % 1000;
          else m.u32[firstBlockWord + (at % (words - firstBlockWord))] = value;
        }
        for (const p of paths) {
          const ref = m.lookup(p);
          if (ref === RETRY || ref === 0 || !m.recordOk(ref)) continue;
          m.stat(ref);
          const data = m.data(ref);
          if (data !== RETRY) assert.ok(data.length <= 1_048_576);
          m.children(ref);
          m.countDescendants(ref);
          m.name(ref);
          m.path(ref);
        }
        for (let i = 0; i < 4; i++) m.aclAt(i);
      },
    ),
    { numRuns: 400, seed: 0x5eed },
  );
});
