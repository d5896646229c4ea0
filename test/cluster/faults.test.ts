// Real server processes on loopback under load from several client processes, with faults:
// kill -9, SIGSTOP/SIGCONT, peer links cut both ways and one way, delayed. Every history must be
// linearizable (writes and compare-and-sets; reads too on a standalone server), sequentially
// consistent with per-session FIFO, and keep every acknowledged write.
//
// The ensemble exists now: a build that refuses a server list, or runs a listed server
// standalone, FAILS these tests (they were written to skip until then). ZK_CLUSTER_LONG=1 or ZK_CLUSTER_SECONDS=N adds a long run
// of random faults (seeded by ZK_CLUSTER_SEED).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { ensembleSupport, runScenario, scenarioDefaults, type ScenarioContext, type ScenarioOptions } from './scenario.js';

const support = ensembleSupport();
assert.ok(support.ensemble, 'this build refuses a server list or runs a listed server standalone: the ensemble is broken');
const timing: Partial<ScenarioOptions> = {
  ...(support.syncLimitFlag ? { syncLimitMs: 1_000 } : {}),
  ...(support.electionTimeoutFlag ? { electionTimeoutMs: 1_000 } : {}),
};

function assertClean(r: Awaited<ReturnType<typeof runScenario>>): void {
  const msg = `${r.report.text}\n\nstory:\n${r.story.join('\n')}`;
  assert.equal(r.report.linearizable.verdict, 'ok', msg);
  assert.ok(r.report.sequential.ok, msg);
  assert.ok(r.report.durable.ok, msg);
  assert.ok(r.report.ok, msg);
  // The run must have done real work on every kind of op, or it proves little.
  for (const kind of ['write:ok', 'cas:ok', 'read:ok']) assert.ok((r.report.counts[kind] ?? 0) >= 10, `too few ${kind}: ${msg}`);
}

/** Runs an ensemble scenario (a server that refuses to start fails the test). */
async function ensembleScenario(_t: TestContext, o: ScenarioOptions): Promise<Awaited<ReturnType<typeof runScenario>> | null> {
  return runScenario(o);
}

async function followerOf(ctx: ScenarioContext, leader: number): Promise<number> {
  const roles = await ctx.ensemble.roles();
  const f = [...roles].find(([id, role]) => id !== leader && role === 'follower');
  if (f === undefined) throw new Error(`no follower besides s${leader}: ${JSON.stringify([...roles])}`);
  return f[0];
}

test('standalone: kill -9 and restart under load from 3 processes loses no acknowledged write', async () => {
  let restartedAt = 0n;
  const r = await runScenario({
    size: 1,
    durationMs: 60_000, // at most: stopped once the story is done
    linearizableReads: true, // one server: reads are linearizable too
    async faults(ctx) {
      await ctx.progress(60);
      ctx.note(`kill -9 s1 (pid ${ctx.ensemble.server(1).pid})`);
      await ctx.ensemble.server(1).kill9();
      await ctx.ensemble.server(1).start();
      restartedAt = ctx.mark();
      ctx.note(`restarted s1 (pid ${ctx.ensemble.server(1).pid})`);
      await ctx.progress(60);
    },
  });
  assertClean(r);
  assert.ok(r.ackedWritesAfter(restartedAt) >= 60, 'writes were acknowledged after the restart');
  assert.ok(r.report.counts['write:unknown'] !== undefined || r.report.counts['cas:unknown'] !== undefined || r.report.counts['read:unknown'] !== undefined, `the kill cut ops in flight: ${JSON.stringify(r.report.counts)}`);
});

test('standalone restarted with its data dir wiped: the pipeline reports the lost writes', async () => {
  // The negative control of the test above: the same run, but the restart forgets everything,
  // as a server that acknowledged before fsync would. The checkers must say so.
  const r = await runScenario({
    size: 1,
    durationMs: 60_000,
    linearizableReads: true,
    async faults(ctx) {
      const s = ctx.ensemble.server(1);
      await ctx.progress(30);
      ctx.note('kill -9 s1, wipe its data dir, restart, recreate the keys');
      await s.kill9();
      rmSync(s.dataDir, { recursive: true, force: true });
      await s.start();
      await ctx.ensemble.createKeys(scenarioDefaults.keys);
      await ctx.progress(10);
    },
  });
  assert.equal(r.report.ok, false, r.report.text);
  assert.equal(r.report.durable.ok, false, r.report.text);
  assert.match(r.report.durable.violations.join('\n'), /acknowledged write lost/);
  assert.equal(r.report.linearizable.verdict, 'violation', r.report.text);
  assert.match(r.report.linearizable.explanation, /NOT LINEARIZABLE/);
});

/** The short story on 3 servers: every fault kind once, each followed by progress. */
async function threeServerFaults(ctx: ScenarioContext): Promise<void> {
  const e = ctx.ensemble;
  const mesh = e.mesh!;
  let leader = await e.leader();
  ctx.note(`kill -9 leader s${leader}`);
  await e.server(leader).kill9();
  const next = await e.leader();
  ctx.note(`new leader s${next}`);
  await ctx.progress();
  await e.server(leader).start();
  await e.settled();
  ctx.note(`s${leader} restarted and rejoined`);
  leader = next;

  const f = await followerOf(ctx, leader);
  ctx.note(`SIGSTOP follower s${f}`);
  e.server(f).pause();
  await ctx.progress();
  e.server(f).resume();
  ctx.note(`SIGCONT s${f}`);
  await e.settled();

  const g = await followerOf(ctx, leader);
  ctx.note(`cut s${leader} <-> s${g} both ways`);
  mesh.partition([leader], [g]);
  await ctx.progress();
  mesh.heal();
  await e.settled();
  ctx.note('healed');

  leader = await e.leader();
  const h = await followerOf(ctx, leader);
  ctx.note(`one-way cut s${leader} -> s${h}, delay s${h} -> s${leader} 50 ms`);
  mesh.oneWayCut(leader, h);
  mesh.delay(h, leader, 50);
  await ctx.progress();
  mesh.heal();
  await e.settled();
  ctx.note('healed');
  await ctx.progress();
}

test('3 servers: kill -9 leader, SIGSTOP follower, cut links both ways and one way, under load', async (t) => {
  const r = await ensembleScenario(t, { size: 3, durationMs: 90_000, ...timing, faults: threeServerFaults });
  if (r !== null) assertClean(r);
});

test('5 servers: minority partitions, leader isolated, two servers killed', async (t) => {
  const r = await ensembleScenario(t, {
    size: 5,
    durationMs: 90_000,
    ...timing,
    async faults(ctx) {
      const e = ctx.ensemble;
      const mesh = e.mesh!;
      let leader = await e.leader();
      const others = e.ids().filter((id) => id !== leader);
      ctx.note(`partition [s${leader}, s${others[0]}] | [${others.slice(1).map((x) => `s${x}`)}]: the majority side must elect and serve`);
      mesh.partition([leader, others[0]!], others.slice(1));
      await ctx.progress();
      mesh.heal();
      await e.settled();
      leader = await e.leader();
      ctx.note(`isolate leader s${leader}`);
      mesh.isolate(leader);
      await ctx.progress();
      mesh.heal();
      await e.settled();
      leader = await e.leader();
      const [a, b] = e.ids().filter((id) => id !== leader);
      ctx.note(`kill -9 s${a} and s${b}: 3 of 5 remain`);
      await e.server(a!).kill9();
      await e.server(b!).kill9();
      await ctx.progress();
      ctx.note(`kill -9 leader s${leader} too: 2 of 5, no quorum; then restart s${a}`);
      await e.server(leader).kill9();
      await e.server(a!).start();
      await e.leader();
      await ctx.progress();
      await e.server(b!).start();
      await e.server(leader).start();
      await e.settled();
      await ctx.progress();
    },
  });
  if (r !== null) assertClean(r);
});

const longSeconds = Number(process.env.ZK_CLUSTER_SECONDS ?? (process.env.ZK_CLUSTER_LONG !== undefined ? 180 : 0));
const longSize = Number(process.env.ZK_CLUSTER_SIZE ?? 5);
const longObservers = Number(process.env.ZK_CLUSTER_OBSERVERS ?? 0);
const longSkip = longSeconds <= 0 ? 'set ZK_CLUSTER_LONG=1 or ZK_CLUSTER_SECONDS=N' : false;

test(`long run: random faults on ${longSize} servers for ${longSeconds || 'N'} s (ZK_CLUSTER_LONG=1 or ZK_CLUSTER_SECONDS=N, ZK_CLUSTER_SIZE, ZK_CLUSTER_OBSERVERS, ZK_CLUSTER_SEED)`, { skip: longSkip }, async (t) => {
  const seed = Number(process.env.ZK_CLUSTER_SEED ?? Date.now() % 100_000);
  let x = seed >>> 0 || 1;
  const random = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const r = await ensembleScenario(t, {
    size: longSize,
    observers: longObservers,
    durationMs: longSeconds * 1000 + 90_000,
    children: 4,
    linearizableReads: longSize === 1,
    ...timing,
    async faults(ctx) {
      ctx.note(`seed ${seed} (replay with ZK_CLUSTER_SEED=${seed})`);
      const e = ctx.ensemble;
      const until = Date.now() + longSeconds * 1000;
      // With one server every fault stops the service: it lasts a random while, then heals.
      const faults = e.mesh === null ? (['kill', 'stop'] as const) : (['kill', 'stop', 'partition', 'oneway', 'delay', 'isolate-leader'] as const);
      while (Date.now() < until) {
        const leader = await e.leader();
        const victim = pick(e.ids());
        const other = pick(e.ids().filter((id) => id !== victim));
        const fault = pick(faults);
        ctx.note(`${fault} s${victim}${other !== undefined ? ` (other s${other})` : ''}, leader s${leader}`);
        if (fault === 'kill') await e.server(victim).kill9();
        else if (fault === 'stop') e.server(victim).pause();
        else if (fault === 'partition') e.mesh!.partition([victim], [other!]);
        else if (fault === 'oneway') e.mesh!.oneWayCut(victim, other!);
        else if (fault === 'delay') e.mesh!.delay(victim, other!, Math.floor(random() * 300));
        else e.mesh!.isolate(leader);
        if (e.mesh !== null) await ctx.progress(); // a majority is left: it must keep serving
        else await new Promise((res) => setTimeout(res, 200 + Math.floor(random() * 1_500)));
        e.mesh?.heal();
        if (e.server(victim).status === 'stopped') e.server(victim).resume();
        if (e.server(victim).status === 'dead') await e.server(victim).start();
        await e.settled();
        await ctx.progress();
      }
    },
  });
  if (r !== null) assertClean(r);
});
