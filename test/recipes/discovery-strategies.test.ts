// ServiceProvider strategies and the down-instance policy on a fixed instance list (no server):
// distributions are checked by counting seeded picks, never by timing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom, ServiceProvider, strategies, type InstanceSource, type ServiceInstance } from '../../src/index.js';

function inst(id: string, extra: Partial<ServiceInstance> = {}): ServiceInstance {
  return { name: 'svc', id, address: '127.0.0.1', port: 8000, enabled: true, ...extra };
}

class FixedSource implements InstanceSource {
  readonly name = 'svc';
  version = 0;
  constructor(private list: ServiceInstance[]) {}
  instances(): readonly ServiceInstance[] {
    return this.list;
  }
  set(list: ServiceInstance[]): void {
    this.list = list;
    this.version++;
  }
}

function count(provider: ServiceProvider, picks: number): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < picks; i++) {
    const p = provider.getInstance();
    assert.ok(p !== null);
    out.set(p.id, (out.get(p.id) ?? 0) + 1);
  }
  return out;
}

describe('provider strategies', () => {
  test('round-robin visits each available instance in id order', () => {
    const p = new ServiceProvider(new FixedSource([inst('a'), inst('b'), inst('c')]), { strategy: strategies.roundRobin() });
    assert.deepEqual(Array.from({ length: 7 }, () => p.getInstance()!.id), ['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  });

  test('random is roughly uniform (seeded)', () => {
    const p = new ServiceProvider(new FixedSource([inst('a'), inst('b'), inst('c'), inst('d')]), { strategy: strategies.random(), random: seededRandom(1) });
    const c = count(p, 8_000);
    for (const id of ['a', 'b', 'c', 'd']) assert.ok(Math.abs(c.get(id)! - 2_000) < 200, `${id}: ${c.get(id)}`);
  });

  test('weighted random follows weight; weight 0 is never picked while others have weight', () => {
    const src = new FixedSource([inst('a', { weight: 1 }), inst('b', { weight: 3 }), inst('z', { weight: 0 })]);
    const p = new ServiceProvider(src, { strategy: strategies.weightedRandom(), random: seededRandom(2) });
    const c = count(p, 8_000);
    assert.equal(c.get('z'), undefined);
    assert.ok(Math.abs(c.get('a')! - 2_000) < 200, `a: ${c.get('a')}`);
    assert.ok(Math.abs(c.get('b')! - 6_000) < 200, `b: ${c.get('b')}`);
    src.set([inst('y', { weight: 0 }), inst('z', { weight: 0 })]);
    assert.equal(count(p, 100).size, 2, 'all weights 0: uniform');
  });

  test('load-aware: share proportional to weight / (1 + load)', () => {
    const loads = [0, 5, 20];
    const p = new ServiceProvider(new FixedSource(loads.map((load, i) => inst(`i${i}`, { payload: { load } }))), { strategy: strategies.loadAware(), random: seededRandom(3) });
    const c = count(p, 10_000);
    const scores = loads.map((l) => 1 / (1 + l));
    const total = scores.reduce((a, b) => a + b, 0);
    loads.forEach((_, i) => {
      const expected = (10_000 * scores[i]!) / total;
      assert.ok(Math.abs((c.get(`i${i}`) ?? 0) - expected) < 250, `i${i}: ${c.get(`i${i}`)} vs ${expected.toFixed(0)}`);
    });
  });

  test('sticky keeps its instance until it is no longer available', () => {
    const src = new FixedSource([inst('a'), inst('b'), inst('c')]);
    const p = new ServiceProvider(src, { strategy: strategies.sticky(strategies.roundRobin()) });
    const first = p.getInstance()!.id;
    assert.equal(count(p, 50).get(first), 50);
    src.set(src.instances().filter((i) => i.id !== first));
    const second = p.getInstance()!.id;
    assert.notEqual(second, first);
    assert.equal(count(p, 50).get(second), 50);
    src.set(src.instances().map((i) => (i.id === second ? { ...i, enabled: false } : i)));
    assert.notEqual(p.getInstance()!.id, second, 'a disabled instance is not kept');
  });

  test('least-outstanding picks the instance with fewest calls in flight', async () => {
    const p = new ServiceProvider(new FixedSource([inst('a'), inst('b'), inst('c')]), { strategy: strategies.leastOutstanding(), random: seededRandom(4) });
    const leases = Array.from({ length: 6 }, () => p.acquire()!);
    assert.deepEqual(['a', 'b', 'c'].map((id) => p.outstanding(id)), [2, 2, 2], 'spread evenly');
    leases.filter((l) => l.instance.id === 'b').forEach((l) => l.release());
    assert.equal(p.getInstance()!.id, 'b');
    // call(): counted while in flight, released after, errors noted.
    let seen = '';
    const result = await p.call(async (i) => {
      seen = i.id;
      assert.equal(p.outstanding(i.id), 1);
      return 42;
    });
    assert.equal(result, 42);
    assert.equal(seen, 'b');
    assert.equal(p.outstanding('b'), 0);
    for (const l of leases) l.release();
    for (const l of leases) l.release(); // idempotent
    assert.deepEqual(['a', 'b', 'c'].map((id) => p.outstanding(id)), [0, 0, 0]);
  });

  test('zone-preferring stays in its zone while it has instances there', () => {
    const src = new FixedSource([inst('a', { zone: 'eu' }), inst('b', { zone: 'us' }), inst('c', { zone: 'eu' })]);
    const p = new ServiceProvider(src, { strategy: strategies.zonePreferring('eu') });
    assert.deepEqual([...count(p, 10).keys()].sort(), ['a', 'c']);
    src.set(src.instances().filter((i) => i.zone !== 'eu'));
    assert.equal(p.getInstance()!.id, 'b', 'no instance in the zone: any other');
  });

  test('disabled instances are never picked, by any strategy', () => {
    const list = [inst('a', { weight: 100, payload: { load: 0 }, zone: 'eu', enabled: false }), inst('b', { zone: 'us' })];
    for (const make of [strategies.roundRobin, strategies.random, strategies.weightedRandom, strategies.loadAware, () => strategies.sticky(), strategies.leastOutstanding, () => strategies.zonePreferring('eu')]) {
      const p = new ServiceProvider(new FixedSource(list), { strategy: make(), random: seededRandom(5) });
      assert.deepEqual([...count(p, 200).keys()], ['b'], p.strategy.name);
    }
    const none = new ServiceProvider(new FixedSource([inst('a', { enabled: false })]));
    assert.equal(none.getInstance(), null);
    assert.equal(none.acquire(), null);
    return assert.rejects(none.call(async () => 1), { code: 'NONODE' });
  });

  test('noteError: down after the threshold, back after the timeout', async () => {
    let nowMs = 1_000;
    const src = new FixedSource([inst('a'), inst('b')]);
    const p = new ServiceProvider(src, { strategy: strategies.roundRobin(), downInstancePolicy: { errorThreshold: 3, timeoutMs: 5_000 }, now: () => nowMs });
    const a = src.instances()[0]!;
    p.noteError(a);
    p.noteError(a);
    assert.equal(p.isDown(a), false, 'below the threshold');
    assert.equal(count(p, 10).get('a'), 5);
    p.noteError(a);
    assert.equal(p.isDown(a), true);
    assert.deepEqual([...count(p, 10).keys()], ['b']);
    nowMs += 4_999;
    assert.equal(p.isDown(a), true);
    nowMs += 2;
    assert.equal(p.isDown(a), false, 'back after timeoutMs');
    assert.equal(count(p, 10).get('a'), 5);
    p.noteError(a);
    assert.equal(p.isDown(a), false, 'count was reset');
    // A failing call() counts as an error.
    const q = new ServiceProvider(new FixedSource([inst('x')]), { downInstancePolicy: { errorThreshold: 1, timeoutMs: 60_000 } });
    await assert.rejects(q.call(() => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(q.getInstance(), null, 'down after one error');
  });
});
