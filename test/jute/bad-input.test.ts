// Bad input on the jute port: each case closes only its own connection, with a log line naming the
// reason, and the server keeps serving a witness client on the same port throughout.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { JuteWriter } from '../../src/protocol/jute/buffer.js';
import { JuteOp } from '../../src/protocol/jute/codes.js';
import { startJuteServer, type JuteServer } from './helpers.js';
import { nzkConnect, type Nzk } from './nzk.js';
import { RawJute } from './raw.js';

describe('bad input on the jute port', () => {
  let s: JuteServer;
  let witness: Nzk;
  let n = 0;
  before(async () => {
    s = await startJuteServer({ workers: 2 });
    witness = await nzkConnect(s.zkConnect);
    await witness.create('/witness', '0');
  });
  after(async () => {
    await witness?.close();
    await s?.stop();
    s?.cleanup();
  });

  /** The witness still reads and writes (another connection, the same worker). */
  async function stillServing(): Promise<void> {
    n++;
    await witness.setData('/witness', String(n));
    assert.equal((await witness.getData('/witness')).data.toString(), String(n));
  }

  async function opened(): Promise<RawJute> {
    const c = await RawJute.open(s.zkPort);
    assert.ok(await c.handshake());
    return c;
  }

  async function closedWithLog(c: RawJute, log: RegExp): Promise<void> {
    await c.closedP;
    await s.waitForLine(log);
    await stillServing();
  }

  test('a frame over jute.maxbuffer', async () => {
    const c = await opened();
    const len = Buffer.alloc(4);
    len.writeInt32BE(64 * 1_048_576);
    c.write(len);
    await closedWithLog(c, /frame length 67108864 outside \[0, \d+\] \(jute.maxbuffer\)/);
  });

  test('a negative frame length, and an oversized first frame', async () => {
    const c = await opened();
    c.write(Buffer.from([0xff, 0xff, 0xff, 0xf0]));
    await closedWithLog(c, /frame length -16 outside/);
    const d = await RawJute.open(s.zkPort);
    const len = Buffer.alloc(4);
    len.writeInt32BE(5_000);
    d.write(len);
    await closedWithLog(d, /frame length 5000 outside \[0, 1024\]/);
  });

  test('a truncated record (the frame ends inside it)', async () => {
    const c = await opened();
    c.write(new JuteWriter().int(1).int(JuteOp.create).int(1000).frame()); // path length 1000, no bytes
    await closedWithLog(c, /truncated path|truncated CreateRequest.path/);
  });

  test('a frame cut short by the client closing its side', async () => {
    const c = await opened();
    const f = new JuteWriter().int(1).int(JuteOp.exists).ustring('/witness').bool(false).frame();
    c.socket.end(f.subarray(0, f.length - 3));
    await c.closedP;
    await stillServing();
  });

  test('a wrong length: the ConnectRequest claims fewer bytes than it has', async () => {
    const c = await RawJute.open(s.zkPort);
    const f = new JuteWriter().int(0).long(0n).int(10_000).long(0n).buffer(new Uint8Array(16)).bool(false).frame();
    f.writeInt32BE(10, 0);
    c.write(f);
    await closedWithLog(c, /truncated ConnectRequest/);
  });

  test('garbage', async () => {
    const c = await opened();
    const g = randomBytes(200);
    g.writeInt32BE(196, 0);
    g.writeInt32BE(7, 4); // xid 7
    g.writeInt32BE(0x41414141, 8); // opcode nobody has
    c.write(g);
    await closedWithLog(c, /unknown opcode 1094795585/);
  });

  test('an unknown opcode is answered UNIMPLEMENTED, then the connection is closed (as ZooKeeper 3.8)', async () => {
    for (const opcode of [9999, JuteOp.notification]) {
      const c = await opened();
      c.write(new JuteWriter().int(3).int(opcode).frame());
      const f = await c.next();
      assert.ok(f, `opcode ${opcode}: an answer before the close`);
      assert.deepEqual([f.readInt32BE(0), f.readInt32BE(12)], [3, -6], 'xid 3, UNIMPLEMENTED');
      await closedWithLog(c, new RegExp(`unknown opcode ${opcode}`));
    }
  });

  test('an invalid path is answered, not closed: NONODE for a read, BADARGUMENTS for a write (as ZooKeeper 3.8)', async () => {
    const c = await opened();
    const read = await c.call(JuteOp.getData, (w) => w.ustring('no-slash').bool(false));
    assert.equal(read.err, -101, 'NONODE');
    const ex = await c.call(JuteOp.exists, (w) => w.ustring('/a/').bool(false));
    assert.equal(ex.err, -101, 'NONODE');
    const create = await c.call(JuteOp.create, (w) => w.ustring('no-slash').buffer(Buffer.alloc(0)).int(1).int(31).ustring('world').ustring('anyone').int(0));
    assert.equal(create.err, -8, 'BADARGUMENTS');
    const flags = await c.call(JuteOp.create, (w) => w.ustring('/flags').buffer(Buffer.alloc(0)).int(1).int(31).ustring('world').ustring('anyone').int(99));
    assert.equal(flags.err, -8, 'create flags 99: BADARGUMENTS');
    const ttl = await c.call(JuteOp.createTTL, (w) => w.ustring('/ttl0').buffer(Buffer.alloc(0)).int(1).int(31).ustring('world').ustring('anyone').int(5).long(0n));
    assert.equal(ttl.err, -8, 'TTL 0: BADARGUMENTS');
    const mode = await c.call(JuteOp.addWatch, (w) => w.ustring('/witness').int(7));
    assert.equal(mode.err, -5, 'addWatch mode 7: MARSHALLINGERROR');
    const type = await c.call(JuteOp.checkWatches, (w) => w.ustring('/witness').int(9));
    assert.equal(type.err, -5, 'watcher type 9: MARSHALLINGERROR');
    assert.equal((await c.call(JuteOp.exists, (w) => w.ustring('/witness').bool(false))).err, 0, 'the connection still serves');
    assert.equal(c.closed, false);
    c.close();
    await s.waitForLine(/getData.path/);
    await stillServing();
  });

  test('a request frame over jute.maxbuffer (1048575 bytes) closes the connection; one of exactly that length is served', async () => {
    const c = await opened();
    const head = new JuteWriter().int(5).int(JuteOp.setData).ustring('/witness');
    const fixed = head.body().length + 4 + 4; // + data length + version
    const fits = new JuteWriter(1_048_600).int(5).int(JuteOp.setData).ustring('/witness').buffer(Buffer.alloc(1_048_575 - fixed)).int(-1).frame();
    assert.equal(fits.length - 4, 1_048_575);
    c.write(fits);
    const f = await c.next();
    assert.ok(f);
    assert.deepEqual([f.readInt32BE(0), f.readInt32BE(12)], [5, 0], 'served');
    const over = Buffer.alloc(12);
    over.writeInt32BE(1_048_576, 0);
    c.write(over);
    await closedWithLog(c, /frame length 1048576 outside \[0, 1048575\] \(jute.maxbuffer\)/);
  });

  test('a ConnectRequest without the readOnly byte (a client before 3.4) gets a ConnectResponse without it; readOnly asked is answered false', async () => {
    for (const [withByte, len] of [
      [false, 36],
      [true, 37],
    ] as const) {
      const c = await RawJute.open(s.zkPort);
      const w = new JuteWriter().int(0).long(0n).int(10_000).long(0n).buffer(new Uint8Array(16));
      c.write((withByte ? w.bool(true) : w).frame());
      const f = await c.next();
      assert.equal(f?.length, len, `readOnly byte sent: ${withByte}`);
      if (withByte) assert.equal(f![36], 0, 'a client asking readOnly gets a read-write session (no read-only mode), as ZooKeeper standalone answers');
      c.close();
    }
    await stillServing();
  });

  test('a connect with a huge timeout gets the server maximum and works', async () => {
    const c = await RawJute.open(s.zkPort);
    const h = await c.handshake({ timeout: 0x7fffffff });
    assert.ok(h);
    assert.ok(h.timeOut > 0 && h.timeOut <= 20 * 200, `negotiated ${h.timeOut} within maxSessionTimeout`);
    const r = await c.call(JuteOp.exists, (w) => w.ustring('/witness').bool(false));
    assert.equal(r.err, 0);
    c.close();
    await stillServing();
  });

  test('a connect with a wrong password gets the expired answer and is closed', async () => {
    const c = await opened();
    c.close();
    const owner = await RawJute.open(s.zkPort);
    const h = await owner.handshake();
    assert.ok(h);
    const thief = await RawJute.open(s.zkPort);
    const t = await thief.handshake({ sessionId: h.sessionId, passwd: new Uint8Array(16).fill(9) });
    assert.ok(t);
    assert.deepEqual([t.timeOut, t.sessionId, [...t.passwd]], [0, 0n, new Array(16).fill(0)]);
    await thief.closedP;
    const r = await owner.call(JuteOp.exists, (w) => w.ustring('/witness').bool(false));
    assert.equal(r.err, 0, 'the owner keeps its session and connection');
    owner.close();
    await stillServing();
  });

  test('a connect that has seen a newer zxid than the server is refused', async () => {
    const c = await RawJute.open(s.zkPort);
    assert.equal(await c.handshake({ lastZxid: 1n << 50n }), null);
    await closedWithLog(c, /newer zxid/);
  });

  test('a failed auth packet is answered AUTHFAILED, then the connection is closed (as ZooKeeper)', async () => {
    const c = await opened();
    const r = await c.call(JuteOp.auth, (w) => w.int(0).ustring('ip').buffer(Buffer.from('10.0.0.1')), -4);
    assert.deepEqual([r.xid, r.err], [-4, -115]);
    await closedWithLog(c, /auth failed: the connection is closed/);
  });

  test('a second ConnectRequest after the handshake', async () => {
    const c = await opened();
    c.write(new JuteWriter().int(0).long(0n).int(10_000).long(0n).buffer(new Uint8Array(16)).bool(false).frame());
    await c.closedP;
    await stillServing();
  });
});
