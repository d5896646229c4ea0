// Bad ensemble configuration is a clear error at start-up, never a server that starts and
// misbehaves: a missing myid, an id not in the list, two servers on one port (in the list, or a
// second process on a port already taken), a data dir that belongs to another server; a zoo.cfg
// with ZooKeeper's keys and myid in the data dir works as it is.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { holdPorts } from '../cluster/harness.js';
import { binPath, tempDir } from '../helpers/server.js';

interface Run {
  code: number | null;
  signal: string | null;
  out: string;
}

/** Runs `zookooper server ...` to its end (bounded: a server that starts is killed and fails the check). */
function runServer(args: string[], timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [binPath, 'server', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out });
    });
  });
}

describe('ensemble configuration errors at start-up', () => {
  let dir: string;
  let ports: number[];
  let servers: string;
  let release: () => Promise<void>;
  before(async () => {
    dir = tempDir('zk-ens-config-');
    // Held (bound) for the whole file: nothing here must really start.
    const held = await holdPorts(6);
    ports = held.ports;
    release = held.release;
    servers = [1, 2, 3].map((id) => `${id}=127.0.0.1:${ports[2 * id - 2]}:${ports[2 * id - 1]}`).join(',');
  });
  after(async () => {
    await release();
    rmSync(dir, { recursive: true, force: true });
  });

  const fails = (r: Run, re: RegExp): void => {
    assert.equal(r.signal, null, `exited by itself, not killed: ${r.out}`);
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, re);
    assert.doesNotMatch(r.out, /"msg":"serving"/);
  };

  test('a server list without --id and without a myid file', async () => {
    const d = join(dir, 'no-myid');
    fails(await runServer(['--servers', servers, '--data-dir', d, '--port', '0']), /myid file is missing: a server of an ensemble of 3 needs its id/);
  });

  test('an id that is not in the list (flag, and myid of a zoo.cfg)', async () => {
    fails(await runServer(['--id', '4', '--servers', servers, '--data-dir', join(dir, 'id4'), '--port', '0']), /My id 4 not in the peer list \(server ids: 1, 2, 3\)/);
    const d = tempDir('zk-ens-cfg-');
    try {
      writeFileSync(join(d, 'myid'), '7\n');
      const cfg = join(d, 'zoo.cfg');
      writeFileSync(cfg, [`tickTime=200`, `dataDir=${d}`, `clientPort=0`, ...servers.split(',').map((s) => `server.${s}`)].join('\n') + '\n');
      fails(await runServer(['--config', cfg]), /My id 7 not in the peer list/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  test('two servers of the list on one port', async () => {
    const dup = `1=127.0.0.1:${ports[0]}:${ports[1]},2=127.0.0.1:${ports[0]}:${ports[3]},3=127.0.0.1:${ports[4]}:${ports[5]}`;
    fails(await runServer(['--id', '1', '--servers', dup, '--data-dir', join(dir, 'dup'), '--port', '0']), /peer port are both 127\.0\.0\.1:\d+: every listener needs its own host:port/);
    // A client port of the list that is another server's peer port.
    const clash = `1=127.0.0.1:${ports[0]}:${ports[1]};${ports[2]},2=127.0.0.1:${ports[2]}:${ports[3]},3=127.0.0.1:${ports[4]}:${ports[5]}`;
    const r = await runServer(['--id', '1', '--servers', clash, '--data-dir', join(dir, 'clash')]);
    fails(r, /both 127\.0\.0\.1:\d+/);
  });

  test('a peer port already taken by another process', async () => {
    // ports[0] (server 1's peer port) is held by this test process.
    const r = await runServer(['--id', '1', '--servers', servers, '--data-dir', join(dir, 'busy'), '--port', '0']);
    // Said as what it is, and the process ends (it used to log this and hang on its workers).
    fails(r, new RegExp(`peer port ${ports[0]} on 127\\.0\\.0\\.1 \\(server\\.1\\) is already in use`));
  });

  test('a data dir whose myid names another server', async () => {
    const d = join(dir, 'other');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'myid'), '2\n');
    fails(await runServer(['--id', '1', '--servers', servers, '--data-dir', d, '--port', '0']), /--id 1 but .*myid says 2: the data dir belongs to another server/);
  });
});
