// Small helpers every recipe needs, built only on the public client API.
import type { ZookooperClient } from '../client/index.js';
import { ZookooperError } from '../common/errors.js';
import type { CreateMode } from '../common/types.js';

/** Creates `path` and any missing parents (persistent or container, empty data). NODEEXISTS is fine. */
export async function ensurePath(zk: ZookooperClient, path: string, mode: CreateMode = 'persistent'): Promise<void> {
  if (path === '/' || (await zk.exists(path)) !== null) return;
  const parts = path.split('/').filter((p) => p !== '');
  let current = '';
  for (const part of parts) {
    current += '/' + part;
    try {
      await zk.create(current, '', { mode });
    } catch (err) {
      if (!(err instanceof ZookooperError && err.code === 'NODEEXISTS')) throw err;
    }
  }
}

/** Deletes `path` if present (any version). Returns whether it deleted it. */
export async function deleteIfExists(zk: ZookooperClient, path: string): Promise<boolean> {
  try {
    await zk.delete(path);
    return true;
  } catch (err) {
    if (err instanceof ZookooperError && err.code === 'NONODE') return false;
    throw err;
  }
}

/** The 10-digit sequential suffix of a znode name, or -1 if it has none. */
export function sequenceOf(name: string): number {
  const m = /(\d{10})$/.exec(name);
  return m ? Number(m[1]) : -1;
}

/** Names sorted by their sequential suffix (ties by name). */
export function sortBySequence(names: readonly string[]): string[] {
  return [...names].sort((a, b) => sequenceOf(a) - sequenceOf(b) || (a < b ? -1 : a > b ? 1 : 0));
}

export function isCode(err: unknown, code: string): boolean {
  return err instanceof ZookooperError && err.code === code;
}
