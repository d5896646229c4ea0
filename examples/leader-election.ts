// Example: leader election two ways. Three LeaderLatch participants (the lowest node leads; when
// the leader closes the next one takes over), then three LeaderSelectors that take turns
// (leadership lasts as long as takeLeadership runs; autoRequeue queues them again).
//   npx tsc -p . && node dist/examples/leader-election.js [host:port]
// From another project, import from 'zookooper' instead of '../src/index.js'.
import { connect, LeaderLatch, LeaderSelector } from '../src/index.js';

const connectString = process.argv[2] ?? '127.0.0.1:2181';
const base = `/examples/election-${process.pid}`;
const names = ['alpha', 'beta', 'gamma'];

const clients = await Promise.all(names.map(() => connect(connectString, { sessionTimeoutMs: 10_000 })));
try {
  // 1. LeaderLatch: leadership is a state you have until you close the latch (or lose the session).
  const latches = clients.map((zk, i) => new LeaderLatch(zk, `${base}/latch`, names[i]));
  for (const [i, latch] of latches.entries()) {
    latch.on('isLeader', () => console.log(`latch: ${names[i]} is now the leader`));
    await latch.start();
  }
  for (const latch of latches) {
    if (!(await latch.await(5_000))) throw new Error(`${latch.id} never led`);
    console.log(`latch: ${latch.id} leads; participants: ${(await latch.getParticipants()).map((p) => p.id).join(', ')}; stepping down`);
    await latch.close();
  }

  // 2. LeaderSelector: leadership is a turn; each selector leads twice, then everyone stops.
  const turns = new Map<string, number>(names.map((n) => [n, 0]));
  let allDone!: () => void;
  const finished = new Promise<void>((res) => (allDone = res));
  const selectors = clients.map(
    (zk, i) =>
      new LeaderSelector(
        zk,
        `${base}/selector`,
        async (_zk, signal) => {
          const name = names[i]!;
          turns.set(name, turns.get(name)! + 1);
          console.log(`selector: ${name} takes leadership (turn ${turns.get(name)})`);
          // Real work goes here; it must stop when `signal` aborts (connection lost / session expired).
          if (signal.aborted) return;
          if ([...turns.values()].every((t) => t >= 2)) allDone();
        },
        { autoRequeue: true, id: names[i]! },
      ),
  );
  for (const s of selectors) s.start();
  const timeout = setTimeout(() => allDone(), 10_000);
  await finished;
  clearTimeout(timeout);
  for (const s of selectors) await s.close();
  console.log(`selector turns: ${[...turns].map(([n, t]) => `${n}=${t}`).join(' ')}`);
  if ([...turns.values()].some((t) => t < 2)) process.exitCode = 1;
} finally {
  await Promise.all(clients.map((zk) => zk.close()));
}
