// Example: three workers (three sessions, as three processes would have) share a counter node and
// increment it under an InterProcessMutex. Run against a server:
//   npm start                          # in another terminal: a server on 127.0.0.1:2181
//   npx tsc -p . && node dist/examples/lock.js [host:port]
// From another project, import from 'zookooper' instead of '../src/index.js'.
import { connect, InterProcessMutex, ZookooperError } from '../src/index.js';

const connectString = process.argv[2] ?? '127.0.0.1:2181';
const root = `/examples/lock-${process.pid}`;
const workers = 3;
const incrementsPerWorker = 5;

const clients = await Promise.all(Array.from({ length: workers }, () => connect(connectString, { sessionTimeoutMs: 10_000 })));
const admin = clients[0]!;
try {
  await admin.create('/examples').catch((e: unknown) => {
    if (!(e instanceof ZookooperError && e.code === 'NODEEXISTS')) throw e;
  });
  await admin.create(root, '0');

  await Promise.all(
    clients.map(async (zk, worker) => {
      const lock = new InterProcessMutex(zk, `${root}/lock`);
      lock.on('lost', () => console.log(`worker ${worker}: lock lost (session ended)`));
      for (let i = 0; i < incrementsPerWorker; i++) {
        if (!(await lock.acquire(5_000))) throw new Error(`worker ${worker}: no lock within 5 s`);
        try {
          // Read-modify-write is safe under the lock; the version check would catch a broken lock.
          const { data, stat } = await zk.getData(root);
          const next = Number(data.toString()) + 1;
          await zk.setData(root, String(next), stat.version);
          console.log(`worker ${worker}: counter -> ${next}`);
        } finally {
          await lock.release();
        }
      }
    }),
  );

  // A try with a timeout: false (not an error) when someone else holds the lock.
  const holder = new InterProcessMutex(clients[0]!, `${root}/lock`);
  const other = new InterProcessMutex(clients[1]!, `${root}/lock`);
  await holder.acquire();
  console.log(`other worker got the held lock within 200 ms: ${await other.acquire(200)}`);
  await holder.release();

  const final = (await admin.getData(root)).data.toString();
  console.log(`final counter: ${final} (expected ${workers * incrementsPerWorker})`);
  if (Number(final) !== workers * incrementsPerWorker) process.exitCode = 1;
} finally {
  await admin.delete(`${root}/lock`).catch(() => undefined); // a container: the server would sweep it anyway
  await admin.delete(root).catch(() => undefined);
  await Promise.all(clients.map((zk) => zk.close()));
}
