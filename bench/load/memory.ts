// Memory and recovery: N znodes of 100 bytes (at /mem/<i / 1000>/<i % 1000>, so no parent lists a
// million children); the server's RSS growth per znode; then stop the server and time a restart on
// that data dir until it serves again.
import path from 'node:path';
import { ensureNode, loadConnect } from '../lib/client.js';
import { sleep, tcpAsk } from '../lib/net.js';
import { memory } from '../lib/proc.js';
import { runDriver, startZooKeeper } from '../lib/zookeeper.js';
import { fetchState, startZookooper } from '../lib/zookooper.js';
import type { MemoryFigures } from './figures.js';
import { GeneratorPool, split } from './pool.js';

const fanout = 1_000;

function avgPathBytes(n: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) total += `/mem/${Math.floor(i / fanout)}/${i % fanout}`.length;
  return total / n;
}

export interface MemoryOptions {
  znodes: number;
  valueBytes: number;
  procs: number;
  sessionsPerProc: number;
  outstanding: number;
  workers: number;
}

export async function memoryZookooper(o: MemoryOptions, tmpDir: string, extraServerArgs: string[], log: (s: string) => void): Promise<MemoryFigures> {
  const dataDir = path.join(tmpDir, 'zookooper-memory');
  const parents = Math.ceil(o.znodes / fanout);
  let server = await startZookooper({ dataDir, workers: o.workers, logFile: path.join(tmpDir, 'zookooper-memory-1.log'), extraArgs: extraServerArgs });
  try {
    const connect = await loadConnect();
    let admin = await connect(server.connectString, { sessionTimeoutMs: 30_000 });
    await ensureNode(admin, '/mem');
    for (let p = 0; p < parents; p += 100) {
      await Promise.all(Array.from({ length: Math.min(100, parents - p) }, (_, j) => ensureNode(admin, `/mem/${p + j}`)));
    }
    await sleep(1_000);
    const before = memory(server.pid);
    const treeBefore = treeUsedBytes(await fetchState(server.port, 'mntr'));
    log(`  populating ${o.znodes.toLocaleString('en-US')} znodes ...`);
    const pool = new GeneratorPool(o.procs);
    const t0 = performance.now();
    try {
      let from = 0;
      split(o.znodes, o.procs).forEach((count, i) => {
        pool.send(i, {
          type: 'populate',
          connectString: server.connectString,
          from,
          to: from + count,
          fanout,
          valueBytes: o.valueBytes,
          sessions: o.sessionsPerProc,
          outstanding: o.outstanding,
        });
        from += count;
      });
      const done = await pool.all('populated', 3_600_000);
      const errors = done.reduce((s, d) => s + d.errors, 0);
      if (errors > 0) throw new Error(`populate: ${errors} errors, first: ${done.find((d) => d.firstError)?.firstError}`);
    } finally {
      await pool.close();
    }
    const populateSec = (performance.now() - t0) / 1000;
    await sleep(2_000);
    const after = memory(server.pid);
    const mntr = await fetchState(server.port, 'mntr');
    const treeAfter = treeUsedBytes(mntr);
    const treeBytesPerZnode = treeBefore === null || treeAfter === null ? null : (treeAfter - treeBefore) / o.znodes;
    const accounting = { mntr };
    const countBefore = await admin.getAllChildrenNumber('/mem');
    if (countBefore !== o.znodes + parents) log(`  warning: /mem has ${countBefore} descendants, expected ${o.znodes + parents}`);
    await admin.close();

    const tStop = performance.now();
    await server.managed.stop(120_000);
    const stopMs = performance.now() - tStop;
    log(`  stopped in ${stopMs.toFixed(0)} ms; restarting on the same data dir ...`);
    server = await startZookooper({
      dataDir,
      workers: o.workers,
      logFile: path.join(tmpDir, 'zookooper-memory-2.log'),
      extraArgs: extraServerArgs,
      readyTimeoutMs: 600_000,
    });
    admin = await connect(server.connectString, { sessionTimeoutMs: 30_000 });
    const countAfter = await admin.getAllChildrenNumber('/mem');
    await admin.close();

    const rssGrowth = (after?.rssBytes ?? 0) - (before?.rssBytes ?? 0);
    const pathBytes = avgPathBytes(o.znodes);
    const perZnode = rssGrowth / o.znodes;
    return {
      system: 'zookooper',
      workers: o.workers,
      znodes: o.znodes,
      valueBytes: o.valueBytes,
      avgPathBytes: pathBytes,
      populateSec,
      createsPerSec: o.znodes / populateSec,
      rssBeforeBytes: before?.rssBytes ?? 0,
      rssAfterBytes: after?.rssBytes ?? 0,
      bytesPerZnode: perZnode,
      overheadBytesPerZnode: perZnode - o.valueBytes - pathBytes,
      treeBytesPerZnode,
      treeOverheadBytesPerZnode: treeBytesPerZnode === null ? null : treeBytesPerZnode - o.valueBytes - pathBytes,
      serverAccounting: accounting,
      stopMs,
      restartMs: server.readyMs,
      restartProgressLines: server.startupLines.map((l) => `+${l.ms}ms ${l.line}`).slice(0, 50),
      countAfterRestart: countAfter - parents,
    };
  } finally {
    await server.managed.stop();
  }
}

/** The tree's own used-bytes figure from zookooper's /mntr JSON page, if it reports one. */
function treeUsedBytes(mntr: unknown): number | null {
  const v = (mntr as Record<string, unknown> | null)?.zk_approximate_data_size;
  return typeof v === 'number' ? v : null;
}

function mntrValue(text: string, key: string): number | null {
  const m = new RegExp(`^${key}\\s+(\\d+)`, 'm').exec(text);
  return m?.[1] === undefined ? null : Number(m[1]);
}

export async function memoryZooKeeper(o: MemoryOptions, classpath: string, tmpDir: string, log: (s: string) => void): Promise<MemoryFigures> {
  const dir = path.join(tmpDir, 'zookeeper-memory');
  const dataDir = path.join(dir, 'data');
  let server = await startZooKeeper({ dir, dataDir, logFile: path.join(tmpDir, 'zookeeper-memory-1.log') });
  try {
    await sleep(1_000);
    const before = memory(server.pid);
    const baseCount = mntrValue(await tcpAsk(server.port, 'mntr', 5_000).catch(() => ''), 'zk_znode_count');
    log(`  populating ${o.znodes.toLocaleString('en-US')} znodes (ZooKeeper) ...`);
    const { result } = await runDriver(
      classpath,
      { mode: 'populate', connect: server.connectString, znodes: o.znodes, valueBytes: o.valueBytes, sessions: o.procs * o.sessionsPerProc, outstanding: o.outstanding },
      { logFile: path.join(tmpDir, 'zk-driver-populate.log'), timeoutMs: 3_600_000 },
    );
    const r = result as unknown as { seconds: number; errors: number; firstError: string | null };
    if (r.errors > 0) throw new Error(`ZooKeeper populate: ${r.errors} errors, first: ${r.firstError}`);
    await sleep(2_000);
    const after = memory(server.pid);
    const mntr = await tcpAsk(server.port, 'mntr', 5_000).catch(() => '');
    const tStop = performance.now();
    await server.managed.stop(120_000);
    const stopMs = performance.now() - tStop;
    log(`  ZooKeeper stopped in ${stopMs.toFixed(0)} ms; restarting on the same data dir ...`);
    server = await startZooKeeper({ dir, dataDir, logFile: path.join(tmpDir, 'zookeeper-memory-2.log'), readyTimeoutMs: 600_000 });
    const mntr2 = await tcpAsk(server.port, 'mntr', 5_000).catch(() => '');
    const countAfter = mntrValue(mntr2, 'zk_znode_count');

    const rssGrowth = (after?.rssBytes ?? 0) - (before?.rssBytes ?? 0);
    const pathBytes = avgPathBytes(o.znodes);
    const perZnode = rssGrowth / o.znodes;
    return {
      system: 'zookeeper',
      workers: null,
      znodes: o.znodes,
      valueBytes: o.valueBytes,
      avgPathBytes: pathBytes,
      populateSec: r.seconds,
      createsPerSec: o.znodes / r.seconds,
      rssBeforeBytes: before?.rssBytes ?? 0,
      rssAfterBytes: after?.rssBytes ?? 0,
      bytesPerZnode: perZnode,
      overheadBytesPerZnode: perZnode - o.valueBytes - pathBytes,
      treeBytesPerZnode: null,
      treeOverheadBytesPerZnode: null,
      serverAccounting: {
        zk_znode_count: mntrValue(mntr, 'zk_znode_count'),
        zk_approximate_data_size: mntrValue(mntr, 'zk_approximate_data_size'),
        note: 'JVM RSS: heap growth depends on GC timing; not a per-object size',
      },
      stopMs,
      restartMs: server.readyMs,
      restartProgressLines: [],
      // zk_znode_count counts every node: subtract the fresh server's, /mem and its parents.
      countAfterRestart: countAfter === null || baseCount === null ? null : countAfter - baseCount - 1 - Math.ceil(o.znodes / fanout),
    };
  } finally {
    await server.managed.stop();
  }
}
