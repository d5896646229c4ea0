// Seeded simulation of whole ensembles (3 voters; 3 + an observer; 5 + an observer) under random
// faults: crashes losing unsynced disk writes, restarts, link breaks, partitions (one-way too),
// stalled disks, local snapshots, everyone crashing at once. Safety is checked after every step,
// liveness after the faults heal. ZK_SIM_SEEDS=N runs more seeds; ZK_SIM_SEED=N replays one
// (ZK_SIM_LOG=1 prints its every step).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSeed } from './run.js';

const defaultSeeds = 20_000;
const seeds = Number(process.env['ZK_SIM_SEEDS'] ?? defaultSeeds);
const one = process.env['ZK_SIM_SEED'];
// ZK_SIM_UNSAFE=ackBeforeFsync (or another ZabUnsafeOptions key) runs a broken core: to watch a
// failure and its replay.
const unsafeKey = process.env['ZK_SIM_UNSAFE'];
const unsafe = unsafeKey !== undefined ? { unsafe: { [unsafeKey]: true } } : {};

test(one !== undefined ? `sim: replay seed ${one}` : `sim: ${seeds} seeded runs keep every invariant and recover`, () => {
  const list = one !== undefined ? [Number(one)] : Array.from({ length: seeds }, (_, i) => i + 1);
  const t0 = process.hrtime.bigint();
  let commits = 0;
  const failures: string[] = [];
  const marks = new Map<string, number>();
  for (const seed of list) {
    const r = runSeed(seed, unsafe);
    commits += r.commits;
    for (const [k, v] of r.stats) marks.set(k, (marks.get(k) ?? 0) + v);
    if (!r.ok) failures.push(`${r.error} — replay with seed=${seed} (ZK_SIM_SEED=${seed})`);
    if (failures.length >= 5) break;
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`sim: ${list.length} runs in ${(ms / 1000).toFixed(1)} s (${Math.round((list.length / ms) * 1000)} runs/s), ${commits} txns committed`);
  console.log(`sim: messages delivered: ${[...marks].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  assert.deepEqual(failures, []);
  if (one !== undefined) return;
  assert.ok(commits > list.length, 'the runs commit txns (the workload is not idle)');
  // Coverage marks: every sync path and message kind happened somewhere in the default runs.
  for (const t of ['diff', 'trunc', 'snap', 'syncAck', 'inform', 'request', 'upToDate', 'pong', 'cutOff']) assert.ok((marks.get(t) ?? 0) > 0, `no ${t} in ${list.length} runs`);
});

test('sim: one seed replays exactly (identical trace hash)', () => {
  for (const seed of [7, 1234, 99_999]) {
    const a = runSeed(seed);
    const b = runSeed(seed);
    assert.equal(a.trace, b.trace);
    assert.equal(a.ticks, b.ticks);
    assert.equal(a.commits, b.commits);
  }
  assert.notEqual(runSeed(7).trace, runSeed(8).trace);
  // A failing run replays to the same failure (the first seed a broken core fails at: which one
  // it is changes with any change to the messages the core sends).
  let failing = 1;
  while (failing < defaultSeeds && runSeed(failing, { unsafe: { voteEmptyLog: true } }).ok) failing++;
  const f1 = runSeed(failing, { unsafe: { voteEmptyLog: true } });
  const f2 = runSeed(failing, { unsafe: { voteEmptyLog: true } });
  assert.equal(f1.ok, false);
  assert.deepEqual([f2.ok, f2.error, f2.trace, f2.ticks], [f1.ok, f1.error, f1.trace, f1.ticks]);
});

// The simulator must find bugs: deliberately broken cores fail within the default seed count.
for (const variant of ['ackBeforeFsync', 'commitWithoutQuorum', 'voteEmptyLog'] as const) {
  test(`sim: a broken core (${variant}) is caught`, () => {
    let found: { seed: number; error: string } | null = null;
    for (let seed = 1; seed <= defaultSeeds && found === null; seed++) {
      const r = runSeed(seed, { unsafe: { [variant]: true } });
      if (!r.ok) found = { seed, error: r.error! };
    }
    assert.ok(found !== null, `${variant}: no seed of ${defaultSeeds} found the bug`);
    console.log(`sim: ${variant} caught at seed ${found.seed}: ${found.error}`);
    assert.match(found.error, /SimViolation/);
  });
}
