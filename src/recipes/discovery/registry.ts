// ServiceRegistry: this process's instances as EPHEMERAL znodes `<base>/<name>/<id>` (JSON data).
//
// The registry keeps the *desired* state (every instance registered and not unregistered) and
// makes ZooKeeper match it: on register/update, after a reconnect (same session: a cheap check),
// and after a session expiry (new session: every node re-created). Operations run one at a time
// in a bounded queue, so an update never races the re-registration of the same instance.
//
// Re-creating after expiry has a race ZooKeeper and Curator know well: the client may give up on
// its old session before the server has expired it, so the old session's ephemeral still exists
// and create fails with NODEEXISTS. We then look at the node's ephemeralOwner: our session -> it
// is ours (an answer lost to a dropped connection), bring its data up to date; another session ->
// wait (an exists watch, no polling) until it is deleted, then create; bounded by staleOwnerWaitMs,
// after which it fails with NODEEXISTS (then it is a live duplicate, not a leftover).
import { EventEmitter } from 'node:events';
import type { ZookooperClient } from '../../client/index.js';
import { ZookooperError } from '../../common/errors.js';
import { ensurePath, isCode } from '../util.js';
import { ClientHolder, type ClientFactory } from './client-holder.js';
import { Coalescer } from './coalescer.js';
import { checkBasePath, checkInstance, checkName, discoveryDefaults, encodeInstance, instancePath, servicePath, type ServiceInstance, type ServiceInstanceInput } from './instance.js';
import { sleep, waitUntilGone } from './wait.js';

export interface ServiceRegistryOptions {
  /** Parent of every service; default '/services'. */
  basePath?: string;
  /**
   * Makes a new connection after the session expired; the registry then re-registers everything
   * on it (and closes it on close()). Without it, call reattach(newClient) yourself.
   */
  connect?: ClientFactory;
  /** How long to wait for another session's node at our path to go; default 2 x session timeout + 1 s. */
  staleOwnerWaitMs?: number;
  /** Load publishing: at most one setData per instance per this; default 1,000 ms. */
  loadMinIntervalMs?: number;
}

export interface InstanceRef {
  name: string;
  id: string;
}

export interface ServiceRegistryEvents {
  /** Every instance was written again on a new session (after expiry or reattach). */
  reregistered: [instances: ServiceInstance[], sessionId: bigint];
  /** The session expired; re-registration follows on the next session. */
  expired: [];
  /** A background write (re-registration, load) failed; the registration stays desired. */
  error: [err: unknown];
}

/** Coverage of the rare paths, for tests and operators. */
export interface RegistryStats {
  creates: number;
  staleOwnerWaits: number; // NODEEXISTS from another session's node: waited for it to go
  ownNodeAdopted: number; // NODEEXISTS from our own session's node: kept it
  reregistrations: number;
  loadWrites: number;
}

/** createNode's "not yet: go round again" (the node was in the way, or a parent was missing). */
const again = Symbol('again');
const keyOf = (r: InstanceRef): string => `${r.name}/${r.id}`;
const retryable = (e: unknown): boolean => isCode(e, 'CONNECTIONLOSS') || isCode(e, 'OPERATIONTIMEOUT');

export class ServiceRegistry extends EventEmitter<ServiceRegistryEvents> {
  readonly basePath: string;
  readonly stats: RegistryStats = { creates: 0, staleOwnerWaits: 0, ownNodeAdopted: 0, reregistrations: 0, loadWrites: 0 };
  private readonly holder: ClientHolder;
  private readonly desired = new Map<string, ServiceInstance>();
  private readonly written = new Map<string, string>(); // key -> JSON last known in the znode
  private readonly loads: Coalescer;
  private readonly staleOwnerWaitMs: number | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private closed = false;

  constructor(client: ZookooperClient, opts: ServiceRegistryOptions = {}) {
    super();
    this.basePath = checkBasePath(opts.basePath ?? discoveryDefaults.basePath);
    this.staleOwnerWaitMs = opts.staleOwnerWaitMs;
    this.loads = new Coalescer(opts.loadMinIntervalMs ?? discoveryDefaults.loadMinIntervalMs, (key) => this.writeLoad(key));
    this.holder = new ClientHolder(client, opts.connect ?? null, {
      onReconnected: (zk) => void this.enqueue(() => this.writeAll(zk, false)).catch((e: unknown) => this.fail(e)),
      onNewSession: (zk) => {
        this.written.clear(); // nothing is written on the new session yet: every write is a create
        void this.enqueue(() => this.writeAll(zk, true)).catch((e: unknown) => this.fail(e));
      },
      onExpired: () => this.emit('expired'),
      onRenewFailed: (e) => this.fail(e),
    });
  }

  get client(): ZookooperClient {
    return this.holder.client;
  }

  /** Registers (or replaces) an instance; resolves once its znode holds it. */
  register(input: ServiceInstanceInput): Promise<ServiceInstance> {
    const inst = checkInstance({ ...input, enabled: input.enabled ?? true });
    return this.enqueue(async () => {
      const key = keyOf(inst);
      const fresh = !this.desired.has(key);
      this.desired.set(key, inst);
      try {
        return await this.writeNode(this.holder.client, key);
      } catch (e) {
        // SESSIONEXPIRED: kept, the next session re-creates it. Anything else: it never was.
        if (fresh && !isCode(e, 'SESSIONEXPIRED')) this.desired.delete(key);
        throw e;
      }
    });
  }

  /** Replaces a registered instance's fields (same name and id). NONODE if not registered here. */
  update(instance: ServiceInstance | ServiceInstanceInput): Promise<ServiceInstance> {
    const inst = checkInstance({ ...instance, enabled: instance.enabled ?? true });
    return this.enqueue(async () => {
      const key = keyOf(inst);
      if (!this.desired.has(key)) throw new ZookooperError('NONODE', `${key} is not registered by this registry`, instancePath(this.basePath, inst.name, inst.id));
      this.desired.set(key, inst);
      return this.writeNode(this.holder.client, key);
    });
  }

  /** Marks an instance temporarily down (false) or up again, without unregistering it. */
  setEnabled(ref: InstanceRef, enabled: boolean): Promise<ServiceInstance> {
    const current = this.desired.get(keyOf(ref));
    if (current === undefined) return Promise.reject(new ZookooperError('NONODE', `${keyOf(ref)} is not registered by this registry`));
    return this.update({ ...current, enabled });
  }

  /**
   * Publishes the instance's current load (payload.load). Coalesced: at most one setData per
   * loadMinIntervalMs per instance; calls in between only change what the next write carries.
   */
  publishLoad(ref: InstanceRef, load: number): void {
    if (typeof load !== 'number' || !Number.isFinite(load) || load < 0) throw new ZookooperError('BADARGUMENTS', `load must be a finite number >= 0, got ${String(load)}`);
    const key = keyOf(ref);
    const current = this.desired.get(key);
    if (current === undefined) throw new ZookooperError('NONODE', `${key} is not registered by this registry`);
    this.desired.set(key, { ...current, payload: { ...current.payload, load } });
    this.loads.touch(key);
  }

  /** Removes the instance's znode (if it is this session's) and forgets it. */
  unregister(ref: InstanceRef): Promise<void> {
    const name = checkName(ref.name, 'service name');
    const id = checkName(ref.id, 'instance id');
    return this.enqueue(async () => {
      const key = keyOf({ name, id });
      this.desired.delete(key);
      this.written.delete(key);
      this.loads.forget(key);
      await this.deleteOwn(this.holder.client, instancePath(this.basePath, name, id));
    });
  }

  /** What this registry keeps registered. */
  instances(): ServiceInstance[] {
    return [...this.desired.values()];
  }

  /** Use `client` from now on (a new session after expiry): every instance is re-registered. */
  reattach(client: ZookooperClient): void {
    this.holder.attach(client, false);
  }

  /** Resolves once every operation queued so far has finished (coalesced load writes not yet due excepted). */
  async settled(): Promise<void> {
    await this.chain.catch(() => {});
  }

  /** Unregisters everything (deletes this session's nodes), then closes a factory-made client. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.loads.clear();
    const done = this.enqueue(async () => {
      const zk = this.holder.client;
      const keys = [...this.desired.keys()];
      this.desired.clear();
      for (const key of keys) {
        const [name, id] = key.split('/') as [string, string];
        await this.deleteOwn(zk, instancePath(this.basePath, name, id)).catch(() => {}); // the session's end removes it anyway
      }
    });
    this.closed = true;
    await done.catch(() => {});
    await this.holder.close();
  }

  // ------------------------------------------------------------------ internals

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ZookooperError('SESSIONEXPIRED', 'registry closed'));
    if (this.queued >= discoveryDefaults.pendingOpsMax) return Promise.reject(new ZookooperError('THROTTLEDOP', `more than ${discoveryDefaults.pendingOpsMax} registry operations queued`));
    this.queued++;
    const run = this.chain.then(op, op).finally(() => this.queued--);
    this.chain = run.catch(() => {});
    return run;
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else process.emitWarning(`zookooper ServiceRegistry: ${String(err)}`); // no listener: do not crash the app
  }

  private writeLoad(key: string): void {
    void this.enqueue(async () => {
      if (!this.desired.has(key)) return;
      this.stats.loadWrites++;
      await this.writeNode(this.holder.client, key);
    }).catch((e: unknown) => this.fail(e));
  }

  /** Every desired instance onto `zk`: after a reconnect (check) or on a new session (create). */
  private async writeAll(zk: ZookooperClient, newSession: boolean): Promise<void> {
    const done: ServiceInstance[] = [];
    for (const key of [...this.desired.keys()]) {
      if (zk !== this.holder.client) return; // replaced meanwhile; the new session's pass follows
      try {
        done.push(await this.writeNode(zk, key, !newSession));
      } catch (e) {
        this.fail(e);
      }
    }
    if (newSession) {
      this.stats.reregistrations++;
      this.emit('reregistered', done, zk.sessionId);
    }
  }

  /**
   * Makes the znode for `key` hold the desired instance: create when we have not written it on
   * this session, setData when we have, read-compare-write when unsure (`check`, after a
   * reconnect; or after adopting our own node). NODEEXISTS decides by the owner (file comment).
   * Bounded: attemptsMax rounds, stale-owner waits end at staleOwnerWaitMs.
   */
  private async writeNode(zk: ZookooperClient, key: string, check = false): Promise<ServiceInstance> {
    const first = this.desired.get(key);
    if (first === undefined) throw new ZookooperError('NONODE', `${key} is not registered by this registry`);
    const path = instancePath(this.basePath, first.name, first.id);
    const staleDeadlineMs = Date.now() + (this.staleOwnerWaitMs ?? 2 * zk.sessionTimeoutMs + 1_000);
    let verify = check;
    let last: unknown = null;
    for (let attempt = 0; attempt < discoveryDefaults.attemptsMax; attempt++) {
      try {
        const inst = this.desired.get(key);
        if (inst === undefined) throw new ZookooperError('NONODE', `${key} was unregistered meanwhile`, path);
        const known = this.written.get(key);
        if (verify || known === '') {
          verify = false;
          const adopted = await this.adoptOwn(zk, key, path);
          if (adopted !== null) return adopted;
        } else if (known !== undefined) {
          const json = encodeInstance(inst);
          if (json !== known) {
            await zk.setData(path, json); // ours since we created it on this session
            this.written.set(key, json);
            this.loads.wrote(key);
          }
          return inst;
        } else {
          const created = await this.createNode(zk, key, inst, path, staleDeadlineMs);
          if (created !== again) return created;
        }
      } catch (e) {
        last = e;
        if (isCode(e, 'NONODE') && this.desired.has(key)) this.written.delete(key); // gone: create it next round
        else if (retryable(e)) await sleep(discoveryDefaults.retryDelayMs); // the client sends it after the reconnect
        else throw e;
      }
    }
    throw last instanceof Error ? last : new ZookooperError('CONNECTIONLOSS', `could not write instance ${key}`, path);
  }

  /** One create; NODEEXISTS: adopt our own node, or wait for another session's to go. */
  private async createNode(zk: ZookooperClient, key: string, inst: ServiceInstance, path: string, staleDeadlineMs: number): Promise<ServiceInstance | typeof again> {
    const stamped = { ...inst, registeredAtMs: Date.now() };
    const json = encodeInstance(stamped);
    try {
      await zk.create(path, json, { mode: 'ephemeral' });
    } catch (e) {
      if (isCode(e, 'NONODE')) {
        await ensurePath(zk, servicePath(this.basePath, inst.name));
        return again;
      }
      if (!isCode(e, 'NODEEXISTS')) throw e;
      const stat = await zk.exists(path);
      if (stat === null) return again; // deleted meanwhile
      if (stat.ephemeralOwner === zk.sessionId) {
        this.stats.ownNodeAdopted++; // our create went through but its answer was lost
        this.written.set(key, ''); // the next round reads and updates it in place
        return again;
      }
      if (stat.ephemeralOwner === 0n) throw new ZookooperError('NODEEXISTS', `a persistent node is in the way of instance ${key}`, path);
      this.stats.staleOwnerWaits++;
      const gone = await waitUntilGone(zk, path, staleDeadlineMs);
      if (!gone) throw new ZookooperError('NODEEXISTS', `instance ${key} is held by another live session 0x${stat.ephemeralOwner.toString(16)}`, path);
      return again;
    }
    this.stats.creates++;
    // publishLoad may have changed the desired instance meanwhile: keep that, add the stamp (its
    // own coalesced write is queued behind us and carries the change).
    const now = this.desired.get(key) ?? stamped;
    const result = { ...now, registeredAtMs: stamped.registeredAtMs };
    this.desired.set(key, result);
    this.written.set(key, json);
    this.loads.wrote(key);
    return result;
  }

  /** The node should be ours: write the desired data if it differs. null = missing or not ours (create next). */
  private async adoptOwn(zk: ZookooperClient, key: string, path: string): Promise<ServiceInstance | null> {
    const inst = this.desired.get(key)!;
    const json = encodeInstance(inst);
    let current: { data: Buffer; stat: { ephemeralOwner: bigint; version: number } };
    try {
      current = await zk.getData(path);
    } catch (e) {
      if (!isCode(e, 'NONODE')) throw e;
      this.written.delete(key);
      return null;
    }
    if (current.stat.ephemeralOwner !== zk.sessionId) {
      this.written.delete(key); // not ours (any more): the next round creates, with its NODEEXISTS rules
      return null;
    }
    if (current.data.toString('utf8') !== json) {
      // The version guards against a concurrent writer; BADVERSION is not retried (a bug or a misuse).
      await zk.setData(path, json, current.stat.version);
      this.loads.wrote(key);
    }
    this.written.set(key, json);
    return inst;
  }

  private async deleteOwn(zk: ZookooperClient, path: string): Promise<void> {
    const stat = await zk.exists(path);
    if (stat === null || stat.ephemeralOwner !== zk.sessionId) return; // someone else's: not ours to delete
    try {
      await zk.delete(path, stat.version);
    } catch (e) {
      if (!isCode(e, 'NONODE')) throw e;
    }
  }
}
