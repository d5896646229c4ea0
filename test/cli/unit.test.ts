// The CLI's pure parts: ACL text, word splitting, stat and error formatting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AclTextError, formatAcl, formatPerms, parseAclText, parsePerms } from '../../src/cli/acl-text.js';
import { formatError, formatStat, splitWords } from '../../src/cli/format.js';
import { ZookooperError } from '../../src/common/errors.js';

test('ACL text parses as zkCli writes it', () => {
  assert.deepEqual(parseAclText('world:anyone:cdrwa,digest:u:hash=:r'), [
    { scheme: 'world', id: 'anyone', perms: 31 },
    { scheme: 'digest', id: 'u:hash=', perms: 1 },
  ]);
  assert.deepEqual(parseAclText('ip:10.0.0.0/8:rw'), [{ scheme: 'ip', id: '10.0.0.0/8', perms: 3 }]);
  assert.deepEqual(parseAclText('auth::cdrwa'), [{ scheme: 'auth', id: '', perms: 31 }]);
  assert.equal(parsePerms('RWa'), 1 | 2 | 16);
  assert.equal(formatPerms(31), 'cdrwa');
  assert.equal(formatPerms(0), '');
  for (const bad of ['', 'world', 'world:anyone', ':x:r', 'world:anyone:x']) assert.throws(() => parseAclText(bad), AclTextError, bad);
  assert.equal(formatAcl([{ scheme: 'world', id: 'anyone', perms: 31 }]), "'world,'anyone\n: cdrwa");
});

test('words: quotes and escapes', () => {
  assert.deepEqual(splitWords('create /a "hello world"'), ['create', '/a', 'hello world']);
  assert.deepEqual(splitWords("set /a 'x y' -v 3"), ['set', '/a', 'x y', '-v', '3']);
  assert.deepEqual(splitWords('set /a ""'), ['set', '/a', '']);
  assert.deepEqual(splitWords('  ls   /  '), ['ls', '/']);
  assert.deepEqual(splitWords('a\\ b'), ['a b']);
  assert.throws(() => splitWords('"open'));
});

test('stat and error formatting', () => {
  const text = formatStat({ czxid: 0x100000002n, mzxid: 3n, pzxid: 4n, ctime: 0, mtime: 1000, version: 1, cversion: 2, aversion: 3, ephemeralOwner: 0n, dataLength: 5, numChildren: 6 });
  assert.match(text, /^cZxid = 0x100000002$/m);
  assert.match(text, /^dataVersion = 1$/m);
  assert.match(text, /^ephemeralOwner = 0x0$/m);
  assert.equal(text.split('\n').length, 11);
  assert.equal(formatError(new ZookooperError('NONODE', undefined, '/x')), 'Error: NONODE: /x');
  assert.equal(formatError(new ZookooperError('BADARGUMENTS', 'data is too big', '/x')), 'Error: BADARGUMENTS: data is too big');
});
