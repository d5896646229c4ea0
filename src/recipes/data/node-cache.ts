// NodeCache: Curator's NodeCache. Keeps one node's data and stat (or null while it does not exist),
// following it with a persistent (non-recursive) watch. Events as TreeCache's, for that node only.
import type { ZookooperClient } from '../../client/index.js';
import type { WatchedEvent } from '../../common/types.js';
import { WatchedCache, type CacheOptions } from './cache-base.js';
import type { ChildData } from './cache-state.js';

export class NodeCache extends WatchedCache {
  constructor(zk: ZookooperClient, path: string, opts: Omit<CacheOptions, 'nodesMax'> = {}) {
    super(zk, path, 'persistent', { ...opts, nodesMax: 1 });
  }

  /** The node's current data and stat, or null while it does not exist (or before start()). */
  get current(): ChildData | null {
    return this.state.get(this.path) ?? null;
  }

  /** Reads the node now (e.g. right after writing it) instead of waiting for the watch event. */
  async rebuildNow(): Promise<ChildData | null> {
    return this.refresh(this.path);
  }

  /** Applies a write this process made (data + returned stat); false if it changed nothing. */
  noteWrite(node: ChildData): boolean {
    return this.applyWrite(node);
  }

  protected override relevant(event: WatchedEvent): boolean {
    // A persistent watch on one node also reports its children changing: not this cache's concern.
    return event.path === this.path && super.relevant(event);
  }

  protected async load(): Promise<void> {
    await this.addWatch();
    await this.refresh(this.path);
  }
}
