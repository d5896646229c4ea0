// Real outside ZooKeeper clients for the jute tests: kazoo (Debian's python3-kazoo, run by
// /usr/bin/python3: the python3 on PATH may be another one without it) and Apache Curator
// (Debian's libcurator-*-java jars, with a Java program of ours compiled once per test process).
// When a client is missing the test fails with the command that installs it; it never skips.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerProcess } from '../cluster/harness.js';
import { eventually, repoRoot, tempDir } from '../helpers/server.js';

export const installCommand =
  'apt-get update && apt-get install -y python3-kazoo libcurator-framework-java libcurator-recipes-java libcurator-discovery-java';

export const externalDefaults = {
  runTimeoutMs: 120_000, // one script or Java run, start-up included; generous for a loaded 2-core box
  lineTimeoutMs: 60_000, // waiting for one line of a running client
  pythonPath: '/usr/bin/python3',
  javaLibDir: '/usr/share/java',
} as const;

// ------------------------------------------------------------------ processes, stopped by PID

const live = new Set<ChildProcess>();
const dirs: string[] = []; // temp dirs of this test process (scripts, classes), removed at exit
process.once('exit', () => {
  for (const c of live) {
    try {
      if (c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  removeScratchDirs();
});

/** Removes this process's temp dirs; the test files also call it from an after() hook. */
export function removeScratchDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  scriptDir = null;
  compiled = null;
}

/** A temp dir removed when this test process exits. */
export function scratchDir(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

export interface ClientRun {
  pid: number;
  /** stdout lines so far. */
  lines: string[];
  /** Resolves with the first stdout line matching `re`. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  send(line: string): void;
  /** Resolves once the process exits; rejects unless it exited 0. Its last stdout line, parsed as JSON. */
  result<T>(): Promise<T>;
  kill(): void;
}

export function runClient(command: string, args: string[], what: string): ClientRun {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  child.stdout!.on('data', (b: Buffer) => {
    const parts = (partial + b.toString()).split('\n');
    partial = parts.pop()!;
    for (const l of parts) if (l.trim() !== '') lines.push(l);
  });
  child.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-20_000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), externalDefaults.runTimeoutMs);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res, rej) => {
    child.once('error', rej);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      if (partial.trim() !== '') lines.push(partial);
      res({ code, signal });
    });
  });
  const describe = (): string => `${what} (pid ${child.pid}); stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`;
  return {
    pid: child.pid!,
    lines,
    waitForLine: (re, timeoutMs = externalDefaults.lineTimeoutMs) =>
      eventually(() => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited: ${describe()}`);
        return lines.find((l) => re.test(l));
      }, timeoutMs, `a line matching ${re} from ${what}`),
    send: (line) => void child.stdin!.write(line + '\n'),
    async result<T>(): Promise<T> {
      child.stdin!.end();
      const { code, signal } = await exited;
      assert.equal(code, 0, `${what} exited with code ${code} signal ${signal}: ${describe()}`);
      const last = lines[lines.length - 1];
      assert.ok(last !== undefined, `no output from ${describe()}`);
      try {
        return JSON.parse(last) as T;
      } catch {
        throw new Error(`last line is not JSON: ${describe()}`);
      }
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
    },
  };
}

// ------------------------------------------------------------------ kazoo

export function requireKazoo(): string {
  const r = spawnSync(externalDefaults.pythonPath, ['-c', 'import kazoo.client, kazoo.recipe.watchers; print(kazoo.version.__version__)'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `kazoo is not importable by ${externalDefaults.pythonPath} (${(r.stderr ?? String(r.error)).trim()}): install it with  ${installCommand}  (as root)`);
  return r.stdout.trim();
}

let scriptDir: string | null = null;

/** Writes a Python script to this process's temp dir and runs it with /usr/bin/python3. */
export function runKazoo(name: string, source: string, args: string[]): ClientRun {
  scriptDir ??= scratchDir('zk-kazoo-');
  const file = join(scriptDir, `${name}.py`);
  writeFileSync(file, source);
  return runClient(externalDefaults.pythonPath, ['-u', file, ...args], `kazoo script ${name}`);
}

// ------------------------------------------------------------------ Curator

const curatorJars = ['curator-framework', 'curator-client', 'curator-recipes', 'curator-x-discovery', 'zookeeper', 'zookeeper-jute', 'guava', 'slf4j-api', 'slf4j-nop', 'jackson-core', 'jackson-databind', 'jackson-annotations'];
const javaSource = join(repoRoot, 'test', 'jute', 'java', 'CuratorCheck.java');
let compiled: string | null = null;

/** Checks the jars, compiles CuratorCheck.java once per process; returns the run classpath. */
export function curatorClasspath(): string {
  if (compiled !== null) return compiled;
  const jars = curatorJars.map((j) => join(externalDefaults.javaLibDir, `${j}.jar`));
  const missing = jars.filter((j) => !existsSync(j));
  assert.deepEqual(missing, [], `Curator's jars are missing (${missing.join(', ')}): install them with  ${installCommand}  (as root)`);
  const out = join(scratchDir('zk-curator-'), 'classes');
  mkdirSync(out);
  const cp = jars.join(':');
  const r = spawnSync('javac', ['-d', out, '-cp', cp, javaSource], { encoding: 'utf8' });
  assert.equal(r.status, 0, `javac ${javaSource} failed (JDK 17: apt-get install -y openjdk-17-jdk-headless):\n${r.stderr ?? String(r.error)}`);
  compiled = `${out}:${cp}`;
  return compiled;
}

export function runCurator(args: string[]): ClientRun {
  return runClient('java', ['-cp', curatorClasspath(), 'CuratorCheck', ...args], `CuratorCheck ${args[0]}`);
}

// ------------------------------------------------------------------ ensemble jute ports

/** The jute port a harness server logged in its "serving" line (started with --zk-port 0). */
export async function zkPortOf(s: ServerProcess): Promise<number> {
  const line = await eventually(() => s.lines.find((l) => l.includes('"msg":"serving"')), 30_000, `server ${s.id} serving`);
  const port = (JSON.parse(line.slice(line.indexOf('{'))) as { zkPort: unknown }).zkPort;
  assert.equal(typeof port, 'number', `zkPort in ${line}`);
  return port as number;
}
