// One seeded simulated run: an ensemble (3 voters, 3+1 observer, or 5+1 observer), a phase of
// random faults with clients writing and reading, then everything heals and the ensemble must
// elect a leader and commit again within a bound (liveness). Safety is checked as it goes.
import type { ZabUnsafeOptions } from '../../src/server/quorum/core.js';
import { Cluster, SimViolation, tickUnits } from './cluster.js';

export interface RunResult {
  seed: number;
  ok: boolean;
  error: string | null;
  trace: number;
  ticks: number;
  commits: number;
  stats: Map<string, number>;
}

interface Client {
  server: number | null;
  serverRoles: number;
  lastPos: number;
}

export interface RunOptions {
  unsafe?: ZabUnsafeOptions;
  faultTicks?: number;
  livenessTicks?: number;
  faultRate?: number;
}

function tinySyncCredit(seed: number): { syncWindowBytes: number; syncAckBytes: number; snapChunkBytes: number } {
  const ack = 32 + ((seed * 13) % 97);
  return { snapChunkBytes: 16 + ((seed * 7) % 49), syncAckBytes: ack, syncWindowBytes: ack * (2 + (seed % 3)) };
}

export function runSeed(seed: number, o: RunOptions = {}): RunResult {
  const shape = seed % 3;
  const c = new Cluster({
    voters: shape === 2 ? 5 : 3,
    observers: shape === 0 ? 0 : 1,
    seed,
    ...(o.unsafe ? { unsafe: o.unsafe } : {}),
    // Half the runs keep a tiny DIFF window, so learners behind it get a SNAP.
    ...(seed % 2 === 0 ? { historyTxnsMax: 4 } : {}),
    // Four runs in five stream their syncs under a tiny credit (chunks of tens of bytes, a window
    // of a few acks), so a SNAP or DIFF is in flight across many steps, faults and proposals.
    ...(seed % 5 !== 0 ? tinySyncCredit(seed) : {}),
    duplicateVotes: 0.05,
    msgpack: seed % 20 === 0, // every 20th run through the real wire encoding
  });
  const rng = c.rng;
  const clients: Client[] = [0, 1, 2].map(() => ({ server: null, serverRoles: 0, lastPos: 0 }));
  const faultTicks = o.faultTicks ?? rng.int(40, 120);
  const livenessTicks = o.livenessTicks ?? 150;
  try {
    const faultRate = o.faultRate ?? rng.pick([0.02, 0.05, 0.1]);
    for (let t = 0; t < faultTicks; t++) {
      if (rng.chance(faultRate)) fault(c);
      if (rng.chance(0.6)) clientStep(c, rng.pick(clients));
      c.runTicks(1);
    }
    heal(c);
    livenessProbe(c, livenessTicks);
    snapSourcesClosedWhenSynced(c);
    return { seed, ok: true, error: null, trace: c.trace, ticks: c.now / tickUnits, commits: c.check.canonical.length, stats: c.stats };
  } catch (e) {
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { seed, ok: false, error: msg, trace: c.trace, ticks: c.now / tickUnits, commits: c.check.canonical.length, stats: c.stats };
  }
}

function fault(c: Cluster): void {
  const rng = c.rng;
  const id = rng.pick(c.ids);
  const other = rng.pick(c.ids.filter((x) => x !== id));
  const k = rng.int(0, 99);
  if (k < 18) c.crash(id);
  else if (k < 36) c.start(rng.pick(c.ids.filter((x) => !c.server(x).alive).concat([id])));
  else if (k < 54) c.dropLink(id, other);
  else if (k < 62) c.partition([id], c.ids.filter((x) => x !== id));
  else if (k < 68) c.cut(id, other); // one way
  else if (k < 80) c.heal();
  else if (k < 88) c.snapshot(id);
  else if (k < 94) c.stallDisk(id, !c.server(id).diskStalled);
  else if (k < 95) for (const x of c.ids) c.crash(x, true); // every page cache lost at once
  else if (k < 98) c.pause(id, rng.int(1, 30)); // SIGSTOP / a long GC pause
  else c.restart(id);
}

function heal(c: Cluster): void {
  c.heal();
  for (const id of c.ids) {
    // A paused server resumes by itself (pauses are bounded): ending it early would reorder.
    c.stallDisk(id, false);
    c.start(id);
  }
}

/** Within the bound, a leader serves with a quorum and a write through it commits. */
function livenessProbe(c: Cluster, bound: number): void {
  const deadline = c.now + bound * tickUnits;
  while (c.now < deadline) {
    const l = c.leader();
    if (l !== null && c.server(l).core!.hasQuorum()) {
      // A deposed leader may still think it leads for a while: give each attempt a few ticks.
      const seq = c.write(l, 200);
      if (seq !== null) {
        const attemptEnd = Math.min(deadline, c.now + 30 * tickUnits);
        while (c.now < attemptEnd) {
          if (c.acked.has(seq)) return;
          c.runTicks(1);
        }
        continue;
      }
    }
    c.runTicks(1);
  }
  throw new SimViolation(`liveness: no leader committed a write within ${bound} ticks after the faults healed`);
}

/** Once every live server is synced, no sync is in flight: no server may still hold a SNAP source. */
function snapSourcesClosedWhenSynced(c: Cluster): void {
  const synced = (): boolean => c.ids.every((id) => !c.server(id).alive || c.server(id).core!.phase() === 'broadcast');
  for (let t = 0; t < 100 && !synced(); t++) c.runTicks(1);
  if (!synced()) return; // still flapping: the invariant checker's role-change check covers it
  for (const id of c.ids) {
    const open = c.server(id).snapSourcesOpen;
    if (open !== 0) throw new SimViolation(`server ${id} holds ${open} SNAP sources open with every server synced`);
  }
}

function clientStep(c: Cluster, cl: Client): void {
  const rng = c.rng;
  if (cl.server !== null) {
    const s = c.server(cl.server);
    // A server that left its role closed its client connections (ZooKeeper does the same).
    if (!s.alive || s.roles.length !== cl.serverRoles || s.core!.phase() !== 'broadcast') cl.server = null;
  }
  if (cl.server === null) {
    // Connect only to a serving server that is not behind what this client has seen.
    const candidates = c.ids.filter((id) => {
      const s = c.server(id);
      return s.alive && s.core!.phase() === 'broadcast' && s.app.pos >= cl.lastPos;
    });
    if (candidates.length === 0) return;
    cl.server = rng.pick(candidates);
    cl.serverRoles = c.server(cl.server).roles.length;
  }
  const s = c.server(cl.server);
  if (rng.chance(0.5)) {
    c.write(cl.server, rng.int(0, 7));
    return;
  }
  // A read: sequentially consistent per client — never older than what it saw or wrote before.
  c.check.assert(s.app.pos >= cl.lastPos, () => `client read at server ${s.id} position ${s.app.pos}, it had seen ${cl.lastPos}`);
  cl.lastPos = s.app.pos;
}
