// The client's watch bookkeeping (ZooKeeper's ZKWatchManager): which caller functions wait for
// which (path, kind). Paths are the caller's (chroot-relative). The server keeps one registration
// per (session, path, kind); this side keeps every watcher function, decides who an incoming event
// is for, and computes which server registrations to drop when the caller removes watchers.
import type { WatchedEvent, WatchedEventType, Watcher, WatcherType } from '../common/types.js';
import { WatchBits } from '../protocol/codes.js';

type Table = Map<string, Set<Watcher>>;

export interface SetWatchesLists {
  data: string[];
  exist: string[];
  child: string[];
  persistent: string[];
  persistentRecursive: string[];
}

export interface RemovedWatchers {
  /** Watchers removed, each with the event it is told ('dataWatchRemoved', ...). */
  removed: { watcher: Watcher; event: WatchedEvent }[];
  /** Server registrations no watcher needs any more (WatchBits), 0 if none. */
  serverBits: number;
}

function add(table: Table, path: string, w: Watcher): void {
  let set = table.get(path);
  if (set === undefined) {
    set = new Set();
    table.set(path, set);
  }
  set.add(w); // a Set: the same function twice on one path and kind fires once, as ZooKeeper
}

function take(table: Table, path: string, into: Set<Watcher>): void {
  const set = table.get(path);
  if (set === undefined) return;
  table.delete(path);
  for (const w of set) into.add(w);
}

function copy(table: Table, path: string, into: Set<Watcher>): void {
  const set = table.get(path);
  if (set !== undefined) for (const w of set) into.add(w);
}

export class WatchManager {
  private readonly data: Table = new Map(); // getData, exists on an existing node
  private readonly exist: Table = new Map(); // exists on a missing node
  private readonly child: Table = new Map();
  private readonly persistent: Table = new Map();
  private readonly recursive: Table = new Map();

  addData(path: string, w: Watcher): void {
    add(this.data, path, w);
  }
  addExist(path: string, w: Watcher): void {
    add(this.exist, path, w);
  }
  addChild(path: string, w: Watcher): void {
    add(this.child, path, w);
  }
  addPersistent(path: string, w: Watcher, recursive: boolean): void {
    add(recursive ? this.recursive : this.persistent, path, w);
  }

  /** Number of (path, kind) registrations; for tests and bounds. */
  get size(): number {
    return this.data.size + this.exist.size + this.child.size + this.persistent.size + this.recursive.size;
  }

  /**
   * The watchers an event from the server is for, one-shot ones removed (ZooKeeper's materialize):
   * created/dataChanged: data + exist; deleted: data + exist + child; childrenChanged: child;
   * persistent watchers on the path always; persistent_recursive on the path or an ancestor,
   * except for childrenChanged.
   */
  materialize(type: WatchedEventType, path: string): Set<Watcher> {
    const out = new Set<Watcher>();
    switch (type) {
      case 'created':
      case 'dataChanged':
        take(this.data, path, out);
        take(this.exist, path, out);
        break;
      case 'deleted':
        take(this.data, path, out);
        take(this.exist, path, out);
        take(this.child, path, out);
        break;
      case 'childrenChanged':
        take(this.child, path, out);
        break;
      default:
        return out; // *WatchRemoved events are made locally, never received
    }
    copy(this.persistent, path, out);
    if (this.recursive.size > 0 && type !== 'childrenChanged') {
      let p = path;
      for (;;) {
        copy(this.recursive, p, out);
        if (p === '/') break;
        const i = p.lastIndexOf('/');
        p = i === 0 ? '/' : p.slice(0, i);
      }
    }
    return out;
  }

  /**
   * Remove `watcher` (or every watcher when null) of `type` on `path`. As ZooKeeper 3.6+,
   * 'data' and 'children' also remove persistent watches; 'any' removes all kinds.
   * Returns null when nothing matched (the caller answers NOWATCHER).
   */
  remove(path: string, watcher: Watcher | null, type: WatcherType): RemovedWatchers | null {
    const removed: RemovedWatchers['removed'] = [];
    const kinds: [Table, number, WatchedEventType][] = [];
    if (type === 'data' || type === 'any') kinds.push([this.data, WatchBits.data, 'dataWatchRemoved'], [this.exist, WatchBits.data, 'dataWatchRemoved']);
    if (type === 'children' || type === 'any') kinds.push([this.child, WatchBits.child, 'childWatchRemoved']);
    kinds.push([this.persistent, WatchBits.persistent, 'persistentWatchRemoved'], [this.recursive, WatchBits.persistentRecursive, 'persistentWatchRemoved']);
    let touchedBits = 0;
    for (const [table, bit, event] of kinds) {
      const set = table.get(path);
      if (set === undefined) continue;
      if (watcher === null) {
        for (const w of set) removed.push({ watcher: w, event: { type: event, path } });
        table.delete(path);
        touchedBits |= bit;
      } else if (set.delete(watcher)) {
        removed.push({ watcher, event: { type: event, path } });
        if (set.size === 0) table.delete(path);
        touchedBits |= bit;
      }
    }
    if (removed.length === 0) return null;
    // A server registration goes only when no watcher of its kind is left on the path.
    let serverBits = 0;
    if (touchedBits & WatchBits.data && !this.data.has(path) && !this.exist.has(path)) serverBits |= WatchBits.data;
    if (touchedBits & WatchBits.child && !this.child.has(path)) serverBits |= WatchBits.child;
    if (touchedBits & WatchBits.persistent && !this.persistent.has(path)) serverBits |= WatchBits.persistent;
    if (touchedBits & WatchBits.persistentRecursive && !this.recursive.has(path)) serverBits |= WatchBits.persistentRecursive;
    // Deduplicate: a function registered as data and exist watcher hears dataWatchRemoved once.
    const seen = new Map<Watcher, Set<WatchedEventType>>();
    const unique = removed.filter((r) => {
      let types = seen.get(r.watcher);
      if (types === undefined) seen.set(r.watcher, (types = new Set()));
      if (types.has(r.event.type)) return false;
      types.add(r.event.type);
      return true;
    });
    return { removed: unique, serverBits };
  }

  /** Is any watcher of `type` on `path`? (the local half of checkWatches) */
  has(path: string, type: WatcherType): boolean {
    if (this.persistent.has(path) || this.recursive.has(path)) return true;
    if ((type === 'data' || type === 'any') && (this.data.has(path) || this.exist.has(path))) return true;
    return (type === 'children' || type === 'any') && this.child.has(path);
  }

  /** Every path, by kind, for setWatches after a reconnect. */
  lists(): SetWatchesLists {
    return {
      data: [...this.data.keys()],
      exist: [...this.exist.keys()],
      child: [...this.child.keys()],
      persistent: [...this.persistent.keys()],
      persistentRecursive: [...this.recursive.keys()],
    };
  }

  clear(): void {
    this.data.clear();
    this.exist.clear();
    this.child.clear();
    this.persistent.clear();
    this.recursive.clear();
  }
}
