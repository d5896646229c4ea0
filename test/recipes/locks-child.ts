// A child process that takes a lock or leadership and holds it until killed (tests kill -9 it to
// show that another process takes over once the dead one's session expires). Exits by itself
// after a bounded time so a failed test never leaves it behind.
import { connect, InterProcessMutex, LeaderLatch, LeaderSelector } from '../../src/index.js';

const [connectString = '127.0.0.1:2181', role = 'latch', path = '/child', timeoutText = '1000'] = process.argv.slice(2);
const lifetimeMs = 60_000;
setTimeout(() => process.exit(3), lifetimeMs).unref();

const zk = await connect(connectString, { sessionTimeoutMs: Number(timeoutText) });
console.log(`SESSION ${zk.sessionId.toString(16)} ${zk.sessionTimeoutMs}`);
if (role === 'latch') {
  const latch = new LeaderLatch(zk, path, `child-${process.pid}`);
  latch.on('isLeader', () => console.log('LEADER'));
  await latch.start();
} else if (role === 'selector') {
  const selector = new LeaderSelector(zk, path, async (_zk, signal) => {
    console.log('LEADER');
    await new Promise<void>((res) => signal.addEventListener('abort', () => res(), { once: true }));
  }, { id: `child-${process.pid}` });
  selector.start();
} else if (role === 'mutex') {
  const mutex = new InterProcessMutex(zk, path);
  await mutex.acquire();
  console.log('ACQUIRED');
} else {
  console.error(`unknown role ${role}`);
  process.exit(2);
}
// Keep the process (and the session) alive until killed or the lifetime ends.
setInterval(() => {}, 1_000);
