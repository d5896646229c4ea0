// zkCli-like command against a real server: one-shot commands in process (runCli with captured
// streams), the watch command and the interactive prompt, and the `zookooper cli` binary.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../src/cli/zkcli.js';
import { connect } from '../../src/index.js';
import { binPath, eventually, startServer, type TestServer } from '../helpers/server.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

function collect(stream: PassThrough): () => string {
  let text = '';
  stream.on('data', (b: Buffer) => (text += b.toString()));
  return () => text;
}

async function cli(s: string, args: string[], input?: PassThrough): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = input ?? new PassThrough();
  const out = collect(stdout);
  const err = collect(stderr);
  if (input === undefined) stdin.end();
  const code = await runCli(['-s', s, ...args], { stdout, stderr, stdin });
  return { code, out: out(), err: err() };
}

describe('zookooper cli', () => {
  let server: TestServer;
  let s: string;
  before(async () => {
    server = await startServer({ workers: 1 });
    s = server.connectString;
  });
  after(async () => {
    await server?.stop();
    server?.cleanup();
  });

  test('create, get, set, stat, ls, delete; errors exit non-zero', async () => {
    assert.deepEqual(await cli(s, ['create', '/c', 'hello']), { code: 0, out: 'Created /c\n', err: '' });
    const seq = await cli(s, ['create', '-s', '/c/n-', 'x']);
    assert.match(seq.out, /^Created \/c\/n-0000000000\n$/);
    assert.equal((await cli(s, ['get', '/c'])).out, 'hello\n');
    assert.equal((await cli(s, ['set', '/c', 'world', '-v', '0'])).code, 0);
    const got = await cli(s, ['get', '-s', '/c']);
    assert.match(got.out, /^world\ncZxid = 0x[0-9a-f]+\n/);
    assert.match(got.out, /^dataVersion = 1$/m);
    const st = await cli(s, ['stat', '/c']);
    assert.match(st.out, /^numChildren = 1$/m);
    assert.equal((await cli(s, ['ls', '/c'])).out, '[n-0000000000]\n');
    const bad = await cli(s, ['set', '/c', 'again', '-v', '0']);
    assert.equal(bad.code, 1);
    assert.equal(bad.err, 'Error: BADVERSION: /c\n');
    const none = await cli(s, ['get', '/nope']);
    assert.deepEqual(none, { code: 1, out: '', err: 'Error: NONODE: /nope\n' });
    assert.equal((await cli(s, ['delete', '/c'])).err, 'Error: NOTEMPTY: /c\n');
    assert.equal((await cli(s, ['delete', '/c/n-0000000000'])).code, 0);
    assert.equal((await cli(s, ['delete', '/c'])).code, 0);
    assert.equal((await cli(s, ['stat', '/c'])).err, 'Error: NONODE: /c\n');
  });

  test('create modes, ls -R, deleteall, sync', async () => {
    assert.equal((await cli(s, ['create', '-c', '/ctr'])).code, 0);
    assert.equal((await cli(s, ['create', '-t', '60000', '/ttl', 'x'])).code, 0);
    assert.equal((await cli(s, ['create', '-e', '-t', '5', '/bad'])).code, 2);
    await cli(s, ['create', '/r']);
    await cli(s, ['create', '/r/a']);
    await cli(s, ['create', '/r/a/b']);
    await cli(s, ['create', '/r/c']);
    assert.equal((await cli(s, ['ls', '-R', '/r'])).out, '/r\n/r/a\n/r/c\n/r/a/b\n');
    assert.equal((await cli(s, ['deleteall', '/r'])).code, 0);
    assert.equal((await cli(s, ['ls', '/r'])).code, 1);
    assert.equal((await cli(s, ['sync', '/'])).out, 'Sync is OK\n');
  });

  test('getAcl, setAcl, addauth', async () => {
    await cli(s, ['create', '/acl']);
    assert.equal((await cli(s, ['getAcl', '/acl'])).out, "'world,'anyone\n: cdrwa\n");
    assert.equal((await cli(s, ['setAcl', '/acl', 'world:anyone:r'])).code, 0);
    assert.equal((await cli(s, ['getAcl', '/acl'])).out, "'world,'anyone\n: r\n");
    assert.equal((await cli(s, ['set', '/acl', 'x'])).err, 'Error: NOAUTH: /acl\n');
    assert.equal((await cli(s, ['setAcl', '/acl', 'nonsense'])).code, 2);
    assert.equal((await cli(s, ['addauth', 'digest', 'u:p'])).code, 0);
  });

  test('usage errors exit 2', async () => {
    assert.equal((await cli(s, ['bogus'])).code, 2);
    assert.equal((await cli(s, ['get'])).code, 2);
    assert.equal((await cli(s, ['get', '-x', '/a'])).code, 2);
    assert.equal((await cli(s, ['set', '/a', 'x', '-v'])).code, 2);
    const help = await cli(s, ['help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /ls \[-s\] \[-w\] \[-R\] PATH/);
  });

  test('watch prints events until stdin ends', async () => {
    await cli(s, ['create', '/wt']);
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const out = collect(stdout);
    const running = runCli(['-s', s, 'watch', '-R', '/wt'], { stdout, stderr: new PassThrough(), stdin });
    await eventually(() => out().includes('watching /wt'), 10_000, 'watch started');
    const zk = await connect(s);
    await zk.create('/wt/a');
    await zk.setData('/wt', 'x');
    await zk.close();
    await eventually(() => out().includes('dataChanged path:/wt'), 10_000, 'events printed');
    stdin.end();
    assert.equal(await running, 0);
    assert.match(out(), /WatchedEvent type:created path:\/wt\/a\n/);
  });

  test('interactive: prompt, commands, errors keep going, quit', async () => {
    const stdin = new PassThrough();
    stdin.end('create /i 1\nget /i\nget /missing\nls /i\nquit\n');
    const r = await cli(s, [], stdin);
    assert.equal(r.code, 0);
    assert.match(r.out, /\[zk: [^\]]+\(CONNECTED\) 0\] Created \/i\n/);
    assert.match(r.out, /\] 1\n/);
    assert.match(r.out, /\] \[\]\n/);
    assert.equal(r.err, 'Error: NONODE: /missing\n');
  });

  test('register: an ephemeral held by the prompt until quit, then gone', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const out = collect(stdout);
    const running = runCli(['-s', s], { stdout, stderr: new PassThrough(), stdin });
    stdin.write('register /reg-i data\n');
    await eventually(() => out().includes('Registered /reg-i (ephemeral: until quit)'), 10_000, 'registered');
    const zk = await connect(s);
    const stat = await zk.exists('/reg-i');
    assert.ok(stat !== null && stat.ephemeralOwner !== 0n, 'an ephemeral while the prompt runs');
    stdin.end('quit\n');
    assert.equal(await running, 0);
    assert.equal(await zk.exists('/reg-i'), null, 'gone with the session');
    await zk.close();
  });

  test('the zookooper binary runs the cli', async () => {
    const child = spawn(process.execPath, [binPath, 'cli', '-s', s, 'get', '/nothing-here'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((res) => child.on('exit', res));
    assert.equal(code, 1);
    assert.equal(err, 'Error: NONODE: /nothing-here\n');
  });

  test('no server: the connect error, exit 1', async () => {
    const r = await runCli(['-s', '127.0.0.1:1', '-timeout', '300', 'ls', '/'], { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough() });
    assert.equal(r, 1);
  });
});
