// The worker's per-socket send batching while it processes commit frames (send-batch.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SendBatch, type RawSocket } from '../../src/server/workers/send-batch.js';

function fakeSocket(log: string[], name: string): RawSocket & { isClosed: boolean } {
  let corked = false;
  const s = {
    isClosed: false,
    send: (f: Uint8Array) => {
      assert.ok(!s.isClosed, 'no send on a closed socket');
      log.push(`${name}:${corked ? 'corked ' : ''}${f[0]}`);
      if (f[0] === 99) s.isClosed = true; // a send that hits the backpressure limit closes it
    },
    end: () => {
      log.push(`${name}:end`);
      s.isClosed = true;
    },
    cork: (fn: () => void) => {
      log.push(`${name}:cork`);
      corked = true;
      fn();
      corked = false;
    },
    closed: () => s.isClosed,
  };
  return s;
}

describe('send batching', () => {
  test('inside a batch each socket sends its frames in order in one cork at the end; outside, directly', () => {
    const log: string[] = [];
    const batch = new SendBatch();
    const a = batch.socket(fakeSocket(log, 'a'));
    const b = batch.socket(fakeSocket(log, 'b'));
    a.send(Uint8Array.of(1));
    assert.deepEqual(log, ['a:1']);
    log.length = 0;
    batch.run(() => {
      a.send(Uint8Array.of(2));
      b.send(Uint8Array.of(3));
      a.cork(() => a.send(Uint8Array.of(4)));
      batch.run(() => b.send(Uint8Array.of(5))); // nested: still one flush at the outer end
      assert.deepEqual(log, [], 'nothing leaves before the batch ends');
    });
    assert.deepEqual(log, ['a:cork', 'a:corked 2', 'a:corked 4', 'b:cork', 'b:corked 3', 'b:corked 5']);
  });

  test('a socket that ends inside a batch sends what it queued first; a closed one drops the rest', () => {
    const log: string[] = [];
    const batch = new SendBatch();
    const rawA = fakeSocket(log, 'a');
    const a = batch.socket(rawA);
    const c = batch.socket(fakeSocket(log, 'c'));
    batch.run(() => {
      a.send(Uint8Array.of(1));
      a.cork(() => {
        a.send(Uint8Array.of(2));
        a.end();
      });
      c.send(Uint8Array.of(99)); // closes c
      c.send(Uint8Array.of(7));
    });
    assert.deepEqual(log, ['a:cork', 'a:corked 1', 'a:corked 2', 'a:end', 'c:cork', 'c:corked 99']);
    assert.ok(rawA.isClosed);
  });
});
