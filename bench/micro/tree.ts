// The shared-memory tree (src/server/tree): reads as a session worker does them and writes as the
// main thread applies them (each in its own write window, and batched).
import type * as TreeModule from '../../src/server/tree/index.js';
import { importBuilt, runBench, skipped, type MicroOptions, type MicroRow } from './common.js';

export async function treeMicro(o: MicroOptions): Promise<MicroRow[]> {
  const t = await importBuilt<typeof TreeModule>('src/server/tree/index.js');
  if (t === null) return skipped('tree', 'module missing (src/server/tree)');
  const tree = t.createTree();
  const kib = new Uint8Array(1024).fill(120);
  const nodes = 10_000;
  let zxid = 1n;
  const node = (data: Uint8Array) => ({ data, aclIndex: 0, ephemeralOwner: 0n, zxid, timeMs: Date.now() });
  tree.beginWrite();
  tree.createNode('/bench', node(new Uint8Array(0)));
  for (let i = 0; i < nodes; i++) tree.createNode(`/bench/n-${i}`, node(kib));
  tree.endWrite(zxid++);

  let i = 0;
  const nextPath = (): string => `/bench/n-${i++ % nodes}`;
  let created = 0;
  const batch = 100;
  return await runBench(
    'tree',
    o,
    (b) => {
      b.add('getData 1 KiB (reader, copy)', () => void tree.getData(nextPath()));
      b.add('stat', () => void tree.stat(nextPath()));
      b.add('getChildren of 10,000', () => void tree.getChildren('/bench'));
      b.add('setData 1 KiB (one write window)', () => {
        tree.beginWrite();
        const p = nextPath();
        tree.setData(p, kib);
        tree.updateStat(p, { mzxid: zxid, mtime: Date.now(), version: 1 });
        tree.endWrite(zxid++);
      });
      b.add(`setData 1 KiB x${batch} per window`, () => {
        tree.beginWrite();
        for (let k = 0; k < batch; k++) {
          const p = nextPath();
          tree.setData(p, kib);
          tree.updateStat(p, { mzxid: zxid, mtime: Date.now(), version: 1 });
        }
        tree.endWrite(zxid++);
      });
      b.add('create+delete 100 B (one window each)', () => {
        const p = `/bench/c-${created++}`;
        tree.beginWrite();
        tree.createNode(p, node(kib.subarray(0, 100)));
        tree.endWrite(zxid++);
        tree.beginWrite();
        tree.deleteNode(p);
        tree.endWrite(zxid++);
      });
    },
    { [`setData 1 KiB x${batch} per window`]: batch },
  );
}
