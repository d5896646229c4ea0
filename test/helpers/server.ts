// Starts a real zookooper server process for a test: ephemeral port, temp data dir, stopped by
// PID. Waits on the "serving" log line (no sleeps).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const binPath = join(repoRoot, 'bin', 'zookooper.js');

export interface TestServer {
  port: number;
  pid: number;
  dataDir: string;
  connectString: string;
  child: ChildProcess;
  /** Every stdout/stderr line so far. */
  lines: string[];
  /** Resolves with the exit code/signal once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill9(): Promise<void>;
  /** Waits until a log line matches. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  cleanup(): void;
}

export interface ServerOptions {
  dataDir?: string;
  workers?: number;
  tickMs?: number;
  port?: number;
  args?: string[];
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

export function tempDir(prefix = 'zk-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startServer(opts: ServerOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? tempDir();
  const args = [
    binPath,
    'server',
    '--port',
    String(opts.port ?? 0),
    '--data-dir',
    dataDir,
    '--workers',
    String(opts.workers ?? 2),
    '--tick-ms',
    String(opts.tickMs ?? 200),
    ...(opts.args ?? []),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const onData = (buf: Buffer): void => {
    for (const line of buf.toString().split('\n')) {
      if (line.trim() === '') continue;
      lines.push(line);
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i]!.re.test(line)) {
          waiters[i]!.resolve(line);
          waiters.splice(i, 1);
        }
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once('exit', (code, signal) => res({ code, signal })));
  const waitForLine = (re: RegExp, timeoutMs = 20_000): Promise<string> => {
    const found = lines.find((l) => re.test(l));
    if (found) return Promise.resolve(found);
    return new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`no log line matching ${re} within ${timeoutMs} ms; lines:\n${lines.slice(-30).join('\n')}`)), timeoutMs);
      waiters.push({
        re,
        resolve: (l) => {
          clearTimeout(timer);
          res(l);
        },
      });
      void exited.then(() => {
        clearTimeout(timer);
        rej(new Error(`server exited before a line matching ${re}; lines:\n${lines.slice(-30).join('\n')}`));
      });
    });
  };
  const serving = await waitForLine(/"msg":"serving"/, opts.readyTimeoutMs ?? 30_000);
  const port = (JSON.parse(serving) as { port: number }).port;
  const server: TestServer = {
    port,
    pid: child.pid!,
    dataDir,
    connectString: `127.0.0.1:${port}`,
    child,
    lines,
    exited,
    waitForLine,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
      await exited;
    },
    cleanup() {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
      if (opts.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
