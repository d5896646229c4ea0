// Facts about the machine and toolchain, saved with every result file.
import { spawnSync } from 'node:child_process';
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
  // `java -version` prints to stderr.
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (r.error) return undefined;
  return `${r.stderr}${r.stdout}`.trim().split('\n')[0];
}
