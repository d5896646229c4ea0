// The cluster harness itself, on real processes: a stand-in server (fake-server.ts) that takes
// the real flags, talks to its peers through the fault proxies and reports what it hears and a
// role on GET /stat. This checks the wiring the ensemble tests rely on — per-server --servers
// lists through the proxies, one-way cuts, partitions, kill -9, SIGSTOP/SIGCONT, restart,
// leader() — and that every process is gone after stopAll().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { eventually } from '../helpers/server.js';
import { Ensemble } from './harness.js';

const fake = fileURLToPath(new URL('./fake-server.js', import.meta.url));

async function heard(e: Ensemble, id: number): Promise<number[] | null> {
  const s = await e.server(id).stat();
  return s === null ? null : (s.heard as number[]);
}

const same = (a: number[] | null, b: number[]): boolean => a !== null && a.join() === b.join();

async function hears(e: Ensemble, id: number, expected: number[], what: string): Promise<void> {
  await eventually(async () => same(await heard(e, id), expected), 10_000, `s${id} hears ${JSON.stringify(expected)} (${what})`);
}

test('harness: proxied peer links, one-way cuts, partitions, kill -9, SIGSTOP, restart and leader()', async () => {
  const e = await Ensemble.start({ size: 3, serverScript: fake });
  const pids: number[] = [];
  try {
    pids.push(...e.servers.map((s) => s.pid));
    assert.equal(e.connectString().split(',').length, 3);
    await hears(e, 1, [2, 3], 'all links open');
    assert.equal(await e.leader(), 1);
    await e.settled();

    e.mesh!.oneWayCut(2, 1);
    await hears(e, 1, [3], '2->1 cut');
    await hears(e, 2, [1, 3], 'only one way');
    e.mesh!.heal();
    await hears(e, 1, [2, 3], 'healed');

    e.mesh!.partition([1], [2, 3]);
    await hears(e, 1, [], 'partitioned away');
    await hears(e, 2, [3], 'the other side');
    assert.deepEqual([...(await e.roles())], [[1, 'leader'], [2, 'leader'], [3, 'follower']]);
    e.mesh!.heal();
    await hears(e, 2, [1, 3], 'healed');

    const first = e.server(1).pid;
    await e.server(1).kill9();
    assert.equal(e.server(1).status, 'dead');
    assert.equal(await e.leader(), 2, 'the next lowest leads once 1 is dead');
    await e.server(1).start();
    assert.notEqual(e.server(1).pid, first);
    pids.push(e.server(1).pid);
    await eventually(async () => (await e.leader()) === 1, 10_000, 's1 leads again');

    e.server(3).pause();
    assert.equal(e.server(3).status, 'stopped');
    assert.equal(await e.server(3).role(), null, 'a stopped server has no role');
    await hears(e, 1, [2], 's3 stopped');
    e.server(3).resume();
    await hears(e, 1, [2, 3], 's3 continued');

    e.server(2).pause(); // stopAll must also end a stopped process
  } finally {
    await e.stopAll();
  }
  for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `pid ${pid} is gone`);
});
