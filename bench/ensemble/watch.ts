// Watch fan-out across an ensemble: W sessions spread evenly over the servers (session i on server
// i % n) each hold a data watch on one znode; one setData (through the first server); time until
// the last watcher is notified. The same measure as bench/load/watch.ts, whose ZooKeeper half runs
// here unchanged with the ensemble's connect string (each ZooKeeper client picks a server at random).
import { ensureNode, loadConnect } from '../lib/client.js';
import type { BenchEnsemble } from '../lib/ensemble.js';
import type { ZooKeeperServer } from '../lib/zookeeper.js';
import { median, summarizeRounds, type WatchFigures, type WatchRound } from '../load/figures.js';
import { GeneratorPool, split } from '../load/pool.js';
import { watchFanoutZooKeeper } from '../load/watch.js';

const watchPath = '/bench-watch';

export async function ensembleWatchZookooper(e: BenchEnsemble, watchers: number, rounds: number, procs: number): Promise<WatchFigures> {
  const connect = await loadConnect();
  const admin = await connect(`127.0.0.1:${e.members[0]!.clientPort}`, { sessionTimeoutMs: 30_000 });
  const pool = new GeneratorPool(procs);
  try {
    await ensureNode(admin, watchPath, 'r');
    let offset = 0;
    split(watchers, procs).forEach((count, i) => {
      pool.send(i, { type: 'watch-setup', connectString: e.spreadString(), procIndex: i, count, path: watchPath, sessionTimeoutMs: 60_000, sessionOffset: offset });
      offset += count;
    });
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
      out.push({ allNotifiedMs: missing === 0 ? Math.max(...lat) : null, firstMs: Math.min(...lat), medianWatcherMs: median(lat), missing });
    }
    return { system: 'zookooper', workers: null, watchers, connectMs, rounds: out, ...summarizeRounds(out) };
  } finally {
    await pool.close(60_000);
    await admin.close();
  }
}

export async function ensembleWatchZooKeeper(e: BenchEnsemble, classpath: string, watchers: number, rounds: number, tmpDir: string): Promise<WatchFigures> {
  // watchFanoutZooKeeper reads only the connect string of its server argument.
  const asServer = { connectString: e.connectString() } as unknown as ZooKeeperServer;
  return await watchFanoutZooKeeper(asServer, classpath, watchers, rounds, tmpDir);
}
