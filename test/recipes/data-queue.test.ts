// DistributedQueue and DistributedPriorityQueue against a real server process: FIFO order, each
// item to exactly one of several consumers, blocking take, priority order, bounds, a lost answer
// during a take.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  connect,
  DistributedPriorityQueue,
  DistributedQueue,
  encodePriority,
  jsonSerializer,
  ZookooperError,
  type Op,
  type ZookooperClient,
} from '../../src/index.js';
import { startServer, type TestServer } from '../helpers/server.js';

type Client = Awaited<ReturnType<typeof connect>>;
const text = { serialize: (s: string) => s, deserialize: (b: Buffer) => b.toString() };

describe('data recipes: queues', () => {
  let server: TestServer;
  let zk: Client;
  before(async () => {
    server = await startServer({ workers: 2, tickMs: 100 });
    zk = await connect(server.connectString);
  });
  after(async () => {
    await zk?.close();
    await server?.stop();
    server?.cleanup();
  });

  test('FIFO for a single consumer; peek, size, poll on empty', async () => {
    const q = new DistributedQueue(zk, '/q/fifo', { serializer: text });
    const items = Array.from({ length: 25 }, (_, i) => `item-${i}`);
    for (const it of items) await q.put(it);
    assert.equal(await q.size(), 25);
    assert.equal(await q.peek(), 'item-0');
    const got: (string | undefined)[] = [];
    for (let i = 0; i < items.length; i++) got.push(await q.take(1_000));
    assert.deepEqual(got, items);
    assert.equal(await q.poll(), undefined);
    assert.equal(await q.peek(), undefined);
    assert.equal(await q.take(150), undefined, 'timed out empty');
    // take() waits rather than answering at once: an item put while it waits is what it returns
    // (whether it saw the empty queue first and was woken by its watch, or found the item).
    const waiting = q.take(60_000);
    await zk.sync('/q/fifo');
    await q.put('late');
    assert.equal(await waiting, 'late', 'take returned the item put while it waited');
    assert.deepEqual(await zk.getChildren('/q/fifo'), [], 'no claim nodes left behind');
    await q.close();
  });

  test('several consumers on separate sessions: every item delivered exactly once', async () => {
    const total = 120;
    const consumers = await Promise.all(Array.from({ length: 4 }, () => connect(server.connectString)));
    const producer = new DistributedQueue(zk, '/q/many', { serializer: jsonSerializer<number>() });
    try {
      const taken: number[][] = consumers.map(() => []);
      let done = 0;
      const consuming = consumers.map(async (c, idx) => {
        const q = new DistributedQueue(c, '/q/many', { serializer: jsonSerializer<number>() });
        // Bounded: stops once every item is accounted for, or after a quiet second.
        for (let round = 0; round < total * 4 && done < total; round++) {
          const item = await q.take(1_000);
          if (item === undefined) continue;
          taken[idx]!.push(item);
          done++;
        }
        await q.close();
      });
      // Producing while consuming: takers block and wake on the puts.
      for (let i = 0; i < total; i++) await producer.put(i);
      await Promise.all(consuming);
      const all = taken.flat().sort((a, b) => a - b);
      assert.deepEqual(all, Array.from({ length: total }, (_, i) => i), 'each item exactly once');
      for (const list of taken) {
        // One consumer's own takes come in queue order (FIFO), whoever else took in between.
        assert.deepEqual(list, [...list].sort((a, b) => a - b));
      }
      assert.ok(taken.filter((l) => l.length > 0).length >= 2, 'the work was shared');
      assert.equal(await producer.size(), 0);
    } finally {
      await producer.close();
      await Promise.all(consumers.map((c) => c.close()));
    }
  });

  test('a blocked take() wakes on put; close() fails a waiting take with APIERROR', async () => {
    const other = await connect(server.connectString);
    try {
      const q = new DistributedQueue(zk, '/q/block', { serializer: text });
      const waiting = q.take(10_000);
      await new DistributedQueue(other, '/q/block', { serializer: text }).put('hello');
      assert.equal(await waiting, 'hello');
      const stuck = q.take();
      const rejected = assert.rejects(stuck, { code: 'APIERROR' });
      await q.close();
      await rejected;
      await assert.rejects(q.put('late'), { code: 'APIERROR' });
    } finally {
      await other.close();
    }
  });

  test('priority queue: lowest number first, FIFO within a priority', async () => {
    const q = new DistributedPriorityQueue(zk, '/q/prio', { serializer: text });
    const puts: [string, number][] = [
      ['p5-a', 5],
      ['m1-a', -1],
      ['p3', 3],
      ['m1-b', -1],
      ['p0', 0],
      ['p5-b', 5],
      ['min', -(2 ** 31)],
      ['max', 2 ** 31 - 1],
    ];
    for (const [item, prio] of puts) await q.put(item, prio);
    const got: (string | undefined)[] = [];
    for (let i = 0; i < puts.length; i++) got.push(await q.take(1_000));
    assert.deepEqual(got, ['min', 'm1-a', 'm1-b', 'p0', 'p3', 'p5-a', 'p5-b', 'max']);
    assert.ok(encodePriority(-1) < encodePriority(0) && encodePriority(0) < encodePriority(1));
    await assert.rejects(q.put('bad', 1.5), { code: 'BADARGUMENTS' });
    await q.close();
  });

  test('itemsMax refuses puts with QUOTAEXCEEDED; a bad item fails with MARSHALLINGERROR', async () => {
    const q = new DistributedQueue(zk, '/q/bound', { serializer: text, itemsMax: 2 });
    await q.put('a');
    await q.put('b');
    await assert.rejects(q.put('c'), { code: 'QUOTAEXCEEDED' });
    await q.close();
    const j = new DistributedQueue(zk, '/q/json', { serializer: jsonSerializer<{ n: number }>() });
    await zk.create('/q/json/qn-', '{not json', { mode: 'persistent_sequential' }).catch(async () => {
      await zk.create('/q/json', '');
      await zk.create('/q/json/qn-', '{not json', { mode: 'persistent_sequential' });
    });
    await assert.rejects(j.take(1_000), { code: 'MARSHALLINGERROR' });
    assert.equal(await j.size(), 0, 'a poison item is consumed once, not retried forever');
    await j.close();
  });

  test('a take whose answer is lost still gets its item (the claim node decides), exactly once', async () => {
    const q0 = new DistributedQueue(zk, '/q/lost', { serializer: text });
    await q0.put('only');
    let dropped = 0;
    // The multi reaches the server and is applied, but its answer is "lost" as a cut connection
    // would lose it: the consumer must find its own claim instead of guessing.
    const lossy = new Proxy(zk, {
      get(target, prop, receiver) {
        if (prop === 'multi') {
          return async (ops: Op[]) => {
            const r = await target.multi(ops);
            if (dropped++ === 0) throw new ZookooperError('CONNECTIONLOSS', 'answer lost (test)');
            return r;
          };
        }
        const v: unknown = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as ZookooperClient;
    const q = new DistributedQueue(lossy, '/q/lost', { serializer: text });
    assert.equal(await q.take(1_000), 'only');
    assert.equal(dropped, 1);
    assert.equal(await q.poll(), undefined);
    assert.deepEqual(await zk.getChildren('/q/lost'), [], 'claim removed');
    await q.close();
    await q0.close();
  });
});
