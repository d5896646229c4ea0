// Process figures from Linux /proc: CPU time (utime + stime, all threads) and memory high-water
// marks. The bench samples these for PIDs it spawned itself (servers, load generators, drivers).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicksPerSec: number | undefined;

/** USER_HZ, the unit of utime/stime in /proc/<pid>/stat (100 on Linux almost everywhere). */
export function clockTicks(): number {
  if (clockTicksPerSec === undefined) {
    try {
      clockTicksPerSec = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicksPerSec = 100;
    }
  }
  return clockTicksPerSec;
}

/** CPU time consumed so far by a process (every thread), in microseconds; null if it is gone. */
export function cpuMicros(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]); // field 14
  const stime = Number(rest[12]); // field 15
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return ((utime + stime) * 1e6) / clockTicks();
}

export interface MemoryFigures {
  rssBytes: number; // VmRSS
  peakRssBytes: number; // VmHWM, the resident high-water mark since the process started
}

export function memory(pid: number): MemoryFigures | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kib = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m?.[1] === undefined ? 0 : Number(m[1]) * 1024;
  };
  return { rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM') };
}

/** CPU of several processes, sampled together at the start and at the end of a window. */
export class CpuWindow {
  private readonly start = new Map<number, number>();
  private readonly end = new Map<number, number>();
  private startMs = 0;
  private endMs = 0;

  constructor(private readonly pids: number[]) {}

  begin(): void {
    this.startMs = performance.now();
    for (const pid of this.pids) this.start.set(pid, cpuMicros(pid) ?? Number.NaN);
  }

  finish(): void {
    this.endMs = performance.now();
    for (const pid of this.pids) this.end.set(pid, cpuMicros(pid) ?? Number.NaN);
  }

  /** CPU microseconds used by `pid` inside the window. */
  usedMicros(pid: number): number {
    return (this.end.get(pid) ?? Number.NaN) - (this.start.get(pid) ?? Number.NaN);
  }

  /** Sum over several pids. */
  usedMicrosAll(pids: number[]): number {
    return pids.reduce((sum, pid) => sum + this.usedMicros(pid), 0);
  }

  seconds(): number {
    return (this.endMs - this.startMs) / 1000;
  }
}
