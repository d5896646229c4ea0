// Starting and stopping a real zookooper server process for the load benchmarks:
// `node bin/zookooper.js server --host 127.0.0.1 --port P --data-dir D --workers N`, ready when it
// logs a JSON line with "msg":"serving". The PID we measure is the process we spawned (node runs
// the server directly, no shell or npm in between), so /proc figures include every worker thread.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startManaged, type Managed } from './process.js';
import { freePort } from './net.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/**
 * The zookooper build under test: this checkout, or ZK_BENCH_SUT_ROOT = another built checkout
 * (e.g. a newer main) whose bin/zookooper.js and dist/src/ are measured by this checkout's bench.
 * Forked load processes inherit the variable, so server and client come from the same build.
 */
export const sutRoot = process.env.ZK_BENCH_SUT_ROOT ? path.resolve(process.env.ZK_BENCH_SUT_ROOT) : repoRoot;
const binPath = path.join(sutRoot, 'bin', 'zookooper.js');

export interface ZookooperServer {
  managed: Managed;
  pid: number;
  port: number;
  dataDir: string;
  workers: number;
  /** ms from spawn until the "serving" line. */
  readyMs: number;
  /** Output lines seen before "serving" with their ms offset (start-up progress). */
  startupLines: { ms: number; line: string }[];
  connectString: string;
  /** The jute (ZooKeeper protocol) port from the "serving" line, or null without one. */
  zkPort: number | null;
}

/** Why the zookooper side cannot run yet, or null if it can. */
export function zookooperMissing(): string | null {
  const need = ['dist/src/index.js', 'dist/src/server/main.js', 'dist/src/cli/main.js'];
  for (const rel of need) {
    if (!existsSync(path.join(sutRoot, rel))) return `${rel} not built (server or client not written yet)`;
  }
  return null;
}

export async function startZookooper(opts: {
  dataDir: string;
  workers: number;
  logFile: string;
  port?: number;
  extraArgs?: string[];
  readyTimeoutMs?: number;
}): Promise<ZookooperServer> {
  const port = opts.port ?? (await freePort());
  const args = [
    binPath,
    'server',
    '--host', '127.0.0.1',
    '--port', String(port),
    '--data-dir', opts.dataDir,
    '--workers', String(opts.workers),
    ...(opts.extraArgs ?? []),
  ];
  const t0 = performance.now();
  const managed = startManaged(process.execPath, args, { cwd: sutRoot, logFile: opts.logFile });
  const startupLines: { ms: number; line: string }[] = [];
  const off = managed.onLine((line) => {
    if (startupLines.length < 1000) startupLines.push({ ms: Math.round(performance.now() - t0), line });
  });
  let zkPort: number | null = null;
  try {
    const line = await managed.waitForLine((l) => l.includes('"msg":"serving"'), opts.readyTimeoutMs ?? 60_000, '"serving" log line');
    zkPort = zkPortOfLine(line);
  } catch (err) {
    off();
    await managed.stop(2_000);
    throw err;
  }
  off();
  const readyMs = performance.now() - t0;
  return {
    managed,
    pid: managed.pid,
    port,
    dataDir: opts.dataDir,
    workers: opts.workers,
    readyMs,
    startupLines,
    connectString: `127.0.0.1:${port}`,
    zkPort,
  };
}

/** The zkPort of a server's JSON "serving" log line (the jute listener; 0 asks for any free port). */
export function zkPortOfLine(line: string): number | null {
  try {
    const v = (JSON.parse(line.slice(line.indexOf('{'))) as { zkPort?: unknown }).zkPort;
    return typeof v === 'number' ? v : null;
  } catch {
    return null;
  }
}

/** Fetches a JSON state page (/mntr, /stat) from the server's HTTP side, or null. */
export async function fetchState(port: number, page: string): Promise<unknown> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/${page}`, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) return null;
    const text = await res.text();
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  } catch {
    return null;
  }
}
