// Ensemble configuration: ZooKeeper's server list in zoo.cfg and in --servers, myid, the failover
// times in ms, and every inconsistency refused at start-up with its message.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError, isEnsemble, observerIds, parseServerArgs, voterIds, zabTimeoutTicks } from '../../src/common/config.js';
import { parseServerValue } from '../../src/common/ensemble-config.js';

const fixture = new URL('../../../test/common/fixtures/zoo-debian-ensemble.cfg', import.meta.url);
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dir(myid?: string): string {
  const d = mkdtempSync(join(tmpdir(), 'zk-cfg-'));
  dirs.push(d);
  if (myid !== undefined) writeFileSync(join(d, 'myid'), myid);
  return d;
}

/** Writes zoo.cfg (dataDir = its own dir unless the text sets one) and parses it with extra flags. */
function cfg(text: string, opts: { myid?: string; flags?: string[] } = {}) {
  const d = dir(opts.myid);
  const path = join(d, 'zoo.cfg');
  writeFileSync(path, /^dataDir=/m.test(text) ? text : `dataDir=${d}\n${text}`);
  return parseServerArgs(['--config', path, ...(opts.flags ?? [])]);
}

function refused(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `a ConfigError, got ${String(err)}`);
    assert.match(err.message, re);
    return true;
  });
}

const three = 'server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\nserver.3=127.0.0.1:2890:3890\n';

describe('config: a ZooKeeper user\'s ensemble zoo.cfg', () => {
  test('the Debian zoo.cfg with server.1..3 parses as it is; myid comes from the data dir', () => {
    const data = dir('2\n');
    const c = parseServerArgs(['--config', join(fixture.pathname), '--data-dir', data]);
    assert.equal(c.serverId, 2);
    assert.equal(c.observer, false);
    assert.deepEqual(c.servers, [
      { id: 1, host: 'zookeeper1', peerPort: 2888, electionPort: 3888, observer: false },
      { id: 2, host: 'zookeeper2', peerPort: 2888, electionPort: 3888, observer: false },
      { id: 3, host: 'zookeeper3', peerPort: 2888, electionPort: 3888, observer: false },
    ]);
    assert.ok(isEnsemble(c));
    assert.deepEqual(voterIds(c), [1, 2, 3]);
    assert.deepEqual(observerIds(c), []);
    assert.equal(c.port, 2181);
    assert.equal(c.tickMs, 2000);
    assert.equal(c.initLimitTicks, 10);
    assert.equal(c.syncLimitTicks, 5);
    assert.equal(c.initLimitMs, 20_000, 'initLimit x tickTime');
    assert.equal(c.syncLimitMs, 10_000, 'syncLimit x tickTime');
    assert.equal(c.electionTimeoutMs, 1_000, '2 x tickTime, capped');
    assert.deepEqual(c.unknownKeys, ['leaderServes']);
    assert.deepEqual(c.fourLetterWords, ['srvr', 'mntr', 'ruok'], '4lw.commands.whitelist is read (the jute port answers these)');
    assert.deepEqual(c.warnings, []);
  });

  test('the same file without a myid in its dataDir: the missing myid names its path', () => {
    // The fixture's own dataDir (/var/lib/zookeeper) may exist on this machine with Debian's
    // placeholder myid (apt-get install zookeeper): point it at an empty dir of ours instead.
    const empty = dir();
    const path = join(empty, 'zoo.cfg');
    writeFileSync(path, readFileSync(fixture, 'utf8').replace(/^dataDir=.*$/m, `dataDir=${empty}`));
    const mine = empty.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    refused(() => parseServerArgs(['--config', path]), new RegExp(`${mine}/myid file is missing.*--id N`));
  });

  test('every form of a server entry: type, client port, client address, IPv6 brackets', () => {
    const c = cfg(
      'peerType=observer\n' +
        'server.1=127.0.0.1:2888:3888:participant;2181\n' +
        'server.2 = 127.0.0.1:2889:3889;127.0.0.1:2182\n' +
        'server.3=[::1]:2890:3890:observer;[::1]:2183\n' +
        'server.4=host4:2888:3888: OBSERVER \n',
      { myid: '3' },
    );
    assert.deepEqual(c.servers, [
      { id: 1, host: '127.0.0.1', peerPort: 2888, electionPort: 3888, observer: false, clientPort: 2181 },
      { id: 2, host: '127.0.0.1', peerPort: 2889, electionPort: 3889, observer: false, clientPort: 2182, clientHost: '127.0.0.1' },
      { id: 3, host: '::1', peerPort: 2890, electionPort: 3890, observer: true, clientPort: 2183, clientHost: '::1' },
      { id: 4, host: 'host4', peerPort: 2888, electionPort: 3888, observer: true },
    ]);
    assert.equal(c.serverId, 3);
    assert.equal(c.observer, true);
    assert.equal(c.port, 2183, 'the client port comes from my own entry');
    assert.equal(c.host, '::1', 'and so does its address');
    assert.deepEqual(voterIds(c), [1, 2]);
    assert.deepEqual(observerIds(c), [3, 4]);
    assert.deepEqual(c.warnings, ['2 voter(s): no server failure will be tolerated; you need at least 3 voters']);
  });

  test('clientPort that agrees with my entry is fine; the server list wins over peerType, with a warning', () => {
    const c = cfg(`clientPort=2182\npeerType=observer\n${three.replace('3889', '3889;2182')}`, { myid: '2' });
    assert.equal(c.port, 2182);
    assert.equal(c.observer, false);
    assert.deepEqual(c.warnings, ['peerType observer does not match server.2 in the server list: using the list (participant)']);
  });

  test('log-worthy lists: an even voter count, a single server (standalone)', () => {
    const four = cfg(three + 'server.4=127.0.0.1:2891:3891\n', { myid: '1' });
    assert.match(four.warnings.join('\n'), /4 voters: an even count/);
    const one = cfg('server.1=127.0.0.1:2888:3888\n');
    assert.equal(isEnsemble(one), false);
    assert.equal(one.serverId, 0, 'no myid needed for one server, as ZooKeeper');
    assert.match(one.warnings.join('\n'), /only one server is listed: it runs standalone/);
  });

  test('a standalone data dir with a myid: the id is read (as ZooKeeper), nothing else changes', () => {
    const c = parseServerArgs(['--data-dir', dir('7')]);
    assert.equal(c.serverId, 7);
    assert.equal(isEnsemble(c), false);
    assert.deepEqual(c.servers, []);
  });
});

describe('config: --id and --servers', () => {
  test('the flags take the same entries, :observer and ;clientPort included; no myid needed with --id', () => {
    const c = parseServerArgs([
      '--data-dir', dir(),
      '--id', '1',
      '--servers', '1=127.0.0.1:2888:3888;2181,2=127.0.0.1:2889:3889;2182, 3=127.0.0.1:2890:3890:observer;2183',
    ]);
    assert.equal(c.serverId, 1);
    assert.equal(c.port, 2181);
    assert.deepEqual(voterIds(c), [1, 2]);
    assert.deepEqual(observerIds(c), [3]);
    assert.deepEqual(c.servers[2], { id: 3, host: '127.0.0.1', peerPort: 2890, electionPort: 3890, observer: true, clientPort: 2183 });
  });

  test('flags win over zoo.cfg; --id agreeing with myid is fine', () => {
    const c = cfg(three, { myid: '1', flags: ['--id', '1', '--port', '2999'] });
    assert.equal(c.serverId, 1);
    assert.equal(c.port, 2999, 'my entry has no client part, so --port is mine');
  });

  test('failover times in ms: flags, else derived from ticks', () => {
    const derived = parseServerArgs(['--data-dir', dir(), '--tick-ms', '100']);
    assert.deepEqual([derived.electionTimeoutMs, derived.syncLimitMs, derived.initLimitMs], [200, 500, 1_000]);
    const set = parseServerArgs(['--data-dir', dir(), '--election-timeout-ms', '300', '--sync-limit-ms', '1500', '--init-limit-ms=4000']);
    assert.deepEqual([set.electionTimeoutMs, set.syncLimitMs, set.initLimitMs], [300, 1_500, 4_000]);
    assert.deepEqual(zabTimeoutTicks(set, 100), { electionTimeoutTicks: 3, initLimitTicks: 40, syncLimitTicks: 15 });
    assert.deepEqual(zabTimeoutTicks(set, 400), { electionTimeoutTicks: 1, initLimitTicks: 10, syncLimitTicks: 4 }, 'rounded up');
    refused(() => parseServerArgs(['--election-timeout-ms', '0']), /--election-timeout-ms: 0 is outside/);
    refused(() => parseServerArgs(['--sync-limit-ms', 'soon']), /--sync-limit-ms: expected an integer/);
  });
});

describe('config: refused at start-up', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['missing myid (flags)', () => parseServerArgs(['--data-dir', dir(), '--servers', '1=a:1:2,2=b:1:2']), /myid file is missing: a server of an ensemble of 2 needs its id/],
    ['missing myid (zoo.cfg)', () => cfg(three), /myid file is missing/],
    ['an id not in the list', () => cfg(three, { myid: '4' }), /My id 4 not in the peer list \(server ids: 1, 2, 3\)/],
    ['--id not in the list', () => parseServerArgs(['--data-dir', dir(), '--id', '9', '--servers', '1=a:1:2,2=b:1:2']), /My id 9 not in the peer list/],
    ['duplicate ids in zoo.cfg', () => cfg(three + 'server.2=127.0.0.1:2999:3999\n', { myid: '1' }), /server id 2 is listed twice/],
    ['duplicate ids in --servers', () => parseServerArgs(['--data-dir', dir(), '--id', '1', '--servers', '1=a:1:2,1=b:1:2']), /server id 1 is listed twice/],
    ['two servers on one host:port', () => cfg('server.1=127.0.0.1:2888:3888\nserver.2=localhost:2888:3889\n', { myid: '1' }), /server.2 peer port and server.1 peer port are both localhost:2888/],
    ['a peer port on another\'s election port', () => cfg('server.1=h:2888:3888\nserver.2=h:3888:3889\n', { myid: '1' }), /server.2 peer port and server.1 election port are both h:3888/],
    ['a client port on another\'s peer port', () => cfg('server.1=h:2888:3888\nserver.2=h:2889:3889;2888\n', { myid: '1' }), /server.2 client port and server.1 peer port are both h:2888/],
    ['peer port = election port', () => cfg('server.1=h:2888:2888\n'), /zoo.cfg server.1: peer and election port must be different \(both 2888\)/],
    ['only observers', () => cfg('server.1=h:1:2:observer\nserver.2=h:3:4:observer\n', { myid: '1' }), /every server in the list is an observer: an ensemble needs voters/],
    ['initLimit=0', () => cfg('initLimit=0\n'), /initLimit must be at least 1 tick, got 0/],
    ['syncLimit=0', () => cfg('syncLimit=0\n'), /syncLimit must be at least 1 tick, got 0/],
    ['too few parts', () => cfg('server.1=h:2888\n'), /h:2888 does not have the form host:peerPort:electionPort/],
    ['too many parts', () => cfg('server.1=h:1:2:observer:x\n'), /does not have the form/],
    ['an unknown type', () => cfg('server.1=h:1:2:voter\n'), /Unrecognised peertype: voter/],
    ['a port that is no number', () => cfg('server.1=h:x:2\n'), /Address unresolved: h:x/],
    ['a port out of range', () => cfg('server.1=h:1:70000\n'), /port 70000 of h is outside \[1, 65535\]/],
    ['a bad client part', () => cfg('server.1=h:1:2;a:b:3\n'), /does not have the form/],
    ['two client parts', () => cfg('server.1=h:1:2;3;4\n'), /does not have the form/],
    ['several addresses', () => cfg('server.1=h:1:2|g:1:2\n'), /several addresses per server/],
    ['an unclosed IPv6 bracket', () => cfg('server.1=[::1:1:2\n'), /starts with '\[' but has no matching/],
    ['a server key that is no number', () => cfg('server.x=h:1:2\n'), /server.x: the server id must be a number/],
    ['a server id over 255', () => cfg('server.256=h:1:2\n'), /server id 256 is outside \[0, 255\]/],
    ['a --servers entry without id=', () => parseServerArgs(['--servers', 'h:1:2']), /--servers: expected id=host:peerPort:electionPort/],
    ['a myid that is no number', () => cfg(three, { myid: 'one\n' }), /myid: serverid "one" is not a number/],
    ['--id against the data dir\'s myid', () => cfg(three, { myid: '2', flags: ['--id', '1'] }), /--id 1 but .*myid says 2: the data dir belongs to another server/],
    ['clientPort against my entry', () => cfg(`clientPort=2181\n${three.replace('3889', '3889;2182')}`, { myid: '2' }), /client port 2181 differs from server.2's client port 2182/],
    ['a bad peerType', () => cfg('peerType=voter\n'), /Unrecognised peertype: voter/],
  ];
  for (const [name, fn, re] of cases) test(name, () => refused(fn, re));
});

test('parseServerValue keeps Java split semantics: a trailing colon is dropped, as ZooKeeper', () => {
  assert.deepEqual(parseServerValue(5, 'h:1:2:', 'x'), { id: 5, host: 'h', peerPort: 1, electionPort: 2, observer: false });
  // The fixture really is a ZooKeeper file: it is read from disk as it is, not generated here.
  assert.match(readFileSync(fixture, 'utf8'), /^server\.3=zookeeper3:2888:3888$/m);
});
