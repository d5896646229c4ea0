// `zookooper cli` against servers that want credentials or TLS, real server processes: srvr
// with an --admin-users user (`--user NAME:PASSWORD`, HTTP Basic on /stat), and a TLS client port
// (`--tls-ca`, the server's flag names) for the session commands and for srvr over https.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cli } from '../helpers/cli.js';
import { hasOpenssl, makeCa, makeCert, type CertFiles } from '../helpers/certs.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';


const digest = (userPassword: string): string => `${userPassword.split(':')[0]}:${createHash('sha1').update(userPassword).digest('base64')}`;

describe('cli srvr with --admin-users', () => {
  let dir = '';
  let server: TestServer;
  before(async () => {
    dir = tempDir('zk-cli-admin-');
    const users = join(dir, 'admins');
    writeFileSync(users, `${digest('admin:s3cret')}\n`);
    server = await startServer({ workers: 1, args: ['--admin-users', users] });
  });
  after(async () => {
    await server?.stop();
    server?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('without --user: exit 1 and says an admin user is needed', async () => {
    const r = await cli(['-s', server.connectString, 'srvr']);
    assert.equal(r.code, 1);
    assert.match(r.err, /HTTP 401: the server wants an admin user .* --user NAME:PASSWORD/);
  });

  test('a wrong password: exit 1, said so', async () => {
    const r = await cli(['-s', server.connectString, '--user', 'admin:wrong', 'srvr']);
    assert.equal(r.code, 1);
    assert.match(r.err, /HTTP 401: the admin user or password given with --user is not accepted/);
  });

  test('--user admin:s3cret: the srvr lines', async () => {
    const r = await cli(['-s', server.connectString, '--user', 'admin:s3cret', 'srvr']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Zookeeper version: zookooper$/m);
    assert.match(r.out, /^Mode: standalone$/m);
  });

  test('--user without a colon is a usage error', async () => {
    const r = await cli(['-s', server.connectString, '--user', 'admin', 'srvr']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--user needs NAME:PASSWORD/);
  });
});

describe('cli on a TLS client port', { skip: hasOpenssl ? false : 'openssl not installed' }, () => {
  let dir = '';
  let ca: CertFiles;
  let server: TestServer;
  before(async () => {
    dir = tempDir('zk-cli-tls-');
    ca = makeCa(dir, 'ca');
    const cert = makeCert(dir, 'server', '/CN=localhost', ca, 'server');
    server = await startServer({ workers: 1, args: ['--tls-cert', cert.crt, '--tls-key', cert.key] });
  });
  after(async () => {
    await server?.stop();
    server?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('--tls-ca: create and get over wss://, srvr over https://', async () => {
    const created = await cli(['-s', server.connectString, '--tls-ca', ca.crt, 'create', '/cli-tls', 'over tls']);
    assert.equal(created.code, 0, created.err);
    const got = await cli(['-s', server.connectString, '--tls-ca', ca.crt, 'get', '/cli-tls']);
    assert.equal(got.code, 0, got.err);
    assert.match(got.out, /^over tls$/m);
    const srvr = await cli(['-s', server.connectString, '--tls-ca', ca.crt, 'srvr']);
    assert.equal(srvr.code, 0, srvr.err);
    assert.match(srvr.out, /^Mode: standalone$/m);
  });

  test('without --tls-ca the TLS port does not answer the cli', async () => {
    const r = await cli(['-s', server.connectString, '-timeout', '2000', 'srvr']);
    assert.equal(r.code, 1);
    assert.match(r.err, /cannot read \/stat/);
  });

  test('an unreadable --tls-ca file is a usage error, before connecting', async () => {
    const r = await cli(['-s', server.connectString, '--tls-ca', join(dir, 'missing.crt'), 'srvr']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--tls-ca .*missing\.crt: cannot read it \(ENOENT\)/);
  });

  test('--tls-cert without --tls-key is a usage error', async () => {
    const r = await cli(['-s', server.connectString, '--tls-cert', ca.crt, 'srvr']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--tls-cert and --tls-key go together/);
  });
});
