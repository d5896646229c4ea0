// TLS on the client port with real certificates (openssl) and real server processes: the
// server-only mode (uWS SSLApp on every worker) and the client-certificate mode (the node:tls
// front, x509 ids). Certificate reloads on SIGHUP keep the sessions and connections already up.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { connect, type ZookooperClient } from '../../src/index.js';
import { fingerprint256, hasOpenssl, makeCa, makeCert, subjectRfc2253, type CertFiles } from '../helpers/certs.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';

const skip = hasOpenssl ? false : 'openssl not installed';
// Debian's python3-kazoo (the pyenv python3 on PATH has no kazoo).
const python = '/usr/bin/python3';
const hasKazoo = existsSync(python) && spawnSync(python, ['-c', 'import kazoo'], { encoding: 'utf8' }).status === 0;

/** kazoo over TLS to the jute port: reads `path` as the certificate's owner; prints the data or the error class. */
function kazooRead(zkPort: number, ca: string, who: CertFiles, path: string): string {
  const script = [
    'import sys',
    'from kazoo.client import KazooClient',
    `zk = KazooClient(hosts='127.0.0.1:${zkPort}', use_ssl=True, ca=sys.argv[1], certfile=sys.argv[2], keyfile=sys.argv[3], timeout=10)`,
    'zk.start(timeout=15)',
    'try:',
    `    print('data=' + zk.get(sys.argv[4])[0].decode())`,
    'except Exception as e:',
    `    print('error=' + type(e).__name__)`,
    'zk.stop()',
  ].join('\n');
  const r = spawnSync(python, ['-c', script, ca, who.crt, who.key, path], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').pop() ?? '';
}
const all = 31; // READ | WRITE | CREATE | DELETE | ADMIN

/** The fingerprint of the certificate a new TLS connection to the port is given. */
// The reload tests count connections that must live through a SIGHUP: long sessions, so a client
// stalled on a loaded machine does not give its connection up and reconnect to the newer App
// (test servers tick every 200 ms, which would cap sessions at 4 s and pings at ~1.3 s).
const longSessionArgs = ['--max-session-timeout-ms', '60000'];

function servedFingerprint(port: number, ca: string, client?: CertFiles): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca, ...(client ? { cert: readFileSync(client.crt), key: readFileSync(client.key) } : {}) }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.destroy();
      resolve(fp);
    });
    s.once('error', reject);
  });
}

/** Polls new connections (with a deadline, no sleeps between failures beyond a short pause) until `n` in a row are served `want`. */
async function untilServed(port: number, ca: string, want: string, client?: CertFiles, n = 8): Promise<void> {
  const deadline = Date.now() + 20_000;
  let streak = 0;
  let last = '';
  while (streak < n) {
    assert.ok(Date.now() < deadline, `new connections still get ${last}, not ${want}`);
    // A connection arriving while the listener is swapped can be reset (Linux resets what waits
    // in the backlog of a closed SO_REUSEPORT listener); clients retry it, and so does this probe.
    // Established connections must never be dropped: the tests check those separately.
    last = await servedFingerprint(port, ca, client).catch((err: unknown) => `error: ${(err as Error).message}`);
    streak = last === want ? streak + 1 : 0;
    if (streak === 0) await new Promise((r) => setTimeout(r, 20));
  }
}

function httpsJson(port: number, path: string, ca: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    httpsGet({ host: '127.0.0.1', port, path, ca }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    }).once('error', reject);
  });
}

/** Rewrites the live server certificate files with a fresh certificate (same name) and SIGHUPs. */
function rotate(dir: string, live: CertFiles, ca: CertFiles, name: string, pid: number): string {
  const fresh = makeCert(dir, name, '/CN=localhost', ca, 'server');
  copyFileSync(fresh.crt, live.crt);
  copyFileSync(fresh.key, live.key);
  process.kill(pid, 'SIGHUP');
  return fingerprint256(fresh.crt);
}

describe('TLS on the client port (uWS SSLApp)', { skip }, () => {
  let dir = '';
  let ca: CertFiles;
  let live: CertFiles;
  let server: TestServer;
  let caPem = '';
  const clients: ZookooperClient[] = [];
  before(async () => {
    dir = tempDir('zk-tls-');
    ca = makeCa(dir, 'ca');
    const first = makeCert(dir, 'server1', '/CN=localhost', ca, 'server');
    live = { crt: `${dir}/live.crt`, key: `${dir}/live.key` };
    copyFileSync(first.crt, live.crt);
    copyFileSync(first.key, live.key);
    caPem = readFileSync(ca.crt, 'utf8');
    server = await startServer({ args: ['--tls-cert', live.crt, '--tls-key', live.key, ...longSessionArgs] });
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await server?.stop();
    server?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a client with the right CA connects and works', async () => {
    const zk = await connect(server.connectString, { tls: { ca: caPem }, sessionTimeoutMs: 60_000 });
    clients.push(zk);
    await zk.create('/tls', 'over tls');
    assert.equal((await zk.getData('/tls')).data.toString(), 'over tls');
  });

  test('a plain client on the TLS port is refused', async () => {
    await assert.rejects(connect(server.connectString, { connectTimeoutMs: 1_000, sessionTimeoutMs: 2_000 }), /CONNECTIONLOSS|closed|socket|Unexpected|parse/i);
  });

  test('a client that does not trust the CA is refused', async () => {
    await assert.rejects(connect(server.connectString, { tls: {}, connectTimeoutMs: 1_000, sessionTimeoutMs: 2_000 }), /certificate|CONNECTIONLOSS/i);
  });

  test('the HTTP pages answer over https', async () => {
    const r = await httpsJson(server.port, '/health', caPem);
    assert.equal(r.status, 200);
    assert.equal((r.body as { status: string }).status, 'ok');
  });

  test('SIGHUP reloads the certificate: the session keeps its connection, new connections get the new certificate', async () => {
    const zk = await connect(server.connectString, { tls: { ca: caPem }, sessionTimeoutMs: 60_000 });
    clients.push(zk);
    const states: string[] = [];
    zk.on('state', (s: string) => states.push(s));
    const sessionId = zk.sessionId;
    await zk.create('/reload', '1');
    assert.equal(await servedFingerprint(server.port, caPem), fingerprint256(live.crt));
    const want = rotate(dir, live, ca, 'server2', server.pid);
    assert.notEqual(want, fingerprint256(`${dir}/server1.crt`));
    await untilServed(server.port, caPem, want);
    await zk.setData('/reload', '2');
    assert.equal((await zk.getData('/reload')).data.toString(), '2');
    assert.deepEqual(states, [], 'the connection was never lost');
    assert.equal(zk.sessionId, sessionId);
    const fresh = await connect(server.connectString, { tls: { ca: caPem }, sessionTimeoutMs: 60_000 });
    clients.push(fresh);
    assert.equal((await fresh.getData('/reload')).data.toString(), '2');
  });

  test('a SIGHUP with a broken key keeps the certificate in use', async () => {
    const served = await servedFingerprint(server.port, caPem);
    const other = makeCert(dir, 'server3', '/CN=localhost', ca, 'server');
    copyFileSync(other.key, live.key); // the key no longer matches live.crt
    process.kill(server.pid, 'SIGHUP');
    await server.waitForLine(/^(?=.*security files not reloaded)(?=.*does not match)/);
    assert.equal(await servedFingerprint(server.port, caPem), served);
    const zk = await connect(server.connectString, { tls: { ca: caPem }, sessionTimeoutMs: 60_000 });
    clients.push(zk);
    assert.ok(await zk.exists('/reload'));
  });

  test('the server stops cleanly after certificate reloads (every listen socket closed)', async () => {
    for (const c of clients.splice(0)) await c.close();
    const zk = await connect(server.connectString, { tls: { ca: caPem }, sessionTimeoutMs: 60_000 });
    clients.push(zk);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });
});

describe('TLS certificate reloads release the old Apps', { skip }, () => {
  let dir = '';
  let server: TestServer;
  const clients: ZookooperClient[] = [];
  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await server?.stop();
    server?.cleanup();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  test('after N reloads, an old App is kept while its connections live and released when the last closes', async () => {
    dir = tempDir('zk-tls-apps-');
    const ca = makeCa(dir, 'ca');
    const first = makeCert(dir, 'server1', '/CN=localhost', ca, 'server');
    const live = { crt: `${dir}/live.crt`, key: `${dir}/live.key` };
    copyFileSync(first.crt, live.crt);
    copyFileSync(first.key, live.key);
    const caPem = readFileSync(ca.crt, 'utf8');
    // One worker: /mntr's _this_worker figures are then the whole server's.
    server = await startServer({ workers: 1, args: ['--tls-cert', live.crt, '--tls-key', live.key, ...longSessionArgs] });
    const retired = async (): Promise<number> => ((await httpsJson(server.port, '/mntr', caPem)).body as { zk_tls_retired_apps_this_worker: number }).zk_tls_retired_apps_this_worker;
    const reloads = 3;
    for (let i = 0; i < reloads; i++) {
      const zk = await connect(server.connectString, { tls: { ca: caPem }, sessionTimeoutMs: 60_000 });
      clients.push(zk);
      await zk.create(`/apps-${i}`, String(i));
      await untilServed(server.port, caPem, rotate(dir, live, ca, `reload${i}`, server.pid));
    }
    assert.equal(await retired(), reloads, 'each reload retired an App that still serves a session');
    for (const [i, zk] of clients.entries()) assert.equal((await zk.getData(`/apps-${i}`)).data.toString(), String(i));
    for (const c of clients.splice(0)) await c.close();
    const deadline = Date.now() + 20_000;
    let left = await retired();
    while (left !== 0) {
      assert.ok(Date.now() < deadline, `${left} retired Apps still kept after their connections closed`);
      await new Promise((r) => setTimeout(r, 50));
      left = await retired();
    }
    // A reload with no connection on the current App releases it at once.
    await untilServed(server.port, caPem, rotate(dir, live, ca, 'reload-idle', server.pid));
    assert.equal(await retired(), 0);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });
});

describe('TLS with client certificates (x509 ids)', { skip }, () => {
  let dir = '';
  let ca: CertFiles;
  let live: CertFiles;
  let alice: CertFiles;
  let bob: CertFiles;
  let rogue: CertFiles;
  let caPem = '';
  let server: TestServer;
  const clients: ZookooperClient[] = [];
  const as = async (who: CertFiles): Promise<ZookooperClient> => {
    const zk = await connect(server.connectString, { tls: { ca: caPem, cert: readFileSync(who.crt), key: readFileSync(who.key) } });
    clients.push(zk);
    return zk;
  };
  before(async () => {
    dir = tempDir('zk-mtls-');
    ca = makeCa(dir, 'ca');
    const otherCa = makeCa(dir, 'other-ca');
    const first = makeCert(dir, 'server1', '/CN=localhost', ca, 'server');
    live = { crt: `${dir}/live.crt`, key: `${dir}/live.key` };
    copyFileSync(first.crt, live.crt);
    copyFileSync(first.key, live.key);
    alice = makeCert(dir, 'alice', '/C=US/O=Acme, Inc./CN=alice', ca, 'client');
    bob = makeCert(dir, 'bob', '/C=US/O=Acme, Inc./CN=bob', ca, 'client');
    rogue = makeCert(dir, 'rogue', '/C=US/O=Acme, Inc./CN=alice', otherCa, 'client'); // alice's subject, the wrong CA
    caPem = readFileSync(ca.crt, 'utf8');
    server = await startServer({ args: ['--tls-cert', live.crt, '--tls-key', live.key, '--tls-ca', ca.crt] });
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await server?.stop();
    server?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a client without a certificate is refused', async () => {
    await assert.rejects(connect(server.connectString, { tls: { ca: caPem }, connectTimeoutMs: 1_000, sessionTimeoutMs: 2_000 }));
  });

  test('a certificate of another CA is refused, even with an allowed subject', async () => {
    await assert.rejects(connect(server.connectString, { tls: { ca: caPem, cert: readFileSync(rogue.crt), key: readFileSync(rogue.key) }, connectTimeoutMs: 1_000, sessionTimeoutMs: 2_000 }));
  });

  test('an x509 ACL lets the matching certificate in and no other', async () => {
    const a = await as(alice);
    const b = await as(bob);
    const aliceId = subjectRfc2253(alice.crt);
    assert.equal(aliceId, 'CN=alice,O=Acme\\, Inc.,C=US');
    await a.create('/alice-only', 'secret', { acl: [{ perms: all, scheme: 'x509', id: aliceId }] });
    assert.equal((await a.getData('/alice-only')).data.toString(), 'secret');
    await assert.rejects(b.getData('/alice-only'), { code: 'NOAUTH' });
    await assert.rejects(b.setData('/alice-only', 'mine now'), { code: 'NOAUTH' });
    await a.setData('/alice-only', 'still secret');
    assert.equal((await a.getData('/alice-only')).data.toString(), 'still secret');
  });

  test('the jute port serves TLS with the same certificates and x509 ids (kazoo)', { skip: hasKazoo ? false : 'python3-kazoo not installed' }, () => {
    const serving = server.lines.find((l) => l.includes('"msg":"serving"'))!;
    const zkPort = (JSON.parse(serving) as { zkPort: number }).zkPort;
    assert.equal(typeof zkPort, 'number');
    assert.equal(kazooRead(zkPort, ca.crt, alice, '/alice-only'), 'data=still secret');
    assert.equal(kazooRead(zkPort, ca.crt, bob, '/alice-only'), 'error=NoAuthError');
  });

  test("an 'auth' ACL expands to the certificate's x509 id", async () => {
    const b = await as(bob);
    await b.create('/bobs', '', { acl: [{ perms: all, scheme: 'auth', id: '' }] });
    const { acl } = await b.getACL('/bobs');
    assert.deepEqual(acl, [{ perms: all, scheme: 'x509', id: subjectRfc2253(bob.crt) }]);
  });

  test('SIGHUP reloads the TLS front: sessions stay, new connections get the new certificate', async () => {
    const a = await as(alice);
    const states: string[] = [];
    a.on('state', (s: string) => states.push(s));
    await a.create('/front-reload', '1');
    const want = rotate(dir, live, ca, 'server2', server.pid);
    await untilServed(server.port, caPem, want, alice);
    await a.setData('/front-reload', '2');
    assert.equal((await a.getData('/front-reload')).data.toString(), '2');
    assert.deepEqual(states, [], 'the connection was never lost');
    const again = await as(alice);
    assert.equal((await again.getData('/alice-only')).data.toString(), 'still secret');
  });

  test('the server stops cleanly after a front reload', async () => {
    for (const c of clients.splice(0)) await c.close();
    await as(alice);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });
});

describe("TLS with client certificates optional (--tls-client-auth want)", { skip }, () => {
  let dir = '';
  let caPem = '';
  let alice: CertFiles;
  let rogue: CertFiles;
  let server: TestServer;
  const clients: ZookooperClient[] = [];
  before(async () => {
    dir = tempDir('zk-want-');
    const ca = makeCa(dir, 'ca');
    const srv = makeCert(dir, 'server', '/CN=localhost', ca, 'server');
    alice = makeCert(dir, 'alice', '/CN=alice', ca, 'client');
    rogue = makeCert(dir, 'rogue', '/CN=alice', makeCa(dir, 'other-ca'), 'client');
    caPem = readFileSync(ca.crt, 'utf8');
    server = await startServer({ args: ['--tls-cert', srv.crt, '--tls-key', srv.key, '--tls-ca', ca.crt, '--tls-client-auth', 'want'] });
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await server?.stop();
    server?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a client without a certificate connects with no x509 id; one with a certificate gets it; a bad one is refused', async () => {
    const anon = await connect(server.connectString, { tls: { ca: caPem }, sessionTimeoutMs: 60_000 });
    clients.push(anon);
    await assert.rejects(anon.create('/anon', '', { acl: [{ perms: all, scheme: 'auth', id: '' }] }), { code: 'INVALIDACL' }, 'no authenticated id to expand');
    const a = await connect(server.connectString, { tls: { ca: caPem, cert: readFileSync(alice.crt), key: readFileSync(alice.key) } });
    clients.push(a);
    await a.create('/alice', '', { acl: [{ perms: all, scheme: 'auth', id: '' }] });
    assert.deepEqual((await a.getACL('/alice')).acl, [{ perms: all, scheme: 'x509', id: 'CN=alice' }]);
    await assert.rejects(anon.getData('/alice'), { code: 'NOAUTH' });
    await assert.rejects(connect(server.connectString, { tls: { ca: caPem, cert: readFileSync(rogue.crt), key: readFileSync(rogue.key) }, connectTimeoutMs: 1_000, sessionTimeoutMs: 2_000 }));
  });
});
