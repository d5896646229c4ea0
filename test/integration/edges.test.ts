// Bad input, overload, HTTP pages, start-up checks: each against real server processes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pack } from 'msgpackr';
import { connect, ZookooperError } from '../../src/index.js';
import { encodeRequest, Opcode } from '../../src/protocol/index.js';
import { RawConnection } from '../helpers/raw.js';
import { binPath, startServer, tempDir, type TestServer } from '../helpers/server.js';
import { constants } from '../../src/common/constants.js';

/** The memory test's flood: request paths of this size, this many bytes in all (or until closed). */
const floodPathBytes = 4_000;
const floodBytes = 512 * 1_048_576;
const clientBufferedBytesMax = 4 * 1_048_576;

/** A process's resident set now and its high-water mark, from /proc (Linux). */
function memoryOf(pid: number): { rssBytes: number; hwmBytes: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(status);
    assert.ok(m, `no ${key} in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { rssBytes: kib('VmRSS'), hwmBytes: kib('VmHWM') };
}

describe('malformed frames, overload, HTTP', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ workers: 2 });
  });
  after(async () => {
    await server?.stop();
    server?.cleanup();
  });

  test('each malformed frame closes only its own connection with a reason', async () => {
    const bystander = await connect(server.connectString);
    await bystander.create('/bystander', 'ok');
    const cases: [string, Uint8Array | string][] = [
      ['garbage bytes', new Uint8Array([0xc1, 0xff, 0x00])],
      ['text frame', 'hello'],
      ['not an array', pack({ a: 1 })],
      ['request before handshake', encodeRequest({ opcode: Opcode.exists, xid: 1, path: '/', watch: false })],
      ['empty frame', new Uint8Array(0)],
    ];
    for (const [name, frame] of cases) {
      const raw = await RawConnection.open(server.port);
      raw.sendBytes(frame);
      const m = await raw.next();
      assert.equal(m.kind, 'closing', name);
      if (m.kind === 'closing') {
        assert.equal(m.code, 'MARSHALLINGERROR', name);
        assert.ok(m.reason.length > 0, `${name}: a reason is given`);
      }
      await raw.waitClosed();
    }
    const cases2: [string, unknown[]][] = [
      ['unknown opcode', [77, 1, '/x']],
      ['bad path', [4, 2, 'no-slash', false]],
      ['wrong field type', [4, 3, '/', 'yes']],
      ['oversized data', [5, 4, '/bystander', new Uint8Array(1_048_577), -1]],
    ];
    for (const [name, msg] of cases2) {
      const { raw } = await RawConnection.session(server.port);
      raw.sendBytes(pack(msg));
      const m = await raw.next();
      assert.equal(m.kind, 'closing', name);
      await raw.waitClosed();
    }
    // Nothing changed, and everyone else is still served.
    const { data, stat } = await bystander.getData('/bystander');
    assert.equal(data.toString(), 'ok');
    assert.equal(stat.version, 0);
    await bystander.close();
  });

  test('too many outstanding requests on one session: THROTTLEDOP, and the server keeps serving', async () => {
    const { raw } = await RawConnection.session(server.port);
    const n = 1_900; // over the 1,000 outstanding per session, under the 2,000 queued per connection
    // One TCP write for all of them (~60 KiB): the worker reads them in one go, before any write
    // can commit, so the session is over its bound however fast or loaded the machine is.
    const socket = (raw.ws as unknown as { _socket: Socket })._socket;
    socket.cork();
    for (let xid = 1; xid <= n; xid++) raw.sendBytes(encodeRequest({ opcode: Opcode.setData, xid, path: '/', data: new Uint8Array(8), version: -1 }));
    socket.uncork();
    let throttled = 0;
    let ok = 0;
    let lastXid = 0;
    for (let i = 0; i < n; i++) {
      const m = await raw.next(30_000);
      assert.equal(m.kind, 'response');
      if (m.kind !== 'response') break;
      assert.ok(m.xid > lastXid, 'answers in request order');
      lastXid = m.xid;
      if (m.error === 'THROTTLEDOP') throttled++;
      else if (m.error === null) ok++;
    }
    assert.ok(throttled > 0, 'some requests were throttled');
    assert.ok(ok >= 1_000, 'the first thousand were served');
    raw.close();
    const zk = await connect(server.connectString);
    assert.ok(await zk.exists('/'));
    await zk.close();
  });

  test('a connection that keeps flooding: THROTTLEDOP, and the server RSS stays bounded', async () => {
    // The flood: ~4 KiB requests (exists on a long path, one small setData in every 64 so reads
    // queue behind writes waiting for their fsync), as fast as the socket takes them, far more
    // bytes than the bound below. A server that buffered what it cannot answer (no per-connection
    // queue cap, no backpressure limit) grows by about what it was sent and fails the bound.
    const setup = await connect(server.connectString);
    await setup.create('/flood', '');
    await setup.close();
    const { raw } = await RawConnection.session(server.port);
    const longPath = '/flood/' + 'x'.repeat(floodPathBytes);
    const frame = (xid: number): Uint8Array =>
      xid % 64 === 0
        ? encodeRequest({ opcode: Opcode.setData, xid, path: '/flood', data: new Uint8Array(8), version: -1 })
        : encodeRequest({ opcode: Opcode.exists, xid, path: longPath, watch: false });
    const frameBytes = frame(1).length;
    const before = memoryOf(server.pid);
    let peakRssBytes = before.rssBytes;
    const sample = (): void => {
      peakRssBytes = Math.max(peakRssBytes, memoryOf(server.pid).rssBytes);
    };
    let sentBytes = 0;
    let xid = 0;
    while (!raw.closed && sentBytes < floodBytes) {
      // Our own send buffer stays small: the flood is what the server takes in, not what we hold.
      if (raw.ws.bufferedAmount < clientBufferedBytesMax) {
        for (let i = 0; i < 256; i++) raw.sendBytes(frame(++xid));
        sentBytes += 256 * frameBytes;
      }
      sample();
      await new Promise((r) => setImmediate(r));
    }
    const after = memoryOf(server.pid);
    // The high-water mark also catches a peak between two samples.
    if (after.hwmBytes > before.hwmBytes) peakRssBytes = Math.max(peakRssBytes, after.hwmBytes);
    const growthBytes = peakRssBytes - before.rssBytes;
    // What the server may hold for this connection by design: its queue cap of requests, its
    // socket's backpressure limit, and the same again plus 64 MiB for copies in flight and heap
    // the GC has not returned yet. Generous, yet far below the flood (floodBytes).
    const boundBytes = 2 * (constants.queuedRequestsPerConnectionMax * frameBytes + constants.socketBackpressureBytesMax) + 64 * 1_048_576;
    assert.ok(floodBytes > 3 * boundBytes, 'the flood must dwarf the bound, or the test proves nothing');
    const mib = (b: number): string => `${(b / 1_048_576).toFixed(1)} MiB`;
    console.log(`# flood: sent ${mib(sentBytes)} in ${xid} requests, server RSS ${mib(before.rssBytes)} -> peak ${mib(peakRssBytes)} (growth ${mib(growthBytes)}, bound ${mib(boundBytes)}), closed ${raw.closed}`);
    assert.ok(growthBytes <= boundBytes, `server RSS grew by ${mib(growthBytes)} under a flood of ${mib(sentBytes)}: bound ${mib(boundBytes)}`);
    // Either the server kept up with all of it, or it closed the connection saying why.
    let answered = 0;
    let closing: string | null = null;
    while (answered < xid) {
      let m;
      try {
        m = await raw.next(60_000);
      } catch {
        break;
      }
      if (m.kind === 'closing') {
        closing = m.code;
        break;
      }
      answered++;
    }
    assert.ok(answered === xid || closing === 'THROTTLEDOP', `answered ${answered} of ${xid}, closing ${closing}`);
    raw.close();
    const zk = await connect(server.connectString);
    assert.ok(await zk.exists('/'), 'the server keeps serving');
    await zk.close();
  });

  test('HTTP on the client port: /health, /metrics, /stat, /mntr, /cons', async () => {
    const base = `http://127.0.0.1:${server.port}`;
    const health = await fetch(`${base}/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^# TYPE zookooper_znodes gauge$/m);
    assert.match(metrics, /^zookooper_znodes \d+$/m);
    const mntr = (await (await fetch(`${base}/mntr`)).json()) as Record<string, unknown>;
    assert.equal(typeof mntr.zk_znode_count, 'number');
    assert.equal(mntr.zk_server_state, 'standalone');
    const stat = (await (await fetch(`${base}/stat`)).json()) as Record<string, unknown>;
    assert.equal(typeof stat.zxid, 'string');
    const cons = (await (await fetch(`${base}/cons`)).json()) as { connections: unknown[] };
    assert.ok(Array.isArray(cons.connections));
    assert.equal((await fetch(`${base}/nope`)).status, 404);
  });

  test('client-side: data over the limit is BADARGUMENTS before anything is sent', async () => {
    const zk = await connect(server.connectString);
    await assert.rejects(zk.create('/too-big', new Uint8Array(1_048_577)), (e: unknown) => e instanceof ZookooperError && e.code === 'BADARGUMENTS');
    assert.equal(await zk.exists('/too-big'), null);
    await zk.close();
  });
});

describe('start-up checks', () => {
  test('the uWebSockets.js native binary is in use (fails on the slow JS fallback)', async () => {
    const { uwsStatus } = await import('../../src/server/workers/uws.js');
    const status = uwsStatus();
    assert.equal(status.native, true, `uWS native binary not loaded: ${status.detail}`);
  });

  test('msgpackr decodes with its native addon (msgpackr-extract)', async () => {
    const { msgpackrNative } = await import('../../src/server/workers/uws.js');
    assert.equal(msgpackrNative, true);
  });

  test('with the JS fallback forced, the server refuses to start and says why', () => {
    const r = spawnSync(process.execPath, [binPath, 'server', '--port', '0', '--data-dir', tempDir()], {
      env: { ...process.env, UWS_USE_FALLBACK: '1' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /native binary is NOT in use/);
  });

  test('a data dir that cannot be used stops start-up with an error (threads started early do not hang it)', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'version-2'), 'not a directory');
    const r = spawnSync(process.execPath, [binPath, 'server', '--port', '0', '--data-dir', dir, '--workers', '2'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 1, `exit ${r.status} ${r.signal ?? ''}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout + r.stderr, /cannot start/);
  });

  test('a port already in use is an error, not a silent second server', async () => {
    const first = await startServer({ workers: 1 });
    try {
      const r = spawnSync(process.execPath, [binPath, 'server', '--port', String(first.port), '--data-dir', tempDir()], { encoding: 'utf8', timeout: 30_000 });
      assert.notEqual(r.status, 0);
      assert.match(r.stdout + r.stderr, /already in use/);
    } finally {
      await first.stop();
      first.cleanup();
    }
  });

  test('maxClientCnxns: connections over the per-address bound are refused with THROTTLEDOP', async () => {
    const server = await startServer({ workers: 1, args: ['--max-client-cnxns', '2'] });
    try {
      const a = await RawConnection.open(server.port);
      const b = await RawConnection.open(server.port);
      const c = await RawConnection.open(server.port);
      const m = await c.next();
      assert.equal(m.kind === 'closing' ? m.code : m.kind, 'THROTTLEDOP');
      await c.waitClosed();
      a.close();
      await a.waitClosed();
      // A slot freed: a new connection is accepted and can open a session.
      const { raw } = await RawConnection.session(server.port);
      raw.close();
      b.close();
    } finally {
      await server.stop();
      server.cleanup();
    }
  });

  test('zoo.cfg: known keys applied, unknown keys reported', async () => {
    const dir = tempDir();
    const cfg = join(dir, 'zoo.cfg');
    writeFileSync(cfg, ['tickTime=300', `dataDir=${join(dir, 'data')}`, 'clientPort=0', 'maxClientCnxns=50', 'minSessionTimeout=900', 'maxSessionTimeout=1200', 'autopurge.snapRetainCount=3', 'autopurge.purgeInterval=1', 'someUnknownKey=1', ''].join('\n'));
    const server = await startServer({ args: ['--config', cfg], tickMs: 300 });
    try {
      await server.waitForLine(/someUnknownKey/);
      const zk = await connect(server.connectString, { sessionTimeoutMs: 100_000 });
      assert.equal(zk.sessionTimeoutMs, 1_200);
      await zk.close();
    } finally {
      await server.stop();
      server.cleanup();
    }
  });

  test('SIGTERM exits with status 0 after flushing', async () => {
    const server = await startServer({ workers: 2 });
    const zk = await connect(server.connectString);
    await zk.create('/before-stop', 'x');
    await zk.close();
    const { code } = await server.stop('SIGTERM');
    assert.equal(code, 0);
    const again = await startServer({ dataDir: server.dataDir, workers: 1 });
    const zk2 = await connect(again.connectString);
    assert.equal((await zk2.getData('/before-stop')).data.toString(), 'x');
    await zk2.close();
    const r2 = await again.stop('SIGINT');
    assert.equal(r2.code, 0);
    again.cleanup();
  });
});
