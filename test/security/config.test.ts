// Security settings: zoo.cfg's secureClientPort / ssl.* keys and the flags, the gates' pure
// rules, the RFC 2253 subject (checked against openssl's own), and bad files as clear start-up
// errors of a real `zookooper server` process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError, parseServerArgs } from '../../src/common/config.js';
import { adminAuthorized, originAllowed, type OriginPolicy } from '../../src/server/workers/security.js';
import { subjectDn } from '../../src/server/workers/x509-name.js';
import { hasOpenssl, makeCa, makeCert, subjectRfc2253, type CertFiles } from '../helpers/certs.js';
import { binPath, tempDir } from '../helpers/server.js';

const skip = hasOpenssl ? false : 'openssl not installed';

describe('security settings from zoo.cfg and flags', () => {
  const dir = tempDir('zk-seccfg-');
  const cfg = (text: string): string => {
    const p = join(dir, `zoo-${Math.random().toString(36).slice(2)}.cfg`);
    writeFileSync(p, `dataDir=${dir}/data\n${text}`);
    return p;
  };

  test('secureClientPort with a PEM key store and trust store is TLS with client certificates on that port', () => {
    const c = parseServerArgs(['--config', cfg('secureClientPort=2281\nssl.keyStore.location=server.pem\nssl.keyStore.type=PEM\nssl.trustStore.location=ca.pem\n')]);
    assert.equal(c.port, 2281);
    assert.deepEqual(c.tls, { certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.pem'), caFile: join(dir, 'ca.pem'), passphrase: null, passphraseFile: null, clientAuth: 'need' });
    assert.equal(c.zkPort, 2281 + 1000, 'the jute port (TLS as well) at its usual offset');
    assert.deepEqual(c.unknownKeys, []);
  });

  test('ssl.clientAuth=none serves TLS without asking for certificates; --port wins over secureClientPort', () => {
    const c = parseServerArgs(['--config', cfg('secureClientPort=2281\nssl.keyStore.location=s.pem\nssl.trustStore.location=ca.pem\nssl.clientAuth=none\n'), '--port', '0']);
    assert.equal(c.port, 0);
    assert.equal(c.tls?.clientAuth, 'none');
  });

  test('refused: clientPort and secureClientPort both, a JKS store, a key without a certificate, secureClientPort without one', () => {
    assert.throws(() => parseServerArgs(['--config', cfg('clientPort=2181\nsecureClientPort=2281\nssl.keyStore.location=s.pem\n')]), /serves one client port/);
    assert.throws(() => parseServerArgs(['--config', cfg('ssl.keyStore.location=s.jks\nssl.keyStore.type=JKS\n')]), /only PEM is supported/);
    assert.throws(() => parseServerArgs(['--tls-key', 'k.pem']), /--tls-key needs --tls-cert/);
    assert.throws(() => parseServerArgs(['--config', cfg('secureClientPort=2281\n')]), /secureClientPort needs a certificate/);
    assert.throws(() => parseServerArgs(['--tls-cert', 'c', '--tls-key', 'k', '--tls-client-auth', 'want']), /need a CA/);
    assert.throws(() => parseServerArgs(['--allowed-origins', 'http://a.example/path']), ConfigError);
  });

  test('--allowed-origins are normalised origins', () => {
    const c = parseServerArgs(['--allowed-origins', 'HTTP://Console.Example:80, https://b.example:8443']);
    assert.deepEqual(c.allowedOrigins, ['http://console.example', 'https://b.example:8443']);
  });
});

describe('the gates', () => {
  const policy: OriginPolicy = { scheme: 'http', ownHosts: new Set(['localhost', 'zk1.internal']), allowed: new Set(['https://console.example']) };

  test('origins: none (not a browser), listed, or the own origin under an own name or an IP literal', () => {
    assert.equal(originAllowed('', '127.0.0.1:2181', policy), true);
    assert.equal(originAllowed('https://console.example', 'zk1.internal:2181', policy), true);
    assert.equal(originAllowed('http://zk1.internal:2181', 'zk1.internal:2181', policy), true);
    assert.equal(originAllowed('http://[::1]:2181', '[::1]:2181', policy), true);
    assert.equal(originAllowed('http://10.1.2.3:2181', '10.1.2.3:2181', policy), true);
    assert.equal(originAllowed('http://10.1.2.4:2181', '10.1.2.3:2181', policy), false, 'another machine');
    assert.equal(originAllowed('http://rebound.example:2181', 'rebound.example:2181', policy), false, 'DNS rebinding');
    assert.equal(originAllowed('https://zk1.internal:2181', 'zk1.internal:2181', policy), false, 'another scheme');
    assert.equal(originAllowed('null', 'zk1.internal:2181', policy), false);
    assert.equal(originAllowed('http://evil.example', 'zk1.internal:2181', { ...policy, allowed: new Set(['*']) }), true);
  });

  test('admin Basic auth compares digests of the file', () => {
    // base64(sha1('admin:secret')) by `printf %s admin:secret | openssl sha1 -binary | base64`,
    // the digest ZooKeeper's DigestAuthenticationProvider computes.
    const ids = new Set(['admin:fvr2cB/fjGeAiX8g1aGhUm3ZICk=']);
    assert.equal(adminAuthorized(`Basic ${Buffer.from('admin:secret').toString('base64')}`, ids), true);
    assert.equal(adminAuthorized(`Basic ${Buffer.from('admin:Secret').toString('base64')}`, ids), false);
    assert.equal(adminAuthorized('', ids), false);
    assert.equal(adminAuthorized('Bearer x', ids), false);
    assert.equal(adminAuthorized('', null), true, 'no --admin-users: no gate');
  });
});

describe('x509 subject as RFC 2253', { skip }, () => {
  test('matches openssl -nameopt RFC2253 for escaped and repeated attributes', () => {
    const dir = tempDir('zk-dn-');
    const ca = makeCa(dir, 'ca');
    for (const [i, subject] of ['/C=US/O=Acme, Inc./CN=alice', '/DC=org/DC=example/CN=x;y<z>"q"=+', '/CN=#hash/OU=a\\/b/L=Paris '].entries()) {
      const cert = makeCert(dir, `c${i}`, subject, ca, 'client');
      assert.equal(subjectDn(new X509Certificate(readFileSync(cert.crt))), subjectRfc2253(cert.crt), subject);
    }
  });

  test('a multi-valued RDN keeps its DER order, as Java prints it (openssl reverses it)', () => {
    const dir = tempDir('zk-dn-');
    const cert = makeCert(dir, 'multi', '/DC=org/O=A+OU=B/CN=x', makeCa(dir, 'ca'), 'client');
    assert.equal(subjectRfc2253(cert.crt), 'CN=x,OU=B+O=A,DC=org');
    assert.equal(subjectDn(new X509Certificate(readFileSync(cert.crt))), 'CN=x,O=A+OU=B,DC=org');
  });
});

describe('bad security files are clear start-up errors', { skip }, () => {
  let dir = '';
  let ca: CertFiles;
  let a: CertFiles;
  let b: CertFiles;
  before(() => {
    dir = tempDir('zk-badtls-');
    ca = makeCa(dir, 'ca');
    a = makeCert(dir, 'a', '/CN=localhost', ca, 'server');
    b = makeCert(dir, 'b', '/CN=localhost', ca, 'server');
  });
  const run = (args: string[]): { status: number | null; out: string } => {
    const r = spawnSync(process.execPath, [binPath, 'server', '--port', '0', '--data-dir', join(dir, 'data'), '--workers', '1', ...args], { encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, out: r.stdout + r.stderr };
  };

  test('a missing certificate file names the file', () => {
    const r = run(['--tls-cert', join(dir, 'missing.crt'), '--tls-key', a.key]);
    assert.notEqual(r.status, 0);
    assert.match(r.out, /cannot start: cannot read the TLS certificate file .*missing\.crt/);
  });

  test('a key that is not the certificate\'s says so', () => {
    const r = run(['--tls-cert', a.crt, '--tls-key', b.key]);
    assert.notEqual(r.status, 0);
    assert.match(r.out, /the TLS key in .*b\.key does not match the certificate in .*a\.crt/);
  });

  test('a CA file that holds no certificate says so', () => {
    const r = run(['--tls-cert', a.crt, '--tls-key', a.key, '--tls-ca', a.key]);
    assert.notEqual(r.status, 0);
    assert.match(r.out, /the TLS CA file .*a\.key holds no PEM certificate/);
  });

  test('an admin users file with a plain password says how to write the digest', () => {
    const users = join(dir, 'users');
    writeFileSync(users, 'admin:secret\n');
    const r = run(['--admin-users', users]);
    assert.notEqual(r.status, 0);
    assert.match(r.out, /users line 1: expected user:digest with digest = base64\(sha1\(user:password\)\)/);
  });
});
