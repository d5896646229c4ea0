// Runnable example: a typed configuration value that follows a znode.
//   npm run build && node dist/examples/config-watch.js [127.0.0.1:2181]
// In your own project import from 'zookooper' instead of '../src/index.js'.
// It writes /examples/config-watch-<pid>, changes it a few times (one change does not parse),
// prints what the watcher sees, removes the node and exits.
import { connect, watchConfig, type ConfigChange } from '../src/index.js';

interface ServiceConfig {
  poolSize: number;
  featureFlags: string[];
}

function parse(data: Buffer): ServiceConfig {
  const v = JSON.parse(data.toString('utf8')) as Partial<ServiceConfig>;
  if (typeof v.poolSize !== 'number' || !Array.isArray(v.featureFlags)) throw new Error('poolSize and featureFlags are required');
  return { poolSize: v.poolSize, featureFlags: v.featureFlags.map(String) };
}

const connectString = process.argv[2] ?? '127.0.0.1:2181';
const path = `/examples/config-watch-${process.pid}`;
const zk = await connect(connectString, { sessionTimeoutMs: 10_000 });
const admin = await connect(connectString);
try {
  const cfg = await watchConfig(zk, path, parse, { initial: { poolSize: 1, featureFlags: [] } });
  console.log('initial (node missing):', JSON.stringify(cfg.current));
  cfg.on('error', (err) => console.log('rejected update, kept', JSON.stringify(cfg.current), '-', err.message));

  // The change stream as an async iterator; it ends when cfg.close() is called.
  const seen: ConfigChange<ServiceConfig>[] = [];
  const reading = (async () => {
    for await (const change of cfg) {
      console.log(`change v${change.version}:`, JSON.stringify(change.value));
      seen.push(change);
      if (seen.length === 3) return;
    }
  })();

  // Each write waits until the watcher has reported it: the cache reads the node after each
  // event, so writes faster than that are coalesced into the latest value (by design).
  const reported = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no report within 10 s')), 10_000);
      const done = (): void => {
        clearTimeout(timer);
        cfg.off('change', done).off('error', done);
        resolve();
      };
      cfg.on('change', done).on('error', done);
    });
  await admin.create('/examples', '').catch(() => undefined); // may exist already
  let next = reported();
  await admin.create(path, JSON.stringify({ poolSize: 4, featureFlags: ['a'] }));
  await next;
  next = reported();
  await admin.setData(path, '{ this is not json'); // reported on 'error'; the last good value stays
  await next;
  next = reported();
  await admin.setData(path, JSON.stringify({ poolSize: 8, featureFlags: ['a', 'b'] }));
  await next;
  await admin.delete(path); // back to the initial value
  await reading;
  console.log('final:', JSON.stringify(cfg.current));
  await cfg.close();
} finally {
  await admin.delete(path).catch(() => undefined);
  await zk.close();
  await admin.close();
}
