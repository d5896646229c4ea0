// `zookooper cli services [NAME]` against a real server: the table of registered instances.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../src/cli/zkcli.js';
import { connect, ServiceRegistry, type ZookooperClient } from '../../src/index.js';
import { startServer, type TestServer } from '../helpers/server.js';

async function cli(s: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b: Buffer) => (out += b.toString()));
  stderr.on('data', (b: Buffer) => (err += b.toString()));
  stdin.end();
  const code = await runCli(['-s', s, ...args], { stdout, stderr, stdin });
  return { code, out, err };
}

describe('zookooper cli services', () => {
  let server: TestServer;
  let zk: ZookooperClient;
  before(async () => {
    server = await startServer({ workers: 1 });
    zk = await connect(server.connectString);
  });
  after(async () => {
    await zk?.close();
    await server?.stop();
    server?.cleanup();
  });

  test('lists services and instances as a table', async () => {
    const s = server.connectString;
    assert.deepEqual(await cli(s, ['services']), { code: 0, out: 'name  id  address:port  zone  weight  load  enabled\n(no services under /services)\n', err: '' });
    const registry = new ServiceRegistry(zk);
    await registry.register({ name: 'api', id: 'api-1', address: '10.0.0.1', port: 8080, zone: 'eu-west', weight: 2, payload: { load: 7 } });
    await registry.register({ name: 'api', id: 'api-2', address: '10.0.0.2', port: 8080, enabled: false });
    await registry.register({ name: 'db', id: 'db-1', address: 'db.local', port: 5432 });
    const all = await cli(s, ['services']);
    assert.equal(all.code, 0);
    assert.equal(
      all.out,
      [
        'name  id     address:port   zone     weight  load  enabled',
        'api   api-1  10.0.0.1:8080  eu-west  2       7     yes',
        'api   api-2  10.0.0.2:8080  -        1       -     no',
        'db    db-1   db.local:5432  -        1       -     yes',
        '',
      ].join('\n'),
    );
    const one = await cli(s, ['services', 'db']);
    assert.equal(one.out.split('\n').length, 3);
    assert.match(one.out, /^db {4}db-1 {2}db.local:5432/m);
    assert.match((await cli(s, ['services', 'nope'])).out, /\(no instances of nope under \/services\)/);
    assert.match((await cli(s, ['services', '-b', '/elsewhere'])).out, /no services under \/elsewhere/);
    const bad = await cli(s, ['services', '-b', 'relative']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /^Error: BADARGUMENTS/);
    assert.equal((await cli(s, ['services', 'a', 'b'])).code, 2, 'usage error');
    assert.match((await cli(s, ['help'])).out, /services \[-b BASE\] \[NAME\]/);
    await registry.close();
  });
});
