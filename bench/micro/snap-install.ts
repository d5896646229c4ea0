// A learner's SNAP install alone, on real files: Storage.installSnapshot(zxid, image, meta) of an
// image of N znodes (100-byte values, /mem/<i/1000>/<i%1000> as the sync bench), from the moment
// the image is in memory until the state is durable and the new tree serves. With --other-root
// DIR it also runs another build's dist (e.g. an older commit, built) and alternates the two in
// one process, so both see the same machine state; load average before each round.
//
//   node dist/bench/micro/snap-install.js --nodes 1000000 --rounds 3 [--other-root /tmp/before [--this-first]] [--adopt]
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { pack } from 'msgpackr';

type StorageModule = typeof import('../../src/server/storage-adapter.js');
type TreeModule = typeof import('../../src/server/tree/index.js');
type ConfigModule = typeof import('../../src/common/config.js');
type SessionsModule = typeof import('../../src/server/sessions/manager.js');

const ownRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');

async function modules(root: string): Promise<{ storage: StorageModule; tree: TreeModule; config: ConfigModule; sessions: SessionsModule }> {
  const at = (p: string): string => pathToFileURL(path.join(root, 'dist', 'src', p)).href;
  return {
    storage: (await import(at('server/storage-adapter.js'))) as StorageModule,
    tree: (await import(at('server/tree/index.js'))) as TreeModule,
    config: (await import(at('common/config.js'))) as ConfigModule,
    sessions: (await import(at('server/sessions/manager.js'))) as SessionsModule,
  };
}

function leaderImage(tree: TreeModule, nodes: number): { zxid: bigint; image: Uint8Array } {
  const w = tree.createTree();
  const zxid = (1n << 32n) | BigInt(nodes);
  const data = new Uint8Array(100).fill(120);
  const node = { data, aclIndex: 0, ephemeralOwner: 0n, zxid, timeMs: 0 };
  w.beginWrite();
  w.createNode('/mem', node);
  for (let i = 0; i < nodes; i++) {
    if (i % 1000 === 0) w.createNode(`/mem/${i / 1000}`, node);
    w.createNode(`/mem/${Math.floor(i / 1000)}/${i % 1000}`, node);
  }
  w.endWrite(zxid);
  return { zxid, image: w.image() };
}

async function installOnce(m: Awaited<ReturnType<typeof modules>>, zxid: bigint, source: Uint8Array, meta: Uint8Array, adopt: boolean): Promise<{ ms: number; nodes: number }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'zk-snap-install-'));
  try {
    const config = m.config.finish({ ...m.config.defaultConfig(), dataDir, dataLogDir: '', purgeIntervalMs: 0 });
    const { pino } = await import('pino');
    const s = await m.storage.openStorage(config, pino({ level: 'silent' }), new m.sessions.SessionManager(config.tickMs, 1, 0));
    // What a learner holds when the last chunk arrived: a private copy (or a tree buffer to adopt).
    let image: Uint8Array;
    if (adopt) {
      image = m.tree.allocTreeImage(source.byteLength);
      image.set(source);
    } else {
      image = new Uint8Array(source);
    }
    const t0 = performance.now();
    await s.installSnapshot(zxid, image, meta);
    const ms = performance.now() - t0;
    const nodes = s.tree.nodeCount();
    await s.close();
    return { ms, nodes };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const nodes = Number(opt('--nodes') ?? 1_000_000);
  const rounds = Number(opt('--rounds') ?? 3);
  const adopt = args.includes('--adopt');
  const other = opt('--other-root');
  const sides: { name: string; root: string }[] = [{ name: 'this build', root: ownRoot }];
  // --this-first: the order inside a round (memory a round frees is cheaper for the next one).
  if (other !== undefined) sides[args.includes('--this-first') ? 'push' : 'unshift']({ name: `other (${other})`, root: path.resolve(other) });
  const loaded = await Promise.all(sides.map(async (s) => ({ ...s, m: await modules(s.root) })));
  const { zxid, image } = leaderImage(loaded[0]!.m.tree, nodes);
  const meta = new Uint8Array(pack({ formatVersion: 1, sessions: [] }));
  console.log(`image of ${nodes.toLocaleString('en-US')} znodes: ${image.byteLength.toLocaleString('en-US')} bytes${adopt ? ' (handed over as a tree buffer)' : ''}`);
  const rows: { side: string; round: number; ms: number; load1: number }[] = [];
  for (let r = 1; r <= rounds; r++) {
    for (const side of loaded) {
      const load1 = loadavg()[0]!;
      const { ms, nodes: got } = await installOnce(side.m, zxid, image, meta, adopt);
      rows.push({ side: side.name, round: r, ms, load1 });
      console.log(`  round ${r} ${side.name}: installSnapshot ${ms.toFixed(0)} ms (${got} nodes, load ${load1.toFixed(2)})`);
    }
  }
  console.log(JSON.stringify({ nodes, imageBytes: image.byteLength, adopt, rows }));
}

await main();
