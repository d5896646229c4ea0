// Apache Curator 5.4 (Debian's libcurator-framework/recipes/discovery-java, ZooKeeper 3.8's client
// underneath) against real zookooper server processes on their jute ports: InterProcessMutex,
// LeaderLatch, CuratorCache and ServiceDiscovery, by test/jute/java/CuratorCheck.java (compiled by
// javac once per test process). Standalone and a 3-server ensemble. Fails (does not skip) when the
// jars are missing, naming the install command.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { connect } from '../../src/index.js';
import { Ensemble } from '../cluster/harness.js';
import { curatorClasspath, runCurator, zkPortOf, removeScratchDirs } from './external.js';
import { startJuteServer } from './helpers.js';

after(removeScratchDirs);

interface CuratorResult {
  mutex: { overlaps: number; holds: number; a: number; b: number; reentrantNodes: number; heldAfterOneRelease: boolean; nodesLeft: number };
  latch: { aLeads: boolean; participants: string[]; bLeadsBefore: boolean; leaderSeenByB: string; bLeadsAfter: boolean; leaderAfter: string };
  cache: { events: string[]; sizeAtEnd: number };
  discovery: { names: string[]; orders: string[]; byId: string; picked: string[]; ordersAfterUnregister: string[]; ordersAfterClose: string[] };
}

function checkCurator(r: CuratorResult): void {
  assert.deepEqual(r.mutex, { overlaps: 0, holds: 30, a: 15, b: 15, reentrantNodes: 1, heldAfterOneRelease: true, nodesLeft: 0 });
  assert.deepEqual(r.latch, { aLeads: true, participants: ['a*', 'b'], bLeadsBefore: false, leaderSeenByB: 'a', bLeadsAfter: true, leaderAfter: 'b' });
  assert.deepEqual(r.cache, {
    events: ['create /curator/cache root', 'create /curator/cache/before 0', 'initialized', 'create /curator/cache/x 1', 'change /curator/cache/x 1->2', 'delete /curator/cache/x'],
    sizeAtEnd: 2,
  });
  assert.deepEqual(r.discovery, {
    names: ['billing', 'orders'],
    orders: ['10.0.0.1:8001', '10.0.0.2:8002'],
    byId: '10.0.0.2',
    picked: ['8001', '8001', '8002', '8002'], // the default round-robin strategy, four picks
    ordersAfterUnregister: ['10.0.0.2:8002'],
    ordersAfterClose: [],
  });
}

test('Curator on a standalone server: InterProcessMutex, LeaderLatch, CuratorCache, ServiceDiscovery', async () => {
  curatorClasspath();
  const s = await startJuteServer({ workers: 2 });
  try {
    checkCurator(await runCurator(['recipes', s.zkConnect]).result<CuratorResult>());
    // One tree with the native clients': CuratorCache's test nodes are persistent, so they stay.
    const native = await connect(s.connectString, { sessionTimeoutMs: 10_000 });
    try {
      assert.equal((await native.getData('/curator/cache')).data.toString(), 'root');
      assert.deepEqual(await native.getChildren('/curator/cache'), ['before']);
    } finally {
      await native.close();
    }
  } finally {
    await s.stop();
    s.cleanup();
  }
});

test('Curator on a 3-server ensemble, given all three jute addresses', async () => {
  curatorClasspath();
  const e = await Ensemble.start({ size: 3, logLevel: 'info', extraArgs: ['--zk-port', '0'] });
  try {
    await e.leader();
    const ports = await Promise.all(e.servers.map(zkPortOf));
    checkCurator(await runCurator(['recipes', ports.map((p) => `127.0.0.1:${p}`).join(',')]).result<CuratorResult>());
  } finally {
    await e.stopAll();
  }
});
