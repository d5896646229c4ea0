// The history checkers on hand-written histories (each known anomaly must be caught, each legal
// interleaving accepted) and on generated ones: a real sequential register with random overlaps
// must pass; the same history with one read made stale must fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkHistory, checkLinearizable, checkNoLostWrites, checkSequential, type HistoryOp } from '../helpers/history/index.js';
import { registerHistory, staleCandidates, type OpSpec } from '../helpers/history/generate.js';

let nextId = 0;
type Extra = Partial<HistoryOp>;
const w = (key: string, value: string, start: number, end: number, version: number, x: Extra = {}): HistoryOp => ({
  id: nextId++, session: 's1', seq: nextId, key, kind: 'write', value, start, end, outcome: 'ok', version, ...x,
});
const cas = (key: string, value: string, expectedVersion: number, start: number, end: number, x: Extra = {}): HistoryOp => ({
  id: nextId++, session: 's1', seq: nextId, key, kind: 'cas', value, expectedVersion, start, end, outcome: 'ok', version: expectedVersion + 1, ...x,
});
const r = (key: string, readValue: string, version: number, start: number, end: number, x: Extra = {}): HistoryOp => ({
  id: nextId++, session: 's1', seq: nextId, key, kind: 'read', readValue, version, start, end, outcome: 'ok', ...x,
});
const unknown: Extra = { outcome: 'unknown', end: Infinity, error: 'CONNECTIONLOSS', version: undefined };

test('linearizable: sequential ops and reads concurrent with a write seeing either side', () => {
  const h = [w('/a', 'x', 0, 10, 1), r('/a', 'x', 1, 20, 30), w('/a', 'y', 40, 60, 2), r('/a', 'x', 1, 45, 50), r('/a', 'y', 2, 50, 55), r('/a', 'y', 2, 70, 80)];
  const res = checkLinearizable(h);
  assert.equal(res.verdict, 'ok', res.explanation);
  assert.equal(res.keys.length, 1);
});

test('not linearizable: a stale read after a completed write, explained with the key and the ops', () => {
  const h = [w('/a', 'x', 0, 10, 1), w('/a', 'y', 20, 30, 2), r('/a', 'x', 1, 40, 50), w('/b', 'z', 0, 5, 1)];
  const res = checkLinearizable(h);
  assert.equal(res.verdict, 'violation');
  assert.deepEqual(res.keys.map((k) => [k.key, k.verdict]), [['/a', 'violation'], ['/b', 'ok']]);
  assert.match(res.explanation, /key \/a: NOT LINEARIZABLE/);
  assert.match(res.explanation, /read\(\/a\) -> \("x", v1\)/, res.explanation);
  assert.match(res.explanation, /write\(\/a, "y"\)/, res.explanation);
});

test('not linearizable: two compare-and-sets both succeed on one version', () => {
  const h = [cas('/a', 'p', 0, 0, 20), cas('/a', 'q', 0, 5, 25)];
  const res = checkLinearizable(h);
  assert.equal(res.verdict, 'violation');
  assert.match(res.explanation, /cas\(\/a, "q", v0\)|cas\(\/a, "p", v0\)/);
  // One of them failing with BADVERSION is fine, whichever order.
  assert.equal(checkLinearizable([cas('/a', 'p', 0, 0, 20), cas('/a', 'q', 0, 5, 25, { outcome: 'failed', error: 'BADVERSION', version: undefined })]).verdict, 'ok');
});

test('BADVERSION is an observation: it cannot happen when the version matched and nothing was concurrent', () => {
  const h = [w('/a', 'x', 0, 10, 1), cas('/a', 'q', 1, 20, 30, { outcome: 'failed', error: 'BADVERSION', version: undefined })];
  assert.equal(checkLinearizable(h).verdict, 'violation');
  // Other definite failures took no effect and carry no observation.
  assert.equal(checkLinearizable([w('/a', 'x', 0, 10, 1), cas('/a', 'q', 1, 20, 30, { outcome: 'failed', error: 'NONODE', version: undefined }), r('/a', 'x', 1, 40, 50)]).verdict, 'ok');
});

test('a write whose returned version skips one is not linearizable', () => {
  assert.equal(checkLinearizable([w('/a', 'x', 0, 10, 2)]).verdict, 'violation');
});

test('unknown outcomes may take effect any time after invocation, or never — but not both', () => {
  const lost = w('/a', 'x', 0, 0, 0, unknown);
  assert.equal(checkLinearizable([lost, r('/a', 'x', 1, 100, 110)]).verdict, 'ok', 'it happened');
  assert.equal(checkLinearizable([{ ...lost, id: 99 }, r('/a', '', 0, 100, 110)]).verdict, 'ok', 'it did not (yet)');
  assert.equal(checkLinearizable([{ ...lost, id: 98 }, r('/a', '', 0, 100, 110), r('/a', 'x', 1, 120, 130)]).verdict, 'ok', 'it happened late');
  assert.equal(checkLinearizable([{ ...lost, id: 97 }, r('/a', 'x', 1, 100, 110), r('/a', '', 0, 120, 130)]).verdict, 'violation', 'it cannot un-happen');
  // Not before its invocation.
  assert.equal(checkLinearizable([r('/a', 'x', 1, 0, 10), w('/a', 'x', 20, 0, 0, unknown)]).verdict, 'violation');
  // An unknown CAS on a wrong version never takes effect.
  assert.equal(checkLinearizable([w('/a', 'x', 0, 10, 1), cas('/a', 'q', 5, 20, 0, unknown), r('/a', 'q', 2, 40, 50)]).verdict, 'violation');
});

test('unknown ops nobody read still count through the versions they add', () => {
  // Two unknown writes and one unknown cas on v1, none of their values ever read; a later
  // acknowledged write reports the version, which says how many of them took effect.
  const unknowns = (): HistoryOp[] => [w('/a', 'u1', 0, 0, 0, unknown), w('/a', 'u2', 5, 0, 0, unknown), cas('/a', 'u3', 1, 7, 0, unknown)];
  for (const [version, verdict] of [[1, 'ok'], [2, 'ok'], [3, 'ok'], [4, 'ok'], [5, 'violation']] as const) {
    const res = checkLinearizable([...unknowns(), w('/a', 'x', 50, 60, version)]);
    assert.equal(res.verdict, verdict, `a write at v${version} after them: ${res.explanation}`);
  }
  // The cas can only add a version when it runs on v1: first write, then the cas, then x at v4
  // is fine, but not if the only earlier write happened after x.
  assert.equal(checkLinearizable([cas('/a', 'u3', 1, 0, 0, unknown), w('/a', 'x', 10, 20, 1), w('/a', 'y', 30, 40, 3)]).verdict, 'ok');
  assert.equal(checkLinearizable([cas('/a', 'u3', 1, 0, 0, unknown), w('/a', 'x', 10, 20, 1), w('/a', 'y', 30, 40, 4)]).verdict, 'violation');
  // A BADVERSION observes the version an anonymous op left.
  assert.equal(checkLinearizable([w('/a', 'u1', 0, 0, 0, unknown), cas('/a', 'q', 0, 10, 20, { outcome: 'failed', error: 'BADVERSION', version: undefined }), cas('/a', 'z', 1, 30, 40)]).verdict, 'ok');
  assert.equal(checkLinearizable([w('/a', 'u1', 0, 0, 0, unknown), cas('/a', 'q', 0, 10, 20, { outcome: 'failed', error: 'BADVERSION', version: undefined }), cas('/a', 'z', 0, 30, 40)]).verdict, 'violation');
});

test('a lost acknowledged write: found by the final read and by linearizability', () => {
  const h = [w('/a', 'x', 0, 10, 1, { mzxid: '7' })];
  const lost = checkNoLostWrites(h, [{ key: '/a', value: '', version: 0, mzxid: '0', server: 's1' }]);
  assert.equal(lost.ok, false);
  assert.match(lost.violations.join('\n'), /acknowledged write lost: key \/a ends on s1/);
  assert.equal(checkNoLostWrites(h, [{ key: '/a', value: 'x', version: 1, mzxid: '7' }]).ok, true);
  assert.equal(checkNoLostWrites(h, [{ key: '/a', value: 'y', version: 3, mzxid: '9' }]).ok, true, 'a later write is fine');
  assert.equal(checkNoLostWrites(h, []).ok, false, 'a key without a final read is reported');
  // A forked version chain: the write at v1 was forgotten and the version handed out again.
  const fork = [...h, w('/a', 'y', 20, 30, 1, { mzxid: '9' })];
  assert.match(checkNoLostWrites(fork, [{ key: '/a', value: 'y', version: 1, mzxid: '9' }]).violations.join('\n'), /two acknowledged writes at version 1/);
  assert.equal(checkLinearizable([...h, r('/a', '', 0, 20, 30)]).verdict, 'violation');
});

test('the step budget runs out as inconclusive, never as ok', () => {
  // Many concurrent writes (answers without a version, so any order fits) and a final read that
  // no order satisfies: the search must visit every subset before it can say so.
  const h: HistoryOp[] = [];
  for (let i = 0; i < 12; i++) h.push(w('/a', `x${i}`, 0, 100, 0, { version: undefined }));
  h.push(r('/a', 'nope', 12, 200, 210));
  const res = checkLinearizable(h, { stepBudgetPerKey: 500 });
  assert.equal(res.verdict, 'inconclusive');
  assert.match(res.explanation, /inconclusive/);
  const full = checkLinearizable(h);
  assert.equal(full.verdict, 'violation', 'with the default budget it is decided');
});

test('sequential: a session that sees a key go back, misses its own write, or reads older than seen', () => {
  const s = (session: string, seq: number, op: HistoryOp): HistoryOp => ({ ...op, session, seq });
  const back = [s('c', 1, r('/a', 'y', 2, 0, 1, { mzxid: '12' })), s('c', 2, r('/a', 'x', 1, 2, 3, { mzxid: '11' })), w('/a', 'x', 0, 0, 1, { session: 'z', mzxid: '11' }), w('/a', 'y', 0, 0, 2, { session: 'z', mzxid: '12' })];
  assert.match(checkSequential(back).violations.join('\n'), /session c saw key \/a go back/);
  const ownWrite = [s('c', 1, w('/a', 'x', 0, 1, 1, { mzxid: '20' })), s('c', 2, r('/a', '', 0, 2, 3, { mzxid: '0' }))];
  assert.match(checkSequential(ownWrite).violations.join('\n'), /session c saw key \/a go back/);
  const crossKey = [
    w('/b', 'bb', 0, 1, 1, { session: 'z', mzxid: '15' }),
    s('c', 1, r('/a', 'aa', 1, 2, 3, { mzxid: '16' })),
    w('/a', 'aa', 0, 1, 1, { session: 'z', mzxid: '16' }),
    s('c', 2, r('/b', '', 0, 4, 5, { mzxid: '0' })),
  ];
  assert.match(checkSequential(crossKey).violations.join('\n'), /session c read key \/b older than what it had already seen/);
  const wrongValue = [w('/a', 'x', 0, 1, 1, { mzxid: '5' }), r('/a', 'q', 1, 2, 3, { mzxid: '5', session: 'd' })];
  assert.match(checkSequential(wrongValue).violations.join('\n'), /does not match the write its mzxid names/);
  const dupZxid = [w('/a', 'x', 0, 1, 1, { mzxid: '5' }), w('/b', 'y', 0, 1, 1, { mzxid: '5', session: 'd' })];
  assert.match(checkSequential(dupZxid).violations.join('\n'), /two acknowledged writes got zxid 5/);
  const writeBelow = [s('c', 1, r('/a', 'x', 1, 0, 1, { mzxid: '30' })), s('c', 2, w('/b', 'y', 2, 3, 1, { mzxid: '29' }))];
  assert.match(checkSequential(writeBelow).violations.join('\n'), /session c's write took a zxid not above one it had seen before sending it/);
  const pipelined = [s('c', 1, r('/a', 'x', 1, 0, 5, { mzxid: '30' })), s('c', 2, w('/b', 'y', 2, 6, 1, { mzxid: '29' }))];
  assert.deepEqual(checkSequential(pipelined).violations, [], 'a write sent before the answer came may be ordered before it');
  const fine = [w('/a', 'x', 0, 1, 1, { mzxid: '5' }), s('c', 1, r('/a', 'x', 1, 2, 3, { mzxid: '5' })), s('c', 2, w('/a', 'y', 4, 5, 2, { mzxid: '9' })), s('c', 3, r('/a', 'y', 2, 6, 7, { mzxid: '9' }))];
  assert.deepEqual(checkSequential(fine).violations, []);
});

const specArb: fc.Arbitrary<OpSpec> = fc.record({
  key: fc.nat({ max: 2 }),
  kind: fc.nat({ max: 2 }),
  before: fc.nat({ max: 40 }),
  after: fc.nat({ max: 40 }),
  casHit: fc.boolean(),
  unknown: fc.nat({ max: 9 }),
  applied: fc.boolean(),
  session: fc.nat({ max: 4 }),
});

test('generated: histories of a real sequential register with random overlaps pass every check', () => {
  fc.assert(
    fc.property(fc.array(specArb, { minLength: 1, maxLength: 120 }), (specs) => {
      const { history, finals } = registerHistory(specs);
      // Sessions in the generator overlap their own ops; FIFO still holds by point order.
      const report = checkHistory(history, finals);
      assert.equal(report.linearizable.verdict, 'ok', report.text);
      assert.ok(report.sequential.ok, report.text);
      assert.ok(report.durable.ok, report.text);
    }),
    { seed: 20261202, numRuns: 300 },
  );
});

test('generated: the same histories with one read made stale fail linearizability', () => {
  let checked = 0;
  fc.assert(
    fc.property(fc.array(specArb, { minLength: 5, maxLength: 120 }), fc.nat(), (specs, pick) => {
      const { history } = registerHistory(specs);
      const candidates = staleCandidates(history);
      fc.pre(candidates.length > 0);
      const c = candidates[pick % candidates.length]!;
      const mutated = history.map((op, i) => (i === c.index ? { ...op, readValue: c.value, version: c.version, mzxid: c.mzxid } : op));
      const res = checkLinearizable(mutated);
      assert.equal(res.verdict, 'violation', `mutated read #${history[c.index]!.id} was not caught`);
      assert.match(res.explanation, new RegExp(`key ${history[c.index]!.key}`));
      checked++;
    }),
    { seed: 20261203, numRuns: 300 },
  );
  assert.ok(checked >= 100, `only ${checked} histories had a read to make stale`);
});

test('generated: a read made older than what its own session had already seen fails the sequential check', () => {
  let checked = 0;
  fc.assert(
    fc.property(fc.array(specArb, { minLength: 5, maxLength: 120 }), fc.nat(), (specs, pick) => {
      const { history } = registerHistory(specs);
      // A read whose session saw this key at version >= 1 earlier (a write or a read of its own).
      const candidates = history.filter((r) => r.kind === 'read' && r.outcome === 'ok' && history.some((o) => o.session === r.session && o.seq < r.seq && o.key === r.key && o.outcome === 'ok' && o.version! >= 1));
      fc.pre(candidates.length > 0);
      const victim = candidates[pick % candidates.length]!;
      const mutated = history.map((op) => (op === victim ? { ...op, readValue: '', version: 0, mzxid: '0' } : op));
      const res = checkSequential(mutated);
      assert.equal(res.ok, false, `the read #${victim.id} going back was not caught`);
      assert.match(res.violations.join('\n'), new RegExp(`session ${victim.session} saw key ${victim.key} go back`));
      checked++;
    }),
    { seed: 20261204, numRuns: 200 },
  );
  assert.ok(checked >= 50, `only ${checked} histories had a read to make go back`);
});

test('generated: a long history with many unknown outcomes is decided (ok) within the budget', () => {
  const specs = fc.sample(specArb, { seed: 7, numRuns: 6_000 }).map((s) => ({ ...s, unknown: s.unknown % 5 })); // ~20% unknown
  const { history, finals } = registerHistory(specs, 4);
  const report = checkHistory(history, finals);
  assert.equal(report.linearizable.verdict, 'ok', report.text);
  assert.ok(report.ok, report.text);
  assert.ok((report.counts['write:unknown'] ?? 0) + (report.counts['cas:unknown'] ?? 0) > 500, JSON.stringify(report.counts));
});
