// Four-letter words on the jute port, in ZooKeeper's text formats, limited by the whitelist.
import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startJuteServer, type JuteServer } from './helpers.js';
import { nzkConnect, type Nzk } from './nzk.js';

function word(port: number, w: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const s = tcpConnect({ host: '127.0.0.1', port }, () => s.write(w + '\n'));
    s.on('data', (b: Buffer) => (out += b.toString()));
    s.once('error', reject);
    s.once('close', () => resolve(out));
  });
}

describe('four-letter words', () => {
  let s: JuteServer;
  let c: Nzk;
  before(async () => {
    s = await startJuteServer({ workers: 2, args: ['--4lw-whitelist', 'ruok, srvr,stat,mntr,cons,wchs,wchc,envi,conf,isro'] });
    c = await nzkConnect(s.zkConnect);
    await c.create('/fw', 'x');
    await c.getData('/fw', () => {});
  });
  after(async () => {
    await c?.close();
    await s?.stop();
    s?.cleanup();
  });

  test('ruok, isro, srvr, stat', async () => {
    assert.equal(await word(s.zkPort, 'ruok'), 'imok');
    assert.equal(await word(s.zkPort, 'isro'), 'rw');
    const srvr = await word(s.zkPort, 'srvr');
    assert.match(srvr, /^Zookeeper version: zookooper\n/);
    assert.match(srvr, /\nMode: standalone\n/);
    assert.match(srvr, /\nZxid: 0x[0-9a-f]+\n/);
    assert.match(srvr, /\nNode count: \d+\n/);
    const stat = await word(s.zkPort, 'stat');
    assert.match(stat, /^Zookeeper version: zookooper\nClients:\n \/127\.0\.0\.1\[1\]\(queued=0,recved=\d+,sent=\d+,sid=0x[0-9a-f]+/);
    assert.match(stat, /\nMode: standalone\n/);
  });

  test('mntr, cons, wchs, wchc, envi, conf', async () => {
    const mntr = await word(s.zkPort, 'mntr');
    assert.match(mntr, /^zk_version\tzookooper\n/);
    assert.match(mntr, /\nzk_server_state\tstandalone\n/);
    assert.match(mntr, /\nzk_znode_count\t\d+\n/);
    assert.match(await word(s.zkPort, 'cons'), /^ \/127\.0\.0\.1\[1\]\(queued=0,recved=\d+,sent=\d+,sid=0x[0-9a-f]+,to=\d+\)\n/);
    assert.equal(await word(s.zkPort, 'wchs'), '1 connections watching 1 paths\nTotal watches:1\n');
    assert.match(await word(s.zkPort, 'wchc'), /^0x[0-9a-f]+\n\t\/fw\n\n$/);
    assert.match(await word(s.zkPort, 'envi'), /^Environment:\nzookeeper\.version=zookooper\n/);
    const conf = await word(s.zkPort, 'conf');
    assert.match(conf, /^clientPort=\d+\n/);
    assert.match(conf, new RegExp(`\\nzkClientPort=0\\n`));
    assert.match(conf, /\ntickTime=200\n/);
  });

  test('a word outside the whitelist is refused as ZooKeeper does; the server keeps serving', async () => {
    assert.equal(await word(s.zkPort, 'dump'), 'dump is not executed because it is not in the whitelist.\n');
    assert.equal((await c.getData('/fw')).data.toString(), 'x');
  });
});

describe('dump', () => {
  test('dump lists every session with its timeout and each session\'s ephemerals, native ones included', async () => {
    const s = await startJuteServer({ workers: 2, args: ['--4lw-whitelist', 'dump'] });
    const { connect } = await import('../../src/index.js');
    const j = await nzkConnect(s.zkConnect);
    const n = await connect(s.connectString, { sessionTimeoutMs: 10_000 });
    try {
      await j.create('/dj1', null, 1);
      await j.create('/dj2', null, 1);
      await n.create('/dn', '', { mode: 'ephemeral' });
      const jid = '0x' + BigInt('0x' + j.raw.getSessionId().toString('hex')).toString(16);
      const nid = '0x' + n.sessionId.toString(16);
      const out = await word(s.zkPort, 'dump');
      assert.match(out, /^SessionTracker dump:\nGlobal Sessions\(2\):\n/);
      assert.match(out, new RegExp(`\\n${jid}\\t\\d+ms\\n`));
      assert.match(out, new RegExp(`\\n${nid}\\t4000ms\\n`), 'its negotiated timeout (the maximum, 20 ticks of 200 ms)');
      assert.match(out, /\nephemeral nodes dump:\nSessions with Ephemerals \(2\):\n/);
      assert.match(out, new RegExp(`\\n${jid}:\\n\\t/dj1\\n\\t/dj2\\n`));
      assert.match(out, new RegExp(`\\n${nid}:\\n\\t/dn\\n`));
      // The jute worker's connections: the jute one, and the native one when it landed on that worker.
      const conns = /\nConnections dump:\n((?:\tip: \/\S+ sessionId: 0x[0-9a-f]+\n)+)$/.exec(out);
      assert.ok(conns, out);
      assert.ok(conns[1]!.includes(`\tip: /127.0.0.1 sessionId: ${jid}\n`), out);
    } finally {
      await j.close();
      await n.close();
      await s.stop();
      s.cleanup();
    }
  });
});
