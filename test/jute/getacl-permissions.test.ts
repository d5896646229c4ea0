// getACL's permission rules on both listeners, as ZooKeeper 3.8's FinalRequestProcessor (checked
// against a real ZooKeeper 3.8.0 with node-zookeeper-client): a caller needs READ or ADMIN on the
// node, else NOAUTH; a caller without ADMIN sees digest ids masked as 'user:x' (world and ip ids
// as they are); a caller with ADMIN (or super) sees them whole.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { connect, ZookooperError, type ACL } from '../../src/index.js';
import { startJuteServer, type JuteServer } from './helpers.js';
import { codeOf, nzk, nzkConnect, type Nzk } from './nzk.js';

type Client = Awaited<ReturnType<typeof connect>>;

const digest = (cred: string): string => cred.split(':')[0] + ':' + createHash('sha1').update(cred).digest('base64');
const alice = digest('alice:secret');
const carol = digest('carol:pw');

// The nodes, created by alice. READ 1, WRITE 2, CREATE 4, DELETE 8, ADMIN 16.
const nodes: Record<string, ACL[]> = {
  '/ga/admin-only': [{ perms: 16, scheme: 'digest', id: alice }],
  '/ga/read-only': [{ perms: 1, scheme: 'digest', id: alice }],
  '/ga/write-only': [{ perms: 2 | 4 | 8, scheme: 'digest', id: alice }],
  '/ga/mixed': [
    { perms: 31, scheme: 'digest', id: alice },
    { perms: 1, scheme: 'world', id: 'anyone' },
    { perms: 1, scheme: 'ip', id: '127.0.0.1' },
    { perms: 1, scheme: 'digest', id: carol },
  ],
  '/ga/world-admin': [
    { perms: 16, scheme: 'world', id: 'anyone' },
    { perms: 1, scheme: 'digest', id: alice },
  ],
};
const maskedMixed: ACL[] = [
  { perms: 31, scheme: 'digest', id: 'alice:x' },
  { perms: 1, scheme: 'world', id: 'anyone' },
  { perms: 1, scheme: 'ip', id: '127.0.0.1' },
  { perms: 1, scheme: 'digest', id: 'carol:x' },
];

async function codeOfNative(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ZookooperError, String(err));
    return err.code;
  }
  assert.fail('expected a failure, the call succeeded');
}

describe('getACL needs READ or ADMIN and masks digest ids without ADMIN', () => {
  let s: JuteServer;
  let owner: Client; // alice, native
  let anon: Client; // no identity, native
  let bob: Client; // another digest identity, native
  let jAnon: Nzk; // no identity, jute
  let jOwner: Nzk; // alice, jute
  before(async () => {
    s = await startJuteServer({ workers: 2 });
    owner = await connect(s.connectString, { sessionTimeoutMs: 10_000 });
    await owner.addAuth('digest', 'alice:secret');
    anon = await connect(s.connectString, { sessionTimeoutMs: 10_000 });
    bob = await connect(s.connectString, { sessionTimeoutMs: 10_000 });
    await bob.addAuth('digest', 'bob:pw');
    jAnon = await nzkConnect(s.zkConnect);
    jOwner = await nzkConnect(s.zkConnect);
    jOwner.raw.addAuthInfo('digest', Buffer.from('alice:secret'));
    await owner.create('/ga');
    for (const [path, acl] of Object.entries(nodes)) await owner.create(path, 'x', { acl });
  });
  after(async () => {
    for (const c of [owner, anon, bob]) await c?.close();
    for (const c of [jAnon, jOwner]) await c?.close();
    await s?.stop();
    s?.cleanup();
  });

  test('native: getACL without READ or ADMIN on the node is NOAUTH', async () => {
    for (const path of ['/ga/admin-only', '/ga/read-only', '/ga/write-only']) {
      assert.equal(await codeOfNative(anon.getACL(path)), 'NOAUTH', path);
      assert.equal(await codeOfNative(bob.getACL(path)), 'NOAUTH', path);
    }
    assert.equal(await codeOfNative(owner.getACL('/ga/write-only')), 'NOAUTH', 'WRITE/CREATE/DELETE do not let the owner read the ACL');
    assert.equal(await codeOfNative(anon.getACL('/ga/missing')), 'NONODE');
  });

  test('native: getACL without ADMIN masks digest ids as user:x, with ADMIN shows them', async () => {
    assert.deepEqual((await owner.getACL('/ga/read-only')).acl, [{ perms: 1, scheme: 'digest', id: 'alice:x' }], 'READ without ADMIN: masked');
    assert.deepEqual((await owner.getACL('/ga/admin-only')).acl, nodes['/ga/admin-only']);
    assert.deepEqual((await owner.getACL('/ga/mixed')).acl, nodes['/ga/mixed']);
    assert.deepEqual((await anon.getACL('/ga/mixed')).acl, maskedMixed);
    assert.deepEqual((await bob.getACL('/ga/mixed')).acl, maskedMixed);
    // world:anyone holds ADMIN: everyone sees the whole ACL, as ZooKeeper shows it.
    assert.deepEqual((await anon.getACL('/ga/world-admin')).acl, nodes['/ga/world-admin']);
    const { stat } = await anon.getACL('/ga/mixed');
    assert.equal(stat.aversion, 0, 'the stat comes with the masked ACL');
  });

  test('jute: getACL without READ or ADMIN on the node is NOAUTH', async () => {
    for (const path of ['/ga/admin-only', '/ga/read-only', '/ga/write-only']) {
      assert.equal(await codeOf(jAnon.getACL(path)), nzk.Exception.NO_AUTH, path);
    }
    assert.equal(await codeOf(jOwner.getACL('/ga/write-only')), nzk.Exception.NO_AUTH);
  });

  test('jute: getACL without ADMIN masks digest ids as user:x, with ADMIN shows them', async () => {
    const shown = (acls: { permission: number; id: { scheme: string; id: string } }[]): ACL[] =>
      acls.map((a) => ({ perms: a.permission, scheme: a.id.scheme, id: a.id.id }));
    assert.deepEqual(shown((await jAnon.getACL('/ga/mixed')).acls), maskedMixed);
    assert.deepEqual(shown((await jOwner.getACL('/ga/read-only')).acls), [{ perms: 1, scheme: 'digest', id: 'alice:x' }]);
    assert.deepEqual(shown((await jOwner.getACL('/ga/mixed')).acls), nodes['/ga/mixed']);
    assert.deepEqual(shown((await jAnon.getACL('/ga/world-admin')).acls), nodes['/ga/world-admin']);
  });
});
