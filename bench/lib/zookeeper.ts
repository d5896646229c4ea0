// The Apache ZooKeeper baseline: a standalone server from the Debian package (`apt-get install
// zookeeper`, 3.8) started from a generated zoo.cfg (loopback, free port, fsync on), and the Java
// load driver bench/zk-driver/ZkDriver.java compiled at bench time into the run's temp dir.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, sleep, tcpAsk } from './net.js';
import { startManaged, type Managed } from './process.js';
import { repoRoot } from './zookooper.js';

const javaDir = '/usr/share/java';
const zkJar = path.join(javaDir, 'zookeeper.jar');

/** Why the baseline cannot run here, or null if it can. */
export function zookeeperMissing(): string | null {
  if (!existsSync(zkJar)) return `${zkJar} not found (apt-get install zookeeper)`;
  for (const tool of ['java', 'javac']) {
    try {
      execFileSync(tool, ['-version'], { stdio: 'ignore' });
    } catch {
      return `${tool} not found (apt-get install default-jdk-headless)`;
    }
  }
  return null;
}

/** "3.8.0": the versioned jar next to zookeeper.jar (Debian installs both), if there is one. */
export function zookeeperVersion(): string | undefined {
  try {
    const names = readdirSync(javaDir);
    return names.map((n) => /^zookeeper-(\d+\.\d+\.\d+)\.jar$/.exec(n)?.[1]).find((v) => v !== undefined);
  } catch {
    return undefined;
  }
}

// zookeeper.jar's manifest Class-Path names its dependencies (netty, jute, slf4j-api, ...); we add
// only a logging backend: slf4j-simple (warnings to stderr) for the server, nop for the driver.
const serverClasspath = [zkJar, path.join(javaDir, 'slf4j-simple.jar')].join(':');
const driverLibs = [zkJar, path.join(javaDir, 'slf4j-nop.jar')];

export function compileDriver(outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const src = path.join(repoRoot, 'bench', 'zk-driver', 'ZkDriver.java');
  execFileSync('javac', ['-implicit:none', '-nowarn', '-cp', zkJar, '-d', outDir, src], { stdio: ['ignore', 'ignore', 'inherit'] });
  return [outDir, ...driverLibs].join(':');
}

export interface ZooKeeperServer {
  managed: Managed;
  pid: number;
  port: number;
  dataDir: string;
  readyMs: number;
  connectString: string;
}

/** Asks the server "srvr" (the only four-letter word it needs); true once it serves requests. */
async function serving(port: number): Promise<boolean> {
  try {
    const out = await tcpAsk(port, 'srvr', 2_000);
    return out.includes('Mode: standalone');
  } catch {
    return false;
  }
}

export async function startZooKeeper(opts: { dir: string; dataDir: string; logFile: string; port?: number; readyTimeoutMs?: number }): Promise<ZooKeeperServer> {
  const port = opts.port ?? (await freePort());
  mkdirSync(opts.dataDir, { recursive: true });
  const cfg = path.join(opts.dir, 'zoo.cfg');
  writeFileSync(
    cfg,
    [
      'tickTime=2000',
      `dataDir=${opts.dataDir}`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      'forceSync=yes', // fsync every txn log batch: the durability zookooper also gives
      'admin.enableServer=false',
      'maxClientCnxns=0', // the watch fan-out opens 10,000 sessions from one address
      '4lw.commands.whitelist=srvr,mntr',
      '',
    ].join('\n'),
  );
  const t0 = performance.now();
  const managed = startManaged(
    'java',
    ['-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-cp', serverClasspath, 'org.apache.zookeeper.server.ZooKeeperServerMain', cfg],
    { cwd: opts.dir, logFile: opts.logFile },
  );
  // The port is bound before the database is loaded; "srvr" says when requests are served.
  const deadline = t0 + (opts.readyTimeoutMs ?? 120_000);
  let exited = false;
  void managed.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`ZooKeeper exited during start-up:\n${managed.tail()}`);
    if (await serving(port)) break;
    if (performance.now() > deadline) {
      await managed.stop(2_000);
      throw new Error(`ZooKeeper not serving after ${opts.readyTimeoutMs ?? 120_000} ms:\n${managed.tail()}`);
    }
    await sleep(20);
  }
  return { managed, pid: managed.pid, port, dataDir: opts.dataDir, readyMs: performance.now() - t0, connectString: `127.0.0.1:${port}` };
}

export type DriverLine = { event: string } & Record<string, unknown>;

/** A Java driver process in a stdin-driven mode (mode=watchers), with its JSON events queued. */
export class InteractiveDriver {
  readonly managed: Managed;
  private readonly events: DriverLine[] = [];
  private error: string | undefined;

  constructor(classpath: string, args: Record<string, string | number>, opts: { logFile: string; jvmArgs?: string[] }) {
    const argv = [...(opts.jvmArgs ?? []), '-cp', classpath, 'ZkDriver', ...Object.entries(args).map(([k, v]) => `${k}=${v}`)];
    this.managed = startManaged('java', argv, { logFile: opts.logFile, stdin: true });
    this.managed.onLine((line, stream) => {
      if (stream !== 'stdout' || !line.startsWith('{')) return;
      try {
        const parsed = JSON.parse(line) as DriverLine;
        if (parsed.event === 'error') this.error = String(parsed.message);
        this.events.push(parsed);
      } catch {
        // not one of ours
      }
    });
  }

  command(line: string): void {
    this.managed.child.stdin?.write(`${line}\n`);
  }

  async next(event: string, timeoutMs: number): Promise<DriverLine> {
    const deadline = performance.now() + timeoutMs;
    let exited = false;
    void this.managed.exited.then(() => (exited = true));
    for (;;) {
      if (this.error !== undefined) throw new Error(`ZooKeeper driver: ${this.error}`);
      const at = this.events.findIndex((e) => e.event === event);
      if (at >= 0) return this.events.splice(at, 1)[0]!;
      if (exited) throw new Error(`ZooKeeper driver exited before '${event}':\n${this.managed.tail()}`);
      if (performance.now() > deadline) throw new Error(`ZooKeeper driver: no '${event}' within ${timeoutMs} ms`);
      await sleep(5);
    }
  }

  async close(): Promise<void> {
    this.command('close');
    const timer = setTimeout(() => void this.managed.stop(2_000), 30_000);
    await this.managed.exited;
    clearTimeout(timer);
  }
}

/** Runs the Java driver; `onEvent` sees each JSON line as it arrives; resolves with the result line. */
export async function runDriver(
  classpath: string,
  args: Record<string, string | number>,
  opts: { logFile: string; timeoutMs: number; onEvent?: (line: DriverLine, pid: number) => void; jvmArgs?: string[]; onSpawn?: (m: Managed) => void },
): Promise<{ result: DriverLine; pid: number }> {
  const argv = [...(opts.jvmArgs ?? []), '-cp', classpath, 'ZkDriver', ...Object.entries(args).map(([k, v]) => `${k}=${v}`)];
  const managed = startManaged('java', argv, { logFile: opts.logFile, stdin: opts.onSpawn !== undefined });
  opts.onSpawn?.(managed);
  let result: DriverLine | undefined;
  let error: string | undefined;
  managed.onLine((line, stream) => {
    if (stream !== 'stdout' || !line.startsWith('{')) return;
    let parsed: DriverLine;
    try {
      parsed = JSON.parse(line) as DriverLine;
    } catch {
      return;
    }
    if (parsed.event === 'result') result = parsed;
    if (parsed.event === 'error') error = String(parsed.message);
    opts.onEvent?.(parsed, managed.pid);
  });
  const timer = setTimeout(() => void managed.stop(1_000), opts.timeoutMs);
  const how = await managed.exited;
  clearTimeout(timer);
  if (error !== undefined) throw new Error(`ZooKeeper driver: ${error}`);
  if (result === undefined) throw new Error(`ZooKeeper driver ended (${how}) without a result:\n${managed.tail()}`);
  return { result, pid: managed.pid };
}
