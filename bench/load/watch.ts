// Watch fan-out: W sessions each hold a data watch on one znode; one setData; how long until the
// last of them is notified. Times are CLOCK_MONOTONIC nanoseconds (process.hrtime / System.nanoTime),
// comparable across the processes of one machine.
import path from 'node:path';
import { ensureNode, loadConnect } from '../lib/client.js';
import { InteractiveDriver, type ZooKeeperServer } from '../lib/zookeeper.js';
import type { ZookooperServer } from '../lib/zookooper.js';
import { median, summarizeRounds, type WatchFigures, type WatchRound } from './figures.js';
import { GeneratorPool, split } from './pool.js';

const watchPath = '/bench-watch';

export async function watchFanoutZookooper(server: ZookooperServer, watchers: number, rounds: number, procs: number): Promise<WatchFigures> {
  const connect = await loadConnect();
  const admin = await connect(server.connectString, { sessionTimeoutMs: 30_000 });
  const pool = new GeneratorPool(procs);
  try {
    await ensureNode(admin, watchPath, 'r');
    split(watchers, procs).forEach((count, i) =>
      pool.send(i, { type: 'watch-setup', connectString: server.connectString, procIndex: i, count, path: watchPath, sessionTimeoutMs: 60_000 }),
    );
    const ready = await pool.all('ready', 300_000);
    const connectMs = Math.max(...ready.map((r) => r.connectMs));
    const out: WatchRound[] = [];
    for (let round = 0; round < rounds; round++) {
      pool.broadcast({ type: 'watch-arm', round, timeoutMs: 30_000 });
      await pool.all('armed', 120_000);
      const t0 = Number(process.hrtime.bigint());
      await admin.setData(watchPath, `r${round}`);
      const notified = await pool.all('notified', 120_000);
      const lat: number[] = [];
      let missing = 0;
      for (const n of notified) {
        missing += n.missing;
        for (const t of n.timesNs) if (t !== 0) lat.push((t - t0) / 1e6);
      }
      out.push({
        allNotifiedMs: missing === 0 ? Math.max(...lat) : null,
        firstMs: Math.min(...lat),
        medianWatcherMs: median(lat),
        missing,
      });
    }
    return { system: 'zookooper', workers: server.workers, watchers, connectMs, rounds: out, ...summarizeRounds(out) };
  } finally {
    await pool.close(60_000);
    await admin.close();
  }
}

/** Sessions per driver JVM: each ZooKeeper client holds a socket, an epoll fd and a wake-up fd. */
const watchersPerJvm = 3_000;

export async function watchFanoutZooKeeper(server: ZooKeeperServer, classpath: string, watchers: number, rounds: number, tmpDir: string): Promise<WatchFigures> {
  const jvms = Math.ceil(watchers / watchersPerJvm);
  // 3,000 ZooKeeper client objects are 6,000 threads per JVM: keep their stacks small.
  const jvmArgs = ['-Xss256k'];
  const setter = new InteractiveDriver(classpath, { mode: 'watchers', connect: server.connectString, watchers: 0 }, { logFile: path.join(tmpDir, `zk-watch-${watchers}-setter.log`), jvmArgs });
  const drivers = split(watchers, jvms).map(
    (count, i) => new InteractiveDriver(classpath, { mode: 'watchers', connect: server.connectString, watchers: count }, { logFile: path.join(tmpDir, `zk-watch-${watchers}-${i}.log`), jvmArgs }),
  );
  try {
    await setter.next('ready', 120_000);
    const ready = await Promise.all(drivers.map((d) => d.next('ready', 300_000)));
    const connectMs = Math.max(...ready.map((r) => Number(r.connectMs)));
    const out: WatchRound[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const d of drivers) d.command(`arm ${round}`);
      await Promise.all(drivers.map((d) => d.next('armed', 120_000)));
      setter.command(`set ${round}`);
      const t0 = Number((await setter.next('set', 30_000)).ns);
      const notified = await Promise.all(drivers.map((d) => d.next('notified', 120_000)));
      const lat: number[] = [];
      let missing = 0;
      for (const n of notified) {
        missing += Number(n.missing);
        for (const t of n.timesNs as number[]) if (t !== 0) lat.push((t - t0) / 1e6);
      }
      out.push({ allNotifiedMs: missing === 0 ? Math.max(...lat) : null, firstMs: Math.min(...lat), medianWatcherMs: median(lat), missing });
    }
    return { system: 'zookeeper', workers: null, watchers, connectMs, rounds: out, ...summarizeRounds(out) };
  } finally {
    await Promise.all([setter, ...drivers].map((d) => d.close()));
  }
}
