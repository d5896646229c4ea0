// The deterministic simulator: a whole ensemble of Zab cores in one process, driven by one seed.
// Time is an event queue in micro-steps (tickUnits per core tick); the network delivers each
// directed link FIFO with random delays (so different links reorder), breaks links (everything in
// flight is lost and both ends get linkDown, as TCP does), reconnects them, and partitions them
// (one-way too: a pair has two one-way links, as the real transport). Disks are SimDisk. Every
// server runs a driver exactly like the real one: effects in order, one disk queue, commits
// applied from the local log to a model map, writes forwarded to the leader.
// Invariants are checked as the run goes (Checker); a violation throws SimViolation.
// cluster.ts adds the fluent helpers scenarios use.
import { Packr } from 'msgpackr';
import type { Effect, Origin, Proposal, SnapSource } from '../../src/server/quorum/api.js';
import { createZabCore, type Core, type ZabUnsafeOptions } from '../../src/server/quorum/core.js';
import { epochOf, makeZxid, validatePeerMessage } from '../../src/server/quorum/messages.js';
import { Checker, hex, SimViolation } from './checker.js';
import type { Cluster } from './cluster.js';
import { decodeImage, decodeTxn, encodeImage, encodeTxn, SimDisk, type Image } from './disk.js';

export { decodeTxn, encodeTxn };
import { Heap } from './heap.js';
import { Rng } from './rng.js';

export { SimViolation };

export const tickUnits = 10;

// The transport's encoding (src/server/pipeline/txn.ts uses the same settings for the log).
const packr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true });

export interface ClusterOptions {
  voters: number;
  observers?: number;
  seed?: number;
  unsafe?: ZabUnsafeOptions;
  /** Max one-way message delay in micro-steps (a tick is tickUnits). */
  delayMax?: number;
  diskDelayMax?: number;
  /** Run every delivered message through validatePeerMessage (the transport does). */
  validate?: boolean;
  /** Encode every message with msgpack as the real transport does (slower). */
  msgpack?: boolean;
  electionTimeoutTicks?: number;
  initLimitTicks?: number;
  syncLimitTicks?: number;
  heartbeatTicks?: number;
  /** Default 4: the simulated network delays messages by up to most of a tick. */
  finalizeWaitTicks?: number;
  historyTxnsMax?: number;
  /** Sync credit in bytes (tiny, so the model's small images and DIFFs stream in many pieces). */
  syncWindowBytes?: number;
  syncAckBytes?: number;
  snapChunkBytes?: number;
  /** A broken link comes back within 1..this many ticks (default 4). */
  reconnectTicksMax?: number;
  /** Chance that a vote notification is delivered twice (a driver re-sending after reconnect). */
  duplicateVotes?: number;
}

interface Link {
  up: boolean;
  cut: boolean;
  gen: number;
  lastAt: number;
}

export interface ClientWrite {
  seq: number;
  key: number;
  server: number;
}

export class SimServer {
  core: Core | null = null;
  disk = new SimDisk();
  app: Image = { zxid: 0n, pos: 0, model: new Map() };
  incarnation = 0;
  diskQueue: Effect[] = [];
  diskBusy = false;
  /** A disk that fails every op (fsync error): the server stalls until it heals. */
  diskStalled = false;
  origins = new Map<bigint, Origin>();
  nextZxid = 0n;
  touched: bigint[] = [];
  roles: Effect[] = [];
  /** SIGSTOP: until this time the process runs nothing (its sockets and disk keep their data). */
  pausedUntil = 0;
  /** What arrived while paused, in order: run on resume (one queue keeps every link FIFO). */
  pausedQueue: (() => void)[] = [];
  resumeScheduled = false;
  /** SNAP sources the core holds open (the real host's are tree captures, which cost while open). */
  snapSourcesOpen = 0;
  constructor(readonly id: number, readonly observer: boolean) {}
  get alive(): boolean { return this.core !== null; }
}

export class SimDriver {
  readonly rng: Rng;
  readonly servers = new Map<number, SimServer>();
  readonly ids: number[];
  readonly voters: number[];
  readonly observers: number[];
  readonly check: Checker;
  now = 0;
  trace = 0x811c9dc5;
  private readonly events = new Heap();
  private readonly links = new Map<number, Link>();
  private writeSeq = 0;
  /** Writes the origin server answered (acknowledged to the client), by seq. */
  readonly acked = new Map<number, { zxid: bigint; pos: number }>();
  /** Messages delivered, by type: coverage marks (did SNAP, TRUNC, ... happen at all?). */
  readonly stats = new Map<string, number>();
  readonly sessionsTouched: { at: number; leader: number; from: number; ids: bigint[] }[] = [];

  constructor(readonly opts: ClusterOptions) {
    this.rng = new Rng(opts.seed ?? 1);
    const nObs = opts.observers ?? 0;
    this.voters = Array.from({ length: opts.voters }, (_, i) => i + 1);
    this.observers = Array.from({ length: nObs }, (_, i) => opts.voters + i + 1);
    this.ids = [...this.voters, ...this.observers];
    this.check = new Checker(this as unknown as Cluster);
    for (const id of this.ids) this.servers.set(id, new SimServer(id, this.observers.includes(id)));
    for (const a of this.ids) for (const b of this.ids) if (a !== b) this.links.set(a * 1000 + b, { up: false, cut: false, gen: 0, lastAt: 0 });
    for (const id of this.ids) this.start(id);
  }

  server(id: number): SimServer { return this.servers.get(id)!; }
  protected link(a: number, b: number): Link { return this.links.get(a * 1000 + b)!; }

  /** Scenario hooks: a message about to be received; a disk op just completed. */
  onDeliver: ((from: number, to: number, m: { t: string }) => void) | null = null;
  onDiskDone: ((s: SimServer, e: Effect) => void) | null = null;
  /** Every effect of every server, in order (for scenarios that check orderings). */
  effectLog: { id: number; at: number; e: Effect | { kind: 'done'; of: string } }[] | null = null;

  /** Set ZK_SIM_LOG=1 (or assign) to print every step of a replayed run. */
  log: ((line: string) => void) | null = process.env['ZK_SIM_LOG'] ? (l) => console.log(l) : null;
  note(what: () => string): void {
    if (this.log !== null) this.log(`${(this.now / tickUnits).toFixed(1).padStart(6)} ${what()}`);
  }

  private mix(n: number): void {
    this.trace = Math.imul(this.trace ^ (n | 0), 0x01000193) >>> 0;
  }

  // ---------------- time ----------------
  at(delay: number, fn: () => void): void {
    this.events.push(this.now + Math.max(0, delay), fn);
  }

  /** Run events until `units` micro-steps have passed. */
  runUnits(units: number): void {
    const end = this.now + units;
    for (;;) {
      const next = this.events.peekAt();
      if (next === null || next > end) break;
      const e = this.events.pop()!;
      this.now = e.at;
      e.fn();
    }
    this.now = end;
  }

  runTicks(ticks: number): void { this.runUnits(ticks * tickUnits); }

  // ---------------- servers ----------------
  start(id: number): void {
    const s = this.server(id);
    if (s.alive) return;
    this.note(() => `${id} START log ${s.disk.records.map((r) => hex(r.zxid)).join(',')} base ${hex(s.disk.base.zxid)} epochs ${s.disk.acceptedEpoch}/${s.disk.currentEpoch}`);
    s.incarnation++;
    s.diskQueue = [];
    s.diskBusy = false;
    s.origins = new Map();
    s.app = { zxid: s.disk.base.zxid, pos: s.disk.base.pos, model: new Map(s.disk.base.model) };
    const history: Proposal[] = s.disk.records.map((r) => ({ zxid: r.zxid, txn: r.txn, origin: null }));
    const o = this.opts;
    s.core = createZabCore(
      {
        myId: id, voters: this.voters, observers: this.observers,
        electionTimeoutTicks: o.electionTimeoutTicks ?? 4, finalizeWaitTicks: o.finalizeWaitTicks ?? 4, initLimitTicks: o.initLimitTicks ?? 40,
        syncLimitTicks: o.syncLimitTicks ?? 10, heartbeatTicks: o.heartbeatTicks ?? 2,
        ...(o.unsafe ? { unsafe: o.unsafe } : {}),
        ...(o.historyTxnsMax !== undefined ? { historyTxnsMax: o.historyTxnsMax } : {}),
        incarnation: s.incarnation,
        ...(o.syncWindowBytes !== undefined ? { syncWindowBytes: o.syncWindowBytes } : {}),
        ...(o.syncAckBytes !== undefined ? { syncAckBytes: o.syncAckBytes } : {}),
        ...(o.snapChunkBytes !== undefined ? { snapChunkBytes: o.snapChunkBytes } : {}),
      },
      { acceptedEpoch: s.disk.acceptedEpoch, currentEpoch: s.disk.currentEpoch, lastLoggedZxid: s.disk.lastZxid(), history, historyBaseZxid: s.disk.base.zxid },
      {
        snapshotImage: () => ({ zxid: s.app.zxid, image: encodeImage(s.app) }),
        snapshotSource: () => this.snapSource(s),
      },
    );
    this.check.onStart(s);
    this.drain(s);
    const inc = s.incarnation;
    const tick = (): void => {
      if (s.incarnation !== inc || !s.alive) return;
      if (this.now < s.pausedUntil) return this.defer(s, tick);
      s.core!.tick();
      this.drain(s);
      this.at(tickUnits, tick);
    };
    this.at(this.rng.int(1, tickUnits), tick);
    for (const peer of this.ids) if (peer !== id) { this.scheduleReconnect(id, peer); this.scheduleReconnect(peer, id); }
  }

  /** The image now, as a source that must be closed once and never read after (the checker counts). */
  private snapSource(s: SimServer): SnapSource {
    const image = encodeImage(s.app);
    const inc = s.incarnation;
    let open = true;
    s.snapSourcesOpen++;
    return {
      zxid: s.app.zxid,
      totalBytes: image.byteLength,
      read: (offset, maxBytes) => {
        this.check.assert(open, () => `server ${s.id} read a SNAP source after closing it`);
        return image.subarray(offset, Math.min(offset + maxBytes, image.byteLength));
      },
      close: () => {
        this.check.assert(open, () => `server ${s.id} closed a SNAP source twice`);
        open = false;
        if (s.incarnation === inc) s.snapSourcesOpen--;
      },
    };
  }

  /** kill -9 / power loss: memory gone, unsynced disk writes lost in part (or all). */
  crash(id: number, dropAllUnsynced = false): void {
    const s = this.server(id);
    if (!s.alive) return;
    this.note(() => `${id} CRASH`);
    s.pausedQueue = [];
    s.pausedUntil = 0;
    s.core = null;
    s.incarnation++;
    s.snapSourcesOpen = 0; // its memory is gone
    s.disk.crash(this.rng, dropAllUnsynced);
    this.check.onCrash(s);
    for (const peer of this.ids) if (peer !== id) { this.breakLink(id, peer); this.breakLink(peer, id); }
  }

  restart(id: number): void {
    this.crash(id);
    this.start(id);
  }

  /** Stop (and later restart) the disk: every op waits — a stalled or failing fsync. */
  stallDisk(id: number, stalled: boolean): void {
    const s = this.server(id);
    s.diskStalled = stalled;
    if (!stalled && s.alive) this.nextDiskOp(s);
  }

  // ---------------- network ----------------
  private breakLink(a: number, b: number): void {
    const l = this.link(a, b);
    if (!l.up) return;
    l.up = false;
    l.gen++;
    this.note(() => `link ${a}->${b} DOWN`);
    this.mix(a * 7 + b);
    for (const [x, y] of [[a, b], [b, a]] as const) {
      const s = this.server(x);
      this.whenRunning(s, () => {
        s.core!.linkDown(y);
        this.drain(s);
      });
    }
    this.scheduleReconnect(a, b);
  }

  private scheduleReconnect(a: number, b: number): void {
    const l = this.link(a, b);
    const gen = l.gen;
    this.at(this.rng.int(tickUnits / 2, (this.opts.reconnectTicksMax ?? 4) * tickUnits), () => {
      if (l.gen !== gen || l.up || l.cut || !this.server(a).alive || !this.server(b).alive) return;
      l.up = true;
      this.note(() => `link ${a}->${b} UP`);
      for (const [x, y] of [[a, b], [b, a]] as const) {
        const s = this.server(x);
        this.whenRunning(s, () => {
          s.core!.linkUp(y);
          this.drain(s);
        });
      }
    });
  }

  /** Cut every link between the groups (both ways unless oneWay: then only from -> to). */
  partition(from: number[], to: number[], oneWay = false): void {
    for (const a of from) for (const b of to) {
      this.cut(a, b);
      if (!oneWay) this.cut(b, a);
    }
  }

  /** Isolate groups from each other: partition([1],[2,3]). */
  split(...groups: number[][]): void {
    for (let i = 0; i < groups.length; i++) for (let j = i + 1; j < groups.length; j++) this.partition(groups[i]!, groups[j]!);
  }

  cut(a: number, b: number): void {
    const l = this.link(a, b);
    l.cut = true;
    this.breakLink(a, b);
    l.gen++;
  }

  heal(): void {
    for (const [key, l] of this.links) {
      if (!l.cut) continue;
      l.cut = false;
      this.scheduleReconnect(Math.floor(key / 1000), key % 1000);
    }
  }

  /** A random link break (both directions of one pair, or just one). */
  dropLink(a: number, b: number): void {
    this.breakLink(a, b);
  }

  private deliver(from: number, to: number, msg: unknown): void {
    const l = this.link(from, to);
    if (!l.up) return;
    const gen = l.gen;
    const at = Math.max(l.lastAt, this.now + this.rng.int(0, this.opts.delayMax ?? 8));
    l.lastAt = at;
    const t = (msg as { t: string }).t;
    if (t === 'vote' && this.opts.duplicateVotes !== undefined && this.rng.chance(this.opts.duplicateVotes)) this.deliverAt(at, gen, from, to, msg);
    this.deliverAt(at, gen, from, to, msg);
  }

  private deliverAt(at: number, gen: number, from: number, to: number, msg: unknown): void {
    const l = this.link(from, to);
    const run = (): void => {
      if (l.gen !== gen) return; // lost with the connection
      const s = this.server(to);
      if (!s.alive) return;
      if (this.now < s.pausedUntil) return this.defer(s, run); // read on resume
      const wire = this.opts.msgpack === true ? packr.unpack(packr.pack(msg)) : msg;
      const m = this.opts.validate === false ? wire : validatePeerMessage(wire);
      this.mix(from * 31 + to + ((m as { t: string }).t.length << 8));
      this.note(() => `${from}->${to} ${show(m)}`);
      const mt = (m as { t: string }).t;
      this.stats.set(mt, (this.stats.get(mt) ?? 0) + 1);
      if (this.onDeliver !== null) {
        this.onDeliver(from, to, m as { t: string });
        if (!s.alive || l.gen !== gen) return; // the hook crashed it or cut the link
      }
      s.core!.receive(from, m);
      this.drain(s);
    };
    this.events.push(at, run);
  }

  /** Run fn on server s now, or when it resumes if it is paused (dropped if it crashes first). */
  private whenRunning(s: SimServer, fn: () => void): void {
    const inc = s.incarnation;
    const run = (): void => {
      if (s.incarnation !== inc || !s.alive) return;
      if (this.now < s.pausedUntil) return this.defer(s, run);
      fn();
    };
    run();
  }

  private defer(s: SimServer, fn: () => void): void {
    s.pausedQueue.push(fn);
    if (s.resumeScheduled) return;
    s.resumeScheduled = true;
    const resume = (): void => {
      if (this.now < s.pausedUntil) return this.events.push(s.pausedUntil, resume);
      s.resumeScheduled = false;
      const q = s.pausedQueue;
      s.pausedQueue = [];
      for (const f of q) f();
    };
    this.events.push(s.pausedUntil, resume);
  }

  /** SIGSTOP for `ticks`, then SIGCONT: nothing runs, messages and completions wait. */
  pause(id: number, ticks: number): void {
    const s = this.server(id);
    if (!s.alive) return;
    this.note(() => `${id} PAUSE ${ticks} ticks`);
    s.pausedUntil = Math.max(s.pausedUntil, this.now + ticks * tickUnits);
  }

  // ---------------- the driver ----------------
  drain(s: SimServer): void {
    const core = s.core;
    if (core === null) return;
    for (;;) {
      const effects = core.takeEffects();
      if (effects.length === 0) return;
      for (const e of effects) this.effect(s, e);
    }
  }

  private effect(s: SimServer, e: Effect): void {
    if (this.effectLog !== null) this.effectLog.push({ id: s.id, at: this.now, e });
    switch (e.kind) {
      case 'send': return this.deliver(s.id, e.to, e.msg);
      case 'disconnect':
        this.note(() => `${s.id} DISCONNECT ${e.peer}: ${e.reason}`);
        this.stats.set('cutOff', (this.stats.get('cutOff') ?? 0) + 1);
        this.dropLink(s.id, e.peer);
        this.dropLink(e.peer, s.id);
        return;
      case 'truncate': case 'append': case 'installSnapshot': case 'persistEpochs':
        s.diskQueue.push(e);
        if (!s.diskBusy) this.nextDiskOp(s);
        return;
      case 'commit':
        this.note(() => `${s.id} commit ${hex(e.zxid)}`);
        return this.applyThrough(s, e.zxid);
      case 'role':
        this.note(() => `${s.id} ROLE ${e.state} epoch ${e.epoch} leader ${e.leaderId}`);
        s.roles.push(e);
        this.mix(e.state.length * 100 + e.epoch);
        if (e.state === 'leading') s.nextZxid = makeZxid(e.epoch, 1);
        this.check.onRole(s, e);
        return;
      case 'request': {
        const r = e.forwarded.request;
        if (r.op.type === 'setData') this.proposeAt(s, r.op.data, e.forwarded.origin);
        return;
      }
      case 'reply': return;
      case 'sessionsTouched':
        this.sessionsTouched.push({ at: this.now, leader: s.id, from: e.from, ids: e.sessionIds });
        return;
    }
  }

  private nextDiskOp(s: SimServer): void {
    if (s.diskBusy || s.diskStalled) return;
    const first = s.diskQueue.shift();
    if (first === undefined) return;
    let e: Effect = first;
    s.diskBusy = true;
    const inc = s.incarnation;
    this.note(() => `${s.id} disk ${e.kind} ${e.kind === 'append' ? e.proposals.map((p) => hex(p.zxid)).join(',') : e.kind === 'persistEpochs' ? `${e.acceptedEpoch}/${e.currentEpoch}` : hex((e as { zxid: bigint }).zxid)}`);
    if (e.kind === 'append') {
      // One fsync may cover several queued appends (the real log batches): merge a few.
      let extra = this.rng.int(0, 3);
      while (extra-- > 0 && s.diskQueue[0]?.kind === 'append') {
        const more = s.diskQueue.shift() as Extract<Effect, { kind: 'append' }>;
        e = { kind: 'append', proposals: [...e.proposals, ...more.proposals] };
      }
      s.disk.append(e.proposals);
      for (const p of e.proposals) if (p.origin !== null && p.origin.serverId === s.id) s.origins.set(p.zxid, p.origin);
    }
    const done = (): void => {
      if (s.incarnation !== inc || !s.alive) return;
      if (this.now < s.pausedUntil) return this.defer(s, done);
      if (s.diskStalled) { // the op failed: retried when the disk heals (the queue keeps it first)
        s.diskQueue.unshift(e);
        if (e.kind === 'append') s.disk.records.splice(s.disk.records.length - e.proposals.length);
        s.diskBusy = false;
        return;
      }
      s.diskBusy = false;
      const core = s.core!;
      switch (e.kind) {
        case 'append': {
          const last = e.proposals[e.proposals.length - 1]!.zxid;
          s.disk.syncThrough(last);
          core.logSynced(last);
          break;
        }
        case 'truncate':
          s.disk.truncate(e.zxid);
          core.truncated(e.zxid);
          break;
        case 'installSnapshot': {
          const image = decodeImage(e.image);
          this.check.onInstall(s, image);
          s.disk.install(image);
          s.app = { zxid: image.zxid, pos: image.pos, model: new Map(image.model) };
          core.snapshotInstalled(e.zxid);
          break;
        }
        case 'persistEpochs':
          s.disk.acceptedEpoch = e.acceptedEpoch;
          s.disk.currentEpoch = e.currentEpoch;
          core.epochsPersisted();
          break;
      }
      if (this.effectLog !== null) this.effectLog.push({ id: s.id, at: this.now, e: { kind: 'done', of: e.kind } });
      this.drain(s);
      if (this.onDiskDone !== null) this.onDiskDone(s, e);
      if (s.alive && s.incarnation === inc) this.nextDiskOp(s);
    };
    this.at(this.rng.int(1, this.opts.diskDelayMax ?? 12), done);
  }

  private applyThrough(s: SimServer, zxid: bigint): void {
    const recs = s.disk.records;
    let i = recs.findIndex((r) => r.zxid > s.app.zxid);
    if (i < 0) i = recs.length;
    for (; i < recs.length && recs[i]!.zxid <= zxid; i++) {
      const r = recs[i]!;
      this.check.onApply(s, r.zxid, r.txn);
      const { key, seq } = decodeTxn(r.txn);
      s.app.model.set(key, seq);
      s.app.zxid = r.zxid;
      s.app.pos++;
      const origin = s.origins.get(r.zxid);
      if (origin !== undefined) {
        s.origins.delete(r.zxid);
        this.acked.set(seq, { zxid: r.zxid, pos: s.app.pos });
        this.check.onAck(s, seq, r.zxid);
      }
    }
    this.check.assert(s.app.zxid === zxid, () => `server ${s.id} told to apply through ${zxid}, its log reached ${s.app.zxid}`);
    s.core!.applied(zxid);
  }

  // ---------------- clients ----------------
  /** A client write of `key` submitted at server `id`; returns its seq, or null if refused. */
  write(id: number, key: number): number | null {
    const s = this.server(id);
    if (!s.alive || this.now < s.pausedUntil || s.core!.phase() !== 'broadcast') return null;
    const seq = ++this.writeSeq;
    const txn = encodeTxn(key, seq);
    const origin: Origin = { serverId: id, sessionId: BigInt(key + 1), tag: seq };
    if (s.core!.state() === 'leading') {
      if (!this.proposeAt(s, txn, origin)) return null;
    } else {
      const request = { sessionId: origin.sessionId, tag: seq, authIds: [], op: { type: 'setData' as const, path: '/k', data: txn, version: -1 } };
      if (!s.core!.forward({ origin, request })) return null;
      this.drain(s);
    }
    return seq;
  }

  private proposeAt(s: SimServer, txn: Uint8Array, origin: Origin): boolean {
    const core = s.core!;
    if (core.state() !== 'leading' || core.inFlight() >= 64) return false;
    const zxid = s.nextZxid;
    if (epochOf(zxid) !== core.epoch()) return false;
    s.nextZxid = zxid + 1n;
    core.propose([{ zxid, txn, origin }]);
    this.drain(s);
    return true;
  }

  /** A local snapshot of the applied state (ZooKeeper's fuzzy snapshot, taken any time). */
  snapshot(id: number): void {
    const s = this.server(id);
    if (!s.alive || this.now < s.pausedUntil) return;
    s.disk.snapshot({ zxid: s.app.zxid, pos: s.app.pos, model: new Map(s.app.model) });
  }

  touch(id: number, sessionIds: bigint[]): void {
    const s = this.server(id);
    if (s.alive && this.now >= s.pausedUntil) {
      s.core!.touchSessions(sessionIds);
      this.drain(s);
    }
  }

}

// ---------------- the simulated application's encodings ----------------
function show(m: unknown): string {
  return JSON.stringify(m, (k, v) => (typeof v === 'bigint' ? hex(v) : v instanceof Uint8Array ? `<${v.byteLength}b>` : k === 'request' || k === 'result' ? undefined : v));
}
