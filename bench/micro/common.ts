// Shared helpers of the tinybench micro benchmarks. Each micro module imports the code under test
// lazily (a computed dynamic import), so a module that is not written or built yet is reported as
// "skipped: module missing" instead of failing the whole bench.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { sutRoot } from '../lib/zookooper.js';

export interface MicroRow {
  group: string;
  task: string;
  opsPerSec: number | null;
  meanUs: number | null;
  p99Us: number | null;
  samples: number;
  note?: string;
}

export interface MicroOptions {
  timeMs: number;
}

/** Imports dist/<rel> (e.g. 'src/protocol/index.js'), or returns null when it is not there. */
export async function importBuilt<T>(rel: string): Promise<T | null> {
  const url = pathToFileURL(path.join(sutRoot, 'dist', rel)).href;
  try {
    return (await import(url)) as T;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND') return null;
    throw err;
  }
}

export function skipped(group: string, why: string): MicroRow[] {
  return [{ group, task: '-', opsPerSec: null, meanUs: null, p99Us: null, samples: 0, note: `skipped: ${why}` }];
}

/** Runs a tinybench Bench and turns its tasks into rows. `perIteration` scales ops/s (batches). */
export async function runBench(
  group: string,
  o: MicroOptions,
  add: (bench: Bench) => void,
  perIteration: Record<string, number> = {},
): Promise<MicroRow[]> {
  const bench = new Bench({ time: o.timeMs, warmupTime: Math.min(200, o.timeMs), throws: true });
  add(bench);
  await bench.run();
  return bench.tasks.map((t) => {
    const r = t.result;
    const n = perIteration[t.name] ?? 1;
    if (r.state !== 'completed') {
      const error = r.state === 'errored' ? r.error.message : r.state;
      return { group, task: t.name, opsPerSec: null, meanUs: null, p99Us: null, samples: 0, note: `failed: ${error}` };
    }
    return {
      group,
      task: t.name,
      opsPerSec: (1000 / r.latency.mean) * n,
      meanUs: (r.latency.mean * 1000) / n,
      p99Us: (r.latency.p99 * 1000) / n,
      samples: r.latency.samplesCount,
      ...(n !== 1 ? { note: `${n} per iteration; figures per item` } : {}),
    };
  });
}
