// Shared helpers for the storage tests: temp dirs, deterministic payloads, a seeded PRNG.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Disk } from '../../src/io/disk.js';
import { nodeDisk } from '../../src/io/node/disk.js';
import type { LogRecord } from '../../src/server/pipeline/api.js';
import { type Recovery, recover, type RecoverOptions, type RecoveryWarning } from '../../src/server/storage/index.js';

export async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'zk-storage-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Payload of a record, a function of its zxid so a reader can check every byte. */
export function payloadFor(zxid: bigint, sizeBytes?: number): Uint8Array {
  const z = Number(zxid & 0xffffffn);
  const n = sizeBytes ?? ((z * 7919) % 300) + (z % 3 === 0 ? 0 : 1);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (z + i * 31) & 0xff;
  return out;
}

export function records(first: bigint, count: number, sizeBytes?: number): LogRecord[] {
  const out: LogRecord[] = [];
  for (let i = 0n; i < BigInt(count); i++) out.push({ zxid: first + i, bytes: payloadFor(first + i, sizeBytes) });
  return out;
}

export interface Recovered {
  rec: Recovery;
  records: LogRecord[];
  warnings: RecoveryWarning[];
}

export async function recoverAll(dataDir: string, options: RecoverOptions = {}, disk: Disk = nodeDisk): Promise<Recovered> {
  const warnings: RecoveryWarning[] = [];
  const rec = await recover(disk, { dataDir }, { ...options, onWarning: (w) => warnings.push(w) });
  const out: LogRecord[] = [];
  for await (const r of rec.records) out.push(r);
  return { rec, records: out, warnings };
}

export function zxids(rs: readonly LogRecord[]): bigint[] {
  return rs.map((r) => r.zxid);
}

/** mulberry32: small, seedable, good enough to pick cut points. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seedFromEnv(): number {
  const s = process.env['ZK_SEED'];
  return s !== undefined ? Number(s) : Math.floor(Math.random() * 2 ** 31);
}
