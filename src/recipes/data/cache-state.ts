// The in-memory side of NodeCache and TreeCache, with no I/O: it takes the outcome of each read
// (`getData` of a path: its data and stat, or null for NONODE) and turns it into the cache's new
// content plus the events that describe the difference. Keeping it pure lets the diff and the
// staleness rules be tested without a server.
//
// Why reads drive everything (and watch events only say "read this path again"):
// a persistent watch event carries no data and no zxid, and after a reconnect the server sends no
// events at all for what a persistent watch missed. A read reflects the server's state when it was
// served, and one connection serves a client's requests in order, so of several reads of one path
// the one issued last reflects the newest state. The I/O side tags each result `latest` when no
// read of that path was issued after it, and this module applies:
//   - a latest result, always (it is at least as new as anything seen for that path);
//   - an older successful result only when it is strictly newer than the cached node (same
//     czxid, higher mzxid), so a path under constant churn still moves forward;
//   - an older NONODE, or an older success for a path not cached, never: a later read is on its
//     way, and applying it could resurrect a deleted node or delete a re-created one.
// Changes are compared by zxid, so the same state read twice yields no second event: this is what
// makes a full re-read after a reconnect emit only the differences.
import type { Stat } from '../../common/types.js';

/** A cached node, as Curator's ChildData. */
export interface ChildData {
  path: string;
  data: Buffer;
  stat: Stat;
}

export type CacheChange =
  | { type: 'created'; node: ChildData }
  | { type: 'changed'; node: ChildData; previous: ChildData }
  | { type: 'deleted'; node: ChildData };

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function joinPath(parent: string, name: string): string {
  return parent === '/' ? '/' + name : parent + '/' + name;
}

export function isWithin(root: string, path: string): boolean {
  return path === root || (root === '/' ? path.startsWith('/') : path.startsWith(root + '/'));
}

export class CacheState {
  private readonly nodes = new Map<string, ChildData>();
  /** parent path -> names of its cached children; kept so children() is not a scan of the map. */
  private readonly kids = new Map<string, Set<string>>();

  constructor(
    readonly root: string,
    readonly nodesMax: number,
  ) {}

  get size(): number {
    return this.nodes.size;
  }

  get(path: string): ChildData | undefined {
    return this.nodes.get(path);
  }

  /** Names of the cached children of `path`, sorted; undefined if `path` is not cached. */
  children(path: string): string[] | undefined {
    if (!this.nodes.has(path)) return undefined;
    return [...(this.kids.get(path) ?? [])].sort();
  }

  paths(): string[] {
    return [...this.nodes.keys()];
  }

  /**
   * Applies one read's outcome. Returns the changes it made (often none), or null when `result` is
   * a node the cache has no room for (nodesMax reached): the node is left out.
   */
  apply(path: string, result: ChildData | null, latest: boolean): CacheChange[] | null {
    if (!isWithin(this.root, path)) return [];
    const old = this.nodes.get(path);
    if (result === null) {
      if (!latest || old === undefined) return [];
      this.remove(path);
      return [{ type: 'deleted', node: old }];
    }
    if (old === undefined) {
      if (!latest) return [];
      if (this.nodes.size >= this.nodesMax) return null;
      this.put(result);
      return [{ type: 'created', node: result }];
    }
    if (result.stat.czxid < old.stat.czxid) return []; // an earlier incarnation, read before the re-create
    if (result.stat.czxid > old.stat.czxid) {
      // Deleted and re-created between two reads (e.g. while disconnected): say so, in order.
      this.put(result);
      return [
        { type: 'deleted', node: old },
        { type: 'created', node: result },
      ];
    }
    if (result.stat.mzxid > old.stat.mzxid) {
      this.put(result);
      return [{ type: 'changed', node: result, previous: old }];
    }
    // Same data version. A child change moves only pzxid/cversion/numChildren: keep the newer stat
    // without an event (Curator's CuratorCache likewise reports changes by mzxid only).
    if (latest && result.stat.pzxid > old.stat.pzxid) this.nodes.set(path, result);
    return [];
  }

  private put(node: ChildData): void {
    this.nodes.set(node.path, node);
    if (node.path === this.root) return;
    const parent = parentOf(node.path);
    let set = this.kids.get(parent);
    if (set === undefined) {
      set = new Set();
      this.kids.set(parent, set);
    }
    set.add(node.path.slice(node.path.lastIndexOf('/') + 1));
  }

  private remove(path: string): void {
    this.nodes.delete(path);
    if (path === this.root) return;
    const parent = parentOf(path);
    const set = this.kids.get(parent);
    if (set === undefined) return;
    set.delete(path.slice(path.lastIndexOf('/') + 1));
    if (set.size === 0) this.kids.delete(parent);
  }
}
