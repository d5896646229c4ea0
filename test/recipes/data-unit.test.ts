// The pure parts of the data recipes, without a server: the cache diff and staleness rules
// (cache-state.ts), the FIFO limiter, the value encodings.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CacheState, type ChildData } from '../../src/recipes/data/cache-state.js';
import { Limiter } from '../../src/recipes/data/limiter.js';
import { decodeCount, decodeLong, encodeCount, encodeLong, encodePriority, type Stat } from '../../src/index.js';

function node(path: string, data: string, czxid: number, mzxid: number, pzxid = czxid): ChildData {
  const stat: Stat = {
    czxid: BigInt(czxid),
    mzxid: BigInt(mzxid),
    pzxid: BigInt(pzxid),
    ctime: 0,
    mtime: 0,
    version: mzxid - czxid,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: 0n,
    dataLength: data.length,
    numChildren: 0,
  };
  return { path, data: Buffer.from(data), stat };
}

const types = (cs: ReturnType<CacheState['apply']>): string[] => (cs === null ? ['FULL'] : cs.map((c) => `${c.type} ${c.node.path}=${c.node.data.toString()}`));

describe('CacheState', () => {
  test('created, changed, deleted; the same state read twice yields nothing', () => {
    const s = new CacheState('/r', 10);
    assert.deepEqual(types(s.apply('/r', node('/r', '', 1, 1), true)), ['created /r=']);
    assert.deepEqual(types(s.apply('/r/a', node('/r/a', 'x', 2, 2), true)), ['created /r/a=x']);
    assert.deepEqual(types(s.apply('/r/a', node('/r/a', 'x', 2, 2), true)), []);
    assert.deepEqual(types(s.apply('/r/a', node('/r/a', 'y', 2, 5), true)), ['changed /r/a=y']);
    assert.deepEqual(s.children('/r'), ['a']);
    assert.deepEqual(types(s.apply('/r/a', null, true)), ['deleted /r/a=y']);
    assert.deepEqual(types(s.apply('/r/a', null, true)), []);
    assert.deepEqual(s.children('/r'), []);
    assert.deepEqual(types(s.apply('/elsewhere', node('/elsewhere', '', 3, 3), true)), [], 'outside the root: ignored');
  });

  test('an older result never resurrects, deletes or moves a node back', () => {
    const s = new CacheState('/', 10);
    s.apply('/a', node('/a', 'v1', 1, 3), true);
    assert.deepEqual(types(s.apply('/a', node('/a', 'v0', 1, 1), false)), [], 'older data of the same node');
    assert.deepEqual(types(s.apply('/a', null, false)), [], 'an older NONODE does not delete');
    assert.deepEqual(types(s.apply('/a', node('/a', 'v2', 1, 4), false)), ['changed /a=v2'], 'older read but newer data: progress');
    s.apply('/a', null, true);
    assert.deepEqual(types(s.apply('/a', node('/a', 'v2', 1, 4), false)), [], 'no resurrection from a stale read');
    assert.deepEqual(types(s.apply('/a', node('/a', 'new', 9, 9), true)), ['created /a=new']);
    assert.deepEqual(types(s.apply('/a', node('/a', 'v2', 1, 4), true)), [], 'an earlier incarnation is never applied');
  });

  test('a re-created node reads as deleted then created; a child-only change is silent but kept', () => {
    const s = new CacheState('/', 10);
    s.apply('/a', node('/a', 'old', 1, 1), true);
    assert.deepEqual(types(s.apply('/a', node('/a', 'new', 7, 7), true)), ['deleted /a=old', 'created /a=new']);
    assert.deepEqual(types(s.apply('/a', node('/a', 'new', 7, 7, 8), true)), []);
    assert.equal(s.get('/a')?.stat.pzxid, 8n);
  });

  test('nodesMax: a new node beyond it is refused (null), updates still apply', () => {
    const s = new CacheState('/', 1);
    s.apply('/a', node('/a', '', 1, 1), true);
    assert.equal(s.apply('/b', node('/b', '', 2, 2), true), null);
    assert.deepEqual(types(s.apply('/a', node('/a', 'x', 1, 3), true)), ['changed /a=x']);
  });
});

describe('Limiter', () => {
  test('bounds calls in flight and starts them strictly in order', async () => {
    const l = new Limiter(2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const gates: (() => void)[] = [];
    const jobs = Array.from({ length: 6 }, (_, i) =>
      l.run(async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => gates.push(r));
        running--;
        return i;
      }),
    );
    assert.deepEqual(started, [0, 1], 'two started synchronously');
    for (let round = 0; round < 10 && gates.length > 0; round++) {
      gates.splice(0).forEach((g) => g());
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(await Promise.all(jobs), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5]);
    assert.equal(peak, 2);
    await assert.rejects(l.run(() => Promise.reject(new Error('boom'))), /boom/);
  });
});

describe('encodings', () => {
  test("longs and counts in Curator's formats; priorities sort as numbers", () => {
    assert.equal(decodeLong(encodeLong(-2n), '/x'), -2n);
    assert.equal(decodeLong(Buffer.alloc(0), '/x'), 0n);
    assert.throws(() => decodeLong(Buffer.alloc(3), '/x'), { code: 'MARSHALLINGERROR' });
    assert.equal(decodeCount(encodeCount(-7), '/x'), -7);
    assert.throws(() => encodeCount(2 ** 31), { code: 'BADARGUMENTS' });
    const ps = [-(2 ** 31), -5, -1, 0, 1, 300, 2 ** 31 - 1];
    const enc = ps.map(encodePriority);
    assert.deepEqual([...enc].sort(), enc);
    assert.ok(enc.every((e) => e.length === 8));
  });
});
