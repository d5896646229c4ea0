// The main thread's pure parts at their edges: the write loop settles after a fatal log error,
// session expiry survives a wall clock that steps back.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CommittedEntry, LogRecord, WriteRequest } from '../../src/server/pipeline/api.js';
import { SessionManager } from '../../src/server/sessions/manager.js';
import { WriteLoop, type PipelineLike } from '../../src/server/write-loop.js';

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_res, rej) => {
    timer = setTimeout(() => rej(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

describe('WriteLoop', () => {
  test('idle() settles after a fatal log error (a stop during a failing fsync must not hang)', async () => {
    let pending: WriteRequest[] = [];
    const pipeline: PipelineLike = {
      submit: (req) => void pending.push(req),
      takeLogRecords: (): LogRecord[] => (pending.length > 0 ? [{ zxid: 1n, bytes: new Uint8Array(1) } as unknown as LogRecord] : []),
      logged: () => {},
      commit: (publish: (entries: CommittedEntry[], appliedZxid: bigint) => void) => {
        publish([], 0n);
        pending = [];
      },
      pendingCount: () => pending.length,
    };
    let failSync!: (err: Error) => void;
    const syncing = new Promise<void>((_res, rej) => (failSync = rej));
    let fatal: unknown = null;
    const loop = new WriteLoop(pipeline, { append: () => {}, sync: () => syncing }, { publish: () => {}, afterBatch: () => {}, fatal: (err) => (fatal = err) });
    loop.submit({ sessionId: 1n, tag: 1, authIds: [], op: { type: 'sync', path: '/' } });
    // The loop runs on the next turn: wait until it is inside sync, then ask for idle and fail.
    await new Promise((r) => setImmediate(r));
    const idle = loop.idle();
    failSync(new Error('EIO'));
    await within(idle, 2_000, 'idle()');
    assert.ok(fatal instanceof Error);
  });
});

describe('SessionManager', () => {
  test('a wall clock that steps back does not throw in the expiry timer', () => {
    const t0 = 1_700_000_000_000;
    const m = new SessionManager(100, 1, t0);
    m.created(5n, 400, new Uint8Array(16));
    assert.deepEqual(m.expire(t0 + 100), []);
    // NTP steps the clock back by a minute: no crash, nothing expires early.
    assert.doesNotThrow(() => m.expire(t0 - 60_000));
    assert.deepEqual(m.expire(t0 + 200), []);
    assert.deepEqual(m.expire(t0 + 10_000), [5n]);
  });
});
