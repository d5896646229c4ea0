// ACL helpers and the txn codec, with values checked against ZooKeeper 3.8.0 (ZK-FACTS.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkAcl, decodeTxn, digestAuthId, encodeTxn, ipAclValid, ipMatches, sequenceSuffix, validateAcl } from '../../src/server/pipeline/index.js';
import type { Txn } from '../../src/server/pipeline/index.js';

test('digest ids are user:base64(sha1(user:password))', () => {
  assert.equal(digestAuthId('u:p'), 'u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=');
});

test('ip ACLs: CIDR prefixes, /0 matches all, /33 invalid, IPv6 and v4-mapped clients', () => {
  assert.ok(ipMatches('127.0.0.1', '127.0.0.0/8'));
  assert.ok(!ipMatches('127.0.0.1', '10.0.0.0/8'));
  assert.ok(ipMatches('1.2.3.4', '9.9.9.9/0'));
  assert.ok(ipMatches('10.1.2.3', '10.1.2.3'));
  assert.ok(!ipMatches('10.1.2.4', '10.1.2.3'));
  assert.ok(ipMatches('10.1.2.200', '10.1.2.128/25'));
  assert.ok(!ipMatches('10.1.2.100', '10.1.2.128/25'));
  assert.ok(!ipAclValid('127.0.0.1/33'));
  assert.ok(!ipAclValid('notanip'));
  assert.ok(!ipAclValid('1.2.3.256'));
  assert.ok(ipMatches('::ffff:127.0.0.1', '127.0.0.0/8'));
  assert.ok(ipMatches('fe80::1', 'fe80::/16'));
  assert.ok(!ipMatches('fe81::1', 'fe80::/16'));
  assert.ok(!ipMatches('127.0.0.1', '::1'));
});

test('validateAcl follows fixupACL', () => {
  const open = { perms: 31, scheme: 'world', id: 'anyone' };
  const digest = { scheme: 'digest', id: 'u:x' };
  assert.equal(validateAcl([], []), null);
  assert.deepEqual(validateAcl([open, open], []), [open], 'duplicates removed');
  assert.equal(validateAcl([{ perms: 31, scheme: 'world', id: 'foo' }], []), null);
  assert.equal(validateAcl([{ perms: 31, scheme: 'bogus', id: 'x' }], []), null);
  assert.deepEqual(validateAcl([{ perms: 0, scheme: 'world', id: 'anyone' }], []), [{ perms: 0, scheme: 'world', id: 'anyone' }]);
  assert.deepEqual(validateAcl([{ perms: 255, scheme: 'world', id: 'anyone' }], []), [{ perms: 255, scheme: 'world', id: 'anyone' }]);
  assert.equal(validateAcl([{ perms: 1.5, scheme: 'world', id: 'anyone' }], []), null);
  for (const bad of ['nocolon', 'a:b:c', 'u:']) assert.equal(validateAcl([{ perms: 31, scheme: 'digest', id: bad }], []), null, bad);
  assert.equal(validateAcl([{ perms: 31, scheme: 'auth', id: '' }], [{ scheme: 'ip', id: '127.0.0.1' }]), null, 'ip ids are not authenticated');
  assert.deepEqual(validateAcl([{ perms: 5, scheme: 'auth', id: '' }], [{ scheme: 'ip', id: '127.0.0.1' }, digest, { scheme: 'super', id: '' }]), [{ perms: 5, ...digest }]);
});

test('checkAcl: perms bits, world, super, scheme match', () => {
  const acl = [{ perms: 1, scheme: 'world', id: 'anyone' }, { perms: 31, scheme: 'digest', id: 'u:x' }];
  assert.ok(checkAcl(acl, 1, []));
  assert.ok(!checkAcl(acl, 2, []));
  assert.ok(checkAcl(acl, 2, [{ scheme: 'digest', id: 'u:x' }]));
  assert.ok(!checkAcl(acl, 2, [{ scheme: 'ip', id: 'u:x' }]));
  assert.ok(checkAcl(acl, 16, [{ scheme: 'super', id: '' }]));
});

test('sequential suffix is %010d', () => {
  assert.equal(sequenceSuffix(0), '0000000000');
  assert.equal(sequenceSuffix(2147483647), '2147483647');
  assert.equal(sequenceSuffix(-5), '-000000005');
});

test('txn codec round-trips every kind, 64-bit owners included', () => {
  const txns: Txn[] = [
    {
      type: 'ops',
      sessionId: 0xffee_0000_0000_0001n,
      timeMs: 1_700_000_000_123,
      multi: true,
      ops: [
        { type: 'create', path: '/a', data: new Uint8Array([1, 2]), acl: [{ perms: 31, scheme: 'world', id: 'anyone' }], owner: 0x8000_0000_0000_0000n, parentCversion: -1, parentSequence: 7 },
        { type: 'create', path: '/t', data: new Uint8Array(0), acl: [], owner: 0xff00_0000_0000_1388n, parentCversion: 0, parentSequence: 8 },
        { type: 'delete', path: '/a', parentCversion: 1 },
        { type: 'setData', path: '/t', data: new Uint8Array([9]), version: 2147483647 },
        { type: 'setACL', path: '/t', acl: [{ perms: 1, scheme: 'ip', id: '10.0.0.0/8' }], aversion: 3 },
      ],
    },
    { type: 'createSession', sessionId: 5n, timeMs: 0, timeoutMs: 30_000, password: new Uint8Array(16).fill(7) },
    { type: 'closeSession', sessionId: 5n, timeMs: 1, ops: [] },
  ];
  for (const t of txns) {
    const back = decodeTxn(encodeTxn(t));
    assert.deepEqual(back, t);
  }
  assert.throws(() => decodeTxn(encodeTxn(txns[1]!).slice(0, 3)));
});
