// Facts about the machine and toolchain, saved with every result file.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineFacts {
  cpuModel: string;
  cores: number;
  memBytes: number;
  nodeVersion: string;
  kernel: string;
  platform: string;
  hostname: string;
  loadAverage: number[];
  clocksource?: string;
  java?: string;
  zookeeper?: string;
}

function tryRun(cmd: string, args: string[]): string | undefined {
  try {
    // `java -version` prints to stderr.
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return out.trim() || undefined;
  } catch (err) {
    const e = err as { stderr?: string };
    return e.stderr?.trim() || undefined;
  }
}

export function machineFacts(): MachineFacts {
  const cpus = os.cpus();
  const facts: MachineFacts = {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memBytes: os.totalmem(),
    nodeVersion: process.version,
    kernel: `${os.type()} ${os.release()}`,
    platform: `${os.platform()} ${os.arch()}`,
    hostname: os.hostname(),
    loadAverage: os.loadavg(),
  };
  try {
    facts.clocksource = readFileSync('/sys/devices/system/clocksource/clocksource0/current_clocksource', 'utf8').trim();
  } catch {
    // not Linux, or not readable: leave it out
  }
  return facts;
}

export function javaVersion(): string | undefined {
  const out = execFileSyncSafe('java', ['-version']);
  return out?.split('\n')[0];
}

function execFileSyncSafe(cmd: string, args: string[]): string | undefined {
  return tryRun(cmd, args);
}
