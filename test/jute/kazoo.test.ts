// kazoo (Debian's python3-kazoo, by /usr/bin/python3) against real zookooper server processes on
// their jute ports: its recipes on a standalone server and on a 3-server ensemble, and a kazoo
// session that outlives kill -9 of the server it is connected to. Fails (does not skip) when
// kazoo is not installed, naming the install command.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { connect } from '../../src/index.js';
import { Ensemble } from '../cluster/harness.js';
import { eventually } from '../helpers/server.js';
import { requireKazoo, runKazoo, zkPortOf, removeScratchDirs } from './external.js';
import { startJuteServer } from './helpers.js';
import { failoverScript, recipesScript } from './kazoo-scripts.js';

after(removeScratchDirs);

interface RecipesResult {
  lock: { errors: string[]; overlaps: number; a: number; b: number; whileHeld: unknown; nonBlocking: boolean; contenders: string[]; queuedGotIt: boolean; nodesLeft: string[] };
  election: { order: string[]; contendersSeenByLeader: string[]; after: string[] };
  counter: { afterAdds: number; final: number; preValue: number; postValue: number };
  queue: { length: number; order: string[]; empty: null; lengthAfter: number };
  watches: { events: unknown[][]; later: unknown[][]; afterClose: unknown[] };
  transaction: { ok: unknown[]; failed: string[]; tx2: boolean; data: string; lastEvent: unknown[] };
}

function checkRecipes(r: RecipesResult): void {
  assert.deepEqual(r.lock.errors, []);
  assert.equal(r.lock.overlaps, 0, 'the two contenders never both held the lock');
  assert.deepEqual([r.lock.a, r.lock.b], [15, 15]);
  assert.equal(r.lock.whileHeld, 'timeout', 'a second session cannot take a held lock');
  assert.equal(r.lock.nonBlocking, false);
  assert.deepEqual(r.lock.contenders, ['a', 'b-queued'], 'holder first, then the queued contender');
  assert.equal(r.lock.queuedGotIt, true, 'the queued contender gets the lock on release');
  assert.deepEqual(r.lock.nodesLeft, []);
  assert.deepEqual(r.election, { order: ['e1', 'e2'], contendersSeenByLeader: ['e1', 'e2'], after: [] });
  assert.deepEqual(r.counter, { afterAdds: 40, final: 35, preValue: 40, postValue: 35 });
  assert.deepEqual(r.queue, { length: 5, order: ['first', 'urgent', 'one', 'two', 'three'], empty: null, lengthAfter: 0 });
  assert.deepEqual(r.watches.events.slice(0, 6), [
    ['children', []],
    ['data', '', 0],
    ['children', ['x']],
    ['data', 'v1', 1],
    ['children', ['x', 'y']],
    ['children', ['y']],
  ]);
  assert.deepEqual(r.watches.later, [[null, null], ['born', 0], ['grown', 1], [null, null]]);
  assert.deepEqual(r.transaction, {
    ok: ['/kazoo/tx', true, 2],
    failed: ['RolledBackError', 'BadVersionError'],
    tx2: false,
    data: 'v2',
    lastEvent: ['data', 'v2', 2],
  });
  assert.deepEqual(r.watches.afterClose, ['children', []], "the closed session's ephemeral vanished");
}

test('kazoo recipes on a standalone server: Lock, Election, Counter, Queue, ChildrenWatch, DataWatch, transaction', async () => {
  requireKazoo();
  const s = await startJuteServer({ workers: 2 });
  try {
    checkRecipes(await runKazoo('recipes', recipesScript, [s.zkConnect]).result<RecipesResult>());
    // The same tree for a native client: kazoo's Counter stores its value as text.
    const native = await connect(s.connectString, { sessionTimeoutMs: 10_000 });
    try {
      assert.equal((await native.getData('/kazoo/counter')).data.toString(), '35');
      assert.equal((await native.getData('/kazoo/tx')).data.toString(), 'made');
    } finally {
      await native.close();
    }
  } finally {
    await s.stop();
    s.cleanup();
  }
});

interface FailoverConnected {
  connected: number;
  session: string;
}
interface FailoverResult {
  reconnectedTo: number;
  session: string;
  ephemeral: string;
  owner: string;
  states: string[];
}

test('kazoo on a 3-server ensemble: recipes across servers; a session survives kill -9 of its server with its ephemerals', async () => {
  requireKazoo();
  // tick 500 ms: sessions may be up to 20 ticks (10 s), room for a leader election on a loaded box.
  const e = await Ensemble.start({ size: 3, tickMs: 500, logLevel: 'info', extraArgs: ['--zk-port', '0'] });
  try {
    const leaderId = await e.leader();
    const ports = new Map(await Promise.all(e.servers.map(async (s) => [s.id, await zkPortOf(s)] as const)));
    const hosts = [...ports.values()].map((p) => `127.0.0.1:${p}`).join(',');
    checkRecipes(await runKazoo('recipes-ensemble', recipesScript, [hosts]).result<RecipesResult>());

    // The leader first, so kazoo (hosts in order) connects to it: its death also costs an election.
    const ordered = [leaderId, ...e.ids().filter((id) => id !== leaderId)].map((id) => `127.0.0.1:${ports.get(id)}`).join(',');
    const run = runKazoo('failover', failoverScript, [ordered, '/failover/eph']);
    try {
      const before = JSON.parse(await run.waitForLine(/"connected"/)) as FailoverConnected;
      const victim = e.servers.find((s) => ports.get(s.id) === before.connected);
      assert.ok(victim, `kazoo is connected to jute port ${before.connected}, not one of ${[...ports.values()].join(', ')}`);
      await victim.kill9();
      run.send('killed');
      const after = JSON.parse(await run.waitForLine(/"reconnectedTo"/)) as FailoverResult;
      assert.notEqual(after.reconnectedTo, before.connected);
      assert.equal(after.session, before.session, 'the same session after the reconnect');
      assert.equal(after.ephemeral, 'mine', 'its ephemeral survived');
      assert.equal(after.owner, before.session);
      assert.ok(after.states.includes('SUSPENDED') && !after.states.includes('LOST'), `states: ${after.states.join(' ')}`);
      // A native client on the surviving servers sees both ephemerals, owned by that session.
      const survivors = e.servers.filter((s) => s !== victim).map((s) => s.address).join(',');
      const native = await connect(survivors, { sessionTimeoutMs: 10_000 });
      try {
        const stat = await eventually(() => native.exists('/failover/eph-after'), 15_000, 'the ephemeral made after the reconnect');
        assert.equal(stat.ephemeralOwner.toString(16), before.session);
        assert.equal((await native.getData('/failover/eph')).data.toString(), 'still mine');
        run.send('close');
        assert.deepEqual(await run.result(), { closed: true });
        await eventually(async () => (await native.exists('/failover/eph')) === null, 15_000, 'the ephemerals go with the closed session');
        assert.equal(await native.exists('/failover/eph-after'), null);
      } finally {
        await native.close();
      }
    } finally {
      run.kill();
    }
  } finally {
    await e.stopAll();
  }
});
