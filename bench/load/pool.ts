// The orchestrator's handle on the load generator processes (bench/load/child.ts, forked).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromChild, ToChild } from './protocol.js';

const childPath = fileURLToPath(new URL('./child.js', import.meta.url));

export class GeneratorPool {
  readonly children: ChildProcess[] = [];
  private readonly inbox: FromChild[][] = [];
  private readonly waiters: (() => void)[] = [];

  constructor(count: number) {
    for (let i = 0; i < count; i++) {
      const child = fork(childPath, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const box: FromChild[] = [];
      this.inbox.push(box);
      child.on('message', (m) => {
        box.push(m as FromChild);
        for (const w of this.waiters.splice(0)) w();
      });
      child.on('exit', () => {
        for (const w of this.waiters.splice(0)) w();
      });
      this.children.push(child);
    }
  }

  get pids(): number[] {
    return this.children.map((c) => c.pid ?? -1);
  }

  send(i: number, msg: ToChild): void {
    this.children[i]?.send(msg);
  }

  broadcast(msg: ToChild): void {
    for (let i = 0; i < this.children.length; i++) this.send(i, msg);
  }

  /** The next message of `type` from child i (an 'error' message or an exit rejects). */
  async next<T extends FromChild['type']>(i: number, type: T, timeoutMs: number): Promise<Extract<FromChild, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const box = this.inbox[i]!;
      const err = box.findIndex((m) => m.type === 'error');
      if (err >= 0) {
        const m = box.splice(err, 1)[0] as Extract<FromChild, { type: 'error' }>;
        throw new Error(`load generator ${i}: ${m.message}`);
      }
      const at = box.findIndex((m) => m.type === type);
      if (at >= 0) return box.splice(at, 1)[0] as Extract<FromChild, { type: T }>;
      const child = this.children[i]!;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`load generator ${i} exited`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`load generator ${i}: no '${type}' within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1_000));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async all<T extends FromChild['type']>(type: T, timeoutMs: number): Promise<Extract<FromChild, { type: T }>[]> {
    return await Promise.all(this.children.map((_, i) => this.next(i, type, timeoutMs)));
  }

  /** Asks every child to close its sessions and exit; kills (by PID) what has not exited in time. */
  async close(timeoutMs = 20_000): Promise<void> {
    const exits = this.children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) resolve();
          else c.once('exit', () => resolve());
        }),
    );
    for (const c of this.children) {
      if (c.connected) c.send({ type: 'close' } satisfies ToChild);
    }
    const timer = setTimeout(() => {
      for (const c of this.children) {
        if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
          try {
            process.kill(c.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
    }, timeoutMs);
    await Promise.all(exits);
    clearTimeout(timer);
  }
}

/** Splits `total` into `parts` near-equal integers (the first ones get the remainder). */
export function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}
