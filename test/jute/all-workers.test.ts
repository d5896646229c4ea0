// cons, wchs, wchc, wchp, dump, stat and the admin pages (/cons, /watches, /sessions, /mntr) list
// the connections and watches of every session worker, not only of the worker that answered:
// a real server process with two workers, clients connected until both workers hold some
// (SO_REUSEPORT decides where each lands: /cons says which), watches set from each.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect, type ZookooperClient } from '../../src/index.js';
import { tempDir } from '../helpers/server.js';
import { startJuteServer, type JuteServer } from './helpers.js';
import { nzkConnect, type Nzk } from './nzk.js';

function word(port: number, w: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const s = tcpConnect({ host: '127.0.0.1', port }, () => s.write(w));
    s.on('data', (b: Buffer) => (out += b.toString()));
    s.once('error', reject);
    s.once('close', () => resolve(out));
  });
}

const digest = (user: string, password: string): string => `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
const admin = { authorization: `Basic ${Buffer.from('admin:s3cret').toString('base64')}` };
const hex = (id: bigint): string => '0x' + id.toString(16);
/** Clients connected before both workers hold one: far above what an even spread needs. */
const connectAttemptsMax = 40;

interface ConsJson {
  missingWorkers: number[];
  truncated: boolean;
  workers: { workerId: number; answered: boolean; connections: number }[];
  connections: { workerId: number; sessionId: string }[];
}

describe('the connections and watches of every worker', () => {
  let s: JuteServer;
  let jute: Nzk;
  const clients: ZookooperClient[] = [];
  /** Session id (hex) -> the worker holding its connection. */
  const workerOf = new Map<string, number>();
  let juteSid = '';

  const page = async <T>(name: string): Promise<T> => {
    const res = await fetch(`http://127.0.0.1:${s.port}/${name}`, { headers: admin, signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200, name);
    return (await res.json()) as T;
  };

  before(async () => {
    const dir = tempDir('zk-allworkers-');
    writeFileSync(join(dir, 'admins'), `${digest('admin', 's3cret')}\n`);
    s = await startJuteServer({ workers: 2, args: ['--4lw-whitelist', '*', '--admin-users', join(dir, 'admins')] });
    const setup = await connect(s.connectString);
    await setup.create('/agg', '');
    await setup.create('/agg/watched', '');
    await setup.close();
    for (let i = 0; i < connectAttemptsMax; i++) {
      const zk = await connect(s.connectString, { sessionTimeoutMs: 10_000 });
      clients.push(zk);
      const cons = await page<ConsJson>('cons');
      const mine = cons.connections.find((c) => c.sessionId === hex(zk.sessionId));
      assert.ok(mine, `session ${hex(zk.sessionId)} in /cons`);
      workerOf.set(mine.sessionId, mine.workerId);
      if (new Set(workerOf.values()).size === 2 && clients.length >= 3) break;
    }
    assert.equal(new Set(workerOf.values()).size, 2, `connections spread over both workers: ${JSON.stringify([...workerOf])}`);
    // A ZooKeeper-protocol client too (the jute port is served by worker 0).
    jute = await nzkConnect(s.zkConnect);
    await jute.create('/agg/j', null, 1);
    // Every ephemeral first: a create under /agg would fire (and so remove) the child watches.
    for (const [i, zk] of clients.entries()) await zk.create(`/agg/e-${i}`, '', { mode: 'ephemeral' });
    for (const zk of clients) {
      await zk.exists('/agg/watched', { watch: () => {} });
      await zk.getChildren('/agg', { watch: () => {} });
    }
    await jute.getData('/agg/watched', () => {});
    juteSid = hex(BigInt('0x' + jute.raw.getSessionId().toString('hex')));
  });

  after(async () => {
    for (const zk of clients) await zk.close().catch(() => {});
    await jute?.close();
    await s?.stop();
    s?.cleanup();
  });

  const sids = (): string[] => [...workerOf.keys()];

  test('cons and /cons list every connection, with the worker holding it', async () => {
    const cons = await page<ConsJson>('cons');
    assert.deepEqual(cons.missingWorkers, []);
    assert.equal(cons.truncated, false);
    assert.deepEqual(cons.workers.map((w) => [w.workerId, w.answered]), [[0, true], [1, true]]);
    for (const [sid, workerId] of workerOf) assert.ok(cons.connections.some((c) => c.sessionId === sid && c.workerId === workerId), sid);
    assert.ok(cons.connections.some((c) => c.sessionId === juteSid && c.workerId === 0), 'the jute connection, on worker 0');
    const text = await word(s.zkPort, 'cons');
    for (const sid of [...sids(), juteSid]) assert.match(text, new RegExp(`^ /127\\.0\\.0\\.1\\[1\\]\\(queued=\\d+,recved=\\d+,sent=\\d+,sid=${sid},to=\\d+\\)$`, 'm'), sid);
    assert.match(text, /\n\n$/);
    const stat = await word(s.zkPort, 'stat');
    for (const sid of sids()) assert.ok(stat.includes(`sid=${sid},`), `stat lists ${sid}`);
  });

  test('wchs, wchc and wchp list the watches of every worker in ZooKeeper\'s format', async () => {
    const n = sids().length;
    // Each native session watches /agg/watched (exists) and /agg (getChildren); the jute one /agg/watched.
    assert.equal(await word(s.zkPort, 'wchs'), `${n + 1} connections watching 2 paths\nTotal watches:${2 * n + 1}\n`);
    const wchc = await word(s.zkPort, 'wchc');
    for (const sid of sids()) assert.match(wchc, new RegExp(`^${sid}\\n(\\t/agg\\n\\t/agg/watched|\\t/agg/watched\\n\\t/agg)\\n`, 'm'), `wchc: ${sid}`);
    assert.match(wchc, new RegExp(`^${juteSid}\\n\\t/agg/watched\\n`, 'm'));
    assert.match(wchc, /\n\n$/);
    const wchp = await word(s.zkPort, 'wchp');
    const block = (path: string): string[] => {
      const m = new RegExp(`^${path}\\n((?:\\t0x[0-9a-f]+\\n)+)`, 'm').exec(wchp);
      assert.ok(m, `wchp has ${path}:\n${wchp}`);
      return m[1]!.split('\n').filter((l) => l !== '').map((l) => l.slice(1));
    };
    assert.deepEqual(block('/agg').sort(), sids().sort());
    assert.deepEqual(block('/agg/watched').sort(), [...sids(), juteSid].sort());
    assert.match(wchp, /\n\n$/);
  });

  test('/watches gives each path its count and its watchers\' workers', async () => {
    const w = await page<{ missingWorkers: number[]; truncated: boolean; pathCount: number; paths: { path: string; count: number; watchers: { sessionId: string; workerId: number; kinds: string[] }[] }[] }>('watches');
    assert.deepEqual(w.missingWorkers, []);
    assert.equal(w.truncated, false);
    assert.equal(w.pathCount, 2);
    const watched = w.paths.find((p) => p.path === '/agg/watched');
    assert.equal(watched?.count, sids().length + 1);
    for (const [sid, workerId] of workerOf) assert.ok(watched.watchers.some((x) => x.sessionId === sid && x.workerId === workerId && x.kinds.includes('data')), sid);
    const agg = w.paths.find((p) => p.path === '/agg');
    assert.equal(agg?.count, sids().length);
    assert.ok(agg.watchers.every((x) => x.kinds.join() === 'child'));
  });

  test('dump and /sessions list every session\'s ephemerals and connection', async () => {
    const dump = await word(s.zkPort, 'dump');
    for (const [i, zk] of clients.entries()) {
      assert.match(dump, new RegExp(`\\n${hex(zk.sessionId)}:\\n\\t/agg/e-${i}\\n`), `ephemeral of session ${i}`);
      assert.match(dump, new RegExp(`\\n\\tip: /127\\.0\\.0\\.1 sessionId: ${hex(zk.sessionId)}\\n`), `connection of session ${i}`);
    }
    assert.match(dump, new RegExp(`\\n${juteSid}:\\n\\t/agg/j\\n`));
    const sessions = await page<{ missingWorkers: number[]; sessions: { sessionId: string; workerId: number | null; ephemerals: string[]; watches: number }[] }>('sessions');
    assert.deepEqual(sessions.missingWorkers, []);
    for (const [i, zk] of clients.entries()) {
      const row = sessions.sessions.find((x) => x.sessionId === hex(zk.sessionId));
      assert.deepEqual(row && { workerId: row.workerId, ephemerals: row.ephemerals, watches: row.watches }, { workerId: workerOf.get(hex(zk.sessionId)), ephemerals: [`/agg/e-${i}`], watches: 2 });
    }
  });

  test('mntr counts the connections and watches of every worker', async () => {
    const m = await page<Record<string, number>>('mntr');
    assert.ok(m.zk_num_alive_connections! >= sids().length + 1, JSON.stringify(m));
    assert.ok(m.zk_num_alive_connections! > m.zk_num_alive_connections_this_worker!, 'more than the answering worker holds');
    assert.equal(m.zk_watch_count, 2 * sids().length + 1);
    assert.equal(m.zk_workers_not_answering, 0);
    assert.match(await word(s.zkPort, 'mntr'), new RegExp(`\\nzk_watch_count\\t${2 * sids().length + 1}\\n`));
  });
});
