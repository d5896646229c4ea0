// TreeCache: Curator's CuratorCache. Keeps a whole subtree (the root node included) in memory,
// following it with ONE persistent recursive watch on the root (not a watch per node).
// Lifecycle, events and reconnect semantics: cache-base.ts and src/recipes/docs/data.md.
import type { ZookooperClient } from '../../client/index.js';
import { isCode } from '../util.js';
import { WatchedCache, type CacheOptions } from './cache-base.js';
import { joinPath, type ChildData } from './cache-state.js';

export class TreeCache extends WatchedCache {
  constructor(zk: ZookooperClient, path: string, opts: CacheOptions = {}) {
    super(zk, path, 'persistent_recursive', opts);
  }

  /** The cached node at `path` (inside the subtree), or undefined if it is not there. */
  get(path: string): ChildData | undefined {
    return this.state.get(path);
  }

  /** Names of the cached children of `path`, sorted; undefined if `path` itself is not cached. */
  children(path: string = this.path): string[] | undefined {
    return this.state.children(path);
  }

  /** Every cached node, parents before their children. */
  entries(): ChildData[] {
    return this.state
      .paths()
      .sort()
      .map((p) => this.state.get(p))
      .filter((n): n is ChildData => n !== undefined);
  }

  protected async load(): Promise<void> {
    // The watch goes first: a change after it is both seen by the walk or reported as an event,
    // so none falls between the two.
    await this.addWatch();
    const seen = new Set<string>();
    await this.walk(this.path, seen);
    // Cached nodes the walk did not meet were deleted while we were not looking (or after the walk
    // listed their parent): read each again, and the read's outcome decides (cache-state.ts).
    const missing = this.state.paths().filter((p) => !seen.has(p));
    await Promise.all(missing.map((p) => this.refresh(p)));
  }

  private async walk(path: string, seen: Set<string>): Promise<void> {
    seen.add(path);
    const node = await this.refresh(path);
    if (node === null || node.stat.numChildren === 0 || this.isFull) return;
    let names: string[];
    try {
      names = await this.listChildren(path);
    } catch (err) {
      // Deleted between the two reads: its deleted event (or the next read) settles it.
      if (isCode(err, 'NONODE')) return;
      throw err;
    }
    await Promise.all(names.map((name) => this.walk(joinPath(path, name), seen)));
  }
}
