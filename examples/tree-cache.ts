// Runnable example: a TreeCache (Curator's CuratorCache) over a small subtree.
//   npm run build && node dist/examples/tree-cache.js [127.0.0.1:2181]
// In your own project import from 'zookooper' instead of '../src/index.js'.
// It builds /examples/tree-cache-<pid>, starts a cache, changes the tree from a second session,
// prints each event as the cache reports it, removes the tree and exits.
import { connect, TreeCache, type ChildData } from '../src/index.js';

const connectString = process.argv[2] ?? '127.0.0.1:2181';
const root = `/examples/tree-cache-${process.pid}`;
const zk = await connect(connectString);
const writer = await connect(connectString);
const cache = new TreeCache(zk, root);
try {
  await writer.create('/examples', '').catch(() => undefined); // may exist already
  await writer.create(root, 'root');
  await writer.create(`${root}/users`, '');
  await writer.create(`${root}/users/alice`, 'admin');

  const show = (what: string) => (node: ChildData) => console.log(`${what} ${node.path.slice(root.length) || '/'} = ${JSON.stringify(node.data.toString())}`);
  cache.on('created', show('created'));
  cache.on('changed', show('changed'));
  cache.on('deleted', show('deleted'));
  cache.on('error', (err) => console.error('cache error:', err.message));
  await cache.start(); // resolves after 'initialized'
  console.log('initialized with', cache.size, 'nodes; users:', cache.children(`${root}/users`)?.join(','));

  // Three changes, one at a time: each waits until the cache reported it (with a deadline, no
  // sleeps). The cache reads a node after its event, so faster writes would be coalesced (a node
  // created and deleted before the read shows up as nothing at all).
  const step = async (write: () => Promise<unknown>): Promise<void> => {
    let onEvent!: () => void;
    const reported = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no event within 10 s')), 10_000);
      onEvent = () => {
        clearTimeout(timer);
        resolve();
      };
      cache.once('created', onEvent).once('changed', onEvent).once('deleted', onEvent);
    });
    await write();
    await reported;
    cache.off('created', onEvent).off('changed', onEvent).off('deleted', onEvent);
  };
  await step(() => writer.create(`${root}/users/bob`, 'viewer'));
  await step(() => writer.setData(`${root}/users/alice`, 'owner'));
  await step(() => writer.delete(`${root}/users/bob`));
  console.log('alice is', cache.get(`${root}/users/alice`)?.data.toString());
} finally {
  await cache.close();
  for (const p of [`${root}/users/alice`, `${root}/users/bob`, `${root}/users`, root]) await writer.delete(p).catch(() => undefined);
  await zk.close();
  await writer.close();
}
