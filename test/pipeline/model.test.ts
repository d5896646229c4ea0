// Model-based test: seeded random op sequences (fast-check) run through the real Pipeline over
// the real shared-memory tree, pipelined (several submits between fsync/commit), and through the
// plain reference model (model.ts) one request at a time. Results (codes, stats, paths, multi
// results), zxids, watch events, whole trees, ephemeral indexes and the sweeper's candidates must
// agree. Then the log records replayed into a fresh tree must rebuild the identical tree.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ACL, CreateMode } from '../../src/common/types.js';
import { createModes } from '../../src/common/types.js';
import type { AuthId, WriteOp, WriteRequest, WriteResult } from '../../src/server/pipeline/api.js';
import { Pipeline, digestAuthId } from '../../src/server/pipeline/index.js';
import { createTree } from '../../src/server/tree/index.js';
import { Harness, dumpTree } from './harness.js';
import type { MOutcome } from './model.js';
import { Model } from './model.js';

const dataBytesMax = 16;
const sessions: { id: bigint; authIds: AuthId[] }[] = [
  { id: 0x100_0000_0000_0001n, authIds: [{ scheme: 'ip', id: '127.0.0.1' }] },
  { id: 0x100_0000_0000_0002n, authIds: [{ scheme: 'ip', id: '10.1.2.3' }, { scheme: 'digest', id: digestAuthId('u1:p1') }] },
  { id: 0x100_0000_0000_0003n, authIds: [{ scheme: 'digest', id: digestAuthId('u2:p2') }] },
  { id: 0n, authIds: [] }, // the main thread (sweeper)
];
const world = (perms: number): ACL => ({ perms, scheme: 'world', id: 'anyone' });
const acls: ACL[][] = [
  [world(31)],
  [world(1)],
  [{ perms: 31, scheme: 'auth', id: '' }],
  [{ perms: 31, scheme: 'digest', id: digestAuthId('u1:p1') }],
  [world(1 | 4 | 8), { perms: 31, scheme: 'digest', id: digestAuthId('u2:p2') }],
  [],
  [{ perms: 31, scheme: 'world', id: 'foo' }],
  [{ perms: 31, scheme: 'ip', id: '127.0.0.0/8' }],
  [{ perms: 31, scheme: 'ip', id: '10.0.0.0/8' }, world(1)],
  [world(31), world(31)],
];
const datas = ['', 'x', 'hello', 'y'.repeat(dataBytesMax), 'z'.repeat(dataBytesMax + 1)].map((s) => new TextEncoder().encode(s));
const names = ['a', 'b', 'c', 's-', '', 'zookeeper'];
const versions = [-1, 0, 1, 2];
const ttls = [0, 1, 50, 1000, -1];

interface Spec {
  kind: number;
  s: number;
  p: number;
  name: number;
  mode: number;
  acl: number;
  ver: number; // < versions.length: fixed value; else the node's actual version
  data: number;
  ttl: number;
  sub: Spec[];
  flush: boolean;
  dt: number;
}

const leaf = {
  kind: fc.oneof(
    { arbitrary: fc.constantFrom(0, 1, 2), weight: 6 },
    { arbitrary: fc.constant(3), weight: 4 },
    { arbitrary: fc.constantFrom(4, 5, 6, 7, 8, 9), weight: 6 },
    { arbitrary: fc.constantFrom(10, 11, 12), weight: 1 },
  ),
  s: fc.nat(3),
  p: fc.nat(40),
  name: fc.nat(names.length - 1),
  mode: fc.nat(createModes.length - 1),
  acl: fc.oneof(fc.constant(0), fc.nat(acls.length - 1)),
  ver: fc.nat(versions.length + 2),
  data: fc.nat(datas.length - 1),
  ttl: fc.nat(ttls.length - 1),
  flush: fc.boolean(),
  dt: fc.oneof(fc.constant(0), fc.nat(2000)),
};
const specArb: fc.Arbitrary<Spec> = fc.record({
  ...leaf,
  sub: fc.array(fc.record({ ...leaf, sub: fc.constant([]) }), { maxLength: 4 }),
});

/** Turns a spec into a request, picking paths among the model's current nodes. */
/** Live session ids per slot (a closed session's slot gets a new id); stale: the slot's last closed id. */
interface Slots {
  live: bigint[];
  stale: (bigint | undefined)[];
  next: bigint;
}

function toRequest(spec: Spec, model: Model, tag: number, now: number, slots: Slots): WriteRequest {
  const paths = [...model.nodes.keys()].sort();
  const pick = (i: number): string => (i < paths.length ? paths[i % paths.length]! : i % 7 === 0 ? '/nope/x' : paths[i % paths.length]!);
  const versionOf = (path: string, which: 'version' | 'aversion'): number => {
    if (spec.ver < versions.length) return versions[spec.ver]!;
    return model.nodes.get(path)?.stat[which] ?? 0;
  };
  const slot = spec.s % 3;
  // s === 3: a request from the slot's session that has been closed (SESSIONEXPIRED).
  const id = spec.s === 3 && slots.stale[slot] !== undefined ? slots.stale[slot]! : slots.live[slot]!;
  const session = { id, authIds: sessions[slot]!.authIds };
  if (spec.kind === 10) {
    slots.stale[slot] = id;
    slots.live[slot] = slots.next++;
  }
  const mkOp = (sp: Spec, kind: number): WriteOp => {
    const path = pick(sp.p);
    switch (kind) {
      case 0:
      case 1:
      case 2: {
        const parent = pick(sp.p);
        const mode: CreateMode = createModes[sp.mode]!;
        const name = names[sp.name]!;
        return { type: 'create', path: (parent === '/' ? '' : parent) + '/' + name, data: datas[sp.data]!, mode, acl: acls[sp.acl]!, ttlMs: mode.endsWith('_with_ttl') ? ttls[sp.ttl]! : 0 };
      }
      case 3:
        return { type: 'delete', path, version: versionOf(path, 'version') };
      case 4:
      case 5:
        return { type: 'setData', path, data: datas[sp.data]!, version: versionOf(path, 'version') };
      default:
        return { type: 'check', path, version: versionOf(path, 'version') };
    }
  };
  let op: WriteOp;
  switch (spec.kind) {
    case 7:
      op = { type: 'setACL', path: pick(spec.p), acl: acls[spec.acl]!, version: versionOf(pick(spec.p), 'aversion') };
      break;
    case 8:
      op = { type: 'multi', ops: spec.sub.map((s) => mkOp(s, s.kind % 7)) };
      break;
    case 9:
      op = spec.p % 2 === 0 ? { type: 'sync', path: '/' } : { type: 'getEphemerals', prefix: spec.p % 4 === 1 ? '/' : pick(spec.p) };
      break;
    case 10:
      op = { type: 'closeSession' };
      break;
    case 11: {
      // The sweeper: mostly real candidates, sometimes any node (prep must re-check).
      const expired = model.expired(now).filter((p) => p !== '/' && !p.startsWith('/zookeeper'));
      const any = paths.filter((p) => p !== '/' && !p.startsWith('/zookeeper'));
      const from = spec.name % 2 === 0 && expired.length > 0 ? expired : any;
      if (from.length === 0) return { sessionId: 0n, tag, authIds: [], op: { type: 'sync', path: '/' } };
      return { sessionId: 0n, tag, authIds: [], op: { type: 'deleteContainer', path: from[spec.p % from.length]! } };
    }
    case 12:
      op = { type: 'createSession', timeoutMs: 10_000, password: new Uint8Array(16) };
      break;
    default:
      op = mkOp(spec, spec.kind === 6 ? 4 : spec.kind);
      if (op.type === 'check') op = { type: 'multi', ops: [op] };
  }
  return { sessionId: session.id, tag, authIds: session.authIds, op };
}

// Coverage marks: which (request type, outcome) pairs the random runs reached.
const marks = new Map<string, number>();

function comparable(r: WriteResult): unknown {
  if (r.ok) return r.value;
  return r.results === undefined ? { code: r.code } : { code: r.code, results: r.results };
}

function compareWithModel(h: Harness, model: Model): void {
  const tree = dumpTree(h.tree);
  assert.deepEqual([...tree.keys()].sort(), [...model.nodes.keys()].sort(), 'same paths');
  for (const [path, n] of model.nodes) {
    const t = tree.get(path)!;
    assert.deepEqual(t.stat, n.stat, `stat of ${path}`);
    assert.equal(t.data, Buffer.from(n.data).toString('hex'), `data of ${path}`);
    assert.deepEqual(t.acl, n.acl, `acl of ${path}`);
    assert.equal(t.sequence, n.creations, `sequence of ${path}`);
  }
  const owners = new Set([...model.nodes.values()].map((n) => n.stat.ephemeralOwner));
  for (const id of [...owners, ...h.pipeline.sessionsWithEphemerals()]) {
    if (id === 0n || id === 0x8000000000000000n || id >> 56n === 0xffn) continue;
    assert.deepEqual(h.pipeline.ephemeralsOf(id), model.ephemeralsOf(id), 'ephemerals index');
  }
  assert.deepEqual(h.pipeline.findExpired(h.now).sort(), model.expired(h.now), 'sweeper candidates');
}

function runSpecs(specs: Spec[]): Harness {
  const h = new Harness({ dataBytesMax });
  const model = new Model(1, dataBytesMax);
  const expected = new Map<number, MOutcome>();
  const slots: Slots = { live: sessions.slice(0, 3).map((s) => s.id), stale: [], next: 0x200_0000_0000_0000n };
  let tag = 0;
  for (const spec of specs) {
    h.now += spec.dt;
    const req = toRequest(spec, model, ++tag, h.now, slots);
    expected.set(tag, model.process(req, h.now));
    h.submitRequest(req);
    if (spec.flush) {
      h.flush();
      compareWithModel(h, model);
    }
  }
  h.flush();
  compareWithModel(h, model);
  for (const [t, m] of expected) {
    const e = h.entries.get(t);
    assert.ok(e !== undefined, `entry ${t} committed`);
    assert.deepEqual(comparable(e.result), comparable(m.result), `result of request ${t}`);
    assert.equal(e.zxid, m.zxid, `zxid of request ${t}`);
    assert.deepEqual(e.events, m.events, `events of request ${t}`);
    const key = `${h.lastOpType(t)}:${e.result.ok ? 'OK' : e.result.code}`;
    marks.set(key, (marks.get(key) ?? 0) + 1);
  }
  assert.equal(h.pipeline.pendingCount(), 0);
  return h;
}

function replayInto(h: Harness): void {
  const tree = createTree({ initialBytes: 1 << 20, maxBytes: 256 << 20 });
  const p = new Pipeline(tree, { clock: { nowMs: () => 0 }, epoch: 1, lastZxid: 0n, dataBytesMax });
  for (const r of h.records) p.replay(r.zxid, r.bytes);
  assert.equal(tree.appliedZxid(), h.tree.appliedZxid(), 'replayed to the same zxid');
  const a = dumpTree(h.tree);
  const b = dumpTree(tree);
  assert.deepEqual([...b.keys()], [...a.keys()], 'same nodes in the same order');
  for (const [path, n] of a) assert.deepEqual(b.get(path), n, `replayed ${path}`);
  assert.deepEqual(p.sessionsWithEphemerals().sort(), h.pipeline.sessionsWithEphemerals().sort());
  for (const id of p.sessionsWithEphemerals()) assert.deepEqual(p.ephemeralsOf(id), h.pipeline.ephemeralsOf(id));
  assert.deepEqual(p.findExpired(h.now).sort(), h.pipeline.findExpired(h.now).sort());
  assert.equal(p.lastAssignedZxid(), h.tree.appliedZxid());
}

test('model-based: random pipelined op sequences agree with the reference model, and replay rebuilds the tree', () => {
  fc.assert(
    fc.property(fc.array(specArb, { minLength: 1, maxLength: 120 }), (specs) => {
      const h = runSpecs(specs);
      replayInto(h);
    }),
    { numRuns: Number(process.env.PIPELINE_MODEL_RUNS ?? 300), seed: process.env.PIPELINE_SEED !== undefined ? Number(process.env.PIPELINE_SEED) : undefined },
  );
});

test('model-based: long runs without intermediate flushes (deep outstanding-change chains)', () => {
  fc.assert(
    fc.property(fc.array(specArb.map((s) => ({ ...s, flush: false })), { minLength: 50, maxLength: 400 }), (specs) => {
      replayInto(runSpecs(specs));
    }),
    { numRuns: 40 },
  );
});

test('model-based runs reached the rare outcomes', () => {
  const need = [
    'create:OK', 'create:NODEEXISTS', 'create:NONODE', 'create:NOAUTH', 'create:INVALIDACL', 'create:NOCHILDRENFOREPHEMERALS',
    'create:BADARGUMENTS', 'create:SESSIONEXPIRED', 'delete:OK', 'delete:NOTEMPTY', 'delete:BADVERSION', 'delete:NOAUTH',
    'delete:BADARGUMENTS', 'setData:OK', 'setData:BADVERSION', 'setData:NOAUTH', 'setData:BADARGUMENTS', 'setACL:OK',
    'setACL:BADVERSION', 'setACL:INVALIDACL', 'setACL:NOAUTH', 'multi:OK', 'multi:NONODE', 'multi:BADVERSION',
    'closeSession:OK', 'getEphemerals:OK', 'deleteContainer:OK', 'deleteContainer:BADVERSION', 'deleteContainer:NOTEMPTY',
  ];
  const missing = need.filter((k) => !marks.has(k));
  assert.deepEqual(missing, [], `outcomes never reached; seen: ${JSON.stringify([...marks].sort())}`);
});
