// Model-based test: seeded random op sequences (fast-check) run through the real Pipeline over
// the real shared-memory tree, pipelined (several submits between fsync/commit), and through the
// plain reference model (model.ts) one request at a time. Results (codes, stats, paths, multi
// results), zxids, watch events, whole trees, ephemeral indexes and the sweeper's candidates must
// agree. Then the log records replayed into a fresh tree must rebuild the identical tree.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { WriteResult } from '../../src/server/pipeline/api.js';
import { Pipeline } from '../../src/server/pipeline/index.js';
import { createTree } from '../../src/server/tree/index.js';
import type { Slots, Spec } from './gen.js';
import { dataBytesMax, sessions, specArb, toRequest } from './gen.js';
import { Harness, dumpTree } from './harness.js';
import type { MOutcome } from './model.js';
import { Model } from './model.js';

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

// A fixed default seed: the coverage test below asks for outcomes that random seeds reach only
// most of the time (deleteContainer:OK was missed once in a full run). PIPELINE_SEED=N explores
// another sequence; fast-check prints the seed of any failure.
const seed = process.env.PIPELINE_SEED !== undefined ? Number(process.env.PIPELINE_SEED) : 20_261_203;

test('model-based: random pipelined op sequences agree with the reference model, and replay rebuilds the tree', () => {
  fc.assert(
    fc.property(fc.array(specArb, { minLength: 1, maxLength: 120 }), (specs) => {
      const h = runSpecs(specs);
      replayInto(h);
    }),
    { numRuns: Number(process.env.PIPELINE_MODEL_RUNS ?? 300), seed },
  );
});

test('model-based: long runs without intermediate flushes (deep outstanding-change chains)', () => {
  fc.assert(
    fc.property(fc.array(specArb.map((s) => ({ ...s, flush: false })), { minLength: 50, maxLength: 400 }), (specs) => {
      replayInto(runSpecs(specs));
    }),
    { numRuns: 40, seed: seed + 1 },
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
