// ServiceCache: the instances of one service, kept current by ONE persistent recursive watch on
// `<base>/<name>` (not a watch per instance), with added/updated/removed events.
//
// Consistency. Each instance id carries the sequence number of the latest thing that happened to
// it here (an event, or a read we started). A read's answer is applied only if nothing newer
// happened to that id since it was sent: answers and events can be handled out of order (several
// frames in one socket read run their event callbacks before any promise continuation), and the
// newer event has started, or is, the authoritative update. A listing removes an id only if
// nothing happened to it after the listing was sent.
//
// Reconnects. Persistent watches come back with the session but ZooKeeper does not replay what
// they missed, so after a reconnect (and on a new session, after re-adding the watch) the cache
// lists the service again and reconciles: new ids added, changed ones updated, vanished ones
// removed; unchanged ones emit nothing (instances are compared by their JSON).
import { EventEmitter } from 'node:events';
import type { ZookooperClient } from '../../client/index.js';
import type { WatchedEvent } from '../../common/types.js';
import { isCode } from '../util.js';
import { discoveryDefaults, encodeInstance, parseInstance, servicePath, type ServiceInstance } from './instance.js';

export interface ServiceCacheEvents {
  added: [instance: ServiceInstance];
  updated: [instance: ServiceInstance, previous: ServiceInstance];
  removed: [instance: ServiceInstance];
  /** A read failed for a reason other than a lost connection or session (those resync later). */
  error: [err: unknown];
}

interface Entry {
  instance: ServiceInstance;
  json: string;
}

/** Errors after which a later resync (reconnect, new session) repairs the cache by itself. */
const healsLater = (e: unknown): boolean => isCode(e, 'CONNECTIONLOSS') || isCode(e, 'SESSIONEXPIRED') || isCode(e, 'OPERATIONTIMEOUT');

export class ServiceCache extends EventEmitter<ServiceCacheEvents> {
  readonly path: string;
  private readonly entries = new Map<string, Entry>();
  private readonly lastSeq = new Map<string, number>(); // id -> seq of its latest event or read; bounded by entries + reads in flight
  private seq = 0;
  private sorted: ServiceInstance[] | null = [];
  private closed = false;
  private zk: ZookooperClient | null = null;
  /** Bumped on every change of the instance set: providers cache their filtered views by it. */
  version = 0;
  /** Znodes under the service that do not hold an instance's JSON (skipped). */
  malformed = 0;

  constructor(
    readonly basePath: string,
    readonly name: string,
  ) {
    super();
    this.path = servicePath(basePath, name);
  }

  /** Attach to a client's session: add the watch, then load. Resolves once loaded. */
  async attach(zk: ZookooperClient): Promise<void> {
    this.zk = zk;
    // Bounded retry: a request in flight when the connection drops fails with CONNECTIONLOSS, and
    // a watch that was never added would leave the cache deaf on this session.
    for (let attempt = 1; ; attempt++) {
      try {
        await zk.addWatch(this.path, 'persistent_recursive', this.onEvent);
        break;
      } catch (e) {
        if (!(isCode(e, 'CONNECTIONLOSS') || isCode(e, 'OPERATIONTIMEOUT')) || attempt >= discoveryDefaults.attemptsMax || zk !== this.zk) throw e;
      }
    }
    await this.resync();
  }

  /** Same session after a lost connection: the watch is back, what it missed is not. */
  resync(): Promise<void> {
    const zk = this.zk;
    if (zk === null || this.closed) return Promise.resolve();
    const listedAt = this.seq;
    return zk.getChildren(this.path).then(
      async (ids) => {
        if (zk !== this.zk || this.closed) return;
        const present = new Set(ids);
        for (const [id, entry] of this.entries) {
          if (!present.has(id) && (this.lastSeq.get(id) ?? 0) <= listedAt) this.remove(id, entry);
        }
        await Promise.all(ids.map((id) => this.fetch(zk, id)));
      },
      async (e: unknown) => {
        if (isCode(e, 'NONODE')) {
          // No such service (yet): every instance we knew of is gone. The watch tells us when it appears.
          for (const [id, entry] of this.entries) if ((this.lastSeq.get(id) ?? 0) <= listedAt) this.remove(id, entry);
          return;
        }
        if (!healsLater(e)) this.emit('error', e);
      },
    );
  }

  /** The current instances, sorted by id. The array is shared: do not change it. */
  instances(): readonly ServiceInstance[] {
    if (this.sorted === null) this.sorted = [...this.entries.values()].map((e) => e.instance).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return this.sorted;
  }

  get(id: string): ServiceInstance | undefined {
    return this.entries.get(id)?.instance;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Stops listening (removes the watch). The last snapshot stays readable. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const zk = this.zk;
    this.zk = null;
    if (zk !== null && zk.state !== 'expired' && zk.state !== 'closed') await zk.removeWatches(this.path, this.onEvent, 'any').catch(() => {});
  }

  // ------------------------------------------------------------------ internals

  private readonly onEvent = (e: WatchedEvent): void => {
    if (this.closed || this.zk === null) return;
    // Only direct children are instances; deeper nodes and the service node itself are not.
    if (!e.path.startsWith(this.path + '/')) return;
    const id = e.path.slice(this.path.length + 1);
    if (id.includes('/')) return;
    if (e.type === 'deleted') {
      this.lastSeq.delete(id); // any read in flight for it is now stale (its seq no longer matches)
      const entry = this.entries.get(id);
      if (entry !== undefined) this.remove(id, entry);
    } else if (e.type === 'created' || e.type === 'dataChanged') {
      void this.fetch(this.zk, id);
    }
  };

  private async fetch(zk: ZookooperClient, id: string): Promise<void> {
    const mine = ++this.seq;
    this.lastSeq.set(id, mine);
    let result: { data: Buffer } | null;
    try {
      result = await zk.getData(`${this.path}/${id}`);
    } catch (e) {
      if (isCode(e, 'NONODE')) result = null;
      else {
        if (this.lastSeq.get(id) === mine && !this.entries.has(id)) this.lastSeq.delete(id);
        if (!healsLater(e) && !this.closed) this.emit('error', e);
        return;
      }
    }
    if (this.closed || zk !== this.zk || this.lastSeq.get(id) !== mine) return; // something newer happened to it
    const entry = this.entries.get(id);
    const instance = result === null ? null : parseInstance(result.data, this.name, id);
    if (result !== null && instance === null) this.malformed++;
    if (instance === null) {
      if (entry !== undefined) this.remove(id, entry);
      else this.lastSeq.delete(id);
      return;
    }
    const json = encodeInstance(instance);
    if (entry?.json === json) return;
    this.entries.set(id, { instance, json });
    this.changed();
    if (entry === undefined) this.emit('added', instance);
    else this.emit('updated', instance, entry.instance);
  }

  private remove(id: string, entry: Entry): void {
    this.entries.delete(id);
    this.lastSeq.delete(id);
    this.changed();
    this.emit('removed', entry.instance);
  }

  private changed(): void {
    this.sorted = null;
    this.version++;
  }
}
