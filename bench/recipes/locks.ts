// Lock benchmark: InterProcessMutex acquire/release throughput with 1 and with 20 contenders (each
// its own session), and acquire latency p50/p99 (from the acquire() call until it resolves, so
// with 20 contenders it includes the queueing). Figures, not assertions.
//
//   benchLocks({ connectString, quick })     used by bench/run.ts
//   node dist/bench/recipes/locks.js [--quick] [--connect host:port]
//       alone: starts its own server (loopback, free port, temp data dir, stopped by PID) unless
//       --connect names one, and prints the figures.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as hdr from 'hdr-histogram-js';
import { connect, InterProcessMutex, type ZookooperClient } from '../../src/index.js';

export interface LockBenchOptions {
  connectString: string;
  quick: boolean;
}

const contenderCounts = [1, 20] as const;

interface RunFigures {
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  ops: number;
}

async function runContenders(connectString: string, contenders: number, path: string, warmupMs: number, measureMs: number): Promise<RunFigures> {
  const clients: ZookooperClient[] = await Promise.all(Array.from({ length: contenders }, () => connect(connectString, { sessionTimeoutMs: 30_000 })));
  // 1 µs .. 60 s in µs, 3 significant digits.
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  try {
    const t0 = performance.now();
    const measureFrom = t0 + warmupMs;
    const measureTo = measureFrom + measureMs;
    let ops = 0;
    await Promise.all(
      clients.map(async (zk) => {
        const mutex = new InterProcessMutex(zk, path);
        for (;;) {
          const start = performance.now();
          if (start >= measureTo) return;
          if (!(await mutex.acquire(30_000))) throw new Error('bench: acquire timed out');
          const acquired = performance.now();
          await mutex.release();
          if (start >= measureFrom) {
            histogram.recordValue(Math.max(1, Math.round((acquired - start) * 1000)));
            ops++;
          }
        }
      }),
    );
    const elapsedS = (performance.now() - measureFrom) / 1000;
    return {
      opsPerSec: Math.round(ops / elapsedS),
      p50Ms: histogram.getValueAtPercentile(50) / 1000,
      p99Ms: histogram.getValueAtPercentile(99) / 1000,
      ops,
    };
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  }
}

/** Returns figures keyed `locks.c<N>.opsPerSec`, `locks.c<N>.acquireP50Ms`, `locks.c<N>.acquireP99Ms`. */
export async function benchLocks(opts: LockBenchOptions): Promise<Record<string, number>> {
  const warmupMs = opts.quick ? 300 : 1_000;
  const measureMs = opts.quick ? 2_000 : 5_000;
  const out: Record<string, number> = {};
  for (const n of contenderCounts) {
    const f = await runContenders(opts.connectString, n, `/bench-locks/${process.pid}-c${n}`, warmupMs, measureMs);
    out[`locks.c${n}.opsPerSec`] = f.opsPerSec;
    out[`locks.c${n}.acquireP50Ms`] = f.p50Ms;
    out[`locks.c${n}.acquireP99Ms`] = f.p99Ms;
    out[`locks.c${n}.ops`] = f.ops;
  }
  return out;
}

/** A server of our own for a standalone run (as test/helpers/server.ts: port 0, ready on "serving"). */
async function startOwnServer(): Promise<{ connectString: string; stop(): Promise<void> }> {
  const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
  const dataDir = mkdtempSync(join(tmpdir(), 'zk-bench-locks-'));
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'zookooper.js'), 'server', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--workers', '2'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('server not serving within 30 s')), 30_000);
    child.stdout!.on('data', (b: Buffer) => {
      buffered += b.toString();
      const line = buffered.split('\n').find((l) => l.includes('"msg":"serving"'));
      if (line === undefined) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
    void exited.then(() => reject(new Error('server exited before serving')));
  });
  return {
    connectString: `127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const i = args.indexOf('--connect');
  const given = i >= 0 ? args[i + 1] : undefined;
  const server = given === undefined ? await startOwnServer() : null;
  try {
    const connectString = given ?? server!.connectString;
    console.log(`lock bench: ${new Date().toISOString()} node ${process.version} server ${connectString}${server ? ' (own, --workers 2)' : ''}${quick ? ' --quick' : ''}`);
    const figures = await benchLocks({ connectString, quick });
    for (const n of contenderCounts) {
      console.log(
        `${String(n).padStart(2)} contender(s): ${String(figures[`locks.c${n}.opsPerSec`]).padStart(6)} acquire+release/s` +
          `  acquire p50 ${figures[`locks.c${n}.acquireP50Ms`]!.toFixed(3)} ms  p99 ${figures[`locks.c${n}.acquireP99Ms`]!.toFixed(3)} ms  (${figures[`locks.c${n}.ops`]} ops)`,
      );
    }
  } finally {
    await server?.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
