// Helpers for the data-recipe tests: a cache event recorder and a snapshot of a subtree read
// straight from the server, to compare a cache with.
import type { ChildData, WatchedCache, ZookooperClient } from '../../src/index.js';

export interface Recorded {
  type: 'initialized' | 'created' | 'changed' | 'deleted' | 'resynced' | 'stale';
  path?: string;
  data?: string;
}

export function record(cache: WatchedCache): Recorded[] {
  const log: Recorded[] = [];
  const node = (type: 'created' | 'changed' | 'deleted') => (n: ChildData) => log.push({ type, path: n.path, data: n.data.toString() });
  cache.on('initialized', () => log.push({ type: 'initialized' }));
  cache.on('resynced', () => log.push({ type: 'resynced' }));
  cache.on('stale', () => log.push({ type: 'stale' }));
  cache.on('created', node('created'));
  cache.on('changed', node('changed'));
  cache.on('deleted', node('deleted'));
  return log;
}

/** "type path=data" lines, sorted: event order across paths is not promised, the set is. */
export function summary(events: readonly Recorded[]): string[] {
  return events
    .filter((e) => e.path !== undefined)
    .map((e) => `${e.type} ${e.path}=${e.data}`)
    .sort();
}

/** path -> data of every node under (and including) `root`, read directly. Bounded by `nodesMax`. */
export async function snapshot(zk: ZookooperClient, root: string, nodesMax = 10_000): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const stack = [root];
  while (stack.length > 0) {
    if (out.size > nodesMax) throw new Error(`snapshot of ${root} exceeds ${nodesMax} nodes`);
    const path = stack.pop()!;
    try {
      const { data } = await zk.getData(path);
      out.set(path, data.toString());
      for (const name of await zk.getChildren(path)) stack.push(path === '/' ? `/${name}` : `${path}/${name}`);
    } catch (err) {
      if ((err as { code?: string }).code !== 'NONODE') throw err;
    }
  }
  return out;
}

export function cacheContent(entries: readonly ChildData[]): Map<string, string> {
  return new Map(entries.map((n) => [n.path, n.data.toString()]));
}
