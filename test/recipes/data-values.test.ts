// SharedValue, SharedCount, DistributedAtomicLong and AtomicCounter against a real server process.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AtomicCounter,
  AtomicRetriesExhaustedError,
  connect,
  DistributedAtomicLong,
  SharedCount,
  SharedValue,
  ZookooperError,
  type ZookooperClient,
} from '../../src/index.js';
import { eventually, startServer, type TestServer } from '../helpers/server.js';

type Client = Awaited<ReturnType<typeof connect>>;

describe('data recipes: values and counters', () => {
  let server: TestServer;
  let zk: Client;
  let other: Client;
  before(async () => {
    server = await startServer({ workers: 2, tickMs: 100 });
    zk = await connect(server.connectString);
    other = await connect(server.connectString);
  });
  after(async () => {
    await zk?.close();
    await other?.close();
    await server?.stop();
    server?.cleanup();
  });

  test('SharedValue: seed, versioned compare-and-set, change events on another participant', async () => {
    const a = new SharedValue(zk, '/sv/value', 'seed');
    const b = new SharedValue(other, '/sv/value', 'other-seed');
    const seenByB: string[] = [];
    b.on('change', (v) => seenByB.push(v.toString()));
    try {
      await a.start();
      await b.start();
      assert.equal(a.getValue().toString(), 'seed');
      assert.equal(b.getValue().toString(), 'seed', 'the first seed wins; the second does not overwrite');
      const v0 = a.getVersionedValue();
      assert.equal(v0.version, 0);
      assert.equal(await a.trySetValue('one', v0.version), true);
      assert.equal(a.getValue().toString(), 'one', 'the writer sees its write at once');
      assert.equal(await b.trySetValue('stale', v0.version), false, 'BADVERSION: someone else wrote first');
      await eventually(() => b.getValue().toString() === 'one', 5_000, 'b follows');
      const v1 = b.getVersionedValue();
      assert.equal(v1.version, 1);
      assert.equal(await b.trySetValue('two', v1.version), true);
      await eventually(() => a.getValue().toString() === 'two', 5_000, 'a follows');
      await a.setValue('three');
      await eventually(() => b.getValue().toString() === 'three', 5_000, 'b sees setValue');
      assert.deepEqual(seenByB, ['one', 'two', 'three']);
      // Deleted by someone: setValue re-creates it.
      await other.delete('/sv/value');
      await eventually(() => !a.exists, 5_000, 'a sees the delete');
      assert.equal(a.getValue().toString(), 'three', 'last value kept');
      await a.setValue('four');
      await eventually(() => b.getValue().toString() === 'four', 5_000, 'b sees the re-created node');
      assert.equal(await a.trySetValue('x', 99), false, 'a wrong version is refused, not thrown');
    } finally {
      await a.close();
      await b.close();
    }
    await assert.rejects(a.setValue('closed'), { code: 'APIERROR' });
  });

  test('SharedCount: 4-byte count, trySetCount, listeners', async () => {
    const a = new SharedCount(zk, '/sc', 7);
    const b = new SharedCount(other, '/sc', 0);
    const counts: number[] = [];
    b.on('change', (n) => counts.push(n));
    try {
      await a.start();
      await b.start();
      assert.equal(b.getCount(), 7);
      assert.equal((await other.getData('/sc')).data.length, 4);
      const v = a.getVersionedValue();
      assert.equal(await a.trySetCount(v.value + 1, v.version), true);
      assert.equal(await a.trySetCount(100, v.version), false);
      // Wait for b before the next write: a cache reads after each event, so a faster second write
      // would be coalesced with the first (b would only ever see -5).
      await eventually(() => b.getCount() === 8, 5_000, 'b sees 8');
      await a.setCount(-5);
      await eventually(() => b.getCount() === -5, 5_000, 'b sees -5');
      assert.deepEqual(counts, [8, -5]);
      await assert.rejects(a.setCount(2 ** 31), { code: 'BADARGUMENTS' });
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('DistributedAtomicLong: 10 concurrent incrementers over separate sessions end exactly at the total', async () => {
    const sessions = await Promise.all(Array.from({ length: 10 }, () => connect(server.connectString)));
    const perSession = 20;
    try {
      const results = await Promise.all(
        sessions.map(async (s) => {
          const counter = new DistributedAtomicLong(s, '/counters/hits');
          const posts: bigint[] = [];
          for (let i = 0; i < perSession; i++) {
            const r = await counter.increment();
            assert.equal(r.succeeded, true);
            assert.equal(r.postValue, r.preValue + 1n);
            posts.push(r.postValue);
          }
          return posts;
        }),
      );
      const all = results.flat().sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      assert.deepEqual(all, Array.from({ length: 10 * perSession }, (_, i) => BigInt(i + 1)), 'each increment saw a distinct value');
      const final = await new DistributedAtomicLong(zk, '/counters/hits').get();
      assert.equal(final.postValue, BigInt(10 * perSession));
      const raw = (await zk.getData('/counters/hits')).data;
      assert.equal(raw.length, 8, "Curator's 8-byte big-endian format");
      assert.equal(raw.readBigInt64BE(0), 200n);
    } finally {
      await Promise.all(sessions.map((s) => s.close()));
    }
  });

  test('DistributedAtomicLong: compareAndSet, trySet, forceSet, initialize, subtract, 64-bit wrap', async () => {
    const c = new DistributedAtomicLong(zk, '/counters/cas');
    assert.deepEqual(await c.get(), { succeeded: true, preValue: 0n, postValue: 0n }, 'missing node reads 0');
    assert.equal(await c.initialize(10), true);
    assert.equal(await c.initialize(99), false, 'already there');
    assert.deepEqual(await c.compareAndSet(3, 4), { succeeded: false, preValue: 10n, postValue: 10n });
    assert.deepEqual(await c.compareAndSet(10, 4), { succeeded: true, preValue: 10n, postValue: 4n });
    assert.deepEqual(await c.subtract(5), { succeeded: true, preValue: 4n, postValue: -1n });
    assert.deepEqual(await c.trySet(2n ** 63n - 1n), { succeeded: true, preValue: -1n, postValue: 2n ** 63n - 1n });
    assert.deepEqual(await c.increment(), { succeeded: true, preValue: 2n ** 63n - 1n, postValue: -(2n ** 63n) }, 'wraps as a Java long');
    await c.forceSet(42);
    assert.equal((await c.get()).postValue, 42n);
    await other.delete('/counters/cas');
    await c.forceSet(43);
    assert.equal((await c.get()).postValue, 43n, 'forceSet re-creates');
    await other.setData('/counters/cas', 'xyz');
    await assert.rejects(c.increment(), { code: 'MARSHALLINGERROR' });
  });

  test('DistributedAtomicLong: every attempt loses the race -> AtomicRetriesExhaustedError, nothing written by us', async () => {
    await zk.create('/counters/contended', Buffer.alloc(8));
    let interferences = 0;
    // A client whose every setData is preceded by another session's write: each compare-and-set
    // is refused with BADVERSION by the real server.
    const racing = new Proxy(zk, {
      get(target, prop, receiver) {
        if (prop === 'setData') {
          return async (path: string, data: Uint8Array, version?: number) => {
            interferences++;
            const b = Buffer.alloc(8);
            b.writeBigInt64BE(BigInt(1000 + interferences));
            await other.setData(path, b);
            return target.setData(path, data, version);
          };
        }
        const v: unknown = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as ZookooperClient;
    const c = new DistributedAtomicLong(racing, '/counters/contended', { attemptsMax: 4, backoffMsMin: 0, backoffMsMax: 0 });
    await assert.rejects(c.increment(), (e: unknown) => {
      assert.ok(e instanceof AtomicRetriesExhaustedError);
      assert.ok(e instanceof ZookooperError);
      assert.equal(e.code, 'BADVERSION');
      assert.equal(e.attempts, 4);
      return true;
    });
    assert.equal(interferences, 4);
    assert.equal((await zk.getData('/counters/contended')).data.readBigInt64BE(0), 1004n, 'only the interfering writes landed');
    assert.equal(new ZookooperError('BADVERSION') instanceof AtomicRetriesExhaustedError, false, 'brand is specific');
  });

  test('AtomicCounter: numbers, same format; out of the safe range is refused', async () => {
    const c = new AtomicCounter(zk, '/counters/num');
    assert.deepEqual(await c.add(5), { succeeded: true, preValue: 0, postValue: 5 });
    assert.deepEqual(await c.decrement(), { succeeded: true, preValue: 5, postValue: 4 });
    assert.equal((await new DistributedAtomicLong(other, '/counters/num').get()).postValue, 4n);
    await assert.rejects(c.add(0.5), { code: 'BADARGUMENTS' });
    await new DistributedAtomicLong(other, '/counters/num').trySet(2n ** 60n);
    await assert.rejects(c.get(), { code: 'MARSHALLINGERROR' });
  });
});
