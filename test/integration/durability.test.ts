// Durability against real processes: kill -9 at random points after acknowledged writes, restart,
// every acknowledged write present; torn and corrupt log tails recovered with a warning.
// ZK_KILL_ROUNDS sets the number of kill -9 rounds (default 8); ZK_SEED picks the kill times.
import assert from 'node:assert/strict';
import { openSync, readdirSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { connect } from '../../src/index.js';
import { eventually, startServer, tempDir } from '../helpers/server.js';

const rounds = Number(process.env.ZK_KILL_ROUNDS ?? 8);

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Offset just past the last record of a log segment (records: u32 length, u32 crc, u64 zxid, payload). */
function logEnd(buf: Buffer): number {
  let off = 16;
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len === 0) break;
    off += 8 + len;
  }
  return off;
}

function newestLog(dataDir: string): string {
  const dir = join(dataDir, 'version-2');
  const logs = readdirSync(dir).filter((n) => /^log\.[0-9a-f]+$/.test(n));
  logs.sort((a, b) => (BigInt('0x' + a.slice(4)) < BigInt('0x' + b.slice(4)) ? -1 : 1));
  assert.ok(logs.length > 0, 'a log segment exists');
  return join(dir, logs[logs.length - 1]!);
}

async function writeUntilKilled(connectString: string, prefix: string, killAfterMs: number, kill: () => Promise<void>): Promise<number[]> {
  const zk = await connect(connectString, { sessionTimeoutMs: 4_000, connectTimeoutMs: 2_000 });
  const acked: number[] = [];
  let next = 0;
  let stop = false;
  // The random kill point counts from the first acknowledged write: on a loaded machine the first
  // answers can take longer than the whole random delay, and a round with nothing acknowledged
  // would check nothing.
  let firstAck!: () => void;
  const firstAcked = new Promise<void>((r) => (firstAck = r));
  const workers = Array.from({ length: 16 }, async () => {
    while (!stop) {
      const i = next++;
      try {
        await zk.create(`${prefix}${i}`, `v${i}`);
        acked.push(i);
        firstAck();
      } catch {
        firstAck();
        return;
      }
    }
  });
  await firstAcked;
  await new Promise((r) => setTimeout(r, killAfterMs));
  await kill();
  stop = true;
  await Promise.all(workers);
  await zk.close().catch(() => {});
  return acked;
}

describe('durability', () => {
  test(`kill -9 at random points: every acknowledged write survives (${rounds} rounds)`, async () => {
    const dataDir = tempDir();
    const rand = seeded(Number(process.env.ZK_SEED ?? 42));
    let server = await startServer({ dataDir, workers: 1 });
    {
      const zk = await connect(server.connectString);
      await zk.create('/k');
      await zk.close();
    }
    for (let round = 0; round < rounds; round++) {
      const killAfterMs = 30 + Math.floor(rand() * 300);
      const s = server;
      const acked = await writeUntilKilled(s.connectString, `/k/r${round}-`, killAfterMs, () => s.kill9());
      assert.ok(acked.length > 0, `round ${round}: some writes were acknowledged before the kill`);
      server = await startServer({ dataDir, workers: 1 });
      const zk = await connect(server.connectString);
      const children = new Set(await zk.getChildren('/k'));
      const missing = acked.filter((i) => !children.has(`r${round}-${i}`));
      assert.deepEqual(missing, [], `round ${round} (kill after ${killAfterMs} ms, seed ${process.env.ZK_SEED ?? 42}): acknowledged writes lost after kill -9`);
      await zk.close();
    }
    await server.stop();
    server.cleanup();
  });

  test('a torn last record is truncated with a warning; everything acknowledged is there', async () => {
    const dataDir = tempDir();
    let server = await startServer({ dataDir, workers: 1 });
    const zk = await connect(server.connectString);
    for (let i = 0; i < 50; i++) await zk.create(`/t${i}`, `v${i}`);
    await zk.close();
    await server.kill9();
    // A record head promising 100 bytes, followed by only part of them: a write cut by the crash.
    const log = newestLog(dataDir);
    const end = logEnd(readFileSync(log));
    const fd = openSync(log, 'r+');
    const torn = Buffer.alloc(40);
    torn.writeUInt32LE(108, 0);
    torn.writeUInt32LE(0xdeadbeef, 4);
    torn.fill(0xab, 8);
    writeSync(fd, torn, 0, torn.length, end);
    closeSync(fd);
    server = await startServer({ dataDir, workers: 1 });
    await server.waitForLine(/torn|truncat/i, 5_000);
    const zk2 = await connect(server.connectString);
    for (let i = 0; i < 50; i++) assert.equal((await zk2.getData(`/t${i}`)).data.toString(), `v${i}`);
    await zk2.create('/after-recovery');
    await zk2.close();
    await server.stop();
    // And the log stays well-formed after appending past the truncation point.
    server = await startServer({ dataDir, workers: 1 });
    const zk3 = await connect(server.connectString);
    assert.ok(await zk3.exists('/after-recovery'));
    assert.ok(await zk3.exists('/t49'));
    await zk3.close();
    await server.stop();
    server.cleanup();
  });

  test('a corrupted last record (bad CRC) is cut off with a warning and the server serves', async () => {
    const dataDir = tempDir();
    let server = await startServer({ dataDir, workers: 1 });
    const zk = await connect(server.connectString);
    for (let i = 0; i < 20; i++) await zk.create(`/c${i}`);
    await zk.close();
    await server.kill9();
    const log = newestLog(dataDir);
    const buf = readFileSync(log);
    const end = logEnd(buf);
    const fd = openSync(log, 'r+');
    writeSync(fd, Buffer.from([buf[end - 1]! ^ 0xff]), 0, 1, end - 1);
    closeSync(fd);
    server = await startServer({ dataDir, workers: 1 });
    await server.waitForLine(/torn|truncat|corrupt/i, 5_000);
    const zk2 = await connect(server.connectString);
    // The damaged record is the session's close (the last txn): every create is still there.
    for (let i = 0; i < 20; i++) assert.ok(await zk2.exists(`/c${i}`), `/c${i} before the damaged record is present`);
    await zk2.close();
    await server.stop();
    server.cleanup();
  });

  test('snapshots are taken in the background and recovery uses them plus the log after them', async () => {
    const dataDir = tempDir();
    let server = await startServer({ dataDir, workers: 1, args: ['--snap-count', '40'] });
    const zk = await connect(server.connectString);
    await zk.create('/s');
    for (let i = 0; i < 150; i++) await zk.create(`/s/n${i}`, `v${i}`);
    await zk.setData('/s/n7', 'changed');
    await server.waitForLine(/"msg":"snapshot written"/, 10_000);
    await zk.close();
    await server.kill9();
    const snaps = readdirSync(join(dataDir, 'version-2')).filter((n) => n.startsWith('snapshot.'));
    assert.ok(snaps.length >= 1, 'snapshot files exist');
    // With the opt-in full structure check of the loaded image.
    server = await startServer({ dataDir, workers: 1, args: ['--verify-snapshot'] });
    const recovered = await server.waitForLine(/"msg":"recovered"/);
    assert.doesNotMatch(recovered, /"snapshotZxid":"0x0"/, 'recovery started from a snapshot');
    const zk2 = await connect(server.connectString);
    assert.equal((await zk2.getChildren('/s')).length, 150);
    assert.equal((await zk2.getData('/s/n7')).data.toString(), 'changed');
    assert.equal((await zk2.getData('/s/n149')).data.toString(), 'v149');
    await zk2.close();
    await server.stop();
    server.cleanup();
  });

  test('autopurge keeps the newest snapshots and the log they need; recovery still works', async () => {
    const dataDir = tempDir();
    let server = await startServer({ dataDir, workers: 1, args: ['--snap-count', '20', '--snap-retain-count', '3', '--purge-interval-ms', '50'] });
    const zk = await connect(server.connectString);
    await zk.create('/p');
    const dir = join(dataDir, 'version-2');
    const snapshots = (): string[] => readdirSync(dir).filter((n) => /^snapshot\.[0-9a-f]+$/.test(n));
    let i = 0;
    for (let round = 0; round < 12; round++) {
      for (let k = 0; k < 25; k++) await zk.create(`/p/n${i++}`);
      await server.waitForLine(/"msg":"snapshot written"/);
    }
    await eventually(() => server.lines.some((l) => l.includes('"msg":"autopurge"')), 10_000, 'an autopurge ran');
    // Twelve snapshots were written; purge keeps three (a fourth may be in flight).
    await eventually(() => snapshots().length <= 4, 10_000, 'old snapshots purged');
    await zk.close();
    await server.stop();
    server = await startServer({ dataDir, workers: 1 });
    const zk2 = await connect(server.connectString);
    assert.equal((await zk2.getChildren('/p')).length, i, 'every node recovered from what purge kept');
    await zk2.close();
    await server.stop();
    server.cleanup();
  });

  test('sessions survive a restart: their ephemerals stay until the session expires without its client', async () => {
    const dataDir = tempDir();
    let server = await startServer({ dataDir, workers: 1, tickMs: 200 });
    // 3 s: long enough to see the node after a restart even on a slow machine, short enough to expire.
    const zk = await connect(server.connectString, { sessionTimeoutMs: 3_000 });
    await zk.create('/eph-held', '', { mode: 'ephemeral' });
    await zk.create('/plain', 'x');
    await server.kill9();
    // The client is gone for good: close its socket side without a close request.
    await zk.close().catch(() => {});
    server = await startServer({ dataDir, workers: 1, tickMs: 200 });
    const recovered = await server.waitForLine(/"msg":"recovered"/);
    assert.match(recovered, /"sessions":[1-9]/, 'the session was recovered');
    const other = await connect(server.connectString);
    // Rebuilt ephemeral index: the node is there after recovery, then goes with its session.
    const owner = (await other.exists('/eph-held'))?.ephemeralOwner;
    assert.equal(owner, zk.sessionId);
    await eventually(async () => (await other.exists('/eph-held')) === null, 10_000, 'ephemeral removed when the recovered session expired');
    assert.ok(await other.exists('/plain'));
    await other.close();
    await server.stop();
    server.cleanup();
  });
});
