// `zookooper cli srvr`: ZooKeeper's srvr text from a real standalone server's /stat, several
// servers with one not answering, and the ensemble lines from a synthetic leader's /stat.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { formatSrvr } from '../../src/cli/srvr.js';
import { cli } from '../helpers/cli.js';
import { connect } from '../../src/index.js';
import { startServer, type TestServer } from '../helpers/server.js';


/** A loopback port nobody listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const srvrLines = [
  /^Zookeeper version: zookooper$/,
  /^Latency min\/avg\/max: n\/a$/,
  /^Received: \d+ \(session worker \d+\)$/,
  /^Sent: n\/a$/,
  /^Connections: \d+ \(session worker \d+\)$/,
  /^Outstanding: \d+$/,
  /^Zxid: 0x[0-9a-f]+$/,
  /^Mode: standalone$/,
  /^Node count: \d+$/,
];

describe('cli srvr', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ workers: 1 });
    const zk = await connect(server.connectString);
    await zk.create('/srvr-a', new Uint8Array());
    await zk.close();
  });
  after(async () => {
    await server.stop();
    server.cleanup();
  });

  test('one server: ZooKeeper\'s srvr lines in order, with its zxid and node count', async () => {
    const r = await cli(['-s', server.connectString, 'srvr']);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trimEnd().split('\n');
    assert.equal(lines.length, srvrLines.length, r.out);
    lines.forEach((l, i) => assert.match(l, srvrLines[i]!));
    const zxid = BigInt(/^Zxid: (\S+)$/m.exec(r.out)![1]!);
    assert.ok(zxid > 0n, 'the create was committed');
    const nodes = Number(/^Node count: (\d+)$/m.exec(r.out)![1]);
    assert.ok(nodes >= 2, 'the root and /srvr-a at least');
  });

  test('several servers: a block each, the one not answering reported, exit status 1', async () => {
    const dead = await closedPort();
    const r = await cli(['-s', `${server.connectString},127.0.0.1:${dead}`, 'srvr']);
    assert.equal(r.code, 1);
    const blocks = r.out.split('\n\n');
    assert.equal(blocks.length, 2, r.out);
    assert.match(blocks[0]!, new RegExp(`^Server: ${server.connectString}\nZookeeper version: zookooper\n`));
    assert.match(blocks[0]!, /^Mode: standalone$/m);
    assert.equal(blocks[1], `Server: 127.0.0.1:${dead}\nError: not answering\n`);
    assert.match(r.err, new RegExp(`127.0.0.1:${dead}: cannot read /stat: ECONNREFUSED`));
  });

  test('a bad server list is a usage error', async () => {
    const r = await cli(['-s', 'host:notaport', 'srvr']);
    assert.equal(r.code, 2);
    assert.match(r.err, /invalid connect string/);
  });
});

test('formatSrvr: a leader\'s mode, epoch, leader and each learner with its lag', () => {
  const text = formatSrvr({
    version: 'zookooper',
    serverState: 'leader',
    zxid: '0x300000007',
    nodeCount: 9,
    outstandingWrites: 2,
    epoch: 3,
    leaderId: 1,
    inQuorum: true,
    peerState: 'leading - broadcast',
    learners: [
      { id: 2, observer: false, synced: true, lagTxns: 0 },
      { id: 4, observer: true, synced: false, lagTxns: 31 },
    ],
    worker: { id: 1, connections: 5, received: 70 },
  });
  assert.equal(
    text,
    [
      'Zookeeper version: zookooper',
      'Latency min/avg/max: n/a',
      'Received: 70 (session worker 1)',
      'Sent: n/a',
      'Connections: 5 (session worker 1)',
      'Outstanding: 2',
      'Zxid: 0x300000007',
      'Mode: leader',
      'Node count: 9',
      'Epoch: 3',
      'Leader: 1',
      'Peer state: leading - broadcast',
      'Learner 2: follower, synced, lag 0 txns',
      'Learner 4: observer, syncing, lag 31 txns',
      '',
    ].join('\n'),
  );
  assert.match(formatSrvr({ serverState: 'looking', leaderId: null, inQuorum: false, peerState: 'looking - election' }), /^Leader: none\nPeer state: looking - election \(not in a quorum\)$/m);
});
