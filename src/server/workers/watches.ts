// The watch registry of one session worker: which of this worker's sessions watch what.
// ZooKeeper's WatchManager semantics:
// - data watches (getData, exists) fire once on created / dataChanged / deleted of their path;
// - child watches (getChildren) fire once on childrenChanged / deleted of their path;
// - persistent watches fire on every created / dataChanged / deleted / childrenChanged of their path;
// - persistent recursive watches fire on created / dataChanged / deleted of their path and every
//   descendant (never childrenChanged), and stay until removed.
// A session has at most one registration of each kind per path (the client fans out to its
// own watcher functions), so an event reaches a session once per kind it registered.
import type { ChangeEventType } from '../pipeline/api.js';

export type WatchKind = 'data' | 'child' | 'persistent' | 'recursive';
export const watchKinds: readonly WatchKind[] = ['data', 'child', 'persistent', 'recursive'];

export interface Delivery<S> {
  session: S;
  type: ChangeEventType;
  path: string;
}

export class WatchRegistry<S extends { watchCount: number }> {
  private readonly byKind: Record<WatchKind, Map<string, Set<S>>> = {
    data: new Map(),
    child: new Map(),
    persistent: new Map(),
    recursive: new Map(),
  };

  /** Returns false when the session already had this registration. */
  add(kind: WatchKind, path: string, session: S): boolean {
    const table = this.byKind[kind];
    let set = table.get(path);
    if (!set) table.set(path, (set = new Set()));
    if (set.has(session)) return false;
    set.add(session);
    session.watchCount++;
    return true;
  }

  has(kind: WatchKind, path: string, session: S): boolean {
    return this.byKind[kind].get(path)?.has(session) === true;
  }

  remove(kind: WatchKind, path: string, session: S): boolean {
    const table = this.byKind[kind];
    const set = table.get(path);
    if (!set || !set.delete(session)) return false;
    session.watchCount--;
    if (set.size === 0) table.delete(path);
    return true;
  }

  /**
   * The deliveries one change causes, at most one per session (ZooKeeper dedupes watchers across
   * its data and child tables the same way); one-shot registrations are consumed. The client
   * fans the event out to its own watcher functions.
   */
  trigger(type: ChangeEventType, path: string, out: Delivery<S>[]): void {
    const start = out.length;
    this.collect(type, path, out);
    if (out.length - start > 1) dedupe(out, start);
  }

  private collect(type: ChangeEventType, path: string, out: Delivery<S>[]): void {
    if (type === 'childrenChanged') {
      this.fireOnce('child', path, type, out);
      this.firePersistent('persistent', path, type, out);
      return;
    }
    this.fireOnce('data', path, type, out);
    if (type === 'deleted') this.fireOnce('child', path, type, out);
    this.firePersistent('persistent', path, type, out);
    // Recursive watches on the path itself and on every ancestor.
    if (this.byKind.recursive.size === 0) return;
    let p = path;
    for (;;) {
      this.firePersistent('recursive', p, type, out, path);
      if (p === '/') break;
      const i = p.lastIndexOf('/');
      p = i === 0 ? '/' : p.slice(0, i);
    }
  }

  private fireOnce(kind: WatchKind, path: string, type: ChangeEventType, out: Delivery<S>[]): void {
    const table = this.byKind[kind];
    const set = table.get(path);
    if (!set) return;
    table.delete(path);
    for (const session of set) {
      session.watchCount--;
      out.push({ session, type, path });
    }
  }

  private firePersistent(kind: WatchKind, key: string, type: ChangeEventType, out: Delivery<S>[], path = key): void {
    const set = this.byKind[kind].get(key);
    if (!set) return;
    for (const session of set) out.push({ session, type, path });
  }

  count(): number {
    let n = 0;
    for (const kind of watchKinds) for (const set of this.byKind[kind].values()) n += set.size;
    return n;
  }
}

function dedupe<S>(out: Delivery<S>[], start: number): void {
  const seen = new Set<S>();
  let w = start;
  for (let r = start; r < out.length; r++) {
    const d = out[r]!;
    if (seen.has(d.session)) continue;
    seen.add(d.session);
    out[w++] = d;
  }
  out.length = w;
}
