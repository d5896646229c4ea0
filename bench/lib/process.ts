// Child processes the bench starts itself (servers, Java drivers): output kept in a log file in
// the run's temp dir, readiness detected from output lines, stopped by PID (SIGTERM, then SIGKILL
// after a deadline). Nothing is ever stopped by name.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

export interface Managed {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** Every stdout/stderr line goes to the log; listeners also see them. */
  onLine(listener: (line: string, stream: 'stdout' | 'stderr') => void): () => void;
  /** Waits for the first line matching `test`; rejects on exit or after timeoutMs. */
  waitForLine(test: (line: string) => boolean, timeoutMs: number, what: string): Promise<string>;
  /** SIGTERM by PID, SIGKILL after graceMs; resolves with how it ended. */
  stop(graceMs?: number): Promise<number | string>;
  /** The last lines of output, for error messages. */
  tail(n?: number): string;
}

/** Every process started here and not yet exited, so an interrupted bench can stop them by PID. */
export const running = new Set<number>();

export function stopAllRunning(): void {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export function startManaged(cmd: string, args: string[], opts: { cwd?: string; logFile: string; env?: NodeJS.ProcessEnv; stdin?: boolean }): Managed {
  // detached: its own process group, so a signal aimed at the bench's group (a terminal's Ctrl-C)
  // does not stop a server mid-measurement; the bench stops everything it started by PID.
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: [opts.stdin === true ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  const pid = child.pid;
  running.add(pid);
  const log: WriteStream = createWriteStream(opts.logFile);
  const listeners = new Set<(line: string, stream: 'stdout' | 'stderr') => void>();
  const recent: string[] = [];
  let alive = true;
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => {
      alive = false;
      running.delete(pid);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const pump = (stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr'): void => {
    // Always drain: a full pipe would stall the server and falsify every figure.
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    rl.on('line', (line) => {
      log.write(`${line}\n`);
      recent.push(line);
      if (recent.length > 200) recent.shift();
      for (const l of listeners) l(line, name);
    });
  };
  pump(child.stdout!, 'stdout');
  pump(child.stderr!, 'stderr');
  void exited.then(() => setTimeout(() => log.end(), 50));

  const onLine: Managed['onLine'] = (listener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };

  const waitForLine: Managed['waitForLine'] = (test, timeoutMs, what) =>
    new Promise<string>((resolve, reject) => {
      let off = (): void => {};
      const timer = setTimeout(() => {
        off();
        reject(new Error(`${cmd}: no ${what} within ${timeoutMs} ms; last output:\n${tail(20)}`));
      }, timeoutMs);
      off = onLine((line) => {
        if (!test(line)) return;
        clearTimeout(timer);
        off();
        resolve(line);
      });
      void exited.then((how) => {
        clearTimeout(timer);
        off();
        reject(new Error(`${cmd} exited (${how}) before ${what}; last output:\n${tail(20)}`));
      });
    });

  const stop: Managed['stop'] = async (graceMs = 30_000) => {
    if (!alive) return await exited;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, graceMs);
    const how = await exited;
    clearTimeout(timer);
    return how;
  };

  const tail = (n = 20): string => recent.slice(-n).join('\n');

  return { child, pid, logFile: opts.logFile, exited, onLine, waitForLine, stop, tail };
}
