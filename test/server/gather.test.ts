// The main thread's gather of every worker's report (workers/gather.ts) and the merge of the
// reports (workers/reports.ts): a worker that does not answer is named after the timeout, not
// waited for; a late report is dropped; lists are cut at the bound and say so.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReportGather } from '../../src/server/workers/gather.js';
import { mergeReports, watchesByPath, type Gathered, type WorkerReport } from '../../src/server/workers/reports.js';

function report(workerId: number, sessions: bigint[], paths: string[] = ['/w']): WorkerReport {
  return {
    workerId,
    connectionCount: sessions.length,
    watchCount: sessions.length * paths.length,
    connections: sessions.map((sessionId) => ({ workerId, remote: '127.0.0.1', sessionId, timeoutMs: 4000, queued: 0, received: 1, sent: 1, watches: paths.length })),
    watches: sessions.flatMap((sessionId) => paths.map((path) => ({ workerId, sessionId, path, kinds: ['data' as const] }))),
    truncated: false,
  };
}

/** A gather over `workers` workers with a hand-driven timer. */
function harness(workers: number, inFlightMax = 4) {
  const asked: [number, number][] = [];
  const answers: { to: number; reqId: number; g: Gathered }[] = [];
  const timers = new Map<number, () => void>();
  let timerSeq = 0;
  const gather = new ReportGather({
    workerIds: () => Array.from({ length: workers }, (_, i) => i),
    ask: (workerId, gatherId) => asked.push([workerId, gatherId]),
    answer: (to, reqId, g) => answers.push({ to, reqId, g }),
    startTimer: (fn) => {
      const id = ++timerSeq;
      timers.set(id, fn);
      return () => timers.delete(id);
    },
    timeoutMs: 2_000,
    inFlightMax,
  });
  const fireTimers = (): void => {
    for (const [id, fn] of [...timers]) {
      timers.delete(id);
      fn();
    }
  };
  return { gather, asked, answers, timers, fireTimers };
}

describe('gathering every worker\'s report', () => {
  test('all answer: the asker gets every worker\'s part at once and the timer is cancelled', () => {
    const h = harness(3);
    h.gather.request(1, 7, 100);
    assert.deepEqual(h.asked.map(([w]) => w), [0, 1, 2]);
    const gid = h.asked[0]![1];
    h.gather.report(gid, report(2, [30n]));
    h.gather.report(gid, report(0, [10n, 11n]));
    assert.equal(h.answers.length, 0, 'not before the last worker');
    h.gather.report(gid, report(1, [20n]));
    assert.equal(h.answers.length, 1);
    const a = h.answers[0]!;
    assert.equal(a.to, 1);
    assert.equal(a.reqId, 7);
    assert.deepEqual(a.g.missing, []);
    assert.deepEqual(a.g.connections.map((c) => [c.workerId, c.sessionId]), [[0, 10n], [0, 11n], [1, 20n], [2, 30n]]);
    assert.equal(a.g.connectionCount, 4);
    assert.equal(h.timers.size, 0);
  });

  test('a worker that does not answer is named when the timeout passes; its late report is dropped', () => {
    const h = harness(2);
    h.gather.request(0, 1, 100);
    const gid = h.asked[0]![1];
    h.gather.report(gid, report(0, [10n]));
    assert.equal(h.answers.length, 0);
    h.fireTimers();
    assert.equal(h.answers.length, 1);
    const g = h.answers[0]!.g;
    assert.deepEqual(g.missing, [1]);
    assert.deepEqual(g.workers, [
      { workerId: 0, answered: true, connections: 1, watches: 1 },
      { workerId: 1, answered: false, connections: 0, watches: 0 },
    ]);
    h.gather.report(gid, report(1, [20n]));
    assert.equal(h.answers.length, 1, 'no second answer');
    assert.equal(h.gather.inFlight, 0);
  });

  test('beyond the in-flight bound a request is answered at once, every worker missing; flush answers the open ones', () => {
    const h = harness(2, 1);
    h.gather.request(0, 1, 100);
    h.gather.request(1, 2, 100);
    assert.equal(h.answers.length, 1);
    assert.deepEqual(h.answers[0]!.g.missing, [0, 1]);
    assert.equal(h.answers[0]!.reqId, 2);
    h.gather.flush();
    assert.equal(h.answers.length, 2);
    assert.equal(h.answers[1]!.reqId, 1);
    assert.deepEqual(h.answers[1]!.g.missing, [0, 1]);
  });

  test('merged lists are cut at the bound and say so; counts stay whole', () => {
    const g = mergeReports([0, 1], [report(0, [1n, 2n, 3n]), report(1, [4n, 5n])], 4);
    assert.equal(g.truncated, true);
    assert.equal(g.connections.length, 4);
    assert.equal(g.watches.length, 4);
    assert.equal(g.connectionCount, 5);
    assert.equal(g.watchCount, 5);
    const whole = mergeReports([0, 1], [report(0, [1n]), report(1, [4n], ['/b', '/a'])], 4);
    assert.equal(whole.truncated, false);
    assert.deepEqual([...watchesByPath(whole.watches)].map(([p, ws]) => [p, ws.map((w) => w.sessionId)]), [['/a', [4n]], ['/b', [4n]], ['/w', [1n]]]);
  });
});
