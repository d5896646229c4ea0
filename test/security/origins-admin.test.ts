// The origin check on the WebSocket upgrade, CORS on the HTTP pages, admin users for the admin
// pages and for browser sessions' writes, against real server processes. A browser is played
// by a WebSocket that sends what a browser sends (an Origin header).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect } from '../../src/index.js';
import { OPEN_ACL_UNSAFE } from '../../src/common/types.js';
import { encodeRequest, Opcode, type ServerMessage } from '../../src/protocol/index.js';
import { RawConnection } from '../helpers/raw.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';

const digest = (userPassword: string): string => `${userPassword.split(':')[0]}:${createHash('sha1').update(userPassword).digest('base64')}`;

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

const basic = (userPassword: string): string => `Basic ${Buffer.from(userPassword).toString('base64')}`;

let xid = 0;
async function call(raw: RawConnection, req: Parameters<typeof encodeRequest>[0]): Promise<ServerMessage> {
  raw.sendBytes(encodeRequest(req));
  return raw.next();
}
const create = (raw: RawConnection, path: string): Promise<ServerMessage> =>
  call(raw, { opcode: Opcode.create, xid: ++xid, path, data: new Uint8Array(), acl: OPEN_ACL_UNSAFE, mode: 'persistent', ttlMs: 0 });
const addAuth = (raw: RawConnection, credential: string): Promise<ServerMessage> =>
  call(raw, { opcode: Opcode.addAuth, xid: ++xid, scheme: 'digest', credential: Buffer.from(credential) });
const errorOf = (m: ServerMessage): string | null => {
  assert.equal(m.kind, 'response');
  return (m as { error: string | null }).error;
};

describe('origins and admin users', () => {
  let server: TestServer;
  let dir = '';
  const raws: RawConnection[] = [];
  const browser = async (origin: string, headers: Record<string, string> = {}): Promise<RawConnection> => {
    const { raw } = await RawConnection.session(server.port, 0n, new Uint8Array(16), 10_000, { origin, headers });
    raws.push(raw);
    return raw;
  };
  before(async () => {
    dir = tempDir('zk-admin-');
    const users = join(dir, 'admins');
    writeFileSync(users, `# admins of this server\n${digest('admin:s3cret')}\n\n${digest('ops:0ther')}\n`);
    server = await startServer({ args: ['--admin-users', users, '--allowed-origins', 'http://console.example,https://ops.example:8443'] });
  });
  after(async () => {
    for (const r of raws) r.ws.terminate();
    await server?.stop();
    server?.cleanup();
  });

  test('an upgrade from a page of another site is refused with 403', async () => {
    await assert.rejects(RawConnection.open(server.port, { origin: 'http://evil.example' }), /403/);
    await assert.rejects(RawConnection.open(server.port, { origin: 'null' }), /403/);
  });

  test('a rebound name is not the server\'s own origin even when Origin and Host agree', async () => {
    const hostPort = `evil.example:${server.port}`;
    await assert.rejects(RawConnection.open(server.port, { origin: `http://${hostPort}`, headers: { host: hostPort } }), /403/);
  });

  test('the server\'s own origin and the configured ones are accepted', async () => {
    for (const origin of [`http://127.0.0.1:${server.port}`, 'http://console.example', 'https://ops.example:8443']) {
      const raw = await RawConnection.open(server.port, { origin });
      raws.push(raw);
      assert.equal(raw.closed, false, origin);
    }
    const localhost = await RawConnection.open(server.port, { origin: `http://localhost:${server.port}`, headers: { host: `localhost:${server.port}` } });
    raws.push(localhost);
    // The same host on another scheme or port is another origin.
    await assert.rejects(RawConnection.open(server.port, { origin: `https://127.0.0.1:${server.port}` }), /403/);
    await assert.rejects(RawConnection.open(server.port, { origin: `http://127.0.0.1:${server.port + 1}` }), /403/);
  });

  test('a Node client (no Origin) is not affected by either gate', async () => {
    const zk = await connect(server.connectString);
    try {
      await zk.create('/from-node', 'x');
      assert.equal((await zk.getData('/from-node')).data.toString(), 'x');
    } finally {
      await zk.close();
    }
  });

  test('the admin pages need an admin user; /health does not', async () => {
    assert.equal((await get(server.port, '/health')).status, 200);
    for (const page of ['/mntr', '/stat', '/cons', '/watches', '/sessions', '/metrics']) {
      const anon = await get(server.port, page);
      assert.equal(anon.status, 401, page);
      assert.match(String(anon.headers['www-authenticate']), /^Basic /);
      assert.equal((await get(server.port, page, { authorization: basic('admin:wrong') })).status, 401, page);
      assert.equal((await get(server.port, page, { authorization: basic('nobody:s3cret') })).status, 401, page);
      assert.equal((await get(server.port, page, { authorization: basic('ops:0ther') })).status, 200, page);
    }
    const mntr = await get(server.port, '/mntr', { authorization: basic('admin:s3cret') });
    assert.equal((JSON.parse(mntr.body) as { zk_server_state: string }).zk_server_state, 'standalone');
  });

  test('CORS headers go to allowed origins only', async () => {
    const ok = await get(server.port, '/health', { origin: 'http://console.example' });
    assert.equal(ok.headers['access-control-allow-origin'], 'http://console.example');
    const evil = await get(server.port, '/health', { origin: 'http://evil.example' });
    assert.equal(evil.headers['access-control-allow-origin'], undefined);
    const denied = await get(server.port, '/mntr', { origin: 'http://console.example' });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers['access-control-allow-origin'], 'http://console.example', 'the page can read why');
  });

  test('a browser session is read-only until it authenticates as an admin user', async () => {
    const raw = await browser('http://console.example');
    assert.equal(errorOf(await create(raw, '/console-anon')), 'NOAUTH');
    assert.equal(errorOf(await addAuth(raw, 'someone:else')), null, 'addAuth itself succeeds');
    assert.equal(errorOf(await create(raw, '/console-anon')), 'NOAUTH', 'a digest user not in the file is no admin');
    assert.equal(errorOf(await addAuth(raw, 'admin:s3cret')), null);
    assert.equal(errorOf(await create(raw, '/console-admin')), null);
    // Reads were never gated.
    assert.equal(errorOf(await call(raw, { opcode: Opcode.getData, xid: ++xid, path: '/console-anon', watch: false })), 'NONODE');
    assert.equal(errorOf(await call(raw, { opcode: Opcode.getData, xid: ++xid, path: '/console-admin', watch: false })), null);
  });
});

describe('without --admin-users nothing changes', () => {
  let server: TestServer;
  const raws: RawConnection[] = [];
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    for (const r of raws) r.ws.terminate();
    await server?.stop();
    server?.cleanup();
  });

  test('admin pages are open and a browser session of the own origin may write', async () => {
    assert.equal((await get(server.port, '/mntr')).status, 200);
    const { raw } = await RawConnection.session(server.port, 0n, new Uint8Array(16), 10_000, { origin: `http://127.0.0.1:${server.port}` });
    raws.push(raw);
    assert.equal(errorOf(await create(raw, '/browser-write')), null);
  });

  test('the origin check is on by default', async () => {
    await assert.rejects(RawConnection.open(server.port, { origin: 'http://evil.example' }), /403/);
  });
});
