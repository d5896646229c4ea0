// A load generator in its own process: one client session (a new one if it expires) on a
// connect string that lists every server, running writes, compare-and-sets and reads over a few
// keys for a fixed time, with a few requests in flight, and recording every op with its times
// (process.hrtime: CLOCK_MONOTONIC, the same clock in every process) and outcome as JSON lines.
// Bounded: it stops issuing at the deadline (or on SIGTERM) and exits by itself a grace period
// later at the latest.
import { openSync, writeSync, closeSync } from 'node:fs';
import { connect, ZookooperError, type ZookooperClient } from '../../src/index.js';
import type { RecordedLine } from '../helpers/history/index.js';

export interface LoadChildConfig {
  connectString: string;
  keys: string[];
  durationMs: number;
  out: string;
  /** Names this child's sessions (label.0, label.1 after an expiry, ...) and its values. */
  label: string;
  seed: number;
  sessionTimeoutMs: number;
  requestTimeoutMs: number;
  /** Requests in flight at once on the session (pipelined; FIFO per session still holds). */
  inflight: number;
}

export const loadChildDefaults = {
  exitGraceMs: 30_000, // after the deadline: ops still in flight are recorded as unknown, then exit
  reconnectPauseMs: 50,
} as const;

const cfg = JSON.parse(process.argv[2] ?? '{}') as LoadChildConfig;
let deadline = Date.now() + cfg.durationMs;
// SIGTERM: stop issuing; the ops in flight finish (or time out) and are recorded, then exit 0.
process.once('SIGTERM', () => {
  deadline = 0;
});
const fd = openSync(cfg.out, 'w');
const pending = new Set<RecordedLine>();

// The hard bound: whatever happens, this process ends; unanswered ops are written as unknown.
setTimeout(() => {
  for (const line of pending) record({ ...line, outcome: 'unknown', error: 'CHILD_EXIT' });
  closeSync(fd);
  process.exit(3);
}, cfg.durationMs + loadChildDefaults.exitGraceMs).unref();

function record(line: RecordedLine): void {
  writeSync(fd, JSON.stringify(line) + '\n');
}

// A small seeded PRNG (mulberry32) so a child's op mix is reproducible from its seed.
let rngState = cfg.seed >>> 0;
function random(): number {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const now = (): string => process.hrtime.bigint().toString();
let generation = 0;
let seq = 0;
let written = 0;
let zk: ZookooperClient | null = null;
let connecting: Promise<ZookooperClient | null> | null = null;
/** The last version this child saw per key: what its compare-and-sets are conditional on. */
const known = new Map<string, number>();

async function session(): Promise<ZookooperClient | null> {
  if (zk !== null && zk.state !== 'expired' && zk.state !== 'closed') return zk;
  connecting ??= (async () => {
    while (Date.now() < deadline) {
      try {
        const c = await connect(cfg.connectString, { sessionTimeoutMs: cfg.sessionTimeoutMs, requestTimeoutMs: cfg.requestTimeoutMs, connectTimeoutMs: 2_000 });
        generation++;
        seq = 0;
        zk = c;
        return c;
      } catch {
        await new Promise((r) => setTimeout(r, loadChildDefaults.reconnectPauseMs));
      }
    }
    return null;
  })().finally(() => {
    connecting = null;
  });
  return connecting;
}

async function oneOp(c: ZookooperClient): Promise<void> {
  const key = cfg.keys[Math.floor(random() * cfg.keys.length)]!;
  const dice = random();
  const kind = dice < 0.35 ? 'write' : dice < 0.6 ? 'cas' : 'read';
  const line: RecordedLine = { session: `${cfg.label}.${generation}`, seq: ++seq, key, kind, startNs: '', outcome: 'unknown' };
  if (kind !== 'read') line.value = `${cfg.label}-${++written}`;
  if (kind === 'cas') line.expectedVersion = known.get(key) ?? 0;
  pending.add(line);
  line.startNs = now();
  try {
    if (kind === 'read') {
      const { data, stat } = await c.getData(key);
      Object.assign(line, { outcome: 'ok', readValue: data.toString('utf8'), version: stat.version, mzxid: stat.mzxid.toString() });
    } else {
      const stat = await c.setData(key, line.value!, kind === 'cas' ? line.expectedVersion! : -1);
      Object.assign(line, { outcome: 'ok', version: stat.version, mzxid: stat.mzxid.toString() });
    }
    known.set(key, line.version!);
  } catch (err) {
    const code = err instanceof ZookooperError ? err.code : 'ERROR';
    // BADVERSION is an answer: the op did nothing. Anything else may or may not have happened.
    Object.assign(line, { outcome: code === 'BADVERSION' ? 'failed' : 'unknown', error: code });
  }
  line.endNs = now();
  pending.delete(line);
  record(line);
}

async function worker(): Promise<void> {
  while (Date.now() < deadline) {
    const c = await session();
    if (c === null) return;
    await oneOp(c);
  }
}

await Promise.all(Array.from({ length: cfg.inflight }, () => worker()));
const counts = { ops: seq, sessions: generation };
const last = zk as ZookooperClient | null;
if (last !== null) await last.close().catch(() => {});
closeSync(fd);
process.stdout.write(`DONE ${JSON.stringify(counts)}\n`);
process.exit(0);
