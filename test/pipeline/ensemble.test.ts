// Property test of the ensemble roles: seeded random op sequences (the model test's generator)
// submitted to a leader pipeline, from its own clients and forwarded from other servers, while a
// follower pipeline on its own tree is fed the leader's log records as proposals, the leader's
// commits and its replies to the follower's forwarded requests, with random lag between every
// stage (logging, quorum commit, the follower's own fsync and apply), and now and then an election
// (both reset, replay what they logged, maybe swap roles, start a new epoch).
// Every txn must give the same answer (derived from the txn and the tree on the follower), the
// same watch events, the same session effects on both servers; the follower's own clients get
// answers in request order; every request is answered or dropped exactly once; and both trees,
// ephemeral indexes and sweeper candidates come out identical.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { zxidCounter, zxidEpoch } from '../../src/common/zxid.js';
import type { CommittedEntry, ProposalRecord, WriteRequest } from '../../src/server/pipeline/api.js';
import { Pipeline } from '../../src/server/pipeline/index.js';
import type { TreeWriter } from '../../src/server/tree/api.js';
import { createTree } from '../../src/server/tree/index.js';
import type { Slots, Spec } from './gen.js';
import { dataBytesMax, sessions, specArb, toRequest } from './gen.js';
import { dumpTree } from './harness.js';
import { Model } from './model.js';

const big = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v);

/** One server: its tree, pipeline, session table stand-in and what it has applied. */
class Server {
  readonly tree: TreeWriter = createTree({ initialBytes: 1 << 20, maxBytes: 256 << 20 });
  readonly pipeline: Pipeline;
  readonly closed = new Set<bigint>();
  readonly log: ProposalRecord[] = []; // its durable log (records it appended)
  /** zxid -> the entry it published, or 'replayed' (applied by replay() at a role start). */
  readonly applied = new Map<bigint, CommittedEntry | 'replayed'>();
  readonly published: CommittedEntry[] = [];
  acceptedZxid = 0n; // learner: the last proposal accepted (its log will hold it)
  syncedZxid = 0n; // leader: the last zxid its own log has fsynced (its own ack)

  constructor(
    readonly id: number,
    clock: () => number,
    private readonly answered: Map<number, number>,
  ) {
    this.pipeline = new Pipeline(this.tree, { clock: { nowMs: clock }, epoch: 1, lastZxid: 0n, dataBytesMax, serverId: id, isSessionLive: (s) => !this.closed.has(s) });
  }

  commit(onEntry: (e: CommittedEntry) => void = () => {}): void {
    this.pipeline.commit((entries, appliedZxid) => {
      assert.ok(appliedZxid >= this.tree.appliedZxid(), 'published inside the window, at the batch zxid');
      for (const e of entries) {
        this.published.push(e);
        if (e.zxid !== 0n) {
          assert.equal(this.applied.has(e.zxid), false, 'each txn is applied once');
          this.applied.set(e.zxid, e);
        }
        if (e.closedSessionId !== undefined) this.closed.add(e.closedSessionId);
        if (e.origin !== undefined && e.origin.serverId === this.id) {
          assert.equal(this.answered.has(e.origin.tag), false, `tag ${e.origin.tag} answered once`);
          this.answered.set(e.origin.tag, this.id);
        }
        onEntry(e);
      }
    });
  }

  /** Role start: apply what is in the local log and not in the tree, without events. */
  replayLog(): void {
    for (const r of this.log) {
      if (r.zxid <= this.tree.appliedZxid()) continue;
      const txn = this.pipeline.replay(r.zxid, r.bytes);
      if (txn.type === 'closeSession') this.closed.add(txn.sessionId);
      this.applied.set(r.zxid, 'replayed');
    }
  }

  lastLogged(): bigint {
    return this.log.length === 0 ? 0n : this.log[this.log.length - 1]!.zxid;
  }
}

interface Step {
  spec: Spec;
  from: number; // 0: a client of the leader, 1: of the follower (forwarded), 2: of a third server
  acts: number; // bit mask of the stages that run after this submit
  elect: number; // 0: an election after this step (if every txn is logged), 1: with swapped roles
}

const stepArb: fc.Arbitrary<Step> = fc.record({ spec: specArb, from: fc.nat(2), acts: fc.nat(63), elect: fc.nat(30) });

class Ensemble {
  now = 1_700_000_000_000;
  leader: Server;
  follower: Server;
  readonly observer: Server;
  informedZxid = 0n; // the last txn the observer got an INFORM (proposal + commit) for
  epoch = 1;
  elections = 0;
  replies = 0;
  compared = 0;
  early = 0; // replies that reached the observer before the INFORM of their afterZxid
  readonly dropped = new Set<number>(); // tags failed with CONNECTIONLOSS by their origin server
  readonly answered = new Map<number, number>(); // tag -> the server that answered it
  readonly submitted = new Map<number, number>(); // tag -> origin server id

  constructor() {
    this.leader = new Server(1, () => this.now, this.answered);
    this.follower = new Server(2, () => this.now, this.answered);
    this.observer = new Server(3, () => this.now, this.answered);
    this.observer.pipeline.becomeObserver(0n);
    this.leader.pipeline.becomeLeader(1, 0n);
    this.follower.pipeline.becomeFollower(0n);
    assert.equal(this.leader.pipeline.currentRole(), 'leader');
  }

  submit(req: WriteRequest, from: number): void {
    const id = from === 0 ? this.leader.id : from === 1 ? this.follower.id : this.observer.id;
    this.submitted.set(req.tag, id);
    this.leader.pipeline.submit(from === 0 ? req : { ...req, origin: { serverId: id, sessionId: req.sessionId, tag: req.tag } });
  }

  /**
   * The leader sends what it prepared, in order on the FIFO link: proposals (its own log append,
   * the follower's accept) and REPLYs to the follower's txn-less forwarded requests.
   */
  propose(): void {
    for (;;) {
      const out = this.leader.pipeline.takeOutput();
      if (out.length === 0) return;
      for (const o of out) {
        if (o.kind === 'reply') {
          this.replies++;
          // On the observer's link the REPLY may overtake the INFORM of its afterZxid (sent at commit).
          const to = o.origin.serverId === this.follower.id ? this.follower : this.observer;
          assert.equal(o.origin.serverId, to.id);
          if (to === this.observer && o.afterZxid > this.informedZxid) this.early++;
          to.pipeline.acceptReply(o.origin, o.afterZxid, o.result);
          continue;
        }
        assert.ok(o.records.length > 0);
        for (const r of o.records) {
          assert.equal(zxidEpoch(r.zxid), this.epoch, 'new zxids are in the leader epoch');
          this.leader.log.push(r);
          this.follower.pipeline.acceptProposal(r.zxid, r.bytes, r.origin);
          this.follower.acceptedZxid = r.zxid;
        }
      }
    }
  }

  leaderSynced(): void {
    const z = this.leader.lastLogged();
    if (z > 0n) this.leader.pipeline.logged(z);
    this.leader.syncedZxid = z;
  }

  followerSynced(): void {
    // The follower's log appends what it accepted (the same records the leader sent).
    const upTo = this.follower.acceptedZxid;
    for (const r of this.leader.log) if (r.zxid > this.follower.lastLogged() && r.zxid <= upTo) this.follower.log.push(r);
    if (this.follower.log.length > 0) this.follower.pipeline.logged(this.follower.lastLogged());
  }

  /** A quorum (leader + follower of three) has fsynced through the smaller of their logs. */
  quorumCommit(): void {
    const a = this.leader.syncedZxid;
    const b = this.follower.lastLogged();
    const z = a < b ? a : b;
    if (z > 0n) this.leader.pipeline.quorumCommitted(z);
    this.leader.commit();
    if (z > 0n) this.follower.pipeline.quorumCommitted(z); // the COMMIT, after every proposal and reply before it
    this.inform(z, true);
  }

  /** INFORMs to the observer: each committed txn with its origin (or, at a sync, as history). */
  inform(z: bigint, withOrigin: boolean): void {
    const o = this.observer;
    for (const r of this.leader.log) {
      if (r.zxid <= this.informedZxid || r.zxid > z) continue;
      o.pipeline.acceptProposal(r.zxid, r.bytes, withOrigin ? r.origin : null);
      o.log.push(r); // appended at once; logged() when observerSynced runs
    }
    if (z > this.informedZxid) {
      this.informedZxid = z;
      o.pipeline.quorumCommitted(z);
    }
  }

  observerSynced(): void {
    if (this.observer.log.length > 0) this.observer.pipeline.logged(this.observer.lastLogged());
    this.observer.commit();
  }

  followerApply(): void {
    this.follower.commit();
  }

  run(acts: number): void {
    if (acts & 1) this.propose();
    if (acts & 2) this.leaderSynced();
    if (acts & 4) this.followerSynced();
    if (acts & 8) this.quorumCommit();
    if (acts & 16) this.followerApply();
    if (acts & 32) this.observerSynced();
  }

  settle(): void {
    for (let i = 0; i < 4; i++) this.run(63);
    assert.equal(this.leader.pipeline.pendingCount(), 0, 'leader drained');
    assert.equal(this.follower.pipeline.pendingCount(), 0, 'follower drained');
    assert.equal(this.observer.pipeline.pendingCount(), 0, 'observer drained');
  }

  /** An election once everything prepared is logged on both: reset, replay the logs, new epoch. */
  elect(swap: boolean): void {
    this.propose();
    this.leaderSynced();
    this.followerSynced();
    const last = this.leader.lastLogged();
    assert.equal(this.follower.lastLogged(), last);
    const obs = this.observer;
    for (const s of [this.leader, this.follower, obs]) {
      const own = new Set<number>();
      for (const d of s.pipeline.reset(s === obs ? obs.lastLogged() : last)) {
        assert.equal(s.pipeline.currentRole(), 'looking');
        if (d.origin !== null && d.origin.serverId === s.id) own.add(d.origin.tag);
      }
      // The server fails every request of its clients not answered yet (a learner's forwarded
      // ones may never have reached its pipeline); the leader held all of its own.
      const unanswered = [...this.submitted].filter(([tag, id]) => id === s.id && !this.answered.has(tag) && !this.dropped.has(tag)).map(([tag]) => tag);
      for (const tag of own) assert.ok(unanswered.includes(tag), `dropped tag ${tag} was unanswered`);
      if (s === this.leader) assert.deepEqual([...own].sort((x, y) => x - y), unanswered, 'the leader dropped exactly its unanswered requests');
      for (const tag of unanswered) this.dropped.add(tag);
      s.replayLog();
      if (s !== obs) assert.equal(s.tree.appliedZxid(), last, 'the tree holds the whole log after the replay');
    }
    // The observer syncs with the new leader: a DIFF of what it lacks, as history (no origin).
    obs.pipeline.becomeObserver(obs.lastLogged());
    this.informedZxid = obs.lastLogged();
    this.inform(last, false);
    if (obs.log.length > 0) obs.pipeline.logged(obs.lastLogged());
    obs.commit();
    assert.equal(obs.tree.appliedZxid(), last, 'the observer is in sync');
    if (swap) [this.leader, this.follower] = [this.follower, this.leader];
    this.epoch++;
    this.elections++;
    this.leader.pipeline.becomeLeader(this.epoch, last);
    this.follower.pipeline.becomeFollower(last);
    this.follower.acceptedZxid = last;
    this.leader.syncedZxid = last;
  }
}

export function runSteps(steps: Step[]): Ensemble {
  const ens = new Ensemble();
  const model = new Model(1, dataBytesMax);
  const slots: Slots = { live: sessions.slice(0, 3).map((s) => s.id), stale: [], next: 0x200_0000_0000_0000n };
  let tag = 0;
  for (const step of steps) {
    ens.now += step.spec.dt;
    const req = toRequest(step.spec, model, ++tag, ens.now, slots);
    model.process(req, ens.now); // only to pick paths and versions among the nodes that exist
    ens.submit(req, step.from);
    ens.run(step.acts);
    if (step.elect <= 1) ens.elect(step.elect === 1);
  }
  ens.settle();
  check(ens);
  return ens;
}

function check(ens: Ensemble): void {
  const [a, b, o] = [ens.leader, ens.follower, ens.observer];
  // Every txn: the same answer, events, origin and session effects wherever both published it
  // (a txn the observer got in a DIFF has no origin).
  let compared = 0;
  for (const x of [b, o]) {
    for (const [zxid, ea] of a.applied) {
      const ex = x.applied.get(zxid);
      assert.ok(ex !== undefined, `0x${zxid.toString(16)} applied on server ${x.id}`);
      if (ea === 'replayed' || ex === 'replayed') continue;
      compared++;
      const pick = (e: CommittedEntry, origin: boolean) => JSON.stringify([e.sessionId, e.result, e.events, origin ? e.origin : null, e.closedSessionId, e.createdSession], big);
      const both = ea.origin !== undefined && ex.origin !== undefined;
      assert.equal(pick(ex, both), pick(ea, both), `entry 0x${zxid.toString(16)} agrees on server ${x.id}`);
    }
    assert.equal(x.applied.size, a.applied.size, 'the same txns');
  }
  if (ens.elections === 0) assert.equal(compared, 2 * a.applied.size, 'without elections every txn is compared');
  ens.compared += compared;
  // Each server's own clients: answered in request order (tags grow with submission), by the
  // origin server, each request answered or failed exactly once.
  for (const s of [a, b, o]) {
    let lastTag = 0;
    for (const e of s.published) {
      if (e.origin === undefined || e.origin.serverId !== s.id) continue;
      assert.ok(e.origin.tag > lastTag, `server ${s.id} answers its clients in request order`);
      lastTag = e.origin.tag;
    }
  }
  for (const [tag, origin] of ens.submitted) {
    assert.ok(ens.answered.has(tag) !== ens.dropped.has(tag), `tag ${tag} answered or dropped, not both`);
    if (ens.answered.has(tag)) assert.equal(ens.answered.get(tag), origin, `tag ${tag} answered by its origin server`);
  }
  // The same trees, indexes and sweeper candidates.
  for (const x of [b, o]) sameState(a, x, ens.now);
}

function sameState(a: Server, b: Server, now: number): void {
  assert.equal(a.tree.appliedZxid(), b.tree.appliedZxid());
  const ta = dumpTree(a.tree);
  const tb = dumpTree(b.tree);
  assert.deepEqual([...tb.keys()], [...ta.keys()], 'same nodes in the same order');
  for (const [path, n] of ta) assert.deepEqual(tb.get(path), n, `node ${path}`);
  assert.deepEqual(b.pipeline.sessionsWithEphemerals().sort(), a.pipeline.sessionsWithEphemerals().sort());
  for (const id of a.pipeline.sessionsWithEphemerals()) assert.deepEqual(b.pipeline.ephemeralsOf(id), a.pipeline.ephemeralsOf(id));
  assert.deepEqual(b.pipeline.findExpired(now).sort(), a.pipeline.findExpired(now).sort());
  assert.deepEqual([...b.closed].sort(), [...a.closed].sort(), 'the same sessions closed');
}

const seed = process.env.PIPELINE_SEED !== undefined ? Number(process.env.PIPELINE_SEED) : 20261202;

test('ensemble property: a follower fed the leader\'s proposals, commits and replies derives the same answers, events and tree', () => {
  let elections = 0;
  let txns = 0;
  let replies = 0;
  let compared = 0;
  let early = 0;
  fc.assert(
    fc.property(fc.array(stepArb, { minLength: 1, maxLength: 120, size: 'medium' }), (steps) => {
      const ens = runSteps(steps);
      elections += ens.elections;
      txns += ens.leader.applied.size;
      replies += ens.replies;
      compared += ens.compared;
      early += ens.early;
    }),
    { numRuns: Number(process.env.PIPELINE_MODEL_RUNS ?? 200), seed },
  );
  const seen = `elections ${elections}, txns ${txns}, replies ${replies}, compared ${compared}, early ${early}`;
  assert.ok(elections > 100 && txns > 1000 && replies > 200 && compared > txns && early > 20, `the runs exercised too little: ${seen}`);
  if (process.env.PIPELINE_VERBOSE !== undefined) console.log(seen);
});

test('ensemble property: long runs with deep lag and no elections', () => {
  fc.assert(
    fc.property(fc.array(stepArb.map((s) => ({ ...s, elect: 2, acts: s.acts & 0b10101 })), { minLength: 50, maxLength: 300 }), (steps) => {
      const ens = runSteps(steps);
      assert.equal(ens.elections, 0);
      assert.ok(zxidCounter(ens.leader.tree.appliedZxid()) >= 0);
    }),
    { numRuns: 30, seed },
  );
});
