import { codecMicro } from './codec.js';
import { handoffMicro } from './handoff.js';
import type { MicroOptions, MicroRow } from './common.js';
import { logMicro } from './log.js';
import { treeMicro } from './tree.js';

export type { MicroRow } from './common.js';

/** Every micro benchmark group; a group whose module is missing yields one "skipped" row. */
export async function runMicro(o: MicroOptions, log: (s: string) => void): Promise<MicroRow[]> {
  const rows: MicroRow[] = [];
  for (const [name, fn] of [
    ['codec', codecMicro],
    ['tree', treeMicro],
    ['log', logMicro],
    ['handoff', handoffMicro],
  ] as const) {
    log(`  micro: ${name} ...`);
    try {
      rows.push(...(await fn(o)));
    } catch (err) {
      rows.push({ group: name, task: '-', opsPerSec: null, meanUs: null, p99Us: null, samples: 0, note: `failed: ${(err as Error).message}` });
    }
  }
  return rows;
}
