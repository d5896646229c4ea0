// Mixed clients on one tree: Apache Curator (Java, on the jute port) and zookooper's own recipes
// (the native msgpack client) contend on one lock; kazoo (Python, on the jute port) watches a
// native client's ephemeral come and go.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { connect, InterProcessMutex, ZookooperError, type ZookooperClient } from '../../src/index.js';
import { eventually, repoRoot } from '../helpers/server.js';
import { curatorClasspath, requireKazoo, runClient, runCurator, runKazoo, scratchDir, removeScratchDirs } from './external.js';
import { startJuteServer } from './helpers.js';
import { childrenWatchScript } from './kazoo-scripts.js';

after(removeScratchDirs);

const rounds = 40;

/**
 * One hold of the shared check CuratorCheck.mutex() does too: " NAME+" on entry, "-" on exit,
 * each a compare-and-set on the version read, so a holder that is not alone sees a dangling "+"
 * or loses a compare-and-set. Returns the violations seen (0 when the lock held).
 */
async function loggedHold(zk: ZookooperClient, logPath: string, name: string): Promise<number> {
  let violations = 0;
  const casOrForce = async (data: string, version: number): Promise<number> => {
    try {
      return (await zk.setData(logPath, data, version)).version;
    } catch (err) {
      if (!(err instanceof ZookooperError) || err.code !== 'BADVERSION') throw err;
      violations++; // someone wrote between our read and our write: they were inside too
      return (await zk.setData(logPath, data)).version;
    }
  };
  const entry = await zk.getData(logPath);
  if (entry.data.toString().endsWith('+')) violations++;
  const version = await casOrForce(`${entry.data.toString()} ${name}+`, entry.stat.version);
  await new Promise((r) => setTimeout(r, 1));
  const mid = await zk.getData(logPath);
  await casOrForce(`${mid.data.toString()}-`, version);
  return violations;
}

test("a Curator InterProcessMutex and zookooper's InterProcessMutex on one lock path never both hold it", async () => {
  curatorClasspath();
  const s = await startJuteServer({ workers: 2 });
  const native = await connect(s.connectString, { sessionTimeoutMs: 10_000 });
  try {
    await native.create('/interop', '');
    await native.create('/interop/log', '');
    const java = runCurator(['mutex', s.zkConnect, '/interop/lock', '/interop/log', String(rounds), 'curator']);
    try {
      await java.waitForLine(/"ready"/);
      java.send('go');
      // Start once Curator holds (or has held) the lock, so the two really queue behind each other.
      await eventually(async () => (await native.getData('/interop/log')).data.toString().includes('curator'), 60_000, 'Curator in the lock');
      const lock = new InterProcessMutex(native, '/interop/lock');
      let nativeViolations = 0;
      for (let i = 0; i < rounds; i++) {
        assert.equal(await lock.acquire(60_000), true, `round ${i}: acquire timed out`);
        try {
          nativeViolations += await loggedHold(native, '/interop/log', 'native');
        } finally {
          await lock.release();
        }
      }
      const curator = await java.result<{ holds: number; violations: number }>();
      const log = (await native.getData('/interop/log')).data.toString().trim().split(' ');
      assert.deepEqual({ curator, nativeViolations }, { curator: { holds: rounds, violations: 0 }, nativeViolations: 0 });
      assert.equal(log.length, 2 * rounds);
      assert.deepEqual(log.filter((h) => h !== 'curator+-' && h !== 'native+-'), [], 'every hold ended before the next began');
      // Both queues are fair (FIFO by sequence number): the holders take turns, not one run each.
      const turns = log.filter((h, i) => i > 0 && h !== log[i - 1]).length;
      assert.ok(turns >= rounds / 2, `only ${turns} hand-overs between the two clients: ${log.join(' ')}`);
      // No lock node left behind. Curator made /interop/lock a container: once empty the server
      // may sweep it (as ZooKeeper), so NONODE is as good as no children.
      const left = await native.getChildren('/interop/lock').catch((err: unknown) => {
        if (err instanceof ZookooperError && err.code === 'NONODE') return [];
        throw err;
      });
      assert.deepEqual(left, []);
    } finally {
      java.kill();
    }
  } finally {
    await native.close();
    await s.stop();
    s.cleanup();
  }
});

test("a kazoo ChildrenWatch sees native ephemerals appear, and vanish on close and on kill -9 of their process", async () => {
  requireKazoo();
  const s = await startJuteServer({ workers: 2 });
  const watch = runKazoo('children-watch', childrenWatchScript, [s.zkConnect, '/members']);
  try {
    const seen = (n: number): Promise<unknown> => eventually(() => watch.lines.length >= n, 30_000, `${n} ChildrenWatch calls`);
    await seen(1);
    // An in-process native session, closed.
    const native = await connect(s.connectString, { sessionTimeoutMs: 10_000 });
    await native.create('/members/in-process', '', { mode: 'ephemeral' });
    await seen(2);
    await native.close();
    await seen(3);
    // A native session in a process of its own, killed: its ephemeral goes when the session expires.
    const dir = scratchDir('zk-native-child-');
    const script = join(dir, 'member.mjs');
    const entry = pathToFileURL(join(repoRoot, 'dist', 'src', 'index.js')).href;
    writeFileSync(script, [
      `import { connect } from ${JSON.stringify(entry)};`,
      `const zk = await connect(${JSON.stringify(s.connectString)}, { sessionTimeoutMs: 2000 });`,
      "await zk.create('/members/child-process', String(process.pid), { mode: 'ephemeral' });",
      "console.log(JSON.stringify({ ready: true, session: zk.sessionId.toString(16) }));",
      'setInterval(() => {}, 1000);',
    ].join('\n'));
    const member = runClient(process.execPath, [script], 'native member process');
    try {
      await member.waitForLine(/"ready"/);
      await seen(4);
      member.kill();
      await seen(5);
    } finally {
      member.kill();
    }
    const calls = watch.lines.map((l) => (JSON.parse(l) as { children: string[] }).children);
    assert.deepEqual(calls, [[], ['in-process'], [], ['child-process'], []]);
    const done = await watch.result<{ calls: string[][] }>();
    assert.deepEqual(done.calls, calls);
  } finally {
    watch.kill();
    await s.stop();
    s.cleanup();
  }
});
