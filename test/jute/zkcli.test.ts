// zkCli.sh from Debian's `zookeeper` package (ZooKeeper 3.8's own Java client), scripted on stdin
// against a real server's jute port. Fails (does not skip) when the client is not installed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { connect } from '../../src/index.js';
import { startJuteServer } from './helpers.js';

const zkCli = '/usr/share/zookeeper/bin/zkCli.sh';

function runZkCli(port: number, commands: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(zkCli, ['-server', `127.0.0.1:${port}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(out.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('SLF4J')));
    });
    child.stdin.end(commands.join('\n') + '\nquit\n');
  });
}

test('zkCli.sh: create, get -s, set, ls -R, stat, getAcl/setAcl, addWatch, sync, whoami, delete', async () => {
  assert.ok(existsSync(zkCli), `zkCli.sh not found at ${zkCli}: install it with  apt-get update && apt-get install -y zookeeper  (as root)`);
  const s = await startJuteServer({ workers: 2 });
  const native = await connect(s.connectString, { sessionTimeoutMs: 10_000 });
  try {
    await native.create('/from-native', 'n');
    const out = await runZkCli(s.zkPort, [
      'create /cli hello',
      'create -e /cli/eph e',
      'create -s /cli/seq- q',
      'ls -R /cli',
      'set /cli world',
      'get -s /cli',
      'stat /from-native',
      'getAcl /cli',
      'setAcl /cli world:anyone:r',
      'getAcl /cli',
      'addWatch -m PERSISTENT_RECURSIVE /from-native',
      'sync /cli',
      'getAllChildrenNumber /cli',
      'getEphemerals /cli',
      'delete /nope',
      'create /cli dup',
      'addauth digest u:p',
      'whoami',
      'create /gone',
      'delete /gone',
      'get /from-native',
    ]);
    const text = out.join('\n');
    for (const expect of [
      'Created /cli',
      'Created /cli/eph',
      /Created \/cli\/seq-\d{10}/,
      /^\/cli\/seq-\d{10}$/m,
      /^world\ncZxid = 0x[0-9a-f]+/m,
      'dataVersion = 1',
      'numChildren = 2',
      ": cdrwa",
      ': r',
      'Sync is OK',
      /^\[\/cli\/eph\]$/m,
      'Node does not exist: /nope',
      'Node already exists: /cli',
      'digest: u',
      'Created /gone',
      /^n$/m,
    ]) {
      if (typeof expect === 'string') assert.ok(text.includes(expect), `zkCli output lacks ${JSON.stringify(expect)}:\n${text}`);
      else assert.match(text, expect, `zkCli output:\n${text}`);
    }
    assert.ok(!text.includes('ConnectionLoss') && !text.includes('state:Disconnected'), `zkCli lost its connection:\n${text}`);
    // The zkCli session closed at quit: its ephemeral is gone, its nodes stay for native clients.
    assert.equal((await native.getData('/cli')).data.toString(), 'world');
    assert.equal(await native.exists('/gone'), null);
    assert.equal(await native.exists('/cli/eph'), null);
  } finally {
    await native.close();
    await s.stop();
    s.cleanup();
  }
});
